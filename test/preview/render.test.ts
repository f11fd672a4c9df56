/**
 * renderPreview against a numpy + astropy.visualization reference (test/preview/helpers.ts:
 * astropy's intervals and stretches, NaN-padded np.nanmean blocks), decoding our PNG/JPEG
 * with pngjs / libjpeg-turbo: every stretch × cuts kind, colour maps, transparency, the
 * vertical flip, downsampling, and degenerate planes. Needs astropy.
 */
import { createHash } from 'node:crypto';
import {
  type Colormap,
  type Cuts,
  type DisplayOptions,
  INFERNO_DATA,
  type Plane,
  type PreviewFormat,
  type Stretch,
  VIRIDIS_DATA,
  colormapEntry,
  colormapLut,
  computeCuts,
  displayLevels,
  downsample,
  downsampleFactor,
  levelAt,
  renderPreview,
  stretchValue,
} from '../../shared/preview';
import { seededRandom } from '../../shared/random';
import { describeWith } from '../helpers/tools';
import { type DecodedPicture, type PyCase, decodeJpeg, decodePng, makeSky, pictureIndex, pythonReference } from './helpers';

interface RenderRef {
  lo: number | null;
  hi: number | null;
  shape: [number, number];
  /** Plane order (row 0 = FITS row 1), −1 = no data. */
  levels: number[];
  /** The downsampled plane, when maxSide was given (null = NaN). */
  down: (number | null)[] | null;
}

const BODY = String.raw`
RESULTS = []
for arrays, prm in CASES:
    a = arrays['data'].copy()
    if 'masked' in arrays:
        a[arrays['masked'] != 0] = np.nan
    a[~np.isfinite(a)] = np.nan
    down = None
    if prm.get('maxSide'):
        a = downsample(a, prm['maxSide'])
        down = [float(x) if np.isfinite(x) else None for x in a.ravel()]
    if np.isfinite(a).any():
        lo, hi, lev = levels(a, prm['cuts'], prm['stretch'])
    else:
        lo, hi, lev = None, None, np.full(a.shape, -1)
    RESULTS.append({'lo': lo, 'hi': hi, 'shape': list(lev.shape), 'levels': lev.ravel().tolist(), 'down': down})
`;

const STRETCHES: Stretch[] = ['linear', 'asinh', 'log', 'sqrt'];
const CUTS: Cuts[] = [
  { kind: 'zscale' },
  { kind: 'minmax' },
  { kind: 'percentile', lo: 0.5, hi: 99.5 },
  { kind: 'percentile', lo: 5, hi: 95 },
];

/** A 64 × 48 sky (not square, so a transposition would show) with NaN, ±Inf and masked pixels. */
function holeySky(): Plane {
  const width = 64;
  const height = 48;
  const data = makeSky(width, height, 'render');
  const masked = new Uint8Array(width * height);
  const rand = seededRandom('render-holes');
  for (let i = 0; i < data.length; i++) {
    const r = rand();
    if (r < 0.02) data[i] = NaN;
    else if (r < 0.03) data[i] = r < 0.025 ? Infinity : -Infinity;
    else if (r < 0.05) masked[i] = 1;
  }
  // A whole masked column and a NaN row: shapes that a transposition or flip would move.
  for (let y = 0; y < height; y++) masked[y * width + 5] = 1;
  for (let x = 0; x < width; x++) data[40 * width + x] = NaN;
  return { width, height, data, masked };
}

interface RenderCase {
  name: string;
  plane: Plane;
  options: DisplayOptions;
}

function pyCase(c: RenderCase): PyCase {
  const { plane, options } = c;
  const shape = [plane.height, plane.width];
  return {
    arrays: { data: { data: plane.data, shape }, ...(plane.masked ? { masked: { data: plane.masked, shape } } : {}) },
    params: { cuts: options.cuts, stretch: options.stretch, maxSide: options.maxSide ?? null },
  };
}

