/**
 * Colour composites of three planes: astropy.visualization.make_lupton_rgb (Lupton et al.
 * 2004, PASP 116, 133), reproduced from astropy 5.2.1's lupton_rgb.py, AsinhMapping:
 *
 *   c' = c − minimum_c                                  for c = r, g, b
 *   I  = (r' + g' + b') / 3
 *   fac = 0 where I ≤ 0, else asinh(I·soften)·slope / I,   soften = Q / stretch,
 *         slope = 0.1·255 / asinh(0.1·Q)   (Q: |Q| < 2⁻²³ → 0.1, Q > 1e10 → 1e10)
 *   c'' = c'·fac, negative values → 0
 *   m  = the largest of r'', g'', b''; where m ≥ 255 every channel becomes c''·255 / m
 *   byte = trunc(c'') (numpy's astype(np.uint8))
 *
 * numpy computes all of this in the planes' dtype: when all three planes hold Float32Array
 * data, every step here is rounded to float32 (Math.fround) as numpy's float32 arithmetic is,
 * so bytes match astropy's exactly but for the rare last-bit difference of asinh between libm
 * and V8 (at most 1 level); otherwise float64. A pixel is "no data" when it is not finite or
 * masked in any of the three planes (astropy would produce undefined bytes there): transparent
 * in PNG, black in JPEG. With maxSide, each plane is first block-averaged (downsample), which
 * makes them float64.
 */
import { downsample } from './downsample';
import { type RasterImage, encodeJpeg, encodePng } from './encode';
import { checkPlane } from './render';
import { DEFAULT_LUPTON, type LuptonOptions, type Plane, type PreviewFormat } from './types';

/** The r, g, b bytes of each pixel (plane order, not flipped) and which pixels have no data. */
export interface LuptonPixels {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes, row 0 = plane row 0. */
  readonly rgb: Uint8Array;
  /** width × height bytes, 1 = no data (rgb is 0 there), or null when every pixel has data. */
  readonly noData: Uint8Array | null;
}

/** astropy AsinhMapping's constants for Q and stretch. */
export function asinhMapping(Q: number, stretch: number): { slope: number; soften: number } {
  if (!(stretch > 0) || !Number.isFinite(stretch)) throw new RangeError(`Lupton stretch must be a positive number, not ${stretch}`);
  if (!Number.isFinite(Q)) throw new RangeError(`Lupton Q must be a finite number, not ${Q}`);
  const epsilon = 1.0 / 2 ** 23;
  let q = Q;
  if (Math.abs(q) < epsilon) q = 0.1;
  else if (q > 1e10) q = 1e10;
  const frac = 0.1;
  return { slope: (frac * 255.0) / Math.asinh(frac * q), soften: q / stretch };
}

function minimumOf(minimum: LuptonOptions['minimum']): [number, number, number] {
  const m: [number, number, number] = typeof minimum === 'number' ? [minimum, minimum, minimum] : [minimum[0], minimum[1], minimum[2]];
  if (!m.every(Number.isFinite)) throw new RangeError(`Lupton minimum must be finite, not ${m.join(', ')}`);
  return m;
}

/** Throws a RangeError unless the three planes are valid and of one size. */
function checkRgbPlanes(planes: readonly [Plane, Plane, Plane]): void {
  planes.forEach((p, i) => checkPlane(p, ['red', 'green', 'blue'][i]));
  const [{ width, height }, pg, pb] = planes;
  if (pg.width !== width || pb.width !== width || pg.height !== height || pb.height !== height) {
    throw new RangeError(`the three planes differ in size: ${planes.map((p) => `${p.width}×${p.height}`).join(', ')}`);
  }
}

