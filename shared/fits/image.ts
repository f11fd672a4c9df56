/**
 * Reading rectangles of 2-D image arrays: positioned reads of only the rows a rectangle spans,
 * big-endian decoding (§5.2, §5.3) and the BZERO/BSCALE/BLANK conversion to physical values
 * (§4.4.2.5, unsigned integers §5.2.5).
 */
import { endianness } from 'node:os';
import { FitsError, hduLabel } from './errors';
import type { HduInfo } from './hdu';
import type { ReadPlan } from './io';

export type Bitpix = 8 | 16 | 32 | 64 | -32 | -64;

/** Stored values in the on-disk type (BITPIX 8 is unsigned, §5.2.1), in native byte order. */
export type RawPixels = Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export type PhysicalPixels = Float32Array | Float64Array;
export type PhysicalType = 'float32' | 'float64';

/** 0-based pixel rectangle; x runs along NAXIS1 (fastest varying), y along NAXIS2. */
export interface Rect {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** physical = bzero + bscale × stored, stored === blank → undefined (§4.4.2.5). */
export interface PixelScaling {
  readonly bzero: number;
  readonly bscale: number;
  /** Only for integer BITPIX; bigint for BITPIX 64. */
  readonly blank: number | bigint | null;
}

/** Everything a rectangle read needs about one image HDU. */
export interface ImageLayout {
  readonly fileName: string;
  /** "<file> HDU n (EXTNAME)" for messages. */
  readonly label: string;
  readonly dataOffset: number;
  /** NAXIS1. */
  readonly width: number;
  /** NAXIS2 (1 for a 1-D array). */
  readonly height: number;
  readonly bitpix: Bitpix;
  readonly bytesPerPixel: number;
  readonly scaling: PixelScaling;
}

export interface RawRect extends Rect {
  readonly data: RawPixels;
  readonly bitpix: Bitpix;
  readonly scaling: PixelScaling;
}

export interface PhysicalRect extends Rect {
  readonly data: PhysicalPixels;
}

export interface RectReadOptions {
  /**
   * Rows whose unread gap (row length minus rectangle width) is at most this many bytes are
   * read together, the whole span in one request (≤ MAX_COALESCED_READ at a time), and the
   * rows copied out of it; 0 reads exactly the rectangle's bytes, one request per row.
   * Default DEFAULT_MAX_GAP.
   */
  readonly maxGapBytes?: number;
}

/**
 * Rows are read together while the bytes skipped per row stay under this: about what memory
 * copies in the time of one system call. Files learn the machine's own value from their reads
 * (read-cost.ts: ~5 KiB measured on an Intel Xeon VM); this is the default until then, and for
 * other sources. Measured on 2-core AMD EPYC VMs: a positioned read
 * costs 2.3–3.7 µs whatever its length up to a few KiB, and a span read into a reused buffer
 * moves ~10 GB/s, so skipping up to ~24 KiB per row is cheaper by a read than by the copy.
 * A 64×64 float32 stamp of a 1k-wide image: 64 reads per plane become one of 268 KiB (async
 * SODA cutouts of 3 planes: ~800 → ~480 µs each); a 256×256 of a 4096-wide image: 256 reads
 * (0.65 ms) become one of 4 MiB (0.29 ms).
 */
export const DEFAULT_MAX_GAP = 24 << 10;
/** Upper bound of one coalesced read, so a tall narrow strip reads in pieces of bounded memory. */
const MAX_COALESCED_READ = 4 << 20;

/**
 * Spans are read into buffers kept for reuse: fresh memory costs a page fault per 4 KiB on
 * first touch, which made a coalesced read into a new array slower than the reads it saved.
 * Taken for the duration of one plan, so concurrent asynchronous plans never share one.
 */
const spanBuffers: Uint8Array[] = [];
const MAX_SPARE_SPAN_BUFFERS = 4;

function takeSpanBuffer(bytes: number): Uint8Array {
  const spare = spanBuffers.pop();
  return spare && spare.byteLength >= bytes ? spare : new Uint8Array(Math.max(bytes, spare?.byteLength ?? 0));
}

function returnSpanBuffer(buffer: Uint8Array): void {
  if (spanBuffers.length < MAX_SPARE_SPAN_BUFFERS) spanBuffers.push(buffer);
}

const LITTLE_ENDIAN = endianness() === 'LE';

export function bytesPerPixel(bitpix: Bitpix): number {
  return Math.abs(bitpix) / 8;
}

function scalingOf(hdu: HduInfo, bitpix: Bitpix): PixelScaling {
  const h = hdu.header;
  const bzero = h.getNumber('BZERO') ?? 0;
  const bscale = h.getNumber('BSCALE') ?? 1;
  // §5.3: BLANK is not used with floating-point data; NaN is the undefined value there.
  let blank: number | bigint | null = null;
  const card = h.getCard('BLANK');
  if (bitpix > 0 && card?.type === 'integer') blank = bitpix === 64 ? BigInt(card.value) : Number(card.value);
  return { bzero, bscale, blank };
}

/** Validates that the HDU is a readable 2-D image and describes its layout. */
export function imageLayout(hdu: HduInfo, fileName: string): ImageLayout {
  const label = hduLabel(fileName, hdu.index, hdu.extname);
  if (hdu.kind === 'compressed-image') {
    throw new FitsError(`tile-compressed FITS is not supported: ${label}`);
  }
  if (hdu.kind !== 'image') {
    throw new FitsError(`${label} is ${hdu.xtension ? `a ${hdu.xtension} extension` : `a ${hdu.kind} HDU`}, not an image`);
  }
  if (hdu.axes.length === 0) throw new FitsError(`${label} has no data array (NAXIS = 0)`);
  if (hdu.axes.slice(2).some((n) => n !== 1)) {
    throw new FitsError(`${label} is a ${hdu.axes.join('x')} array; only 2-D images (further axes of length 1) can be read`);
  }
  const bitpix = hdu.bitpix as Bitpix;
  return {
    fileName,
    label,
    dataOffset: hdu.dataOffset,
    width: hdu.axes[0]!,
    height: hdu.axes[1] ?? 1,
    bitpix,
    bytesPerPixel: bytesPerPixel(bitpix),
    scaling: scalingOf(hdu, bitpix),
  };
}

export function checkRect(layout: ImageLayout, rect: Rect): void {
  const { x0, y0, width, height } = rect;
  const desc = `x0=${x0}, y0=${y0}, width=${width}, height=${height}`;
  if (![x0, y0, width, height].every(Number.isSafeInteger)) {
    throw new FitsError(`${layout.label}: rectangle ${desc} must have integer coordinates`);
  }
  if (width < 1 || height < 1) throw new FitsError(`${layout.label}: rectangle ${desc} is empty`);
  if (x0 < 0 || y0 < 0 || x0 + width > layout.width || y0 + height > layout.height) {
    throw new FitsError(`${layout.label}: rectangle ${desc} is not inside the ${layout.width}x${layout.height} image`);
  }
}

/**
 * The rectangle's stored bytes (big-endian, as on disk: §5.2), packed row after row into
 * `into` (at least width × height × bytes per pixel) or a new array. Written into an output
 * FITS file's data area they need no conversion at all: a cutout is a copy of bytes.
 */
export function* planRectBytes(layout: ImageLayout, rect: Rect, opts: RectReadOptions = {}, into?: Uint8Array): ReadPlan<Uint8Array> {
  checkRect(layout, rect);
  const bpp = layout.bytesPerPixel;
  const rowBytes = layout.width * bpp;
  const segBytes = rect.width * bpp;
  const size = segBytes * rect.height;
  if (into && into.byteLength < size)
    throw new FitsError(`a ${rect.width}×${rect.height} rectangle needs ${size} bytes, the target has ${into.byteLength}`);
  const out = into ? into.subarray(0, size) : new Uint8Array(new ArrayBuffer(size));
  const first = layout.dataOffset + (rect.y0 * layout.width + rect.x0) * bpp;
  const maxGap = opts.maxGapBytes ?? DEFAULT_MAX_GAP;
  if (rect.width === layout.width || rect.height === 1) {
    yield [{ position: first, target: out }];
  } else if (rowBytes - segBytes <= maxGap) {
    const rowsPerRead = Math.max(1, Math.floor(MAX_COALESCED_READ / rowBytes));
    const span = (Math.min(rowsPerRead, rect.height) - 1) * rowBytes + segBytes;
    const buffer = takeSpanBuffer(span);
    // Rows copied out with Buffer#copy: no view object made per row.
    const rows = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    try {
      for (let r = 0; r < rect.height; r += rowsPerRead) {
        const n = Math.min(rowsPerRead, rect.height - r);
        yield [{ position: first + r * rowBytes, target: buffer.subarray(0, (n - 1) * rowBytes + segBytes) }];
        for (let k = 0; k < n; k++) rows.copy(out, (r + k) * segBytes, k * rowBytes, k * rowBytes + segBytes);
      }
    } finally {
      returnSpanBuffer(buffer);
    }
  } else {
    yield [{ position: first, target: out, rows: { count: rect.height, bytes: segBytes, stride: rowBytes } }];
  }
  return out;
}

/**
 * Reads a rectangle's stored values. One request when the rectangle spans whole rows (they are
 * contiguous on disk) or a single row; when the skipped part of each row is small enough
 * (maxGapBytes), the rows' whole span in ≤ 4 MiB requests; otherwise one request per row of
 * just the rectangle's columns.
 */
export function* planRawRect(layout: ImageLayout, rect: Rect, opts: RectReadOptions = {}): ReadPlan<RawRect> {
  const bytes = yield* planRectBytes(layout, rect, opts);
  return {
    ...copyRect(rect),
    bitpix: layout.bitpix,
    scaling: layout.scaling,
    data: decodeBigEndian(bytes.buffer as ArrayBuffer, layout.bitpix),
  };
}

function copyRect(rect: Rect): Rect {
  return { x0: rect.x0, y0: rect.y0, width: rect.width, height: rect.height };
}

/** §5.2/§5.3: data are big-endian; swap in place and view with the matching typed array. */
export function decodeBigEndian(buffer: ArrayBuffer, bitpix: Bitpix): RawPixels {
  if (LITTLE_ENDIAN) {
    const bytes = Buffer.from(buffer);
    if (bitpix === 16) bytes.swap16();
    else if (bitpix === 32 || bitpix === -32) bytes.swap32();
    else if (bitpix === 64 || bitpix === -64) bytes.swap64();
  }
  switch (bitpix) {
    case 8:
      return new Uint8Array(buffer);
    case 16:
      return new Int16Array(buffer);
    case 32:
      return new Int32Array(buffer);
    case 64:
      return new BigInt64Array(buffer);
    case -32:
      return new Float32Array(buffer);
    case -64:
      return new Float64Array(buffer);
  }
}

/** float32 when the stored values are unscaled float32 (no precision to gain), else float64. */
export function defaultPhysicalType(bitpix: Bitpix, scaling: PixelScaling): PhysicalType {
  return bitpix === -32 && scaling.bzero === 0 && scaling.bscale === 1 ? 'float32' : 'float64';
}

/** physical = BZERO + BSCALE × stored (§4.4.2.5); stored BLANK values become NaN. */
export function toPhysical(raw: RawRect, type?: PhysicalType): PhysicalPixels {
  const data = raw.data;
  const { bzero, bscale, blank } = raw.scaling;
  const n = data.length;
  const out = (type ?? defaultPhysicalType(raw.bitpix, raw.scaling)) === 'float32' ? new Float32Array(n) : new Float64Array(n);
  if (data instanceof BigInt64Array) {
    const blankBig = blank === null ? null : BigInt(blank);
    // Unsigned 64-bit (BZERO = 2^63, §5.2.5): add the offset exactly before rounding once.
    const exactOffset = bscale === 1 && Number.isInteger(bzero) ? BigInt(bzero) : null;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v === blankBig) out[i] = NaN;
      else out[i] = exactOffset !== null ? Number(v + exactOffset) : bzero + bscale * Number(v);
    }
    return out;
  }
  if (bzero === 0 && bscale === 1 && blank === null) {
    out.set(data);
    return out;
  }
  const blankNum = blank === null ? null : Number(blank);
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    out[i] = v === blankNum ? NaN : bzero + bscale * v;
  }
  return out;
}
