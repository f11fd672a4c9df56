/**
 * Whole rows of a FITS image read ahead, for many small rectangles of one image: read in pixel-row
 * order, rectangles close together share rows, and each row is then read once for all of them
 * (one positioned read per HDU) instead of once per rectangle. Used by bulk stamps and by async
 * SODA jobs that cut many regions from one image.
 */
import type { FitsFile } from './file';
import type { Rect } from './image';

/** Rows read ahead at once, at most (over the HDUs): bounds a cutting thread's memory. */
export const READ_AHEAD_BYTES = 64 << 20;

interface WindowRows {
  readonly data: Buffer;
  readonly rowBytes: number;
  readonly bytesPerPixel: number;
}

/** Rows y0 … y1 − 1 (whole width) of some image HDUs of one file, big-endian as stored. */
export class RowWindow {
  private readonly rows = new Map<number, WindowRows>();

  /** Reads the rows of each HDU in `hdus` (indices of 2-D images); throws what FitsFile.readRectBytes throws. */
  constructor(
    file: FitsFile,
    hdus: Iterable<number>,
    readonly y0: number,
    readonly y1: number,
  ) {
    for (const index of hdus) {
      if (this.rows.has(index)) continue;
      const { width, bytesPerPixel } = file.imageLayout(index);
      const bytes = file.readRectBytes(index, { x0: 0, y0, width, height: y1 - y0 });
      this.rows.set(index, {
        data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        rowBytes: width * bytesPerPixel,
        bytesPerPixel,
      });
    }
  }

  /**
   * The stored bytes of `rect` of HDU `index`, copied into `into` (whose first bytes they
   * become), or undefined when the window does not hold every row of it.
   */
  copyRect(index: number, rect: Rect, into: Uint8Array): Uint8Array | undefined {
    const rows = this.rows.get(index);
    if (!rows || rect.y0 < this.y0 || rect.y0 + rect.height > this.y1) return undefined;
    const { data, rowBytes, bytesPerPixel } = rows;
    const runBytes = rect.width * bytesPerPixel;
    for (let r = 0; r < rect.height; r++) {
      const from = (rect.y0 - this.y0 + r) * rowBytes + rect.x0 * bytesPerPixel;
      data.copy(into, r * runBytes, from, from + runBytes); // no view object per row
    }
    return into.subarray(0, runBytes * rect.height);
  }
}

/** Items whose rows may be read once for all of them: the rows they span, and their heights added up. */
export interface ReadAheadRun<T> {
  readonly items: T[];
  /** First and last row + 1 of any item (unclipped: an item may reach beyond the image). */
  readonly y0: number;
  readonly y1: number;
  /** Rows the items read each on its own: their heights added up. */
  readonly rows: number;
}

/**
 * Items sorted by their first row, cut into runs whose rows (the first row of the run, or row
 * 0, to the last row of any) fit READ_AHEAD_BYTES of an image whose rows are `rowBytes`
 * long (one length per HDU read): the rows of each run can be read once (RowWindow) for all its
 * items. An item taller than that is a run of its own.
 */
export function rowRuns<T>(
  items: readonly T[],
  rowsOf: (item: T) => { y0: number; y1: number },
  rowBytes: readonly number[],
): ReadAheadRun<T>[] {
  const maxRows = Math.max(1, Math.floor(READ_AHEAD_BYTES / rowBytes.reduce((sum, n) => sum + n, 0)));
  const runs: ReadAheadRun<T>[] = [];
  let run: { items: T[]; y0: number; y1: number; rows: number } | undefined;
  for (const item of items) {
    const { y0, y1 } = rowsOf(item);
    if (run && Math.max(run.y1, y1) - Math.max(0, run.y0) > maxRows) {
      runs.push(run);
      run = undefined;
    }
    if (!run) run = { items: [], y0, y1, rows: 0 };
    run.items.push(item);
    run.y1 = Math.max(run.y1, y1);
    run.rows += y1 - y0;
  }
  if (run) runs.push(run);
  return runs;
}

/**
 * Whether reading a run's rows once beats each of its rectangles reading its own: the run's
 * whole rows of each HDU (`rowBytes`, one per HDU), against its rectangles' rows each read
 * alone, which costs its whole row when a rectangle's rows are read as one span, or one
 * positioned read, worth `gap` bytes of a span (read-cost.ts), when they are read one by one.
 * Rows that several rectangles share are what makes a window pay: a run of one rectangle
 * never gains (at best it reads the same rows, then copies them).
 */
export function rowsAheadPay(run: ReadAheadRun<unknown>, rowBytes: readonly number[], gap: number): boolean {
  if (run.items.length < 2) return false;
  let whole = 0;
  let alone = 0;
  for (const bytes of rowBytes) {
    whole += bytes;
    alone += Math.min(bytes, gap);
  }
  return (run.y1 - run.y0) * whole <= run.rows * alone;
}
