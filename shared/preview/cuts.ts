/**
 * Cuts: the data values drawn as black (lo) and white (hi). Every kind looks only at finite,
 * unmasked pixels; they are computed in float64.
 *
 *   percentile  np.percentile(values, [lo, hi]) with numpy's default method 'linear' (numpy
 *               1.22+ formulae, below), values = the finite unmasked pixels
 *   minmax      [min, max] of those values
 *   zscale      astropy.visualization.ZScaleInterval().get_limits(values) (astropy 5.2), with
 *               values in row-major order (its sampling stride depends on the order)
 *
 * No finite unmasked value at all: [NaN, NaN] (nothing is drawn, every pixel is "no data").
 */
import type { Cuts } from './types';

export type PixelArray = Float32Array | Float64Array;

/**
 * Scratch arrays for the values a percentile reorders, kept between calls: fresh memory costs
 * a page fault per 4 KiB on first touch, which made allocating the copy cost as much as the
 * selection itself (about half of the cuts' time for 1024² values). Each thread keeps at most
 * one of each type, and only up to SCRATCH_MAX values (32 MiB as float64), so a percentile of
 * a whole 4k × 4k image does not pin 128 MiB.
 */
const SCRATCH_MAX = 1 << 22;
let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);

function scratchFor(data: PixelArray): PixelArray {
  const n = data.length;
  if (n > SCRATCH_MAX) return data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  if (data instanceof Float32Array) {
    if (scratch32.length < n) scratch32 = new Float32Array(n);
    return scratch32;
  }
  if (scratch64.length < n) scratch64 = new Float64Array(n);
  return scratch64;
}

/**
 * The finite values of `data` whose `masked` byte is 0 (or all finite ones), in order, same
 * array type. `reuse`: into a scratch array shared by later calls (valid until the next call).
 */
export function finiteValues(data: PixelArray, masked?: Uint8Array, reuse = false): PixelArray {
  const n = data.length;
  const out = reuse ? scratchFor(data) : data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  let k = 0;
  if (masked) {
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      // v - v is 0 for finite v, NaN for NaN and ±Infinity: one test for both.
      if (v - v === 0 && masked[i] === 0) out[k++] = v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v - v === 0) out[k++] = v;
    }
  }
  return out.subarray(0, k);
}

/**
 * Rearranges a[left..right] (inclusive) so that a[k] holds the value it would have if that
 * range were sorted, everything before it ≤ a[k] and everything after ≥ a[k]. Hoare partition
 * around the median of three, iterating into the side holding k: O(n) on average, and equal
 * values (constant images) split evenly instead of degrading. No NaN in a.
 */