/** Level of each plane pixel in the decoded picture (−1 transparent), checking the layout. */
function levelsOf(pic: DecodedPicture, cmap: Colormap): Int16Array {
  const n = pic.width * pic.height;
  const out = new Int16Array(n);
  const lut = colormapLut(cmap);
  for (let i = 0; i < n; i++) {
    const p = pictureIndex(pic.width, pic.height, i);
    const [r, g, b, a] = [pic.rgba[4 * p]!, pic.rgba[4 * p + 1]!, pic.rgba[4 * p + 2]!, pic.rgba[4 * p + 3]!];
    if (a === 0) {
      expect([r, g, b]).toEqual([0, 0, 0]);
      out[i] = -1;
      continue;
    }
    expect(a).toBe(255);
    let level = -2;
    for (let l = 0; l < 256 && level < 0; l++) if (lut[3 * l] === r && lut[3 * l + 1] === g && lut[3 * l + 2] === b) level = l;
    if (level < 0) throw new Error(`pixel ${i}: (${r}, ${g}, ${b}) is not in the ${cmap} map`);
    out[i] = level;
  }
  return out;
}

/** Levels agree within ±1, no-data pixels exactly, and ≥ 99 % of the levels exactly. */
function expectLevels(ours: Int16Array, ref: readonly number[]): void {
  expect(ours.length).toBe(ref.length);
  let exact = 0;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const o = ours[i]!;
    if ((r === -1) !== (o === -1)) throw new Error(`pixel ${i}: level ${o}, reference ${r}`);
    worst = Math.max(worst, Math.abs(o - r));
    if (o === r) exact++;
  }
  expect(worst).toBeLessThanOrEqual(1);
  expect(exact / ref.length).toBeGreaterThanOrEqual(0.99);
}

