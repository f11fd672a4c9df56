/**
 * Where a processor writes a result: a file under the job's results directory, or, for a
 * synchronous request with an inline limit, memory first and a file only once the result
 * outgrows the limit. Small sync answers (a cone search, a stamp) then never touch the disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { JobFailure, type ProcessorInput, type ProducedResult } from './service';

/** The shared counter of a job's written bytes (ProcessorInput.written). */
export function outputCounter(): BigInt64Array {
  return new BigInt64Array(new SharedArrayBuffer(8));
}

/**
 * Counts `bytes` against the job's output budget before they are written; past JOB_MAX_BYTES
 * the job fails (and the runner removes what it wrote), so one job cannot fill the disk.
 */
export function chargeOutput(input: Pick<ProcessorInput, 'maxBytes' | 'written'>, bytes: number): void {
  if (input.maxBytes === undefined || input.written === undefined) return;
  const total = Atomics.add(input.written, 0, BigInt(bytes)) + BigInt(bytes);
  if (total > BigInt(input.maxBytes)) {
    throw new JobFailure(
      `the results exceed the output limit of ${input.maxBytes} bytes (JOB_MAX_BYTES); ask for less (MAXREC, fewer or smaller cutouts)`,
    );
  }
}

export interface ResultOutput {
  stream: Writable;
  /** After the stream finished: the result, with its bytes when they stayed in memory. */
  result(): ProducedResult;
}

/**
 * Writes all of `chunk` at the file's position, blocking. Processors run in worker threads,
 * where blocking costs nothing but that thread; a thread-pool round trip per chunk (fs.write,
 * a write stream) cost more than the write itself: 100k rows × 37 columns took 1.5–1.7× as
 * long end to end.
 */
function writeFully(fd: number, chunk: Buffer): void {
  for (let done = 0; done < chunk.length;) done += fs.writeSync(fd, chunk, done);
}

/**
 * Buffers up to `limit` bytes; past it, opens `file` and writes everything there. A negative
 * limit opens the file at once (an async job's result, which exists even when empty).
 */