export function selectInPlace(a: PixelArray, k: number, left = 0, right = a.length - 1): void {
  let lo = left;
  let hi = right;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    // Median of a[lo], a[mid], a[hi] as the pivot value.
    let x = a[lo]!;
    let y = a[mid]!;
    const z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    const pivot = z < x ? x : z > y ? y : z;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and a[j+1..i-1] (if any) equal the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function minOf(a: PixelArray, from: number, to: number): number {
  let m = a[from]!;
  for (let i = from + 1; i < to; i++) if (a[i]! < m) m = a[i]!;
  return m;
}

/**
 * numpy's 'linear' percentile (numpy 1.22+ lib/function_base.py, _quantile): virtual index
 * g = (n − 1)·q with q = p/100 (evaluated in that order, as numpy does), the neighbours
 * a = v[floor g] and b = v[floor g + 1] of the sorted values (the last value when g ≥ n − 1),
 * and numpy's _lerp: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5, with t = g − floor g.
 * For float32 data b − a is rounded to float32 as numpy's subtraction of two float32 values
 * is; the rest is float64.
 */
function lerpAt(g: number, n: number, at: (i: number) => number, f32: boolean): number {
  if (g >= n - 1) return at(n - 1);
  if (g < 0) return at(0);
  const i = Math.floor(g);
  const t = g - i;
  const a = at(i);
  const b = at(i + 1);
  const diff = f32 ? Math.fround(b - a) : b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function virtualIndex(n: number, p: number): number {
  return (n - 1) * (p / 100);
}

/**
 * np.percentile(values, [pLo, pHi]) for 0 ≤ pLo ≤ pHi ≤ 100 (values finite, non-empty).
 * Reorders `values` (give it a copy): two selections instead of a sort, O(n).
 */
export function percentilePair(values: PixelArray, pLo: number, pHi: number): [number, number] {
  const n = values.length;
  const f32 = values instanceof Float32Array;
  const gHi = virtualIndex(n, pHi);
  const gLo = virtualIndex(n, pLo);
  // The order statistics needed: floor(g) and floor(g) + 1 of each, clamped to the array.
  const jHi = Math.min(n - 1, Math.max(0, Math.floor(gHi)));
  const jLo = Math.min(jHi, Math.max(0, Math.floor(gLo)));
  selectInPlace(values, jHi);
  // After selecting jHi, the next order statistic is the least value above it.
  const nextHi = jHi + 1 < n ? minOf(values, jHi + 1, n) : values[jHi]!;
  let lowPair: [number, number];
  if (jLo === jHi) lowPair = [values[jHi]!, nextHi];
  else {
    selectInPlace(values, jLo, 0, jHi - 1);
    lowPair = [values[jLo]!, minOf(values, jLo + 1, jHi + 1)];
  }
  const stat = (pair: [number, number], j: number) => (i: number) => (i === j ? pair[0] : pair[1]);
  return [lerpAt(gLo, n, stat(lowPair, jLo), f32), lerpAt(gHi, n, stat([values[jHi]!, nextHi], jHi), f32)];
}

/** np.percentile(values, p) of the finite values of a small array: sorts a copy. For tests and zscale. */
export function percentileOf(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return lerpAt(virtualIndex(sorted.length, p), sorted.length, (i) => sorted[i]!, false);
}

/** astropy ZScaleInterval's parameters (astropy 5.2 defaults). */
export interface ZScaleOptions {
  nSamples: number;
  contrast: number;
  maxReject: number;
  minNpixels: number;
  krej: number;
  maxIterations: number;
}

export const ZSCALE_DEFAULTS: Readonly<ZScaleOptions> = Object.freeze({
  nSamples: 1000,
  contrast: 0.25,
  maxReject: 0.5,
  minNpixels: 5,
  krej: 2.5,
  maxIterations: 5,
});

/**
 * astropy.visualization.ZScaleInterval.get_limits (astropy 5.2.1), step by step:
 *  1. values = the finite (unmasked) pixels in row-major order; stride = int(max(1, n / nSamples));
 *     samples = values[::stride][:nSamples], sorted; vmin, vmax = first and last sample.
 *  2. Iteratively (at most maxIterations, while the good count shrinks and stays ≥ minpix =
 *     max(minNpixels, int(npix·maxReject))): least-squares line through the good samples
 *     against their index (np.polyfit with 0/1 weights); flat = samples − line; samples with
 *     |flat| > krej·std(flat[good]) (population std) become bad; the bad mask is dilated by
 *     np.convolve(bad, ones(ngrow), mode='same') with ngrow = max(1, int(npix·0.01)).
 *  3. If the last good count ≥ minpix: slope = (last fit's slope)/contrast,
 *     c = (npix − 1) // 2, m = np.median(samples), vmin = max(vmin, m − (c − 1)·slope),
 *     vmax = min(vmax, m + (npix − c)·slope).
 * The fit is solved in closed form about the mean rather than by numpy's SVD (lstsq): the
 * same line to rounding. For float32 data the median of an even count is (a + b)/2 in float32,
 * as np.median computes it.
 */
export function zscaleLimits(data: PixelArray, masked?: Uint8Array, options: Readonly<ZScaleOptions> = ZSCALE_DEFAULTS): [number, number] {
  const n = data.length;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v - v === 0 && (!masked || masked[i] === 0)) count++;
  }
  if (count === 0) return [NaN, NaN];
  const stride = Math.trunc(Math.max(1.0, count / options.nSamples));
  const npix = Math.min(options.nSamples, Math.ceil(count / stride));
  const samples = new Float64Array(npix);
  let k = 0;
  let f = 0;
  for (let i = 0; i < n && k < npix; i++) {
    const v = data[i]!;
    if (v - v === 0 && (!masked || masked[i] === 0)) {
      if (f % stride === 0) samples[k++] = v;
      f++;
    }
  }
  samples.sort();
  let vmin = samples[0]!;
  let vmax = samples[npix - 1]!;

  const minpix = Math.max(options.minNpixels, Math.trunc(npix * options.maxReject));
  let ngoodpix = npix;
  let lastNgoodpix = npix + 1;
  let bad: Uint8Array = new Uint8Array(npix);
  const ngrow = Math.max(1, Math.trunc(npix * 0.01));
  let slope = NaN;
  const flat = new Float64Array(npix);
  for (let iter = 0; iter < options.maxIterations; iter++) {
    if (ngoodpix >= lastNgoodpix || ngoodpix < minpix) break;
    // Least-squares line through the good samples (index → value).
    let sx = 0;
    let sy = 0;
    let m = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      sx += i;
      sy += samples[i]!;
      m++;
    }
    const xm = sx / m;
    const ym = sy / m;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      const dx = i - xm;
      sxy += dx * (samples[i]! - ym);
      sxx += dx * dx;
    }
    slope = sxy / sxx;
    const intercept = ym - slope * xm;
    // Residuals and their population standard deviation over the good samples.
    let mean = 0;
    for (let i = 0; i < npix; i++) {
      flat[i] = samples[i]! - (slope * i + intercept);
      if (!bad[i]) mean += flat[i]!;
    }
    mean /= m;
    let ss = 0;
    for (let i = 0; i < npix; i++) if (!bad[i]) ss += (flat[i]! - mean) ** 2;
    const threshold = options.krej * Math.sqrt(ss / m);
    for (let i = 0; i < npix; i++) if (flat[i]! < -threshold || flat[i]! > threshold) bad[i] = 1;
    bad = dilate(bad, ngrow);
    lastNgoodpix = ngoodpix;
    ngoodpix = 0;
    for (let i = 0; i < npix; i++) if (!bad[i]) ngoodpix++;
  }
  if (ngoodpix >= minpix) {
    if (options.contrast > 0) slope /= options.contrast;
    const center = Math.floor((npix - 1) / 2);
    const median = medianOfSorted(samples, data instanceof Float32Array);
    vmin = Math.max(vmin, median - (center - 1) * slope);
    vmax = Math.min(vmax, median + (npix - center) * slope);
  }
  return [vmin, vmax];
}

