import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import {
  type ByteSource,
  DEFAULT_MAX_GAP,
  FitsFile,
  type Header as HeaderType,
  Header,
  type ImageData,
  type RawPixels,
  type Rect,
  bufferSource,
  fdSource,
  openFitsBuffer,
  prepareImageHdu,
  writeFitsBuffer,
} from '../../shared/fits';
import { makeTempDir, prng } from './helpers';

const W = 53;
const H = 41;
const N = W * H;

interface Case {
  name: string;
  bitpix: number;
  header: HeaderType;
  data: ImageData;
  /** Expected stored values (what a raw read returns). */
  stored: RawPixels;
  /** Expected physical value of element i. */
  physical: (i: number) => number;
}

function cases(): Case[] {
  const rand = prng(99);
  const ri = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const u8 = Uint8Array.from({ length: N }, () => ri(0, 255));
  u8[5] = 0; // BLANK
  const i8 = Int8Array.from({ length: N }, () => ri(-128, 127));
  i8[0] = -128;
  i8[N - 1] = 127;
  const i16 = Int16Array.from({ length: N }, () => ri(-32768, 32767));
  i16[W] = -32768; // BLANK, first pixel of row 1
  const u16 = Uint16Array.from({ length: N }, () => ri(0, 65535));
  u16[0] = 65535;
  u16[N - 1] = 0;
  const i32 = Int32Array.from({ length: N }, () => ri(-2147483648, 2147483647));
  i32[N - 1] = -999; // BLANK, last pixel
  const u32 = Uint32Array.from({ length: N }, () => ri(0, 4294967295));
  u32[W - 1] = 4294967295;
  const i64 = BigInt64Array.from({ length: N }, () => BigInt(ri(-2e9, 2e9)) * 4611686n);
  i64[3] = -9223372036854775808n; // BLANK
  i64[4] = 9223372036854775807n;
  const u64 = BigUint64Array.from({ length: N }, () => BigInt(ri(0, 2e9)) * 2n ** 32n);
  u64[0] = 18446744073709551615n;
  const f32 = Float32Array.from({ length: N }, () => (rand() - 0.5) * 1e6);
  f32[7] = Number.NaN;
  f32[8] = -0;
  const f64 = Float64Array.from({ length: N }, () => (rand() - 0.5) * 1e300);
  f64[9] = Number.NaN;
  f64[10] = Number.MIN_VALUE;

  const stored16u = Int16Array.from(u16, (v) => v - 32768);
  const stored32u = Int32Array.from(u32, (v) => v - 2147483648);
  const stored64u = BigInt64Array.from(u64, (v) => BigInt.asIntN(64, v - 2n ** 63n));
  return [
    {
      name: 'BITPIX 8 with BLANK',
      bitpix: 8,
      header: new Header().set('BLANK', 0),
      data: u8,
      stored: u8,
      physical: (i) => (u8[i] === 0 ? NaN : u8[i]!),
    },
    {
      name: 'BITPIX 8 signed bytes (BZERO = -128)',
      bitpix: 8,
      header: new Header(),
      data: i8,
      stored: Uint8Array.from(i8, (v) => v + 128),
      physical: (i) => i8[i]!,
    },
    {
      name: 'BITPIX 16 scaled with BLANK',
      bitpix: 16,
      header: new Header().set('BSCALE', 0.5).set('BZERO', 100.25).set('BLANK', -32768),
      data: i16,
      stored: i16,
      physical: (i) => (i16[i] === -32768 ? NaN : 100.25 + 0.5 * i16[i]!),
    },
    {
      name: 'BITPIX 16 unsigned (BZERO = 32768)',
      bitpix: 16,
      header: new Header(),
      data: u16,
      stored: stored16u,
      physical: (i) => u16[i]!,
    },
    {
      name: 'BITPIX 32 with BLANK',
      bitpix: 32,
      header: new Header().set('BLANK', -999),
      data: i32,
      stored: i32,
      physical: (i) => (i32[i] === -999 ? NaN : i32[i]!),
    },
    {
      name: 'BITPIX 32 unsigned (BZERO = 2^31)',
      bitpix: 32,
      header: new Header(),
      data: u32,
      stored: stored32u,
      physical: (i) => u32[i]!,
    },
    {
      name: 'BITPIX 64 with BLANK',
      bitpix: 64,
      header: new Header().set('BLANK', -9223372036854775808n),
      data: i64,
      stored: i64,
      physical: (i) => (i64[i] === -9223372036854775808n ? NaN : Number(i64[i]!)),
    },
    {
      name: 'BITPIX 64 unsigned (BZERO = 2^63)',
      bitpix: 64,
      header: new Header(),
      data: u64,
      stored: stored64u,
      physical: (i) => Number(u64[i]!),
    },
    { name: 'BITPIX -32', bitpix: -32, header: new Header(), data: f32, stored: f32, physical: (i) => f32[i]! },
    {
      name: 'BITPIX -32 scaled',
      bitpix: -32,
      header: new Header().set('BSCALE', 2.0, undefined, { numberType: 'float' }).set('BZERO', 1.5),
      data: f32,
      stored: f32,
      physical: (i) => 1.5 + 2 * f32[i]!,
    },
    { name: 'BITPIX -64', bitpix: -64, header: new Header(), data: f64, stored: f64, physical: (i) => f64[i]! },
  ];
}