/** make_lupton_rgb(r, g, b, minimum, stretch, Q) as bytes (see the module comment). */
export function luptonRgb(planes: readonly [Plane, Plane, Plane], options: Partial<LuptonOptions> = {}): LuptonPixels {
  checkRgbPlanes(planes);
  const [pr, pg, pb] = planes;
  const { width, height } = pr;
  const f32 = pr.data instanceof Float32Array && pg.data instanceof Float32Array && pb.data instanceof Float32Array;
  // Float32 rounding for float32 planes, identity for float64: the same code path for both.
  const r32 = f32 ? Math.fround : (x: number): number => x;
  // numpy (1.24, value-based casting) converts Python and numpy scalars to an array's float32
  // before operating, so the constants are rounded first too.
  const [m0, m1, m2] = minimumOf(options.minimum ?? DEFAULT_LUPTON.minimum).map(r32) as [number, number, number];
  const mapping = asinhMapping(options.Q ?? DEFAULT_LUPTON.Q, options.stretch ?? DEFAULT_LUPTON.stretch);
  const slope = r32(mapping.slope);
  const soften = r32(mapping.soften);
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  let noData: Uint8Array | null = null;
  const R = pr.data;
  const G = pg.data;
  const B = pb.data;
  for (let i = 0; i < n; i++) {
    const xr = R[i]!;
    const xg = G[i]!;
    const xb = B[i]!;
    if (xr - xr !== 0 || xg - xg !== 0 || xb - xb !== 0 || pr.masked?.[i] || pg.masked?.[i] || pb.masked?.[i]) {
      noData ??= new Uint8Array(n);
      noData[i] = 1;
      continue;
    }
    let r = r32(xr - m0);
    let g = r32(xg - m1);
    let b = r32(xb - m2);
    const I = r32(r32(r32(r + g) + b) / 3.0);
    const fac = I <= 0 ? 0 : r32(r32(r32(Math.asinh(r32(I * soften))) * slope) / I);
    r = r32(r * fac);
    g = r32(g * fac);
    b = r32(b * fac);
    if (r < 0) r = 0;
    if (g < 0) g = 0;
    if (b < 0) b = 0;
    // astropy's nested np.where picks the largest channel (ties resolve to an equal value).
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    if (max >= 255.0) {
      r = r32(r32(r * 255.0) / max);
      g = r32(r32(g * 255.0) / max);
      b = r32(r32(b * 255.0) / max);
    }
    const o = 3 * i;
    rgb[o] = Math.min(255, Math.trunc(r));
    rgb[o + 1] = Math.min(255, Math.trunc(g));
    rgb[o + 2] = Math.min(255, Math.trunc(b));
  }
  return { width, height, rgb, noData };
}

/**
 * Lupton pixels → 8-bit picture, flipped vertically (plane row 0 is the bottom). PNG: RGBA
 * with transparent no-data pixels when there are any, else RGB; JPEG: RGB, no data black.
 */
export function paintRgb(pixels: LuptonPixels, alpha: boolean): RasterImage {
  const { width, height, rgb, noData } = pixels;
  const withAlpha = alpha && noData !== null;
  const channels = withAlpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const srcRow = (height - 1 - y) * width;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      const s = srcRow + x;
      out[o] = rgb[3 * s]!;
      out[o + 1] = rgb[3 * s + 1]!;
      out[o + 2] = rgb[3 * s + 2]!;
      if (withAlpha) out[o + 3] = noData[s] ? 0 : 255;
    }
  }
  return { width, height, channels, data: out };
}

/**
 * A colour composite of three planes (red, green, blue; same size) as make_lupton_rgb draws
 * it (defaults minimum 0, stretch 5, Q 8, as astropy's), each plane first shrunk to maxSide by
 * block averaging when given; PNG or JPEG bytes.
 */
export function renderRgb(
  planes: readonly [Plane, Plane, Plane],
  options: Partial<LuptonOptions> & { maxSide?: number },
  format: PreviewFormat,
): Buffer {
  const { maxSide } = options;
  checkRgbPlanes(planes);
  const shown: [Plane, Plane, Plane] =
    maxSide === undefined
      ? [planes[0], planes[1], planes[2]]
      : [downsample(planes[0], maxSide), downsample(planes[1], maxSide), downsample(planes[2], maxSide)];
  const image = paintRgb(luptonRgb(shown, options), format === 'png');
  return format === 'png' ? encodePng(image) : encodeJpeg(image);
}
