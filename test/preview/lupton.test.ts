/**
 * renderRgb / luptonRgb against astropy 5.2's make_lupton_rgb (float32 and float64 planes,
 * its parameters, saturated stars), with no-data pixels and downsampling. Needs astropy.
 */
import { type LuptonOptions, type Plane, asinhMapping, luptonRgb, renderRgb } from '../../shared/preview';
import { describeWith } from '../helpers/tools';
import { type PyCase, decodeJpeg, decodePng, makeSky, pictureIndex, pythonReference } from './helpers';

interface LuptonRef {
  shape: [number, number];
  rgb: number[];
  noData: number[];
}

const BODY = String.raw`
RESULTS = []
for arrays, prm in CASES:
    bands = [arrays['r'], arrays['g'], arrays['b']]
    if prm.get('maxSide'):
        bands = [downsample(np.where(np.isfinite(x), x, np.nan), prm['maxSide']) for x in bands]
    nd = ~(np.isfinite(bands[0]) & np.isfinite(bands[1]) & np.isfinite(bands[2]))
    # astropy has no notion of missing data: give it zeros there (those pixels are not compared).
    bands = [np.where(nd, 0, x).astype(x.dtype) for x in bands]
    kw = {k: prm[k] for k in ('minimum', 'stretch', 'Q') if k in prm}
    rgb = make_lupton_rgb(*bands, **kw)
    RESULTS.append({'shape': list(rgb.shape[:2]), 'rgb': rgb.ravel().tolist(), 'noData': nd.ravel().astype(int).tolist()})
`;

interface RgbCase {
  name: string;
  planes: [Plane, Plane, Plane];
  options: Partial<LuptonOptions> & { maxSide?: number };
}

function bands(width: number, height: number, seed: string, scale: [number, number, number], float64 = false): [Plane, Plane, Plane] {
  return scale.map((s, k) => {
    const sky = makeSky(width, height, `${seed}-${k}`);
    const data = float64 ? Float64Array.from(sky, (v) => (v - 100) * s) : Float32Array.from(sky, (v) => (v - 100) * s);
    return { width, height, data };
  }) as [Plane, Plane, Plane];
}