const RECTS: Array<[string, Rect]> = [
  ['top-left pixel', { x0: 0, y0: 0, width: 1, height: 1 }],
  ['top-right pixel', { x0: W - 1, y0: 0, width: 1, height: 1 }],
  ['bottom-left pixel', { x0: 0, y0: H - 1, width: 1, height: 1 }],
  ['bottom-right pixel', { x0: W - 1, y0: H - 1, width: 1, height: 1 }],
  ['interior', { x0: 7, y0: 5, width: 13, height: 11 }],
  ['touching right and bottom edges', { x0: 40, y0: 30, width: 13, height: 11 }],
  ['full width rows', { x0: 0, y0: 3, width: W, height: 10 }],
  ['single row segment', { x0: 10, y0: 20, width: 30, height: 1 }],
  ['single column', { x0: 17, y0: 0, width: 1, height: H }],
  ['whole image', { x0: 0, y0: 0, width: W, height: H }],
];

function toList(a: RawPixels): Array<number | bigint> {
  const out: Array<number | bigint> = [];
  for (let i = 0; i < a.length; i++) out.push(a[i]!);
  return out;
}

function expectedAt(rect: Rect, f: (i: number) => number | bigint): Array<number | bigint> {
  const out: Array<number | bigint> = [];
  for (let y = rect.y0; y < rect.y0 + rect.height; y++) {
    for (let x = rect.x0; x < rect.x0 + rect.width; x++) out.push(f(y * W + x));
  }
  return out;
}

describe('rectangle reads for every BITPIX', () => {
  // All cases in one multi-extension file: the reads also prove the extensions are located.
  const all = cases();
  const bytes = writeFitsBuffer([
    {},
    ...all.map((c) => ({ header: c.header.clone().set('EXTNAME', c.name.slice(0, 60)), data: c.data, shape: [W, H] })),
  ]);

  for (const [index, c] of all.entries()) {
    test(c.name, () => {
      for (const gap of [0, 4096, 1 << 20]) {
        const file = openFitsBuffer(bytes, 'cases.fits');
        const hdu = file.hdus[index + 1]!;
        expect(hdu.bitpix).toBe(c.bitpix);
        for (const [what, rect] of RECTS) {
          const raw = file.readRawRect(hdu, rect, { maxGapBytes: gap });
          expect(raw.data.constructor).toBe(c.stored.constructor);
          expect(raw.data.length).toBe(rect.width * rect.height);
          expect([what, toList(raw.data)]).toEqual([what, expectedAt(rect, (i) => c.stored[i]!)]);
          const phys = file.readRect(hdu, rect, { type: 'float64', maxGapBytes: gap });
          expect(phys.data).toBeInstanceOf(Float64Array);
          expect([what, Array.from(phys.data)]).toEqual([what, expectedAt(rect, c.physical)]);
        }
      }
    });
  }

  test('physical output types: float32 by default for plain float32, float64 otherwise', () => {
    const file = openFitsBuffer(bytes, 'cases.fits');
    const rect = { x0: 0, y0: 0, width: 4, height: 3 };
    expect(file.readRect('BITPIX -32', rect).data).toBeInstanceOf(Float32Array);
    expect(file.readRect('BITPIX -32 scaled', rect).data).toBeInstanceOf(Float64Array);
    expect(file.readRect('BITPIX 16 unsigned (BZERO = 32768)', rect).data).toBeInstanceOf(Float64Array);
    const f32 = file.readRect('BITPIX 16 unsigned (BZERO = 32768)', rect, { type: 'float32' });
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect(f32.data[0]).toBe(65535);
    const scaling = file.readRawRect('BITPIX 16 scaled with BLANK', rect).scaling;
    expect(scaling).toEqual({ bzero: 100.25, bscale: 0.5, blank: -32768 });
  });

  test('rectangles outside the image and malformed rectangles are errors naming file and HDU', () => {
    const file = openFitsBuffer(bytes, 'cases.fits');
    const label = 'cases.fits HDU 1 (BITPIX 8 with BLANK)';
    expect(() => file.readRect(1, { x0: W - 5, y0: 0, width: 6, height: 1 })).toThrow(
      `${label}: rectangle x0=48, y0=0, width=6, height=1 is not inside the ${W}x${H} image`,
    );
    expect(() => file.readRect(1, { x0: 0, y0: H, width: 1, height: 1 })).toThrow(/is not inside the 53x41 image/);
    expect(() => file.readRect(1, { x0: -1, y0: 0, width: 1, height: 1 })).toThrow(/is not inside/);
    expect(() => file.readRect(1, { x0: 0, y0: 0, width: 0, height: 1 })).toThrow(
      `${label}: rectangle x0=0, y0=0, width=0, height=1 is empty`,
    );
    expect(() => file.readRect(1, { x0: 0.5, y0: 0, width: 1, height: 1 })).toThrow(/integer coordinates/);
  });

  test('async reads return the same values', async () => {
    const file = openFitsBuffer(bytes, 'cases.fits');
    const rect = { x0: 3, y0: 4, width: 20, height: 9 };
    for (const hdu of file.hdus.slice(1)) {
      expect(await file.readRawRectAsync(hdu, rect)).toEqual(file.readRawRect(hdu, rect));
      expect(await file.readRectAsync(hdu, rect)).toEqual(file.readRect(hdu, rect));
    }
  });
});

