/**
 * Cutout bytes: pixels copied byte for byte at the offset, the WCS of the cutout mapping its
 * pixels to the same sky positions, LTV and CRPIXja moved, provenance in the primary header,
 * every BITPIX with its scaling kept, the chunked form identical to the one-buffer form, the
 * size limit, the header cache, cutouts of cutouts; on synthetic files and on a generated
 * DP0.2-like demo repository (TAN coadd, TAN-SIP calexp).
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { type GeneratedDataset, extensionHeader, generateDemoRepository } from '../../shared/demo';
import {
  type FitsFile,
  type HduInfo,
  Header,
  type Rect,
  openFitsBuffer,
  openFitsSync,
  scalarLookup,
  writeFitsBuffer,
} from '../../shared/fits';
import { bandOf } from '../../shared/obscore/bands';
import { makeCircle, makePolygon, makeRange } from '../../shared/sky';
import {
  type CutoutPlan,
  type DatasetCoverage,
  HeaderCache,
  type SodaCutout,
  type SpatialFilter,
  cutoutBuffer,
  cutoutChunks,
  planCutout,
} from '../../shared/soda';
import { parseWcs } from '../../shared/wcs';
import { cutoutOf, exposureHdus, planes, sodaFailure, tanSpec, tempDir, wcsOf } from './helpers';

const UNKNOWN: DatasetCoverage = { emMin: null, emMax: null, tMin: null, tMax: null };
const DEG_1E9 = 1e-9;

let dir: ReturnType<typeof tempDir>;
const open: FitsFile[] = [];

beforeAll(() => {
  dir = tempDir();
});

afterAll(() => {
  for (const file of open) file.close();
  dir?.cleanup();
});

function openFile(path: string): FitsFile {
  const file = openFitsSync(path);
  open.push(file);
  return file;
}

function writeAndOpen(name: string, hdus: Parameters<typeof writeFitsBuffer>[0]): FitsFile {
  writeFileSync(dir.path(name), writeFitsBuffer(hdus));
  return openFile(dir.path(name));
}

function region(shape: SpatialFilter['shape']): SpatialFilter {
  return { param: 'POS', shape };
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Checks the cutout against its source and plan: the HDUs, their stored bytes, and the WCS of
 * each cut HDU (its pixels map where the source's do, at the offset, ≤ 1e-9°). Returns it opened.
 */
function checkCutout(source: FitsFile, plan: CutoutPlan, bytes: Buffer): FitsFile {
  const out = openFitsBuffer(bytes, 'cutout');
  const expectedHdus = plan.primary === 'header' ? plan.hdus.length + 1 : plan.hdus.length;
  expect(out.hdus).toHaveLength(expectedHdus);
  expect(out.size).toBe(bytes.length);
  plan.hdus.forEach((planned, k) => {
    const cut = out.hdus[plan.primary === 'header' ? k + 1 : k]!;
    const { x0, y0, width, height } = planned.rect;
    expect(cut.axes).toEqual([width, height]);
    expect(cut.extname).toBe(planned.name);
    expect(
      bytesOf(out.readRectBytes(cut, { x0: 0, y0: 0, width, height })).equals(bytesOf(source.readRectBytes(planned.index, planned.rect))),
    ).toBe(true);
    const sourceWcs = parseWcs(scalarLookup(source.hdu(planned.index).header));
    const cutWcs = parseWcs(scalarLookup(cut.header));
    for (const [i, j] of [
      [0, 0],
      [width - 1, 0],
      [0, height - 1],
      [width - 1, height - 1],
      [(width - 1) / 2, (height - 1) / 3],
    ] as const) {
      const a = cutWcs.pixelToSky0(i, j);
      const b = sourceWcs.pixelToSky0(i + x0, j + y0);
      expect(Math.abs(a.dec - b.dec)).toBeLessThanOrEqual(DEG_1E9);
      expect(Math.abs(((a.ra - b.ra + 540) % 360) - 180) * Math.cos((a.dec * Math.PI) / 180)).toBeLessThanOrEqual(DEG_1E9);
    }
  });
  return out;
}

