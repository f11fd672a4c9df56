/**
 * Bulk stamps: a box inside the image or clipped is SODA's cutout of the same rectangle (the
 * extensions byte for byte); a padded box has the source pixels exactly inside and NaN / the
 * NO_DATA bit / BLANK exactly outside, its full shape, CRPIX and LTV moved by the box's origin
 * and a WCS that maps its pixels where the source's map; the provenance cards; stampBytes and
 * planStamp exact; the CRC-32; the errors; the caches; and astropy's Cutout2D(mode='partial')
 * agreeing on pixels and WCS (TAN and TAN-SIP).
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { crc32 } from '../../shared/archive/crc32';
import {
  DEFAULT_NO_DATA_BIT,
  StampCutter,
  StampError,
  boxOverlap,
  closeStampFiles,
  cutStamp,
  cutStampWithInfo,
  planStamp,
  stampBytes,
  type PixelBox,
  type StampOptions,
} from '../../shared/bulk/stamp';
import type { Plane } from '../../shared/bulk/params';
import { type GeneratedDataset, extensionHeader, generateDemoRepository } from '../../shared/demo';
import {
  type FitsFile,
  FitsError,
  Header,
  type ImageHduInput,
  type RawPixels,
  openFitsBuffer,
  openFitsSync,
  scalarLookup,
  writeFitsBuffer,
} from '../../shared/fits';
import { planeOfFits } from '../../shared/preview';
import { type CutoutPlan, HeaderCache, cutoutBuffer } from '../../shared/soda';
import { parseWcs } from '../../shared/wcs';
import { describeWith } from '../helpers/tools';
import { cutoutOf, exposureHdus, planes as planeValues, runPython, tanSpec, tempDir } from '../soda/helpers';

const ALL: Plane[] = ['IMAGE', 'MASK', 'VARIANCE'];
const PROVENANCE = {
  id: 'star-17',
  row: 17,
  ra: 150.0001,
  dec: 2.0002,
  band: 'r',
  did: 'butler://dp02/e0d5b1a2-0000-4000-8000-000000000001',
};
const W = 120;
const H = 100;
const SPEC = tanSpec({ width: W, height: H, ra: 150, dec: 2, arcsecPerPixel: 2, rotation: 30, xy0: [1000, 2000] });
const SOURCE_PLANES = planeValues(SPEC);
const DEG_1E9 = 1e-9;

let dir: ReturnType<typeof tempDir>;
let exposure: string;
let source: FitsFile;

beforeAll(() => {
  dir = tempDir();
  exposure = dir.path('exposure.fits');
  writeFileSync(exposure, writeFitsBuffer(exposureHdus(SPEC, 'e0d5b1a2-0000-4000-8000-000000000001')));
  source = openFitsSync(exposure);
});

afterAll(() => {
  source?.close();
  closeStampFiles();
  dir?.cleanup();
});

function options(edge: 'clip' | 'pad', planes: Plane[] = ALL, provenance = PROVENANCE): StampOptions {
  return { planes, edge, provenance };
}

/** Where the primary HDU ends: the extensions start there. */
function extensionsOf(bytes: Buffer): Buffer {
  return bytes.subarray(openFitsBuffer(bytes).hdus[1]!.headerOffset);
}

function sodaCutout(rect: { x0: number; y0: number; width: number; height: number }, indices = [1, 2, 3]): Buffer {
  const plan: CutoutPlan = {
    primary: 'header',
    hdus: indices.map((index) => ({ index, name: source.hdus[index]!.extname, rect, imageSize: [W, H] as const })),
  };
  return cutoutBuffer(source, plan, cutoutOf({}), { cache: null });
}

/** The source value of a plane at (x, y), or the padding value when outside. */
function expected(plane: Plane, x: number, y: number, pad: number): number {
  if (x < 0 || y < 0 || x >= W || y >= H) return pad;
  const i = y * W + x;
  return plane === 'IMAGE' ? SOURCE_PLANES.image[i]! : plane === 'MASK' ? SOURCE_PLANES.mask[i]! : SOURCE_PLANES.variance[i]!;
}