/** Wraps a source and records every read, to prove which bytes a rectangle read touches. */
function counting(inner: ByteSource): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    name: inner.name,
    size: inner.size,
    reads,
    readSync(target, position) {
      reads.push([position, target.byteLength]);
      inner.readSync(target, position);
    },
    async read(target, position) {
      reads.push([position, target.byteLength]);
      await inner.read(target, position);
    },
    close: () => inner.close(),
  };
}

describe('only the rows a rectangle spans are read', () => {
  const BW = 2000;
  const BH = 300;
  const data = Float32Array.from({ length: BW * BH }, (_, i) => i);
  const bytes = writeFitsBuffer([{ data, shape: [BW, BH] }]);
  const dataOffset = 2880;

  test('one read per row of exactly the rectangle columns when rows are far apart', () => {
    const src = counting(bufferSource(bytes, 'wide.fits'));
    const file = FitsFile.fromSource(src);
    src.reads.length = 0; // ignore header reads
    const rect = { x0: 100, y0: 50, width: 64, height: 64 };
    // 7,744 bytes skipped per row: more than the 4 KiB allowed here.
    const out = file.readRect(0, rect, { maxGapBytes: 4096 });
    expect(src.reads).toEqual(Array.from({ length: 64 }, (_, r) => [dataOffset + ((50 + r) * BW + 100) * 4, 64 * 4]));
    expect(out.data[0]).toBe(50 * BW + 100);
    expect(out.data[64 * 64 - 1]).toBe(113 * BW + 163);
  });

  test("by default a stamp of a wide image is one read of its rows' span (gaps under DEFAULT_MAX_GAP)", () => {
    expect(DEFAULT_MAX_GAP).toBe(24 << 10);
    const src = counting(bufferSource(bytes, 'wide.fits'));
    const file = FitsFile.fromSource(src);
    src.reads.length = 0;
    const rect = { x0: 100, y0: 50, width: 64, height: 64 };
    const out = file.readRect(0, rect);
    expect(src.reads).toEqual([[dataOffset + (50 * BW + 100) * 4, (63 * BW + 64) * 4]]);
    for (const [x, y] of [
      [0, 0],
      [63, 0],
      [0, 63],
      [63, 63],
      [17, 40],
    ] as const)
      expect(out.data[y * 64 + x]).toBe((50 + y) * BW + 100 + x);
  });

  test('concurrent asynchronous reads never share a span buffer', async () => {
    const file = FitsFile.fromSource(bufferSource(bytes, 'wide.fits'));
    const rects = Array.from({ length: 8 }, (_, i) => ({ x0: 10 * i, y0: 20 * i, width: 32, height: 40 }));
    const outs = await Promise.all(rects.map((r) => file.readRectAsync(0, r)));
    outs.forEach((out, i) => {
      const r = rects[i]!;
      expect(out.data[0]).toBe(r.y0 * BW + r.x0);
      expect(out.data[39 * 32 + 31]).toBe((r.y0 + 39) * BW + r.x0 + 31);
    });
  });

  test('full-width rectangles are one contiguous read; so is a single row', () => {
    const src = counting(bufferSource(bytes, 'wide.fits'));
    const file = FitsFile.fromSource(src);
    src.reads.length = 0;
    file.readRect(0, { x0: 0, y0: 10, width: BW, height: 25 });
    expect(src.reads).toEqual([[dataOffset + 10 * BW * 4, 25 * BW * 4]]);
    src.reads.length = 0;
    file.readRect(0, { x0: 5, y0: 299, width: 1995, height: 1 });
    expect(src.reads).toEqual([[dataOffset + (299 * BW + 5) * 4, 1995 * 4]]);
  });

  test('rows with small gaps are read together, never outside the spanned rows', () => {
    const src = counting(bufferSource(bytes, 'wide.fits'));
    const file = FitsFile.fromSource(src);
    src.reads.length = 0;
    const rect = { x0: 10, y0: 7, width: 1990, height: 5 }; // gap of 10 pixels per row
    const out = file.readRect(0, rect);
    const start = dataOffset + (7 * BW + 10) * 4;
    expect(src.reads).toEqual([[start, (4 * BW + 1990) * 4]]);
    expect(out.data[1990]).toBe(8 * BW + 10);
    src.reads.length = 0;
    file.readRect(0, rect, { maxGapBytes: 0 });
    expect(src.reads).toHaveLength(5);
  });

  test('header scanning reads a few blocks per HDU, not the data', () => {
    const src = counting(bufferSource(bytes, 'wide.fits'));
    FitsFile.fromSource(src);
    expect(src.reads).toEqual([[0, 4 * 2880]]);
  });
});