describeWith('astropy', 'make_lupton_rgb', () => {
  const holed = bands(64, 48, 'holes', [0.05, 0.04, 0.03]);
  holed[1].data[10] = NaN;
  holed[2].data[200] = Infinity;
  holed[0].data[48 * 64 - 1] = NaN;
  const masked = bands(64, 48, 'masked', [0.05, 0.05, 0.05]);
  masked[0].masked = new Uint8Array(64 * 48);
  masked[0].masked[65] = 1;
  const all: RgbCase[] = [
    { name: 'float32, astropy defaults', planes: bands(64, 48, 'defaults', [0.05, 0.04, 0.03]), options: {} },
    { name: 'float32, bright: saturated stars rescaled', planes: bands(64, 48, 'bright', [1, 0.8, 0.6]), options: { stretch: 2, Q: 8 } },
    {
      name: 'float64, minimum per band, stretch 50, Q 10',
      planes: bands(64, 48, 'f64', [1, 1, 1], true),
      options: { minimum: [5, -3, 0], stretch: 50, Q: 10 },
    },
    { name: 'float32, Q 0 (astropy uses 0.1)', planes: bands(40, 30, 'q0', [0.2, 0.2, 0.2]), options: { Q: 0 } },
    { name: 'float64, Q 1e12 (capped at 1e10)', planes: bands(40, 30, 'qbig', [0.2, 0.1, 0.3], true), options: { Q: 1e12, stretch: 1e9 } },
    { name: 'no-data pixels', planes: holed, options: {} },
    { name: 'masked pixel', planes: masked, options: {} },
    { name: 'downsampled to 22 × 16', planes: bands(64, 48, 'down', [0.05, 0.04, 0.03]), options: { maxSide: 22 } },
  ];
  let refs: LuptonRef[];
  beforeAll(async () => {
    const py: PyCase[] = all.map((c) => {
      const [r, g, b] = c.planes.map((p) => {
        // The reference sees masked pixels as NaN.
        const data = p.masked ? p.data.map((v, i) => (p.masked![i] ? NaN : v)) : p.data;
        return { data, shape: [p.height, p.width] };
      });
      const { maxSide, ...lupton } = c.options;
      return { arrays: { r: r!, g: g!, b: b! }, params: { ...lupton, maxSide: maxSide ?? null } };
    });
    refs = await pythonReference<LuptonRef>(BODY, py);
  });

  test.each(all.map((c, k) => [c.name, k] as const))('%s', (_name, k) => {
    const c = all[k]!;
    const ref = refs[k]!;
    const [height, width] = ref.shape;
    const { maxSide, ...lupton } = c.options;
    // astropy's bytes, 0 where there is no data (astropy was given zeros there).
    const expected = Uint8Array.from(ref.rgb, (v, i) => (ref.noData[Math.floor(i / 3)] ? 0 : v));
    // Unflipped bytes: luptonRgb (after the same downsampling as renderRgb). float32 arithmetic
    // is reproduced step by step, so every byte equals astropy's (only a last-bit difference
    // between libm's and V8's asinh could move one by 1).
    if (!maxSide) {
      const ours = luptonRgb(c.planes, lupton);
      expect(Buffer.from(ours.rgb).equals(Buffer.from(expected))).toBe(true);
      expect(ours.noData ? [...ours.noData] : new Array<number>(width * height).fill(0)).toEqual(ref.noData);
    }
    // The picture: flipped, transparent where there is no data, RGBA only when there is some.
    const pic = decodePng(renderRgb(c.planes, c.options, 'png'));
    expect([pic.width, pic.height]).toEqual([width, height]);
    expect(pic.colorType).toBe(ref.noData.some((x) => x) ? 6 : 2);
    const picture = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const p = pictureIndex(width, height, i);
      picture.set(ref.noData[i] ? [0, 0, 0, 0] : [...expected.subarray(3 * i, 3 * i + 3), 255], 4 * p);
    }
    let worst = 0;
    for (let j = 0; j < picture.length; j++) worst = Math.max(worst, Math.abs(picture[j]! - pic.rgba[j]!));
    // Downsampled planes are averaged in a different order than np.nanmean: ±1 allowed there.
    expect(worst).toBeLessThanOrEqual(maxSide ? 1 : 0);
  });

  test('the cases reach what they are named for', () => {
    const ref = (name: string) => refs[all.findIndex((c) => c.name === name)]!;
    expect(ref('float32, bright: saturated stars rescaled').rgb.filter((v) => v === 255).length).toBeGreaterThan(20);
    expect(ref('no-data pixels').noData.filter((x) => x)).toHaveLength(3);
    expect(ref('masked pixel').noData[65]).toBe(1);
    expect(ref('downsampled to 22 × 16').shape).toEqual([16, 22]);
    // Different parameters, different pictures.
    expect(ref('float32, Q 0 (astropy uses 0.1)').rgb).not.toEqual(Array.from(luptonRgb(all[3]!.planes, { Q: 8 }).rgb));
  });

  test('JPEG: close to astropy, black where there is no data', () => {
    const k = all.findIndex((c) => c.name === 'no-data pixels');
    const ref = refs[k]!;
    const pic = decodeJpeg(renderRgb(all[k]!.planes, {}, 'jpeg'), false);
    let sum = 0;
    for (let i = 0; i < 64 * 48; i++) {
      const p = pictureIndex(64, 48, i);
      for (let ch = 0; ch < 3; ch++) sum += Math.abs(pic.rgba[4 * p + ch]! - (ref.noData[i] ? 0 : ref.rgb[3 * i + ch]!));
    }
    expect(sum / (64 * 48 * 3)).toBeLessThan(7);
  });
});

describe('Lupton parameters', () => {
  test('astropy AsinhMapping constants', () => {
    expect(asinhMapping(8, 5)).toEqual({ slope: (0.1 * 255) / Math.asinh(0.8), soften: 8 / 5 });
    expect(asinhMapping(0, 5).soften).toBe(0.1 / 5);
    expect(asinhMapping(1e12, 1).soften).toBe(1e10);
    expect(() => asinhMapping(8, 0)).toThrow(RangeError);
  });

  test('planes of different sizes are refused', () => {
    const p = (w: number): Plane => ({ width: w, height: 2, data: new Float32Array(2 * w) });
    expect(() => renderRgb([p(2), p(2), p(3)], {}, 'png')).toThrow('the three planes differ in size: 2×2, 2×2, 3×2');
  });

  test('all NaN: transparent', () => {
    const p: Plane = { width: 2, height: 2, data: new Float64Array(4).fill(NaN) };
    const pic = decodePng(renderRgb([p, p, p], {}, 'png'));
    expect([...pic.rgba]).toEqual(new Array<number>(16).fill(0));
  });
});