describe('a synthetic Rubin exposure (parent origin 1000, 2000)', () => {
  const spec = tanSpec({ width: 120, height: 100, ra: 150, dec: 2, arcsecPerPixel: 2, rotation: 30, xy0: [1000, 2000] });
  const wcs = wcsOf(spec);
  const edgeCircle = makeCircle(wcs.pixelToSky0(-5, 50), 20 * wcs.pixelScale);
  let file: FitsFile;
  beforeAll(() => {
    file = writeAndOpen('exposure.fits', exposureHdus(spec, 'e0d5b1a2-0000-4000-8000-000000000001'));
  });

  test('a circle across the left edge: pixels, WCS, planes cut alike', () => {
    const cutout = cutoutOf({ spatial: { param: 'CIRCLE', shape: edgeCircle } });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    expect(plan.hdus.map((h) => h.rect)).toEqual(Array(3).fill({ x0: 0, y0: 31, width: 16, height: 39 }));
    const out = checkCutout(file, plan, cutoutBuffer(file, plan, cutout));
    expect(out.hdus.map((h) => h.extname)).toEqual([null, 'IMAGE', 'MASK', 'VARIANCE']);
    expect(out.hdus.map((h) => h.bitpix)).toEqual([8, -32, 32, -32]);
    // The physical values too: IMAGE holds i + 0.5 for i the pixel's index in the source.
    const image = out.readImage('IMAGE').data;
    expect(image[0]).toBe(31 * 120 + 0.5);
    expect(image[16 * 38 + 15]).toBe((31 + 38) * 120 + 15 + 0.5);
  });

  test('LTV and every CRPIX move by the offset; all other cards are kept in order', () => {
    const rect: Rect = { x0: 17, y0: 23, width: 40, height: 30 };
    const plan: CutoutPlan = { primary: 'header', hdus: [{ index: 1, name: 'IMAGE', rect, imageSize: [120, 100] }] };
    const out = openFitsBuffer(cutoutBuffer(file, plan, cutoutOf({})));
    const before = file.hdu(1).header;
    const after = out.hdu(1).header;
    expect(after.getNumber('CRPIX1')).toBe(before.getNumber('CRPIX1')! - 17);
    expect(after.getNumber('CRPIX2')).toBe(before.getNumber('CRPIX2')! - 23);
    expect([after.getNumber('LTV1'), after.getNumber('LTV2')]).toEqual([-1017, -2023]);
    // The Rubin pixel WCS 'A' (parent grid) still gives the parent position of each pixel.
    expect([after.getNumber('CRPIX1A'), after.getNumber('CRPIX2A')]).toEqual([1 - 17, 1 - 23]);
    expect([after.getNumber('CRVAL1A'), after.getNumber('CRVAL2A')]).toEqual([1000, 2000]);
    const keywords = (h: Header) => h.cards.map((c) => c.keyword);
    expect(keywords(after)).toEqual(keywords(before));
    for (const card of before.cards) {
      if (/^(NAXIS[12]|CRPIX[12]A?|LTV[12])$/.test(card.keyword)) continue;
      expect(after.getCard(card.keyword)).toEqual(card);
    }
  });

  test('provenance: SODA_ID, SODA_POS, SODA_BND, SODA_TIM, SODA_POL and one HISTORY card per cut HDU', () => {
    const cutout: SodaCutout = {
      id: 'butler://dp02/e0d5b1a2-0000-4000-8000-000000000001',
      spatial: { param: 'CIRCLE', shape: makeCircle({ ra: 150, dec: 2 }, 0.005) },
      band: { lo: 5.5e-7, hi: Infinity },
      time: { lo: -Infinity, hi: 60001.5 },
      pol: ['I', 'Q'],
    };
    const plan = planCutout(file, cutout, { ...UNKNOWN, polStates: '/I/Q/' })!;
    const primary = openFitsBuffer(cutoutBuffer(file, plan, cutout)).hdus[0]!.header;
    expect(primary.getString('SODA_ID')).toBe(cutout.id);
    expect(primary.getCard('SODA_POS')).toEqual({
      keyword: 'SODA_POS',
      type: 'string',
      value: 'CIRCLE 150 2 0.005',
      comment: 'SODA 1.0 CIRCLE, ICRS deg',
    });
    expect(primary.getString('SODA_BND')).toBe('5.5e-7 +Inf');
    expect(primary.getString('SODA_TIM')).toBe('-Inf 60001.5');
    expect(primary.getString('SODA_POL')).toBe('I Q');
    const { x0, y0, width, height } = plan.hdus[0]!.rect;
    const range = `x ${x0}..${x0 + width - 1}, y ${y0}..${y0 + height - 1} of 120x100 (0-based)`;
    expect(primary.history().slice(-3)).toEqual([
      `SODA cutout of HDU 1 (IMAGE): ${range}`,
      `SODA cutout of HDU 2 (MASK): ${range}`,
      `SODA cutout of HDU 3 (VARIANCE): ${range}`,
    ]);
    // The rest of the primary header is the source's, NAXIS = 0.
    const source = file.hdus[0]!.header;
    expect(primary.getString('HIERARCH LSST BUTLER ID')).toBe(source.getString('HIERARCH LSST BUTLER ID'));
    expect(primary.getNumber('MJD-OBS')).toBe(source.getNumber('MJD-OBS'));
    expect(primary.getNumber('NAXIS')).toBe(0);
    expect(primary.getBoolean('EXTEND')).toBe(true);
  });

  test('a long ID with quotes and non-ASCII characters goes on CONTINUE cards, %-encoding what FITS cannot hold', () => {
    const id = `ivo://example.org/archive?path=${"a/b'c/".repeat(30)}é\t\uD800`;
    const plan = planCutout(file, cutoutOf({}), UNKNOWN)!;
    const bytes = cutoutBuffer(file, plan, cutoutOf({ id }));
    expect(bytes.toString('latin1', 0, 2880 * 2)).toContain('CONTINUE  ');
    expect(openFitsBuffer(bytes).hdus[0]!.header.getString('SODA_ID')).toBe(
      `ivo://example.org/archive?path=${"a/b'c/".repeat(30)}%C3%A9%09%EF%BF%BD`,
    );
  });

  test('the chunked form gives the same bytes, in chunks of whole rows within the limit', () => {
    const cutout = cutoutOf({ spatial: region(makeRange(149.99, 150.01, 1.99, 2.01)) });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    const whole = cutoutBuffer(file, plan, cutout);
    const rowBytes = plan.hdus[0]!.rect.width * 4;
    const chunks = [...cutoutChunks(file, plan, cutout, { chunkBytes: 3 * rowBytes + 1 })];
    expect(Buffer.concat(chunks).equals(whole)).toBe(true);
    const headerChunks = chunks.filter((c) => c.length % 2880 === 0 && c.toString('latin1', 0, 8).match(/^(SIMPLE|XTENSION)/));
    expect(headerChunks).toHaveLength(4);
    for (const chunk of chunks) if (!headerChunks.includes(chunk)) expect(chunk.length).toBeLessThanOrEqual(Math.max(3 * rowBytes, 2880));
    expect(Buffer.concat([...cutoutChunks(file, plan, cutout)]).equals(whole)).toBe(true);
  });

  test('the size limit: a UsageError naming the limit, before anything is read', () => {
    const plan = planCutout(file, cutoutOf({}), UNKNOWN)!;
    const expected =
      'UsageError: the cutout would hold 36000 pixels (120×100 + 120×100 + 120×100); the limit is 35999 pixels: ask for a smaller region\n';
    expect(sodaFailure(() => cutoutBuffer(file, plan, cutoutOf({}), { maxPixels: 35999 }))).toBe(expected);
    expect(sodaFailure(() => cutoutChunks(file, plan, cutoutOf({}), { maxPixels: 35999 }))).toBe(expected);
    expect(cutoutBuffer(file, plan, cutoutOf({}), { maxPixels: 36000 }).length).toBeGreaterThan(36000 * 4);
  });

  test('headers are formatted once per file version (a bounded LRU); the bytes do not depend on it', () => {
    const cache = new HeaderCache(2, 0); // the file's version looked at on every cutout
    const cutout = cutoutOf({ spatial: { param: 'CIRCLE', shape: edgeCircle } });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    const uncached = cutoutBuffer(file, plan, cutout, { cache: null });
    expect(cutoutBuffer(file, plan, cutout, { cache }).equals(uncached)).toBe(true);
    expect(cutoutBuffer(file, plan, cutout, { cache }).equals(uncached)).toBe(true);
    expect([cache.misses, cache.hits, cache.size]).toEqual([1, 1, 1]);
    // Touching the file makes a new version; the old one is dropped once two newer are kept.
    utimesSync(file.name, new Date(), new Date(Date.now() + 5000));
    cutoutBuffer(file, plan, cutout, { cache });
    expect([cache.misses, cache.hits, cache.size]).toEqual([2, 1, 2]);
    const other = writeAndOpen('other.fits', exposureHdus(spec, 'other'));
    cutoutBuffer(other, planCutout(other, cutout, UNKNOWN)!, cutout, { cache });
    expect([cache.misses, cache.size]).toEqual([3, 2]);
    // In-memory files are never cached.
    const inMemory = openFitsBuffer(writeFitsBuffer(exposureHdus(spec)));
    cutoutBuffer(inMemory, plan, cutout, { cache });
    expect([cache.misses, cache.hits, cache.size]).toEqual([3, 1, 2]);
  });

  test("a file's version is looked at once per statEveryMs, not on every cutout", () => {
    const cache = new HeaderCache(4, 60_000);
    const cutout = cutoutOf({ spatial: { param: 'CIRCLE', shape: edgeCircle } });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    cutoutBuffer(file, plan, cutout, { cache });
    utimesSync(file.name, new Date(), new Date(Date.now() + 9000));
    // Within the minute the touched file is still the version seen first: no new entry.
    cutoutBuffer(file, plan, cutout, { cache });
    expect([cache.misses, cache.hits, cache.size]).toEqual([1, 1, 1]);
  });

  test('a cutout of a cutout: offsets accumulate in LTV, pixels and WCS still match the original', () => {
    const first = cutoutOf({ spatial: region(makeCircle(wcs.pixelToSky0(70, 40), 25 * wcs.pixelScale)) });
    const firstPlan = planCutout(file, first, UNKNOWN)!;
    writeFileSync(dir.path('first.fits'), cutoutBuffer(file, firstPlan, first));
    const cut = openFile(dir.path('first.fits'));
    const second = cutoutOf({ spatial: region(makeCircle(wcs.pixelToSky0(80, 30), 6 * wcs.pixelScale)) });
    const secondPlan = planCutout(cut, second, UNKNOWN)!;
    const out = checkCutout(cut, secondPlan, cutoutBuffer(cut, secondPlan, second));
    const a = firstPlan.hdus[0]!.rect;
    const b = secondPlan.hdus[0]!.rect;
    const total: Rect = { x0: a.x0 + b.x0, y0: a.y0 + b.y0, width: b.width, height: b.height };
    expect(total).toEqual(planCutout(file, second, UNKNOWN)!.hdus[0]!.rect);
    expect([out.hdu(1).header.getNumber('LTV1'), out.hdu(1).header.getNumber('LTV2')]).toEqual([-1000 - total.x0, -2000 - total.y0]);
    expect(
      bytesOf(out.readRectBytes(1, { x0: 0, y0: 0, width: b.width, height: b.height })).equals(bytesOf(file.readRectBytes(1, total))),
    ).toBe(true);
    // The provenance is this cut's; the first cut's HISTORY stays.
    expect(out.hdus[0]!.header.getString('SODA_POS')).toContain('CIRCLE');
    expect(out.hdus[0]!.header.history().filter((h) => h.startsWith('SODA cutout of HDU 1'))).toHaveLength(2);
  });
});