describeWith('astropy', 'renderPreview against numpy and astropy', () => {
  const sky = holeySky();
  const big: Plane = { width: 300, height: 200, data: makeSky(300, 200, 'big-render'), masked: new Uint8Array(300 * 200) };
  for (let i = 0; i < big.data.length; i += 7) if (i % 3 === 0) big.data[i] = NaN;
  for (let i = 0; i < 300 * 200; i += 13) big.masked![i] = 1;
  // A 10 × 10 corner block entirely without data: its downsampled pixels have none either.
  for (let y = 190; y < 200; y++) for (let x = 290; x < 300; x++) big.data[y * 300 + x] = NaN;

  const grid: RenderCase[] = STRETCHES.flatMap((stretch) =>
    CUTS.map((cuts) => ({
      name: `${stretch} ${cuts.kind === 'percentile' ? `p${cuts.lo},${cuts.hi}` : cuts.kind}`,
      plane: sky,
      options: { stretch, cuts, cmap: 'gray' as const },
    })),
  );
  const others: RenderCase[] = [
    { name: 'viridis', plane: sky, options: { stretch: 'asinh', cuts: { kind: 'zscale' }, cmap: 'viridis' } },
    { name: 'inferno', plane: sky, options: { stretch: 'sqrt', cuts: { kind: 'percentile', lo: 1, hi: 99 }, cmap: 'inferno' } },
    {
      name: 'float64 plane',
      plane: { ...sky, data: Float64Array.from(sky.data) },
      options: { stretch: 'log', cuts: { kind: 'minmax' }, cmap: 'gray' },
    },
    {
      name: 'downsampled 300×200 → 60×40',
      plane: big,
      options: { stretch: 'asinh', cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 }, cmap: 'gray', maxSide: 64 },
    },
    {
      name: 'downsampled zscale viridis',
      plane: big,
      options: { stretch: 'linear', cuts: { kind: 'zscale' }, cmap: 'viridis', maxSide: 100 },
    },
    { name: 'downsampled to 1×1', plane: big, options: { stretch: 'linear', cuts: { kind: 'minmax' }, cmap: 'gray', maxSide: 1 } },
    {
      name: 'maxSide larger than the plane',
      plane: sky,
      options: { stretch: 'sqrt', cuts: { kind: 'zscale' }, cmap: 'gray', maxSide: 1000 },
    },
    { name: 'JPEG gray', plane: sky, options: { stretch: 'asinh', cuts: { kind: 'zscale' }, cmap: 'gray' } },
    { name: 'JPEG viridis', plane: sky, options: { stretch: 'asinh', cuts: { kind: 'zscale' }, cmap: 'viridis' } },
  ];
  const all = [...grid, ...others];
  let refs: RenderRef[];
  beforeAll(async () => {
    refs = await pythonReference<RenderRef>(BODY, all.map(pyCase));
  });
  const refOf = (name: string): RenderRef => refs[all.findIndex((c) => c.name === name)]!;
  const caseOf = (name: string): RenderCase => all.find((c) => c.name === name)!;

  test.each(grid.map((c) => [c.name]))('PNG gray, %s', (name) => {
    const { plane, options } = caseOf(name);
    const ref = refOf(name);
    const [lo, hi] = computeCuts(plane.data, options.cuts, plane.masked);
    expect(lo).toBeCloseTo(ref.lo!, 9);
    expect(hi).toBeCloseTo(ref.hi!, 9);
    const pic = decodePng(renderPreview(plane, options, 'png'));
    expect([pic.width, pic.height]).toEqual([64, 48]);
    expect(pic.colorType).toBe(4); // gray + alpha: there are pixels without data
    expectLevels(levelsOf(pic, 'gray'), ref.levels);
  });

  test('the grid draws different pictures (the parameters take effect)', () => {
    const pictures = new Set(
      grid.map((c) =>
        createHash('sha256')
          .update(renderPreview(c.plane, c.options, 'png'))
          .digest('hex'),
      ),
    );
    expect(pictures.size).toBe(grid.length);
  });

  test.each(['viridis', 'inferno', 'float64 plane', 'maxSide larger than the plane'])('PNG, %s', (name) => {
    const { plane, options } = caseOf(name);
    const pic = decodePng(renderPreview(plane, options, 'png'));
    expect([pic.width, pic.height]).toEqual([64, 48]);
    expect(pic.colorType).toBe(options.cmap === 'gray' ? 4 : 6);
    expectLevels(levelsOf(pic, options.cmap), refOf(name).levels);
  });

  test.each(['downsampled 300×200 → 60×40', 'downsampled zscale viridis', 'downsampled to 1×1'])('PNG, %s', (name) => {
    const { plane, options } = caseOf(name);
    const ref = refOf(name);
    const f = downsampleFactor(plane.width, plane.height, options.maxSide!);
    const shrunk = downsample(plane, options.maxSide!);
    expect([shrunk.height, shrunk.width]).toEqual(ref.shape);
    expect([shrunk.width, shrunk.height]).toEqual([Math.ceil(300 / f), Math.ceil(200 / f)]);
    expect(Math.max(shrunk.width, shrunk.height)).toBeLessThanOrEqual(options.maxSide!);
    // Block means equal np.nanmean's to rounding; empty blocks NaN in both.
    ref.down!.forEach((v, i) => {
      if (v === null) expect(shrunk.data[i]).toBeNaN();
      else expect(Math.abs(shrunk.data[i]! - v)).toBeLessThanOrEqual(1e-12 * Math.abs(v));
    });
    const pic = decodePng(renderPreview(plane, options, 'png'));
    expect([pic.height, pic.width]).toEqual(ref.shape);
    expectLevels(levelsOf(pic, options.cmap), ref.levels);
  });

  test('the downsampled cases have empty blocks where the data have holes', () => {
    const ref = refOf('downsampled 300×200 → 60×40');
    // The top-right 10 × 10 corner without data is two 5 × 5 blocks wide and tall.
    expect(ref.levels.filter((l) => l === -1)).toHaveLength(4);
    expect(refOf('downsampled to 1×1').levels).toEqual([0]); // one pixel: lo = hi = its value
  });

  // The sky here is noise stretched over the full range by zscale + asinh: every pixel
  // differs from its neighbours, the worst case for JPEG (quality 90, 4:4:4): mean errors of
  // about 3 levels in gray and 6 per channel in colour (measured 3.0 and 6.3; 4:2:0 would be
  // 14). A smooth image is checked tightly below.
  test('JPEG gray: close to the reference, black where there is no data', () => {
    const name = 'JPEG gray';
    const { plane, options } = caseOf(name);
    const ref = refOf(name).levels;
    const pic = decodeJpeg(renderPreview(plane, options, 'jpeg'), true);
    expect([pic.width, pic.height]).toEqual([64, 48]);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(pic.rgba[4 * pictureIndex(64, 48, i)]! - Math.max(0, ref[i]!));
    expect(sum / ref.length).toBeLessThan(3.5);
  });

  test('JPEG viridis: close to the map of the reference levels', () => {
    const name = 'JPEG viridis';
    const { plane, options } = caseOf(name);
    const ref = refOf(name).levels;
    const pic = decodeJpeg(renderPreview(plane, options, 'jpeg'), false);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) {
      const expected = ref[i] === -1 ? [0, 0, 0] : colormapEntry('viridis', ref[i]!);
      const p = pictureIndex(64, 48, i);
      for (let c = 0; c < 3; c++) sum += Math.abs(pic.rgba[4 * p + c]! - expected[c]!);
    }
    expect(sum / (3 * ref.length)).toBeLessThan(7);
  });
});