/**
 * np.convolve(bad, np.ones(m, bool), mode='same') on a boolean mask: out[i] is set when a bad
 * sample lies in [i − (m − 1 − o), i + o] with o = (m − 1) // 2 ('same' keeps the centre of
 * the full convolution, starting at offset o).
 */
function dilate(bad: Uint8Array, m: number): Uint8Array {
  const n = bad.length;
  const o = (m - 1) >> 1;
  const before = m - 1 - o;
  // prefix[i] = bad samples among the first i.
  const prefix = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + bad[i]!;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const from = Math.max(0, i - before);
    const to = Math.min(n, i + o + 1);
    out[i] = prefix[to]! - prefix[from]! > 0 ? 1 : 0;
  }
  return out;
}

/** np.median of sorted values; for float32 data the mean of the middle two is taken in float32. */
function medianOfSorted(sorted: Float64Array, f32: boolean): number {
  const n = sorted.length;
  const h = n >> 1;
  if (n % 2 === 1) return sorted[h]!;
  return f32 ? Math.fround(Math.fround(sorted[h - 1]! + sorted[h]!) / 2) : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** The smallest and largest finite unmasked values, or [NaN, NaN] when there is none. */
export function minMax(data: PixelArray, masked?: Uint8Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0 || (masked && masked[i] !== 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

/** [lo, hi] of the finite values of `data` not marked in `masked` (see the module comment). */
export function computeCuts(data: PixelArray, cuts: Cuts, masked?: Uint8Array): [number, number] {
  switch (cuts.kind) {
    case 'minmax':
      return minMax(data, masked);
    case 'zscale':
      return zscaleLimits(data, masked);
    case 'percentile': {
      if (!(cuts.lo >= 0 && cuts.lo <= cuts.hi && cuts.hi <= 100)) {
        throw new RangeError(`percentile cuts need 0 <= lo <= hi <= 100, not ${cuts.lo}, ${cuts.hi}`);
      }
      const values = finiteValues(data, masked, true);
      return values.length === 0 ? [NaN, NaN] : percentilePair(values, cuts.lo, cuts.hi);
    }
  }
}
