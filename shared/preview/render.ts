/**
 * One image plane → a PNG or JPEG picture. The steps, each a pure function exported for tests:
 *
 *   1. downsample(plane, maxSide)               block means, when maxSide is given (downsample.ts)
 *   2. computeCuts(data, cuts, masked) → lo, hi  over the finite unmasked pixels of the plane
 *                                                being drawn, i.e. after step 1 (cuts.ts)
 *   3. displayLevels: normalise, stretch, level = floor(255·s + 0.5)          (stretch.ts)
 *   4. paint: colour map lookup and vertical flip; pixels without data (non-finite, masked,
 *      or an empty block) are transparent (alpha 0, colour 0) in PNG and black in JPEG
 *   5. encode (encode.ts)
 *
 * Orientation: plane row 0 is FITS row 1, the bottom of the sky image; a PNG/JPEG's first row
 * is its top, so plane row height−1 is written first (matplotlib's imshow(origin='lower')).
 *
 * Pixel layouts written: gray → PNG gray (colour type 0), or gray+alpha (4) when some pixel has
 * no data; JPEG one channel. viridis/inferno → PNG RGB (2), or RGBA (6) when some pixel has no
 * data; JPEG RGB. An alpha channel costs bytes (measured on sky pictures: gray 25–34 % more,
 * colour 7–10 %), so it is written only when needed.
 *
 * Degenerate inputs never throw: an image with no finite unmasked pixel draws fully
 * transparent (PNG) or black (JPEG); a constant image (hi = lo) draws every pixel with data at
 * level stretch(0) = 0, i.e. the colour map's first entry; a 1×1 image is a 1×1 picture.
 */
import { colormapLut } from './colormaps';
import { computeCuts } from './cuts';
import { downsample } from './downsample';
import { type RasterImage, encodeJpeg, encodePng } from './encode';
import { NO_DATA, displayLevels } from './stretch';
import type { Colormap, DisplayOptions, Plane, PreviewFormat } from './types';

/** Throws a RangeError unless the plane's sizes and arrays agree. */
export function checkPlane(plane: Plane, what = 'plane'): void {
  const { width, height, data, masked } = plane;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
    throw new RangeError(`${what}: width and height must be positive integers, not ${width}×${height}`);
  }
  if (data.length !== width * height)
    throw new RangeError(`${what}: ${width}×${height} needs ${width * height} values, data has ${data.length}`);
  if (masked && masked.length !== data.length) throw new RangeError(`${what}: masked has ${masked.length} bytes, not ${data.length}`);
}

/**
 * Display levels (NO_DATA = −1 for none) → 8-bit pixels, flipped vertically (plane row 0 is
 * written last). `alpha`: PNG output, where pixels without data are transparent; then the alpha
 * channel is only added when at least one pixel has no data. Without `alpha` (JPEG) pixels
 * without data are black.
 */
export function paint(levels: Int16Array, width: number, height: number, cmap: Colormap, alpha: boolean): RasterImage {
  let missing = false;
  for (let i = 0; i < levels.length; i++) {
    if (levels[i] === NO_DATA) {
      missing = true;
      break;
    }
  }
  const withAlpha = alpha && missing;
  if (cmap === 'gray') {
    const channels = withAlpha ? 2 : 1;
    const out = new Uint8Array(width * height * channels);
    for (let y = 0; y < height; y++) {
      const src = (height - 1 - y) * width;
      let o = y * width * channels;
      if (withAlpha) {
        for (let x = 0; x < width; x++, o += 2) {
          const level = levels[src + x]!;
          if (level !== NO_DATA) {
            out[o] = level;
            out[o + 1] = 255;
          } // else stays 0, 0: transparent
        }
      } else {
        for (let x = 0; x < width; x++, o++) {
          const level = levels[src + x]!;
          out[o] = level === NO_DATA ? 0 : level;
        }
      }
    }
    return { width, height, channels, data: out };
  }
  const lut = colormapLut(cmap);
  const channels = withAlpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      const level = levels[src + x]!;
      if (level === NO_DATA) continue; // 0, 0, 0 (, 0): black, or transparent
      const l = 3 * level;
      out[o] = lut[l]!;
      out[o + 1] = lut[l + 1]!;
      out[o + 2] = lut[l + 2]!;
      if (withAlpha) out[o + 3] = 255;
    }
  }
  return { width, height, channels, data: out };
}

/** Steps 1–4 of the module comment: the picture's pixels before encoding. */
export function renderRaster(plane: Plane, options: DisplayOptions, format: PreviewFormat): RasterImage {
  checkPlane(plane);
  const shown = options.maxSide === undefined ? plane : downsample(plane, options.maxSide);
  const [lo, hi] = computeCuts(shown.data, options.cuts, shown.masked);
  const levels = displayLevels(shown, lo, hi, options.stretch);
  return paint(levels, shown.width, shown.height, options.cmap, format === 'png');
}

/** Encodes 8-bit pixels in the format. */
export function encodeRaster(image: RasterImage, format: PreviewFormat): Buffer {
  return format === 'png' ? encodePng(image) : encodeJpeg(image);
}

/** The plane drawn with the display options, as PNG or JPEG file bytes (see the module comment). */
export function renderPreview(plane: Plane, options: DisplayOptions, format: PreviewFormat): Buffer {
  return encodeRaster(renderRaster(plane, options, format), format);
}