describe('JPEG of a smooth image', () => {
  test.each(['gray', 'viridis', 'inferno'] as const)('%s: within a level or so of the PNG pixels', (cmap) => {
    const width = 96;
    const height = 64;
    const data = Float32Array.from({ length: width * height }, (_, i) =>
      Math.exp(-(((i % width) - 40) ** 2 + (Math.floor(i / width) - 20) ** 2) / 800),
    );
    const options: DisplayOptions = { stretch: 'sqrt', cuts: { kind: 'minmax' }, cmap };
    const png = decodePng(renderPreview({ width, height, data }, options, 'png'));
    const jpeg = decodeJpeg(renderPreview({ width, height, data }, options, 'jpeg'), cmap === 'gray');
    let sum = 0;
    for (let i = 0; i < png.rgba.length; i++) if (i % 4 !== 3) sum += Math.abs(png.rgba[i]! - jpeg.rgba[i]!);
    expect(sum / (width * height * 3)).toBeLessThan(cmap === 'gray' ? 1 : 2); // measured 0.6, 1.2, 1.3
  });
});

describe('orientation, transparency and layouts', () => {
  const linear: DisplayOptions = { stretch: 'linear', cuts: { kind: 'minmax' }, cmap: 'gray' };

  test('plane row 0 (FITS row 1) is the bottom row of the picture', () => {
    // 3 wide, 2 high: row 0 = 0 (black), row 1 = 1 (white); column 2 of row 0 is NaN.
    const plane: Plane = { width: 3, height: 2, data: Float32Array.of(0, 0.5, NaN, 1, 1, 1) };
    const pic = decodePng(renderPreview(plane, linear, 'png'));
    expect([pic.width, pic.height, pic.colorType]).toEqual([3, 2, 4]);
    const gray = [...Array(6).keys()].map((i) => [pic.rgba[4 * i], pic.rgba[4 * i + 3]]);
    // Top row first: white, white, white; then black, level round(0.5·255 + 0.5) = 128, transparent.
    expect(gray).toEqual([
      [255, 255],
      [255, 255],
      [255, 255],
      [0, 255],
      [128, 255],
      [0, 0],
    ]);
  });

  test('masked pixels are transparent in PNG and black in JPEG, and left out of the cuts', () => {
    const data = Float64Array.from({ length: 16 * 16 }, (_, i) => i % 16);
    const masked = new Uint8Array(256);
    for (let i = 0; i < 256; i++) if (i % 16 >= 8) masked[i] = 1; // the right half
    data[15] = 1e9; // masked, so not the maximum
    const plane: Plane = { width: 16, height: 16, data, masked };
    const png = decodePng(renderPreview(plane, linear, 'png'));
    const jpeg = decodeJpeg(renderPreview(plane, linear, 'jpeg'), true);
    for (let i = 0; i < 256; i++) {
      const x = i % 16;
      if (x >= 8) {
        expect(png.rgba[4 * i + 3]).toBe(0);
        expect(jpeg.rgba[4 * i]).toBeLessThanOrEqual(1);
      } else {
        expect(png.rgba[4 * i + 3]).toBe(255);
        expect(png.rgba[4 * i]).toBe(Math.floor((x / 7) * 255 + 0.5)); // minmax over the unmasked 0..7
      }
    }
    // An 8 × 8-aligned black area survives JPEG exactly.
    for (let y = 0; y < 16; y++) for (let x = 8; x < 16; x++) expect(jpeg.rgba[4 * (y * 16 + x)]).toBe(0);
  });

  test('no pixel without data: no alpha channel (PNG gray 0 / RGB 2); with one: 4 / 6', () => {
    const full: Plane = { width: 8, height: 4, data: Float32Array.from({ length: 32 }, (_, i) => i) };
    const holed: Plane = { ...full, data: Float32Array.from(full.data, (v) => (v === 9 ? NaN : v)) };
    const typeOf = (plane: Plane, cmap: Colormap) => decodePng(renderPreview(plane, { ...linear, cmap }, 'png')).colorType;
    expect(typeOf(full, 'gray')).toBe(0);
    expect(typeOf(full, 'viridis')).toBe(2);
    expect(typeOf(holed, 'gray')).toBe(4);
    expect(typeOf(holed, 'inferno')).toBe(6);
  });

  test('never enlarged: a plane that fits is drawn at its size, and downsample returns it as is', () => {
    const plane: Plane = { width: 50, height: 30, data: makeSky(50, 30, 'small') };
    expect(downsample(plane, 50)).toBe(plane);
    expect(downsample(plane, 4096)).toBe(plane);
    const pic = decodePng(renderPreview(plane, { ...linear, maxSide: 4096 }, 'png'));
    expect([pic.width, pic.height]).toEqual([50, 30]);
    expect(downsampleFactor(50, 30, 49)).toBe(2);
    expect([downsample(plane, 49).width, downsample(plane, 49).height]).toEqual([25, 15]);
    expect(() => downsample(plane, 0)).toThrow(RangeError);
    expect(() => downsample(plane, 2.5)).toThrow(RangeError);
  });

  test('downsample averages finite unmasked pixels of each block', () => {
    const plane: Plane = {
      width: 3,
      height: 2,
      data: Float64Array.of(1, 2, 10, NaN, 6, 20),
      masked: Uint8Array.of(0, 0, 0, 0, 1, 0),
    };
    const d = downsample(plane, 2); // f = 2: blocks {1, 2, NaN, 6 masked} and {10, 20}
    expect(d).toEqual({ width: 2, height: 1, data: Float64Array.of(1.5, 15) });
  });

  test('displayLevels equals the scalar formula levelAt for every pixel and stretch', () => {
    const plane: Plane = { width: 300, height: 250, data: makeSky(300, 250, 'levels') };
    const [lo, hi] = computeCuts(plane.data, { kind: 'percentile', lo: 1, hi: 99 });
    for (const stretch of STRETCHES) {
      const levels = displayLevels(plane, lo, hi, stretch);
      let same = 0;
      for (let i = 0; i < levels.length; i++) if (levels[i] === levelAt(plane.data[i]!, lo, hi, stretch)) same++;
      expect(same).toBe(levels.length);
    }
  });

  test('stretches of a few values (astropy formulae)', () => {
    expect(stretchValue(0.25, 'linear')).toBe(0.25);
    expect(stretchValue(0.25, 'sqrt')).toBe(0.5);
    expect(stretchValue(0.25, 'asinh')).toBeCloseTo(Math.asinh(2.5) / Math.asinh(10), 15);
    expect(stretchValue(0.25, 'log')).toBeCloseTo(Math.log(251) / Math.log(1001), 15);
    for (const s of STRETCHES) {
      expect(stretchValue(0, s)).toBe(0);
      expect(stretchValue(1, s)).toBeCloseTo(1, 15);
    }
  });
});

