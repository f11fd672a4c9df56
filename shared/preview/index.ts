/**
 * Preview rendering: image planes → PNG/JPEG pictures, as astropy.visualization and numpy
 * would draw them (cuts, stretches, Lupton colour composites), with matplotlib's colour maps.
 * Pure apart from previewOfFits / planeOfFitsFile, which read FITS files.
 */
export { COLORMAPS, DISPLAY_PARAMS, STRETCHES, contentTypeOf, fileExtensionOf, parseDisplayParams, previewFormatOf } from './params';
export {
  DEFAULT_DISPLAY,
  DEFAULT_LUPTON,
  MAX_PREVIEW_SIZE,
  type Colormap,
  type Cuts,
  type DisplayOptions,
  type LuptonOptions,
  type Plane,
  type PreviewFormat,
  type Stretch,
} from './types';
export { INFERNO_DATA, VIRIDIS_DATA, colormapEntry, colormapLut } from './colormaps';
export {
  ZSCALE_DEFAULTS,
  computeCuts,
  finiteValues,
  minMax,
  percentileOf,
  percentilePair,
  selectInPlace,
  zscaleLimits,
  type PixelArray,
  type ZScaleOptions,
} from './cuts';
export { ASINH_A, LOG_A, NO_DATA, applyStretch, displayLevels, levelAt, levelOf, normalise, stretchValue } from './stretch';
export { BlockAverager, downsample, downsampleFactor } from './downsample';
export { JPEG_QUALITY, encodeJpeg, encodePng, type RasterImage } from './encode';
export { checkPlane, encodeRaster, paint, renderPreview, renderRaster } from './render';
export { asinhMapping, luptonRgb, paintRgb, renderRgb, type LuptonPixels } from './lupton';
export {
  DEFAULT_TRANSPARENT_MASK_PLANES,
  downsampledPlaneOfFits,
  maskedPixels,
  planeHdus,
  planeOfFits,
  planeOfFitsFile,
  previewOfFits,
  type FitsPlaneOptions,
  type PlaneHdus,
} from './fits';
export { GRID_TOLERANCE_PIXELS, gridImageOf, gridMismatch, type GridImage } from './grid';
