/**
 * From data values to display levels, as astropy.visualization draws them:
 *
 *   v = (x − lo) / (hi − lo), clipped to [0, 1]      (BaseInterval.__call__ with clip=True)
 *   s = stretch(v)                                   (the Stretch classes, below)
 *   level = floor(255 · s + 0.5)                     (0..255; rounds halves up)
 *
 * When hi = lo (a constant image, or cuts that collapse) every finite pixel gets v = 0, as
 * matplotlib's Normalize does for vmin = vmax; astropy would divide by zero. Non-finite and
 * masked pixels have no level (drawn transparent or black by the caller).
 */
import type { PixelArray } from './cuts';
import type { Plane, Stretch } from './types';

/** astropy AsinhStretch's default a. */
export const ASINH_A = 0.1;
/** astropy LogStretch's default a. */
export const LOG_A = 1000;

const ASINH_NORM = Math.asinh(1 / ASINH_A);
const LOG_NORM = Math.log(LOG_A + 1);

/**
 * One normalised value v ∈ [0, 1] stretched to [0, 1]:
 *   linear  v
 *   asinh   asinh(v / a) / asinh(1 / a), a = 0.1   (AsinhStretch)
 *   log     log(a·v + 1) / log(a + 1),    a = 1000  (LogStretch)
 *   sqrt    √v                                      (SqrtStretch)
 */
export function stretchValue(v: number, stretch: Stretch): number {
  switch (stretch) {
    case 'linear':
      return v;
    case 'asinh':
      return Math.asinh(v / ASINH_A) / ASINH_NORM;
    case 'log':
      return Math.log(v * LOG_A + 1) / LOG_NORM;
    case 'sqrt':
      return Math.sqrt(v);
  }
}

/** (x − lo)/(hi − lo) clipped to [0, 1]; 0 when hi = lo. x finite. */
export function normalise(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (!(range > 0)) return 0;
  const v = (x - lo) / range;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** floor(255·s + 0.5) for s ∈ [0, 1]. */
export function levelOf(s: number): number {
  return Math.floor(s * 255 + 0.5);
}

/**
 * Normalised and stretched values of a whole array, each in [0, 1]; NaN where x is not finite
 * or `masked` is set (into `out` if given).
 */
export function applyStretch(
  data: PixelArray,
  lo: number,
  hi: number,
  stretch: Stretch,
  masked?: Uint8Array,
  out?: Float64Array,
): Float64Array {
  const result = out ?? new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    result[i] = x - x !== 0 || (masked && masked[i] !== 0) ? NaN : stretchValue(normalise(x, lo, hi), stretch);
  }
  return result;
}

/** No-data marker in display-level arrays. */
export const NO_DATA = -1;

/**
 * The level of one finite value x for cuts lo, hi: floor(255·stretch(normalise(x)) + 0.5),
 * computed exactly as displayLevels' pixel loops do.
 */
export function levelAt(x: number, lo: number, hi: number, stretch: Stretch): number {
  return Math.floor(stretchValue(normalise(x, lo, hi), stretch) * 255 + 0.5);
}

/**
 * Display level (0..255) of every pixel of the plane, in the plane's order (row 0 = FITS row
 * 1, not yet flipped), NO_DATA (−1) where the pixel is not finite or masked, or when lo/hi
 * are not finite (an image with no data at all). Every level equals levelAt(x, lo, hi, stretch).
 */
export function displayLevels(plane: Plane, lo: number, hi: number, stretch: Stretch): Int16Array {
  const { data, masked } = plane;
  const n = data.length;
  const levels = new Int16Array(n);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return levels.fill(NO_DATA);
  const range = hi - lo;
  const flat = !(range > 0);
  const unit = (x: number): number => {
    const v = flat ? 0 : (x - lo) / range;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  };
  const noData = (i: number, x: number): boolean => x - x !== 0 || (masked !== undefined && masked[i] !== 0);
  // The switch is hoisted out of the pixel loop: one tight loop per stretch.
  switch (stretch) {
    case 'linear':
      for (let i = 0; i < n; i++) {
        const x = data[i]!;
        levels[i] = noData(i, x) ? NO_DATA : Math.floor(unit(x) * 255 + 0.5);
      }
      break;
    case 'asinh':
      for (let i = 0; i < n; i++) {
        const x = data[i]!;
        levels[i] = noData(i, x) ? NO_DATA : Math.floor((Math.asinh(unit(x) / ASINH_A) / ASINH_NORM) * 255 + 0.5);
      }
      break;
    case 'log':
      for (let i = 0; i < n; i++) {
        const x = data[i]!;
        levels[i] = noData(i, x) ? NO_DATA : Math.floor((Math.log(unit(x) * LOG_A + 1) / LOG_NORM) * 255 + 0.5);
      }
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) {
        const x = data[i]!;
        levels[i] = noData(i, x) ? NO_DATA : Math.floor(Math.sqrt(unit(x)) * 255 + 0.5);
      }
      break;
  }
  return levels;
}