describe('degenerate planes', () => {
  const formats: PreviewFormat[] = ['png', 'jpeg'];
  const opts = (cmap: Colormap): DisplayOptions => ({ stretch: 'asinh', cuts: { kind: 'zscale' }, cmap });

  test.each(formats)('all NaN: transparent PNG, black JPEG (%s)', (format) => {
    const plane: Plane = { width: 5, height: 3, data: new Float32Array(15).fill(NaN) };
    const bytes = renderPreview(plane, opts('viridis'), format);
    const pic = format === 'png' ? decodePng(bytes) : decodeJpeg(bytes, false);
    expect([pic.width, pic.height]).toEqual([5, 3]);
    for (let i = 0; i < 15; i++) {
      expect([...pic.rgba.subarray(4 * i, 4 * i + 3)]).toEqual([0, 0, 0]);
      expect(pic.rgba[4 * i + 3]).toBe(format === 'png' ? 0 : 255);
    }
  });

  test('a constant image: every pixel the first colour of the map, opaque', () => {
    const plane: Plane = { width: 4, height: 4, data: new Float64Array(16).fill(7) };
    for (const cmap of ['gray', 'viridis'] as const) {
      for (const cuts of [{ kind: 'zscale' }, { kind: 'minmax' }, { kind: 'percentile', lo: 1, hi: 99 }] as const) {
        const pic = decodePng(renderPreview(plane, { stretch: 'asinh', cuts, cmap }, 'png'));
        for (let i = 0; i < 16; i++) expect([...pic.rgba.subarray(4 * i, 4 * i + 4)]).toEqual([...colormapEntry(cmap, 0), 255]);
      }
    }
  });

  test.each(formats)('1×1 (%s)', (format) => {
    const bytes = renderPreview({ width: 1, height: 1, data: Float32Array.of(3) }, opts('inferno'), format);
    const pic = format === 'png' ? decodePng(bytes) : decodeJpeg(bytes, false);
    expect([pic.width, pic.height]).toEqual([1, 1]);
    if (format === 'png') expect([...pic.rgba]).toEqual([...colormapEntry('inferno', 0), 255]);
  });

  test('inconsistent planes are refused', () => {
    expect(() => renderPreview({ width: 2, height: 2, data: new Float32Array(3) }, opts('gray'), 'png')).toThrow(RangeError);
    expect(() => renderPreview({ width: 0, height: 0, data: new Float32Array(0) }, opts('gray'), 'png')).toThrow(RangeError);
    expect(() => renderPreview({ width: 2, height: 1, data: new Float32Array(2), masked: new Uint8Array(1) }, opts('gray'), 'png')).toThrow(
      RangeError,
    );
  });
});