describe('headers and pixels of every kind', () => {
  const spec = tanSpec({ width: 37, height: 23, ra: 10, dec: -45, arcsecPerPixel: 0.7 });

  test('every BITPIX, with BZERO/BSCALE/BLANK kept: stored bytes and physical values equal the source', () => {
    const n = spec.width * spec.height;
    const header = (name: string, edit?: (h: Header) => void): Header => {
      const h = extensionHeader('IMAGE', spec).set('EXTNAME', name);
      edit?.(h);
      return h;
    };
    const shape = [spec.width, spec.height];
    const file = writeAndOpen('kinds.fits', [
      { header: new Header().set('OBJECT', 'kinds') },
      { header: header('U8'), data: Uint8Array.from({ length: n }, (_, i) => i % 256), shape },
      {
        header: header('I16', (h) => h.set('BSCALE', 0.5).set('BZERO', 100).set('BLANK', -32768)),
        data: Int16Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -32768 : i * 37 - 9000)),
        shape,
      },
      { header: header('U16'), data: Uint16Array.from({ length: n }, (_, i) => (i * 97) % 65536), shape },
      { header: header('I32'), data: Int32Array.from({ length: n }, (_, i) => i * -123457), shape },
      { header: header('I64'), data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 3000000000000n - 2n ** 62n), shape },
      { header: header('F64'), data: Float64Array.from({ length: n }, (_, i) => (i % 11 === 0 ? NaN : Math.sqrt(i) * 1e-300)), shape },
    ]);
    const cutout = cutoutOf({ spatial: region(makeCircle(wcsOf(spec).pixelToSky0(30, 5), 9 * wcsOf(spec).pixelScale)) });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    expect(plan.hdus.map((h) => h.name)).toEqual(['U8', 'I16', 'U16', 'I32', 'I64', 'F64']);
    const out = checkCutout(file, plan, cutoutBuffer(file, plan, cutout));
    plan.hdus.forEach((planned, k) => {
      const cut: HduInfo = out.hdus[k + 1]!;
      const source = file.hdu(planned.index);
      expect(cut.bitpix).toBe(source.bitpix);
      for (const key of ['BZERO', 'BSCALE', 'BLANK']) expect(cut.header.getCard(key)).toEqual(source.header.getCard(key));
      const mine = out.readImage(cut, { type: 'float64' }).data;
      const theirs = file.readRect(source, planned.rect, { type: 'float64' }).data;
      expect(Array.from(mine)).toEqual(Array.from(theirs));
    });
  });

  test('stale CHECKSUM and DATASUM cards are dropped from every header', () => {
    const hdus = exposureHdus(spec);
    for (const hdu of hdus) hdu.header!.set('CHECKSUM', 'ZZZZZZZZZZZZZZZZ').set('DATASUM', '123');
    const file = writeAndOpen('checksums.fits', hdus);
    const plan = planCutout(file, cutoutOf({}), UNKNOWN)!;
    for (const hdu of openFitsBuffer(cutoutBuffer(file, plan, cutoutOf({}))).hdus) {
      expect(hdu.header.has('CHECKSUM') || hdu.header.has('DATASUM')).toBe(false);
    }
  });

  test('a single-image file: the primary HDU is cut and carries the provenance', () => {
    const { image } = planes(spec);
    const file = writeAndOpen('single.fits', [
      { header: extensionHeader('IMAGE', spec).set('OBJECT', 'single'), data: image, shape: [spec.width, spec.height] },
    ]);
    const cutout = cutoutOf({ spatial: region(makeCircle(wcsOf(spec).pixelToSky0(10, 10), 5 * wcsOf(spec).pixelScale)) });
    const plan = planCutout(file, cutout, UNKNOWN)!;
    expect(plan.primary).toBe('cut');
    const bytes = cutoutBuffer(file, plan, cutout);
    const out = checkCutout(file, plan, bytes);
    const primary = out.hdus[0]!.header;
    expect(primary.getString('SODA_ID')).toBe('ivo://test/dataset');
    expect(primary.getString('OBJECT')).toBe('single');
    expect(primary.getBoolean('SIMPLE')).toBe(true);
    expect(primary.has('EXTEND')).toBe(false);
    expect(primary.getNumber('LTV1')).toBe(-plan.hdus[0]!.rect.x0);
    expect(Buffer.concat([...cutoutChunks(file, plan, cutout, { chunkBytes: 100 })]).equals(bytes)).toBe(true);
  });

  test('images without LTV get LTV1/LTV2 = −offset', () => {
    const hdus = exposureHdus(spec);
    for (const hdu of hdus.slice(1)) {
      hdu.header!.delete('LTV1');
      hdu.header!.delete('LTV2');
    }
    const file = writeAndOpen('noltv.fits', hdus);
    const rect: Rect = { x0: 5, y0: 7, width: 3, height: 2 };
    const plan: CutoutPlan = { primary: 'header', hdus: [{ index: 2, name: 'MASK', rect, imageSize: [37, 23] }] };
    const out = checkCutout(file, plan, cutoutBuffer(file, plan, cutoutOf({})));
    expect(out.hdus[1]!.header.getCard('LTV1')).toEqual({
      keyword: 'LTV1',
      type: 'float',
      value: -5,
      comment: 'image pixel = physical pixel + LTV',
    });
    expect(out.hdus[1]!.header.getNumber('LTV2')).toBe(-7);
  });
});

