/**
 * Rows read ahead (RowWindow): a rectangle copied from them is byte for byte what a read from
 * the file gives, for every HDU read ahead; one outside them is not copied. rowRuns cuts sorted
 * items into runs spanning at most READ_AHEAD_BYTES of rows.
 */
import { writeFileSync } from 'node:fs';
import { READ_AHEAD_BYTES, RowWindow, openFitsSync, rowRuns, rowsAheadPay, writeFitsBuffer } from '../../shared/fits';
import { makeTempDir, prng } from './helpers';

const W = 37;
const H = 29;

describe('RowWindow', () => {
  const tmp = makeTempDir();
  afterAll(() => tmp.cleanup());
  const file = tmp.path('planes.fits');
  beforeAll(() => {
    const rand = prng(5);
    writeFileSync(
      file,
      writeFitsBuffer([
        { data: null },
        { data: Float32Array.from({ length: W * H }, () => rand() * 100 - 50), shape: [W, H] },
        { data: Int16Array.from({ length: W * H }, () => Math.floor(rand() * 60000) - 30000), shape: [W, H] },
      ]),
    );
  });

  test('rectangles inside the rows are the bytes the file holds; others are left to the file', () => {
    const fits = openFitsSync(file);
    try {
      const window = new RowWindow(fits, [1, 2, 1], 5, 20);
      const rects = [
        { x0: 0, y0: 5, width: W, height: 15 },
        { x0: 3, y0: 7, width: 11, height: 9 },
        { x0: W - 1, y0: 19, width: 1, height: 1 },
      ];
      for (const index of [1, 2]) {
        for (const rect of rects) {
          const into = new Uint8Array(rect.width * rect.height * 4 + 8).fill(0xee);
          const copied = window.copyRect(index, rect, into);
          expect(Buffer.from(copied!)).toEqual(Buffer.from(fits.readRectBytes(index, rect)));
          expect(copied!.byteOffset).toBe(into.byteOffset);
          expect(into[into.length - 1]).toBe(0xee); // nothing written past the rectangle
        }
        expect(window.copyRect(index, { x0: 0, y0: 4, width: 3, height: 3 }, new Uint8Array(64))).toBeUndefined();
        expect(window.copyRect(index, { x0: 0, y0: 18, width: 3, height: 3 }, new Uint8Array(64))).toBeUndefined();
      }
      expect(window.copyRect(0, { x0: 0, y0: 6, width: 1, height: 1 }, new Uint8Array(8))).toBeUndefined();
    } finally {
      fits.close();
    }
  });
});

describe('rowRuns', () => {
  const span = (r: { y0: number; y1: number }) => r;
  /** Rows of an image that READ_AHEAD_BYTES holds `n` of (two HDUs whose rows add up). */
  const rowsOf = (n: number) => [READ_AHEAD_BYTES / n / 4, (3 * READ_AHEAD_BYTES) / n / 4];
  const items = (r: ReturnType<typeof rowRuns<{ y0: number; y1: number }>>) => r.map((run) => run.items);

  test('a run ends before the item that would make it span more than READ_AHEAD_BYTES of rows', () => {
    const all = [
      { y0: -3, y1: 5 },
      { y0: 0, y1: 8 },
      { y0: 2, y1: 10 },
      { y0: 4, y1: 12 },
      { y0: 30, y1: 38 },
    ];
    // The first run starts at row 0 (rows above the image are never read).
    expect(items(rowRuns(all, span, rowsOf(10)))).toEqual([all.slice(0, 3), [all[3]], [all[4]]]);
    expect(items(rowRuns(all, span, rowsOf(12)))).toEqual([all.slice(0, 4), [all[4]]]);
    expect(items(rowRuns(all, span, rowsOf(100)))).toEqual([all]);
    // Each run knows the rows it spans (unclipped) and its items' heights added up.
    expect(rowRuns(all, span, rowsOf(10)).map(({ y0, y1, rows }) => ({ y0, y1, rows }))).toEqual([
      { y0: -3, y1: 10, rows: 24 },
      { y0: 4, y1: 12, rows: 8 },
      { y0: 30, y1: 38, rows: 8 },
    ]);
  });

  test('an item taller than READ_AHEAD_BYTES of rows is a run of its own; no row lengths, one run', () => {
    const all = [
      { y0: 0, y1: 4 },
      { y0: 1, y1: 50 },
      { y0: 2, y1: 6 },
    ];
    expect(items(rowRuns(all, span, rowsOf(10)))).toEqual([[all[0]], [all[1]], [all[2]]]);
    expect(items(rowRuns(all, span, []))).toEqual([all]);
    expect(rowRuns([], span, rowsOf(10))).toEqual([]);
  });
});

describe('rowsAheadPay', () => {
  test('rows read once pay when the rectangles share them, counting a row read alone at its span or its positioned read', () => {
    const run = (rows: number) => ({ items: [1, 2], y0: 20, y1: 120, rows });
    // Rows of 4,200 bytes, a positioned read worth 10,000 bytes of a span: a rectangle read alone
    // costs its whole rows, so rows once pay as soon as the heights cover the span.
    expect(rowsAheadPay(run(100), [4200], 10000)).toBe(true);
    expect(rowsAheadPay(run(99), [4200], 10000)).toBe(false);
    // Rows of 16 KiB, a read worth 4 KiB: each row must serve four rectangles.
    expect(rowsAheadPay(run(399), [16384], 4096)).toBe(false);
    expect(rowsAheadPay(run(400), [16384], 4096)).toBe(true);
    // Planes add up: two planes of 16 KiB and one of 4 KiB, a read worth 8 KiB: (16+16+4) / (8+8+4) = 1.8.
    expect(rowsAheadPay(run(180), [16384, 16384, 4096], 8192)).toBe(true);
    expect(rowsAheadPay(run(179), [16384, 16384, 4096], 8192)).toBe(false);
    // One rectangle alone never gains, however its rows compare.
    expect(rowsAheadPay({ items: [1], y0: 20, y1: 120, rows: 100 }, [4200], 10000)).toBe(false);
  });
});