class SpillWritable extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  private fd: number | undefined;

  constructor(
    private readonly file: string,
    private readonly limit: number,
    private readonly onSpill: (() => void) | undefined,
    private readonly budget: Pick<ProcessorInput, 'maxBytes' | 'written'>,
  ) {
    super({ decodeStrings: true });
    // A failed write (the output limit, a full disk) reaches the writer through `errored`
    // and its rejected writes; without a listener the 'error' event would end the thread.
    this.on('error', () => undefined);
    if (limit < 0) this.fd = fs.openSync(file, 'w');
  }

  get spilled(): boolean {
    return this.fd !== undefined;
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      chargeOutput(this.budget, chunk.length);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (this.fd === undefined && this.size + chunk.length <= this.limit) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      callback();
      return;
    }
    try {
      if (this.fd === undefined) {
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        this.fd = fs.openSync(this.file, 'w');
        const pending = this.data;
        this.chunks = [];
        writeFully(this.fd, pending);
        this.onSpill?.();
      }
      writeFully(this.fd, chunk);
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeFile(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile(() => callback(error));
  }

  /** Closes the file once (after the end, or on destroy); -1 marks it spilled and closed. */
  private closeFile(callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === undefined || fd < 0) return callback();
    this.fd = -1;
    try {
      fs.closeSync(fd);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

export function openResult(input: ProcessorInput, id: string, file: string, mimeType: string): ResultOutput {
  const target = path.join(input.resultsDir, file);
  if (input.inlineLimit === undefined) {
    return { stream: new SpillWritable(target, -1, undefined, input), result: () => ({ id, file, mimeType }) };
  }
  const onSpill = input.onSpill;
  const spill = new SpillWritable(target, input.inlineLimit, onSpill && (() => onSpill({ id, file, mimeType })), input);
  return { stream: spill, result: () => (spill.spilled ? { id, file, mimeType } : { id, file, mimeType, data: spill.data }) };
}

/**
 * A result whose bytes are all at hand (a cutout): kept in memory within the inline limit,
 * else written in one synchronous call (processors run in worker threads, where blocking
 * I/O costs nothing but that thread, and is cheaper than a stream per small file).
 */
export function writeResult(input: ProcessorInput, id: string, file: string, mimeType: string, bytes: Buffer): ProducedResult {
  chargeOutput(input, bytes.length);
  if (input.inlineLimit !== undefined && bytes.length <= input.inlineLimit) return { id, file, mimeType, data: bytes, size: bytes.length };
  const target = path.join(input.resultsDir, file);
  if (input.inlineLimit !== undefined) fs.mkdirSync(input.resultsDir, { recursive: true });
  fs.writeFileSync(target, bytes);
  return { id, file, mimeType, size: bytes.length };
}

/**
 * Many results in one file: each added result is appended and described by its offset and
 * size, and the api serves it as a file of its own. A job of thousands of small results
 * (bulk cutouts) then creates one file instead of thousands — file creation, not the
 * cutting, is what such a job would otherwise spend its time on.
 */
/** Bytes a pack gathers before it writes them. */
const PACK_WRITE_BYTES = 4 << 20;
/** And at most this many results (IOV_MAX is 1024 on Linux). */
const PACK_WRITE_BUFFERS = 1000;

export class ResultPack {
  private fd: number | undefined;
  private offset = 0;
  /** Results not yet written: thousands of small writes cost more than a few large ones. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Memory handed out by reserve(), reused after each write; `used` bytes of it are taken. */
  private arena: Buffer | undefined;
  private used = 0;

  constructor(
    private readonly input: ProcessorInput,
    readonly file: string,
  ) {}

  add(id: string, mimeType: string, bytes: Buffer): ProducedResult {
    chargeOutput(this.input, bytes.length);
    this.fd ??= fs.openSync(path.join(this.input.resultsDir, this.file), 'w');
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= PACK_WRITE_BYTES || this.pending.length >= PACK_WRITE_BUFFERS) this.flush();
    const result = { id, file: this.file, mimeType, size: bytes.length, offset: this.offset };
    this.offset += bytes.length;
    return result;
  }

  /**
   * `bytes` of memory for the caller to fill with a result and then `add`, or undefined when
   * the result is larger than the pack's write size (allocate it then). The memory is the
   * pack's own and is reused once written: a job of thousands of cutouts then allocates no
   * buffer per cutout (fresh memory costs a page fault per 4 KiB, and garbage collection).
   * Valid until the next reserve() or add() of another result.
   */
  reserve(bytes: number): Buffer | undefined {
    if (bytes > PACK_WRITE_BYTES) return undefined;
    this.arena ??= Buffer.allocUnsafe(PACK_WRITE_BYTES);
    if (this.used + bytes > this.arena.length) this.flush();
    // A slice reserved but never added (its result failed) is simply reused after the write.
    if (this.used + bytes > this.arena.length) this.used = 0;
    const slice = this.arena.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return slice;
  }

  /** Writes what was added so far, in one system call (no copy into one buffer first). */
  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const pending = this.pending;
    // Taken off first: after a failed write the pack is broken and the task fails, rather than
    // writing these bytes again later at offsets already handed out for others.
    this.pending = [];
    this.pendingBytes = 0;
    // Written below, synchronously: the reserved memory is free again after it.
    this.used = 0;
    let written = fs.writevSync(this.fd, pending);
    // A short write (rare, e.g. a signal): the rest one buffer at a time, each until whole.
    for (const buffer of pending) {
      if (written >= buffer.length) {
        written -= buffer.length;
        continue;
      }
      for (let at = written; at < buffer.length;) at += fs.writeSync(this.fd, buffer, at);
      written = 0;
    }
  }

  /** Writes what is left and closes the file; its results are readable from then on. */
  close(): void {
    try {
      this.flush();
    } finally {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