describe('large image performance', () => {
  const tmp = makeTempDir();
  afterAll(() => tmp.cleanup());

  test('64x64 reads from a 4096x4096 float32 file: one read per rectangle, well under a millisecond', () => {
    const S = 4096;
    const path = tmp.path('big.fits');
    // A sparse file: real header, zero data, a few known pixels written in place.
    const header = prepareImageHdu(
      { header: new Header().set('EXTNAME', 'BIG'), data: new Float32Array(1), shape: [1, 1] },
      { primary: true },
    ).header;
    header.set('NAXIS1', S).set('NAXIS2', S);
    const headerBytes = header.toBuffer();
    const fd = openSync(path, 'w');
    writeSync(fd, headerBytes, 0, headerBytes.length, 0);
    ftruncateSync(fd, headerBytes.length + Math.ceil((S * S * 4) / 2880) * 2880);
    const known: Array<[number, number, number]> = [
      [0, 0, 1.5],
      [S - 1, S - 1, -2.25],
      [1000, 2000, 3.125],
    ];
    for (const [x, y, v] of known) {
      const b = Buffer.alloc(4);
      b.writeFloatBE(v);
      writeSync(fd, b, 0, 4, headerBytes.length + (y * S + x) * 4);
    }
    closeSync(fd);

    const src = counting(fdSource(openSync(path, 'r'), path));
    const file = FitsFile.fromSource(src);
    try {
      for (const [x, y, v] of known) {
        expect(file.readRect(0, { x0: x, y0: y, width: 1, height: 1 }).data[0]).toBe(v);
      }
      const hit = file.readRect(0, { x0: 990, y0: 1990, width: 64, height: 64 });
      expect(hit.data[10 * 64 + 10]).toBe(3.125);
      expect(hit.data.filter((v) => v !== 0)).toHaveLength(1);

      const rand = prng(5);
      const rects = Array.from({ length: 1500 }, () => ({
        x0: Math.floor(rand() * (S - 64)),
        y0: Math.floor(rand() * (S - 64)),
        width: 64,
        height: 64,
      }));
      for (const r of rects.slice(0, 200)) file.readRect(0, r); // warm up
      src.reads.length = 0;
      const t0 = process.hrtime.bigint();
      for (const r of rects) file.readRect(0, r);
      const perReadMs = Number(process.hrtime.bigint() - t0) / 1e6 / rects.length;
      // One read per rectangle: the span of its 64 rows (a 15.75 KiB gap each, under DEFAULT_MAX_GAP).
      expect(src.reads.length).toBe(rects.length);
      expect(src.reads.every(([, len]) => len === 63 * S * 4 + 256)).toBe(true);
      console.log(`64x64 float32 read from 4096x4096: ${(perReadMs * 1000).toFixed(1)} µs per rectangle (one read of its rows' span)`);
      // Only a guard against a pathological regression (speed itself is bench/fits's to
      // measure): shared, loaded machines measured 1.2 ms for what takes 0.3 when quiet.
      expect(perReadMs).toBeLessThan(20);
    } finally {
      file.close();
    }
  });
});
