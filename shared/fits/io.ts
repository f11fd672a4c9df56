/**
 * Positioned-read byte sources and the drivers that run read plans against them.
 *
 * The FITS logic (HDU scanning, rectangle reads) is written once as generators that yield
 * batches of read requests; `runSync` fulfils them with fs.readSync (fastest for the small
 * reads of a cutout: no thread-pool round trip) and `runAsync` with fs.read (keeps the event
 * loop free for very large reads). Sources are injectable, which is how tests count reads.
 */
import * as fs from 'node:fs';
import { readFullSync } from '../storage';
import { FitsError } from './errors';
import { DEFAULT_MAX_GAP } from './image';
import { errnoName, nativeReadRows } from './native';
import { ReadCostModel } from './read-cost';

/** Random access to the bytes of one FITS file. */
export interface ByteSource {
  /** Used in error messages. */
  readonly name: string;
  readonly size: number;
  /** Fills `target` entirely with the bytes at `position`, or throws. */
  readSync(target: Uint8Array, position: number): void;
  read(target: Uint8Array, position: number): Promise<void>;
  /**
   * Optional fast path for strided reads: `rows.count` reads of `rows.bytes` each, `rows.stride`
   * bytes apart from `position`, packed into `target`. Sources without it get one readSync per row.
   */
  readRowsSync?(target: Uint8Array, position: number, rows: RowRun): void;
  /**
   * The gap up to which the next rectangle's rows are read as one span
   * (RectReadOptions.maxGapBytes), for sources that learn it: files (read-cost.ts).
   */
  maxGapBytes?(): number;
  close(): void;
}

/** What this thread's file reads have cost (read-cost.ts): the machine's, whichever file. */
const readCosts = new ReadCostModel(DEFAULT_MAX_GAP);

/** The coalescing gap this thread's reads have taught so far (for benchmarks). */
export function learntMaxGap(): number {
  return readCosts.estimate();
}

/** Rows of equal length at a fixed stride: the rows of a rectangle narrower than its image. */
export interface RowRun {
  readonly count: number;
  readonly bytes: number;
  readonly stride: number;
}

/** One positioned read: fill `target` from byte `position` (row by row when `rows` is given). */
export interface ReadRequest {
  readonly position: number;
  readonly target: Uint8Array;
  readonly rows?: RowRun;
}

/** The single reads a request stands for. */
function expand(req: ReadRequest): ReadRequest[] {
  if (!req.rows) return [req];
  const { count, bytes, stride } = req.rows;
  return Array.from({ length: count }, (_, r) => ({
    position: req.position + r * stride,
    target: req.target.subarray(r * bytes, (r + 1) * bytes),
  }));
}

/** A computation that needs bytes: yields batches of independent reads, returns T. */
export type ReadPlan<T> = Generator<readonly ReadRequest[], T, void>;

export function runSync<T>(plan: ReadPlan<T>, source: ByteSource): T {
  for (let step = plan.next(); ; step = plan.next()) {
    if (step.done) return step.value;
    for (const req of step.value) {
      if (req.rows && source.readRowsSync) source.readRowsSync(req.target, req.position, req.rows);
      else for (const one of expand(req)) source.readSync(one.target, one.position);
    }
  }
}

export async function runAsync<T>(plan: ReadPlan<T>, source: ByteSource): Promise<T> {
  for (let step = plan.next(); ; step = plan.next()) {
    if (step.done) return step.value;
    await Promise.all(step.value.flatMap(expand).map((req) => source.read(req.target, req.position)));
  }
}

function checkRange(name: string, size: number, target: Uint8Array, position: number): void {
  if (position < 0 || position + target.byteLength > size) {
    throw new FitsError(
      `${name}: read of ${target.byteLength} bytes at offset ${position} is beyond the end of the file (${size} bytes); the file is truncated`,
    );
  }
}

/** A source over an open file descriptor. The descriptor is closed by close(). */
export function fdSource(fd: number, name: string, size?: number): ByteSource {
  const fileSize = size ?? fs.fstatSync(fd).size;
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new FitsError(`${name}: file is closed`);
  };
  return {
    name,
    size: fileSize,
    readSync(target, position) {
      ensureOpen();
      checkRange(name, fileSize, target, position);
      const t0 = performance.now();
      const done = readFullSync(fd, target, position);
      if (done < target.byteLength) throw new FitsError(`${name}: unexpected end of file at offset ${position + done}`);
      readCosts.observeSpan(done, performance.now() - t0);
    },
    maxGapBytes: () => readCosts.nextGap(),
    readRowsSync(target, position, rows) {
      ensureOpen();
      // One range check and a tight loop: the per-row wrapper costs more than the pread itself.
      checkRange(name, fileSize, target.subarray(0, rows.bytes), position + (rows.count - 1) * rows.stride);
      const t0 = performance.now();
      const native = nativeReadRows();
      if (native) {
        const status = native(fd, target, position, rows.count, rows.bytes, rows.stride);
        if (status > 0)
          throw new FitsError(`${name}: unexpected end of file in the row at offset ${position + (status - 1) * rows.stride}`);
        if (status < 0) throw new FitsError(`${name}: read failed (${errnoName(-status)})`);
        readCosts.observeRows(rows.count, performance.now() - t0);
        return;
      }
      for (let r = 0; r < rows.count; r++) {
        const offset = r * rows.bytes;
        const at = position + r * rows.stride;
        let done = fs.readSync(fd, target, offset, rows.bytes, at);
        while (done < rows.bytes) {
          const n = fs.readSync(fd, target, offset + done, rows.bytes - done, at + done);
          if (n === 0) throw new FitsError(`${name}: unexpected end of file at offset ${at + done}`);
          done += n;
        }
      }
      readCosts.observeRows(rows.count, performance.now() - t0);
    },
    async read(target, position) {
      ensureOpen();
      checkRange(name, fileSize, target, position);
      let done = 0;
      while (done < target.byteLength) {
        const n = await new Promise<number>((resolve, reject) => {
          fs.read(fd, target, done, target.byteLength - done, position + done, (err, bytesRead) =>
            err ? reject(err) : resolve(bytesRead),
          );
        });
        if (n === 0) throw new FitsError(`${name}: unexpected end of file at offset ${position + done}`);
        done += n;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

export function openFileSourceSync(path: string): ByteSource {
  const fd = fs.openSync(path, 'r');
  try {
    return fdSource(fd, path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

export async function openFileSource(path: string): Promise<ByteSource> {
  const fd = await new Promise<number>((resolve, reject) => {
    fs.open(path, 'r', (err, d) => (err ? reject(err) : resolve(d)));
  });
  try {
    const stat = await new Promise<fs.Stats>((resolve, reject) => {
      fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st)));
    });
    return fdSource(fd, path, stat.size);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** A source over bytes already in memory (an upload, a test fixture). */
export function bufferSource(bytes: Uint8Array, name = '<buffer>'): ByteSource {
  const readSync = (target: Uint8Array, position: number): void => {
    checkRange(name, bytes.byteLength, target, position);
    target.set(bytes.subarray(position, position + target.byteLength));
  };
  return {
    name,
    size: bytes.byteLength,
    readSync,
    read: async (target, position) => readSync(target, position),
    close: () => undefined,
  };
}