describe('the demo repository (i-band coadd with TAN, calexp with rotated TAN-SIP)', () => {
  let datasets: GeneratedDataset[];
  const files = new Map<string, FitsFile>();
  const i = bandOf('i')!;
  const coverage: DatasetCoverage = { emMin: i.emMin, emMax: i.emMax, tMin: null, tMax: null };

  beforeAll(async () => {
    datasets = await generateDemoRepository(dir.path('demo'), { binning: 8, patches: [17], bands: ['i'], visits: 1, diffs: 0 });
    for (const d of datasets) files.set(d.datasetType, openFile(d.path));
  });

  test.each(['deepCoadd_calexp', 'calexp'])('%s: circle, polygon, RANGE and whole image, byte-exact with the WCS kept', (type) => {
    const file = files.get(type)!;
    const wcs = parseWcs(scalarLookup(file.hdu('IMAGE').header));
    const [w, h] = wcs.imageSize!;
    const shapes: SpatialFilter['shape'][] = [
      makeCircle(wcs.pixelToSky0(0.3 * w, 0.6 * h), 40 * wcs.pixelScale),
      makeCircle(wcs.pixelToSky0(w - 3, 10), 25 * wcs.pixelScale),
      makePolygon([wcs.pixelToSky0(20, 30), wcs.pixelToSky0(200, 60), wcs.pixelToSky0(120, 250)]),
      makeRange(
        wcs.pixelToSky0(w / 2, h / 2).ra - 0.02,
        wcs.pixelToSky0(w / 2, h / 2).ra + 0.02,
        -Infinity,
        wcs.pixelToSky0(w / 2, h / 2).dec,
      ),
    ];
    for (const shape of shapes) {
      const cutout = cutoutOf({ spatial: region(shape), band: { lo: 7e-7, hi: 7.1e-7 } });
      const plan = planCutout(file, cutout, coverage)!;
      expect(plan.hdus.map((hdu) => hdu.name)).toEqual(['IMAGE', 'MASK', 'VARIANCE']);
      expect(new Set(plan.hdus.map((hdu) => JSON.stringify(hdu.rect))).size).toBe(1);
      checkCutout(file, plan, cutoutBuffer(file, plan, cutout));
    }
    const whole = planCutout(file, cutoutOf({}), coverage)!;
    expect(whole.hdus[0]!.rect).toEqual({ x0: 0, y0: 0, width: w, height: h });
    checkCutout(file, whole, cutoutBuffer(file, whole, cutoutOf({})));
  });

  test('a g-band BAND on the i-band images: no cutout', () => {
    const g = bandOf('g')!;
    for (const file of files.values()) expect(planCutout(file, cutoutOf({ band: { lo: g.emMin, hi: g.emMax } }), coverage)).toBeNull();
  });
});
