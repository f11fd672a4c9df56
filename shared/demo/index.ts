/**
 * A deterministic Rubin DP0.2-like demo data set: deepCoadd_calexp patches of tract 4431 around
 * the DP0.2 image-services tutorial's galaxy cluster, calexp visit images with rotated TAN-SIP
 * WCSs, and goodSeeingDiff_differenceExp images, as multi-extension FITS files laid out like a
 * butler repository. Sources are defined on the sky and rendered through each image's WCS.
 * See generate.ts for the API and scripts/demo-data.ts for the command.
 */
export {
  DEMO_DEFAULTS,
  datasetHdus,
  generateDemoRepository,
  planDemoRepository,
  renderDatasetFile,
  renderModel,
  renderPixels,
  resolveDemoOptions,
  type DatasetPixels,
  type DatasetPlan,
  type DemoOptions,
  type GeneratedDataset,
  type Precomputed,
  type ResolvedDemoOptions,
} from './generate';
export { demoOptionsFromEnv, DEMO_ENV } from './options';
export {
  CELL_SIZE,
  DemoSky,
  GALAXY_DENSITY,
  STAR_DENSITY,
  fluxAt,
  type LightCurve,
  type Profile,
  type SkySource,
  type TractBox,
  type Variability,
} from './catalogue';
export {
  BUTLER_RUN,
  DATASET_TYPES,
  FIXED_UUIDS,
  INSTRUMENT,
  MASK_PLANES,
  TELESCOPE,
  datasetUuid,
  extensionHeader,
  maskBit,
  mjdToIso,
  primaryHeader,
  type DataId,
  type DemoDatasetType,
  type ExtensionName,
  type ImageMetadata,
  type MaskPlane,
} from './headers';
export {
  BANDS,
  COADD_DEPTH,
  COADD_FWHM,
  VISIT_DEPTH,
  bandIndex,
  isBand,
  magToNanojansky,
  makePsf,
  physicalFilter,
  pixelNoise,
  psfEffectiveArea,
  type Band,
  type Psf,
} from './photometry';
export { Rng, hash32 } from '../random';
export { addGaussian, makeFrame, renderSource, type Frame } from './render';
export {
  BINNINGS,
  NATIVE_PIXEL_SCALE,
  PATCHES_X,
  PATCHES_Y,
  PATCH_BORDER,
  PATCH_INNER,
  SKYMAP,
  TARGET,
  TARGET_PATCH,
  TRACT,
  TRACT_CRVAL,
  checkBinning,
  patchGeometry,
  tractWcs,
  tractWcsSpec,
  type Binning,
  type PatchGeometry,
} from './skymap';
export { DETECTOR_HEIGHT, DETECTOR_WIDTH, VISIT_BANDS, fitReverseSip, planVisits, type VisitPlan } from './visits';
export { solveCrval, toCelestialWcs, wcsCards, wcsRecord, type SipPoly, type SipSpec, type WcsSpec } from './wcs';