function sameValue(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function pixelsOf(file: FitsFile, hdu: number): RawPixels {
  const [width, height] = file.hdus[hdu]!.axes as [number, number];
  return file.readRawRect(hdu, { x0: 0, y0: 0, width, height }).data;
}

describe('a box inside the image', () => {
  const box: PixelBox = { x0: 20, y0: 30, nx: 16, ny: 12 };

  test("clip and pad give the same extensions, which are SODA's cutout of the box byte for byte", () => {
    const clip = cutStampWithInfo(exposure, box, options('clip'));
    const pad = cutStampWithInfo(exposure, box, options('pad'));
    expect(extensionsOf(pad.data).equals(extensionsOf(clip.data))).toBe(true);
    expect(openFitsBuffer(pad.data).hdus[0]!.header.history()[0]).toBe('bulk stamp, EDGE=pad: inside the image');
    expect(clip).toMatchObject({ box, overlap: box, partial: false, bytes: clip.data.length });
    expect(extensionsOf(clip.data).equals(extensionsOf(sodaCutout({ x0: 20, y0: 30, width: 16, height: 12 })))).toBe(true);
  });

  test('one plane, or two: only those, in the order IMAGE, MASK, VARIANCE', () => {
    const image = cutStamp(exposure, box, options('pad', ['IMAGE']));
    expect(openFitsBuffer(image).hdus.map((h) => h.extname)).toEqual([null, 'IMAGE']);
    expect(extensionsOf(image).equals(extensionsOf(sodaCutout({ x0: 20, y0: 30, width: 16, height: 12 }, [1])))).toBe(true);
    const two = openFitsBuffer(cutStamp(exposure, box, options('pad', ['VARIANCE', 'MASK'])));
    expect(two.hdus.map((h) => h.extname)).toEqual([null, 'MASK', 'VARIANCE']);
  });
});

describe('a box across the edge', () => {
  const corners: PixelBox[] = [
    { x0: -10, y0: -7, nx: 32, ny: 24 }, // lower left
    { x0: 110, y0: 95, nx: 20, ny: 10 }, // upper right
    { x0: 10, y0: -5, nx: 16, ny: 12 }, // bottom edge only: whole stamp rows
    { x0: -3, y0: 40, nx: 8, ny: 8 }, // left edge only
    { x0: -5, y0: -5, nx: W + 10, ny: H + 10 }, // larger than the image
  ];

  test.each(corners)("EDGE=clip: SODA's cutout of the overlap (%o)", (box) => {
    const stamp = cutStampWithInfo(exposure, box, options('clip'));
    const overlap = boxOverlap(box, W, H)!;
    expect(stamp).toMatchObject({ box: overlap, overlap, partial: true });
    const rect = { x0: overlap.x0, y0: overlap.y0, width: overlap.nx, height: overlap.ny };
    expect(extensionsOf(stamp.data).equals(extensionsOf(sodaCutout(rect)))).toBe(true);
    expect(openFitsBuffer(stamp.data).hdus[0]!.header.history()[0]).toBe('bulk stamp, EDGE=clip: clipped to the image');
  });

  test.each(corners)('EDGE=pad: nx × ny, source pixels inside, NaN / NO_DATA outside, CRPIX and LTV moved by the box (%o)', (box) => {
    const stamp = cutStampWithInfo(exposure, box, options('pad'));
    expect(stamp).toMatchObject({ box, overlap: boxOverlap(box, W, H), partial: true });
    const out = openFitsBuffer(stamp.data);
    expect(out.hdus.map((h) => [h.extname, h.bitpix, h.axes])).toEqual([
      [null, 8, []],
      ['IMAGE', -32, [box.nx, box.ny]],
      ['MASK', 32, [box.nx, box.ny]],
      ['VARIANCE', -32, [box.nx, box.ny]],
    ]);
    ALL.forEach((plane, k) => {
      const data = pixelsOf(out, k + 1);
      const pad = plane === 'MASK' ? 2 ** DEFAULT_NO_DATA_BIT : NaN;
      let mismatches = 0;
      for (let j = 0; j < box.ny; j++) {
        for (let i = 0; i < box.nx; i++) {
          if (!sameValue(Number(data[j * box.nx + i]), expected(plane, i + box.x0, j + box.y0, pad))) mismatches++;
        }
      }
      expect([plane, mismatches]).toEqual([plane, 0]);
      const header = out.hdus[k + 1]!.header;
      const sourceHeader = source.hdus[k + 1]!.header;
      expect(header.getNumber('CRPIX1')).toBe(sourceHeader.getNumber('CRPIX1')! - box.x0);
      expect(header.getNumber('CRPIX2')).toBe(sourceHeader.getNumber('CRPIX2')! - box.y0);
      // LTV: image pixel = physical pixel + LTV; the source's origin is at parent (1000, 2000).
      expect(header.getNumber('LTV1')).toBe(-1000 - box.x0);
      expect(header.getNumber('LTV2')).toBe(-2000 - box.y0);
    });
    // The WCS maps every stamp pixel, on the image or not, where the source's maps it.
    const sourceWcs = parseWcs(scalarLookup(source.hdu('IMAGE').header));
    const stampWcs = parseWcs(scalarLookup(out.hdu('IMAGE').header));
    for (const [i, j] of [
      [0, 0],
      [box.nx - 1, 0],
      [0, box.ny - 1],
      [box.nx - 1, box.ny - 1],
      [box.nx / 3, box.ny / 2],
    ] as const) {
      const a = stampWcs.pixelToSky0(i, j);
      const b = sourceWcs.pixelToSky0(i + box.x0, j + box.y0);
      expect(Math.abs(a.dec - b.dec)).toBeLessThanOrEqual(DEG_1E9);
      expect(Math.abs(((a.ra - b.ra + 540) % 360) - 180) * Math.cos((a.dec * Math.PI) / 180)).toBeLessThanOrEqual(DEG_1E9);
    }
  });

  test('every padded stamp of a job has one shape', () => {
    const boxes = [
      { x0: 50, y0: 50, nx: 16, ny: 12 },
      { x0: -15, y0: 0, nx: 16, ny: 12 },
      { x0: 110, y0: 95, nx: 16, ny: 12 },
      { x0: 10, y0: -11, nx: 16, ny: 12 },
    ];
    const shapes = boxes.map((b) =>
      openFitsBuffer(cutStamp(exposure, b, options('pad')))
        .hdus.map((h) => h.axes.join('x'))
        .join(' '),
    );
    expect(new Set(shapes)).toEqual(new Set([' 16x12 16x12 16x12']));
  });
});

describe('Stamp.picture: the IMAGE plane as planeOfFits reads it from the stamp, without parsing the stamp', () => {
  const cutter = new StampCutter();
  afterAll(() => cutter.close());
  const cases: [string, PixelBox, 'clip' | 'pad', Plane[]][] = [
    ['inside, with MASK (NO_DATA pixels masked)', { x0: 20, y0: 30, nx: 16, ny: 12 }, 'pad', ALL],
    ['padded, with MASK', { x0: -10, y0: -7, nx: 32, ny: 24 }, 'pad', ['IMAGE', 'MASK']],
    ['padded, IMAGE only (NaN, no mask)', { x0: 110, y0: 95, nx: 20, ny: 10 }, 'pad', ['IMAGE']],
    ['clipped', { x0: -3, y0: 40, nx: 8, ny: 8 }, 'clip', ['IMAGE', 'VARIANCE']],
  ];
  test.each(cases)('%s', (_name, box, edge, planes) => {
    const stamp = cutter.cut(exposure, box, { ...options(edge, planes), picture: true });
    const read = planeOfFits(stamp.data, { extname: 'IMAGE' });
    expect(stamp.picture).toEqual(read);
    expect(stamp.picture!.masked !== undefined).toBe(planes.includes('MASK'));
    // The stamp's bytes are as without the option (the picture's are a copy).
    expect(stamp.data.equals(cutter.cut(exposure, box, options(edge, planes)).data)).toBe(true);
  });

  test('only when asked for, and only with an IMAGE plane', () => {
    const box = { x0: 0, y0: 0, nx: 4, ny: 4 };
    expect(cutter.cut(exposure, box, options('pad'))).not.toHaveProperty('picture');
    expect(cutter.cut(exposure, box, { ...options('pad', ['MASK']), picture: true })).not.toHaveProperty('picture');
  });
});

describe('padding values', () => {
  const box: PixelBox = { x0: -2, y0: -1, nx: 4, ny: 3 };
  const outside = [0, 1, 2, 3, 4, 5, 8, 9]; // the indices of a 4×3 stamp at (−2, −1) that are off the image
  const spec = tanSpec({ width: 6, height: 5, ra: 10, dec: -5, arcsecPerPixel: 1 });

  function file(name: string, hdus: ImageHduInput[]): string {
    const path = dir.path(name);
    writeFileSync(path, writeFitsBuffer([{ header: new Header().set('ORIGIN', 'test') }, ...hdus]));
    return path;
  }

  function maskHeader(noData: number | null): Header {
    const header = extensionHeader('MASK', spec);
    if (noData === null) header.delete('MP_NO_DATA');
    else header.set('MP_NO_DATA', noData);
    return header;
  }

  function padded(path: string, planes: Plane[]): FitsFile {
    return openFitsBuffer(cutStamp(path, box, options('pad', planes)));
  }

  test.each([
    ['MP_NO_DATA = 3', 3, 8],
    ['no MP_NO_DATA: bit 8', null, 256],
    ['MP_NO_DATA = 31: the sign bit of an int32 mask', 31, -(2 ** 31)],
  ] as const)('the MASK plane: %s', (_, noData, value) => {
    const path = file(`mask-${noData}.fits`, [
      { header: maskHeader(noData), data: Int32Array.from({ length: 30 }, (__, i) => i + 1), shape: [6, 5] },
    ]);
    const data = pixelsOf(padded(path, ['MASK']), 1);
    expect(outside.map((i) => data[i])).toEqual(outside.map(() => value));
    expect([data[6], data[7], data[10], data[11]]).toEqual([1, 2, 7, 8]);
  });

  test('an MP_NO_DATA that is no bit of the mask: FitsError', () => {
    const path = file('mask-bad.fits', [{ header: maskHeader(32), data: new Int32Array(30), shape: [6, 5] }]);
    expect(() => cutStamp(path, box, options('pad', ['MASK']))).toThrow(/MP_NO_DATA = 32 is not a bit of the mask/);
  });

  test('an unsigned 32-bit MASK (BZERO = 2^31, FITS 4.0 §5.2.5): stored so that the physical value is the bit', () => {
    const path = file('mask-u32.fits', [
      { header: maskHeader(5), data: Uint32Array.from({ length: 30 }, (__, i) => 4000000000 + i), shape: [6, 5] },
    ]);
    const out = padded(path, ['MASK']);
    expect(out.hdus[1]!.header.getNumber('BZERO')).toBe(2 ** 31);
    const physical = out.readImage(1).data;
    expect(outside.map((i) => physical[i])).toEqual(outside.map(() => 32));
    expect(physical[6]).toBe(4000000000);
  });

  test('an integer IMAGE with BLANK is padded with BLANK (undefined, FITS 4.0 §4.4.2.5); without BLANK only clipped', () => {
    const header = extensionHeader('IMAGE', spec).set('BLANK', -32768).set('BSCALE', 0.5).set('BZERO', 10);
    const data = Int16Array.from({ length: 30 }, (__, i) => i);
    const path = file('int-blank.fits', [{ header, data, shape: [6, 5] }]);
    const out = padded(path, ['IMAGE']);
    const raw = pixelsOf(out, 1);
    expect(outside.map((i) => raw[i])).toEqual(outside.map(() => -32768));
    const physical = out.readImage(1).data;
    expect(outside.every((i) => Number.isNaN(physical[i]))).toBe(true);
    expect(physical[6]).toBe(10);
    // Its picture: the same physical values (float64, BLANK as NaN).
    const picture = cutStampWithInfo(path, box, { ...options('pad', ['IMAGE']), picture: true }).picture;
    expect(picture).toEqual({ width: 4, height: 3, data: Float64Array.from(physical) });

    const bare = file('int-bare.fits', [{ header: extensionHeader('IMAGE', spec), data, shape: [6, 5] }]);
    expect(() => cutStamp(bare, box, options('pad', ['IMAGE']))).toThrow(/no BLANK/);
    expect(openFitsBuffer(cutStamp(bare, box, options('clip', ['IMAGE']))).hdus[1]!.axes).toEqual([2, 2]);
    // A box inside the image needs no padding value.
    expect(() => cutStamp(bare, { x0: 1, y0: 1, nx: 2, ny: 2 }, options('pad', ['IMAGE']))).not.toThrow();
  });

  test('a float64 plane is padded with NaN', () => {
    const path = file('f64.fits', [
      { header: extensionHeader('VARIANCE', spec), data: Float64Array.from({ length: 30 }, (__, i) => i), shape: [6, 5] },
    ]);
    const raw = pixelsOf(padded(path, ['VARIANCE']), 1);
    expect(raw).toBeInstanceOf(Float64Array);
    expect(outside.every((i) => Number.isNaN(raw[i]))).toBe(true);
    expect(raw[6]).toBe(0);
  });
});

describe('provenance', () => {
  test('BULK_ID (CONTINUE, %-encoded), BULK_ROW, BULK_RA, BULK_DEC, BULK_BND, BULK_SRC and HISTORY after the source primary header', () => {
    const id = `galaxy 'é' ${'0123456789'.repeat(10)}`;
    const did = `butler://dp02/${'abcdef'.repeat(15)}`;
    const bytes = cutStamp(
      exposure,
      { x0: 115, y0: -2, nx: 10, ny: 6 },
      options('pad', ALL, { ...PROVENANCE, id, did, band: '550e-9_700e-9' }),
    );
    const primary = openFitsBuffer(bytes).hdus[0]!.header;
    expect(primary.getInteger('NAXIS')).toBe(0);
    expect(primary.getBoolean('EXTEND')).toBe(true);
    expect(primary.getString('INSTRUME')).toBe('LSSTCam-imSim');
    expect(primary.getString('BULK_ID')).toBe(id.replace('é', '%C3%A9'));
    expect(primary.getInteger('BULK_ROW')).toBe(17);
    expect(primary.getNumber('BULK_RA')).toBe(150.0001);
    expect(primary.getNumber('BULK_DEC')).toBe(2.0002);
    expect(primary.getString('BULK_BND')).toBe('550e-9_700e-9');
    expect(primary.getString('BULK_SRC')).toBe(did);
    expect(bytes.toString('latin1', 0, 2880 * 2)).toContain('CONTINUE  ');
    expect(primary.history()).toEqual([
      'bulk stamp, EDGE=pad: padded beyond the image',
      'bulk stamp of HDU 1 (IMAGE): x 115..124, y -2..3 of 120x100 (0-based)',
      'bulk stamp of HDU 2 (MASK): x 115..124, y -2..3 of 120x100 (0-based)',
      'bulk stamp of HDU 3 (VARIANCE): x 115..124, y -2..3 of 120x100 (0-based)',
    ]);
  });
});

describe('size, plan and CRC-32', () => {
  const boxes: PixelBox[] = [
    { x0: 0, y0: 0, nx: 1, ny: 1 },
    { x0: 20, y0: 30, nx: 64, ny: 64 },
    { x0: -30, y0: 80, nx: 64, ny: 64 },
    { x0: 119, y0: 99, nx: 37, ny: 5 },
    { x0: -100, y0: -100, nx: 300, ny: 300 },
  ];
  const ids = ['1', 'x'.repeat(200)];
  const planeSets: Plane[][] = [['IMAGE'], ['MASK'], ALL];

  test('stampBytes and planStamp equal what cutStamp makes, for every box, id, plane set and edge', () => {
    for (const box of boxes) {
      for (const id of ids) {
        for (const planes of planeSets) {
          for (const edge of ['clip', 'pad'] as const) {
            const o = options(edge, planes, { ...PROVENANCE, id });
            const stamp = cutStampWithInfo(exposure, box, o);
            expect(stampBytes(exposure, box, o)).toBe(stamp.data.length);
            expect(planStamp(exposure, box, o)).toEqual({
              box: stamp.box,
              overlap: stamp.overlap,
              partial: stamp.partial,
              bytes: stamp.bytes,
            });
            expect(stamp.data.length % 2880).toBe(0);
            expect(stamp.crc32).toBe(crc32(stamp.data));
          }
        }
      }
    }
  });

  test('options.allocate: the stamp is laid out in the memory handed out (dirty, as a pack reuses it), the same bytes', () => {
    const arena = Buffer.alloc(4 << 20, 0xa5);
    for (const box of boxes) {
      for (const planes of planeSets) {
        for (const edge of ['clip', 'pad'] as const) {
          const o = options(edge, planes, PROVENANCE);
          const expected = cutStamp(exposure, box, o);
          const asked: number[] = [];
          arena.fill(0xa5);
          const stamp = cutStampWithInfo(exposure, box, { ...o, allocate: (n) => (asked.push(n), arena.subarray(0, n)) });
          expect(asked).toEqual([expected.length]);
          expect(stamp.data.buffer).toBe(arena.buffer);
          expect(stamp.data.equals(expected)).toBe(true);
          expect(stamp.crc32).toBe(crc32(expected));
        }
      }
    }
    // Memory the allocator does not have (undefined): a Buffer of the stamp's own.
    const own = cutStampWithInfo(exposure, boxes[1]!, { ...options('pad', ALL, PROVENANCE), allocate: () => undefined });
    expect(own.data.equals(cutStamp(exposure, boxes[1]!, options('pad', ALL, PROVENANCE)))).toBe(true);
  });
});

describe('errors', () => {
  test('a box that misses the image: StampError no_coverage', () => {
    for (const box of [
      { x0: W, y0: 0, nx: 5, ny: 5 },
      { x0: -5, y0: 10, nx: 5, ny: 5 },
    ]) {
      for (const edge of ['clip', 'pad'] as const) {
        let error: unknown;
        try {
          cutStamp(exposure, box, options(edge));
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(StampError);
        expect(error).toMatchObject({ status: 'no_coverage' });
        expect(() => stampBytes(exposure, box, options(edge))).toThrow(StampError);
      }
    }
    expect(boxOverlap({ x0: W - 1, y0: H - 1, nx: 5, ny: 5 }, W, H)).toEqual({ x0: W - 1, y0: H - 1, nx: 1, ny: 1 });
  });

  test('more pixels than maxPixels: StampError too_large (padded size counts, and every plane)', () => {
    const box = { x0: -10, y0: -10, nx: 20, ny: 20 };
    expect(() => cutStamp(exposure, box, { ...options('pad'), maxPixels: 3 * 400 - 1 })).toThrow(
      expect.objectContaining({ status: 'too_large' }) as Error,
    );
    expect(() => cutStamp(exposure, box, { ...options('pad'), maxPixels: 3 * 400 })).not.toThrow();
    expect(() => cutStamp(exposure, box, { ...options('clip'), maxPixels: 3 * 100 })).not.toThrow();
  });

  test('a missing plane, a bad box, no plane', () => {
    const path = dir.path('image-only.fits');
    writeFileSync(path, writeFitsBuffer(exposureHdus(SPEC).slice(0, 2)));
    expect(() => cutStamp(path, { x0: 0, y0: 0, nx: 4, ny: 4 }, options('pad'))).toThrow(FitsError);
    expect(() => cutStamp(path, { x0: 0, y0: 0, nx: 4, ny: 4 }, options('pad'))).toThrow(/no MASK plane/);
    expect(() => cutStamp(exposure, { x0: 0.5, y0: 0, nx: 4, ny: 4 }, options('pad'))).toThrow(RangeError);
    expect(() => cutStamp(exposure, { x0: 0, y0: 0, nx: 0, ny: 4 }, options('pad'))).toThrow(RangeError);
    expect(() => cutStamp(exposure, { x0: 0, y0: 0, nx: 4, ny: 4 }, options('pad', []))).toThrow(RangeError);
  });
});

describe('caches', () => {
  test('many stamps of one image: opened once, headers formatted once', () => {
    const cutter = new StampCutter({ headerCache: new HeaderCache(4) });
    try {
      for (let k = 0; k < 300; k++) {
        cutter.cut(exposure, { x0: (k % 140) - 20, y0: (k % 110) - 15, nx: 32, ny: 32 }, options(k % 2 ? 'clip' : 'pad'));
        cutter.plan(exposure, { x0: k % 100, y0: 3, nx: 8, ny: 8 }, options('pad'));
      }
      expect(cutter.filesOpened).toBe(1);
      expect(cutter.headerCache.misses).toBe(1);
    } finally {
      cutter.close();
    }
  });

  test('rows read ahead (readRows): the same stamps byte for byte, inside, across every edge and past the rows read', () => {
    const boxes: PixelBox[] = [
      { x0: 3, y0: 4, nx: 7, ny: 5 },
      { x0: -3, y0: -2, nx: 8, ny: 8 },
      { x0: SPEC.width - 4, y0: SPEC.height - 3, nx: 9, ny: 9 },
      { x0: 0, y0: 10, nx: SPEC.width, ny: 6 },
      { x0: 5, y0: SPEC.height - 6, nx: 4, ny: 4 },
    ];
    const ahead = new StampCutter();
    const plain = new StampCutter();
    try {
      for (const edge of ['clip', 'pad'] as const) {
        // Rows 0 … height − 8: the last boxes fall (partly) outside them and are read from the file.
        ahead.readRows(exposure, ALL, -5, SPEC.height - 8);
        for (const box of boxes) {
          expect([edge, box, ahead.cut(exposure, box, options(edge)).data.equals(plain.cut(exposure, box, options(edge)).data)]).toEqual([
            edge,
            box,
            true,
          ]);
        }
        ahead.releaseRows();
      }
      // Boxes 1, 2 and 4 lie within the rows read (3 planes each, per edge mode); 3 and 5 do not.
      expect(ahead.rowsAheadUsed).toBe(2 * 3 * 3);
      expect(plain.rowsAheadUsed).toBe(0);
    } finally {
      ahead.close();
      plain.close();
    }
  });

  test('a file changed on disk is opened afresh (its size and mtime looked at every statEveryMs)', () => {
    const path = dir.path('changing.fits');
    const spec = tanSpec({ width: 10, height: 10, ra: 0, dec: 0, arcsecPerPixel: 1 });
    const write = (value: number, mtime: number): void => {
      writeFileSync(
        path,
        writeFitsBuffer([{}, { header: extensionHeader('IMAGE', spec), data: new Float32Array(100).fill(value), shape: [10, 10] }]),
      );
      utimesSync(path, mtime, mtime);
    };
    const cutter = new StampCutter({ statEveryMs: 0 });
    try {
      write(1, 1_000_000);
      const first = openFitsBuffer(cutter.cut(path, { x0: 0, y0: 0, nx: 2, ny: 2 }, options('pad', ['IMAGE'])).data);
      write(2, 2_000_000);
      const second = openFitsBuffer(cutter.cut(path, { x0: 0, y0: 0, nx: 2, ny: 2 }, options('pad', ['IMAGE'])).data);
      expect([pixelsOf(first, 1)[0], pixelsOf(second, 1)[0]]).toEqual([1, 2]);
      expect(cutter.filesOpened).toBe(2);
    } finally {
      cutter.close();
    }
  });
});

const ASTROPY = String.raw`
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

out = []
for case in json.load(sys.stdin):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        x0, y0, nx, ny = case['box']
        result = {'planes': {}}
        with fits.open(case['stamp']) as stamp, fits.open(case['source']) as src:
            stamp.verify('exception')
            result['names'] = [h.name for h in stamp]
            result['bulkId'] = stamp[0].header.get('BULK_ID')
            for name in ['IMAGE', 'MASK', 'VARIANCE']:
                data = src[name].data
                wcs = WCS(src[name].header)
                fill = np.nan if data.dtype.kind == 'f' else 2 ** src[name].header.get('MP_NO_DATA', 8)
                cut = Cutout2D(data, position=(x0 + (nx - 1) / 2, y0 + (ny - 1) / 2), size=(ny, nx), wcs=wcs,
                               mode='partial', fill_value=fill, copy=True)
                mine = stamp[name].data
                sw = WCS(stamp[name].header)
                pixels = np.array([[0, 0], [nx - 1, ny - 1], [nx / 3, ny / 2], [-0.5, -0.5]], dtype=float)
                a = cut.wcs.all_pix2world(pixels, 0)
                b = sw.all_pix2world(pixels, 0)
                result['planes'][name] = {
                    # The padded cutout's pixel (0, 0) in the source: its centre's position in both.
                    'origin': [float(o - c) for o, c in zip(cut.position_original, cut.position_cutout)],
                    'shape': list(mine.shape),
                    'cutoutShape': list(cut.data.shape),
                    'dtype': [str(mine.dtype), str(cut.data.dtype)],
                    'sameData': bool(np.array_equal(mine, cut.data, equal_nan=mine.dtype.kind == 'f')),
                    'crpix': [list(sw.wcs.crpix), list(cut.wcs.wcs.crpix)],
                    'sip': [sw.sip is not None, cut.wcs.sip is not None],
                    'maxSkyDiff': float(np.max(np.abs(a - b))),
                }
    result['warnings'] = [str(w.message) for w in caught]
    out.append(result)
json.dump(out, sys.stdout)
`;

interface PlaneView {
  origin: [number, number];
  shape: [number, number];
  cutoutShape: [number, number];
  dtype: [string, string];
  sameData: boolean;
  crpix: [[number, number], [number, number]];
  sip: [boolean, boolean];
  maxSkyDiff: number;
}

interface AstropyView {
  names: string[];
  bulkId: string;
  planes: Record<Plane, PlaneView>;
  warnings: string[];
}

describeWith('astropy', "astropy: a padded stamp is Cutout2D(mode='partial', fill_value=nan) of the same box", () => {
  let datasets: GeneratedDataset[];
  const cases: Array<{ label: string; source: string; stamp: string; box: [number, number, number, number] }> = [];
  let views: AstropyView[];

  beforeAll(async () => {
    datasets = await generateDemoRepository(dir.path('demo'), { binning: 8, patches: [17], bands: ['i'], visits: 1, diffs: 0 });
    const sources = [
      { label: 'synthetic TAN', path: exposure, width: W, height: H },
      ...datasets.map((d) => ({ label: d.datasetType, ...d })),
    ];
    for (const { label, path, width, height } of sources) {
      const boxes: PixelBox[] = [
        { x0: -7, y0: -9, nx: 24, ny: 20 },
        { x0: width - 10, y0: height - 4, nx: 25, ny: 16 },
        { x0: Math.floor(width / 3), y0: Math.floor(height / 2), nx: 17, ny: 23 },
      ];
      for (const box of boxes) {
        const stamp = dir.path(`astropy-${cases.length}.fits`);
        writeFileSync(stamp, cutStamp(path, box, options('pad', ALL, { ...PROVENANCE, id: `case ${cases.length}` })));
        cases.push({ label: `${label} ${JSON.stringify(box)}`, source: path, stamp, box: [box.x0, box.y0, box.nx, box.ny] });
      }
    }
    views = runPython<AstropyView[]>(ASTROPY, cases);
  });

  test('valid FITS without warnings; the same pixels, shape and dtype as Cutout2D', () => {
    expect(views).toHaveLength(cases.length);
    expect(cases.some((c) => c.label.startsWith('calexp'))).toBe(true); // TAN-SIP
    views.forEach((view, k) => {
      const { label, box } = cases[k]!;
      expect([label, view.warnings]).toEqual([label, []]);
      expect(view.names).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
      expect(view.bulkId).toBe(`case ${k}`);
      for (const plane of ALL) {
        const p = view.planes[plane];
        expect([label, plane, p.origin, p.shape, p.sameData]).toEqual([label, plane, [box[0], box[1]], [box[3], box[2]], true]);
        expect(p.cutoutShape).toEqual(p.shape);
        expect(p.dtype[0]).toBe(p.dtype[1]);
      }
    });
  });

  test("the WCS: CRPIX equal to Cutout2D's, SIP kept, pixels mapped alike (≤ 1e-10°)", () => {
    views.forEach((view, k) => {
      const { label } = cases[k]!;
      for (const plane of ALL) {
        const p = view.planes[plane];
        expect([label, plane, p.crpix[0]]).toEqual([label, plane, p.crpix[1]]);
        expect(p.sip[0]).toBe(p.sip[1]);
        expect(p.maxSkyDiff).toBeLessThanOrEqual(1e-10);
      }
    });
    expect(views.some((v) => v.planes.IMAGE.sip[0])).toBe(true);
  });
});