describe('colour maps', () => {
  const sha = (bytes: Uint8Array | Float64Array) =>
    createHash('sha256')
      .update(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      .digest('hex');

  test('the tables are matplotlib 3.6.3 _cm_listed.py _viridis_data and _inferno_data, number for number', () => {
    // SHA-256 of the 768 float64 values (little-endian), computed from that file with
    // struct.pack('<d', v) over its rows.
    expect(VIRIDIS_DATA).toHaveLength(768);
    expect(INFERNO_DATA).toHaveLength(768);
    expect(sha(Float64Array.from(VIRIDIS_DATA))).toBe('e92462537267940df9419465e4107f0577981d42edd77345bfbd6694b0bad5aa');
    expect(sha(Float64Array.from(INFERNO_DATA))).toBe('0af14089c97cbdae1b72a91fe65db9275469bd03b6ce0c6ddb6fda0a76e62577');
    expect(VIRIDIS_DATA.slice(0, 3)).toEqual([0.267004, 0.004874, 0.329415]);
    expect(INFERNO_DATA.slice(765)).toEqual([0.988362, 0.998364, 0.644924]);
  });

  test('8-bit entries are round(255 v): the published hex values', () => {
    // SHA-256 of bytes(round(c * 255) for row in table for c in row), from the same file.
    expect(sha(colormapLut('viridis'))).toBe('18545f7c72a02f02a54f2e3f6ff9dcf357e0190ab9117a1f8fae44c6eaf179e0');
    expect(sha(colormapLut('inferno'))).toBe('e24e8bd38b972989f64c42856b2b274df5ada3a62bc01bf8e83500a2ea938ad4');
    const hex = (cmap: Colormap, l: number) =>
      `#${colormapEntry(cmap, l)
        .map((c) => c.toString(16).padStart(2, '0'))
        .join('')}`;
    expect([0, 64, 128, 192, 255].map((l) => hex('viridis', l))).toEqual(['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']);
    expect([0, 64, 128, 192, 255].map((l) => hex('inferno', l))).toEqual(['#000004', '#57106e', '#bc3754', '#f98e09', '#fcffa4']);
    expect(colormapEntry('viridis', 0)).toEqual([68, 1, 84]);
    expect(colormapEntry('viridis', 255)).toEqual([253, 231, 37]);
    for (const l of [0, 1, 127, 254, 255]) expect(colormapEntry('gray', l)).toEqual([l, l, l]);
  });
});
