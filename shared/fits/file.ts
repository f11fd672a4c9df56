/**
 * An open FITS file: its HDUs located once at open time, then any number of rectangle reads
 * through the same descriptor. Meant to be cached by callers (an LRU of open files), so reads
 * cost only the positioned reads of the rows they span.
 */
import { FitsError } from './errors';
import { type HduInfo, type HduSelector, findHdu, getHdu, scanHdus } from './hdu';
import {
  type ImageLayout,
  type PhysicalRect,
  type PhysicalType,
  type RawRect,
  type Rect,
  type RectReadOptions,
  imageLayout,
  planRawRect,
  planRectBytes,
  toPhysical,
} from './image';
import { type ByteSource, bufferSource, openFileSource, openFileSourceSync, runAsync, runSync } from './io';

/** An HDU by index / EXTNAME / {extname, extver}, or an HduInfo from this file's `hdus`. */
export type HduRef = HduSelector | HduInfo;

export interface PhysicalReadOptions extends RectReadOptions {
  /** Output array type; default float32 for unscaled BITPIX -32, float64 otherwise. */
  readonly type?: PhysicalType;
}

function isHduInfo(ref: HduRef): ref is HduInfo {
  return typeof ref === 'object' && 'dataOffset' in ref;
}

export class FitsFile {
  readonly name: string;
  readonly hdus: readonly HduInfo[];
  private readonly source: ByteSource;
  private readonly layouts = new Map<number, ImageLayout>();

  private constructor(source: ByteSource, hdus: HduInfo[]) {
    this.source = source;
    this.name = source.name;
    this.hdus = hdus;
  }

  /** Locates the HDUs with synchronous reads. Closes the source if that fails. */
  static fromSource(source: ByteSource): FitsFile {
    try {
      return new FitsFile(source, runSync(scanHdus(source.name, source.size), source));
    } catch (err) {
      source.close();
      throw err;
    }
  }

  static async fromSourceAsync(source: ByteSource): Promise<FitsFile> {
    try {
      return new FitsFile(source, await runAsync(scanHdus(source.name, source.size), source));
    } catch (err) {
      source.close();
      throw err;
    }
  }

  /** File size in bytes. */
  get size(): number {
    return this.source.size;
  }

  findHdu(selector: HduSelector): HduInfo | undefined {
    return findHdu(this.hdus, selector);
  }

  /** The HDU, or a FitsError naming the file. */
  hdu(ref: HduRef): HduInfo {
    if (!isHduInfo(ref)) return getHdu(this.hdus, ref, this.name);
    if (this.hdus[ref.index] !== ref) throw new FitsError(`${this.name}: HduInfo of HDU ${ref.index} is not from this file`);
    return ref;
  }

  /** Layout of an image HDU; throws for tables, tile-compressed images, cubes. Cached. */
  imageLayout(ref: HduRef): ImageLayout {
    const hdu = this.hdu(ref);
    let layout = this.layouts.get(hdu.index);
    if (!layout) {
      layout = imageLayout(hdu, this.name);
      this.layouts.set(hdu.index, layout);
    }
    return layout;
  }

  /** Stored values of a rectangle, for copying into a new file with the same BITPIX/BZERO/BSCALE/BLANK. */
  readRawRect(ref: HduRef, rect: Rect, opts?: RectReadOptions): RawRect {
    return runSync(planRawRect(this.imageLayout(ref), rect, this.withGap(opts)), this.source);
  }

  /** `opts` with the source's coalescing gap (ByteSource.maxGapBytes) unless the caller chose one. */
  private withGap<T extends RectReadOptions>(opts: T | undefined): T | undefined {
    if (opts?.maxGapBytes !== undefined || !this.source.maxGapBytes) return opts;
    return { ...(opts as T), maxGapBytes: this.source.maxGapBytes() };
  }

  /**
   * The rectangle's stored bytes, big-endian as in the file, into `into` when given (e.g. the
   * data area of an output FITS buffer: no conversion, no copy).
   */
  readRectBytes(ref: HduRef, rect: Rect, into?: Uint8Array, opts?: RectReadOptions): Uint8Array {
    return runSync(planRectBytes(this.imageLayout(ref), rect, this.withGap(opts), into), this.source);
  }

  /** Physical values (BZERO/BSCALE applied, BLANK → NaN) of a rectangle. */
  readRect(ref: HduRef, rect: Rect, opts?: PhysicalReadOptions): PhysicalRect {
    const raw = this.readRawRect(ref, rect, opts);
    return { x0: raw.x0, y0: raw.y0, width: raw.width, height: raw.height, data: toPhysical(raw, opts?.type) };
  }

  /** readRawRect with asynchronous reads (for large rectangles in a server). */
  async readRawRectAsync(ref: HduRef, rect: Rect, opts?: RectReadOptions): Promise<RawRect> {
    return runAsync(planRawRect(this.imageLayout(ref), rect, this.withGap(opts)), this.source);
  }

  async readRectAsync(ref: HduRef, rect: Rect, opts?: PhysicalReadOptions): Promise<PhysicalRect> {
    const raw = await this.readRawRectAsync(ref, rect, opts);
    return { x0: raw.x0, y0: raw.y0, width: raw.width, height: raw.height, data: toPhysical(raw, opts?.type) };
  }

  /** The whole image as stored values. */
  readRawImage(ref: HduRef): RawRect {
    const l = this.imageLayout(ref);
    return this.readRawRect(ref, { x0: 0, y0: 0, width: l.width, height: l.height });
  }

  /** The whole image as physical values. */
  readImage(ref: HduRef, opts?: PhysicalReadOptions): PhysicalRect {
    const l = this.imageLayout(ref);
    return this.readRect(ref, { x0: 0, y0: 0, width: l.width, height: l.height }, opts);
  }

  /** Closes the underlying descriptor; further reads throw. Idempotent. */
  close(): void {
    this.source.close();
  }
}

/** Opens a file and locates its HDUs with asynchronous reads. */
export async function openFits(path: string): Promise<FitsFile> {
  return FitsFile.fromSourceAsync(await openFileSource(path));
}

export function openFitsSync(path: string): FitsFile {
  return FitsFile.fromSource(openFileSourceSync(path));
}

/** A FITS file held in memory (an upload, a response being checked). */
export function openFitsBuffer(bytes: Uint8Array, name = '<buffer>'): FitsFile {
  return FitsFile.fromSource(bufferSource(bytes, name));
}
