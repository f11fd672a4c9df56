/**
 * Writing FITS files made of a primary HDU and IMAGE extensions. The structural keywords are
 * computed from the data and placed first in the mandatory order (§4.4.1.1, §7.1.1); all other
 * cards of the given header follow in their order. Headers are padded with spaces and data with
 * zeros to whole 2880-byte blocks (§3.3, §3.4). Data are written big-endian (§5).
 */
import * as fs from 'node:fs';
import { FitsError } from './errors';
import { Header } from './header';
import { padToBlock } from './hdu';
import type { Bitpix, RawPixels } from './image';

/**
 * Uint8/Int16/Int32/BigInt64/Float32/Float64Array are written as stored values (BITPIX from
 * the array type; the header's BZERO/BSCALE/BLANK are kept, so raw reads copy exactly).
 * Int8/Uint16/Uint32/BigUint64Array are physical values stored with the §5.2.5 offsets
 * (BZERO = -128, 2^15, 2^31, 2^63, BSCALE = 1), which are added to the header.
 */
export type ImageData = RawPixels | Int8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface ImageHduInput {
  /** Cards to keep; structural keywords in it are replaced by computed ones. */
  readonly header?: Header;
  /** Omitted/null: no data array (NAXIS = 0), as in a primary HDU before IMAGE extensions. */
  readonly data?: ImageData | null;
  /** NAXIS1..NAXISn (NAXIS1 fastest). Default: the header's NAXISn when they match the data length. */
  readonly shape?: readonly number[];
}

/** Keywords the writer computes; removed from the input header. */
const STRUCTURAL = /^(?:SIMPLE|XTENSION|BITPIX|NAXIS\d{0,3}|PCOUNT|GCOUNT|EXTEND|GROUPS)$/;

interface Offset {
  bitpix: Bitpix;
  bzero: number | bigint;
}

/** §5.2.5 / Table 11 offsets for the array types FITS cannot store natively. */
function unsignedOffset(data: ImageData): Offset | null {
  if (data instanceof Int8Array) return { bitpix: 8, bzero: -128 };
  if (data instanceof Uint16Array) return { bitpix: 16, bzero: 32768 };
  if (data instanceof Uint32Array) return { bitpix: 32, bzero: 2147483648 };
  if (data instanceof BigUint64Array) return { bitpix: 64, bzero: 9223372036854775808n };
  return null;
}

function bitpixOf(data: RawPixels): Bitpix {
  if (data instanceof Uint8Array) return 8;
  if (data instanceof Int16Array) return 16;
  if (data instanceof Int32Array) return 32;
  if (data instanceof BigInt64Array) return 64;
  if (data instanceof Float32Array) return -32;
  return -64;
}

/** Stored (signed) values for the offset types: stored = physical − BZERO. */
function toStored(data: ImageData): RawPixels {
  if (data instanceof Int8Array) return Uint8Array.from(data, (v) => v + 128);
  if (data instanceof Uint16Array) return Int16Array.from(data, (v) => v - 32768);
  if (data instanceof Uint32Array) return Int32Array.from(data, (v) => v - 2147483648);
  if (data instanceof BigUint64Array) {
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = BigInt.asIntN(64, data[i]! - 9223372036854775808n);
    return out;
  }
  return data;
}

export interface PreparedHdu {
  readonly header: Header;
  /** Stored values in native byte order, or null for no data. */
  readonly data: RawPixels | null;
}

function axesFromHeader(header: Header | undefined): number[] | null {
  if (!header) return null;
  const card = header.getCard('NAXIS');
  if (card?.type !== 'integer') return null;
  const axes: number[] = [];
  for (let n = 1; n <= Number(card.value); n++) {
    const len = header.getCard(`NAXIS${n}`);
    if (len?.type !== 'integer') return null;
    axes.push(Number(len.value));
  }
  return axes;
}

export interface PrepareOptions {
  /** Primary HDU (SIMPLE) rather than an IMAGE extension. */
  readonly primary: boolean;
  /** Primary only: extensions follow, so write EXTEND = T. */
  readonly extend?: boolean;
  /** Names the HDU in error messages. */
  readonly label?: string;
}

/**
 * Builds the header that will be written for one HDU (structural keywords first, §4.4.1) and
 * the stored data. Exposed so callers can inspect or stream it.
 */
export function prepareImageHdu(input: ImageHduInput, opts: PrepareOptions): PreparedHdu {
  const primary = opts.primary;
  const extend = opts.extend ?? false;
  const label = opts.label ?? (primary ? 'primary HDU' : 'IMAGE extension');
  const source = input.header ?? new Header();
  const data = input.data && input.data.length > 0 ? input.data : null;
  let shape: readonly number[];
  if (!data) {
    shape = [];
  } else if (input.shape) {
    shape = input.shape;
  } else {
    const fromHeader = axesFromHeader(input.header);
    if (!fromHeader || fromHeader.reduce((a, b) => a * b, 1) !== data.length || fromHeader.length === 0) {
      throw new FitsError(`${label}: a shape is needed for ${data.length} values (header NAXISn do not match)`);
    }
    shape = fromHeader;
  }
  if (shape.length > 999 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new FitsError(`${label}: invalid shape [${shape.join(', ')}]`);
  }
  if (data && shape.reduce((a, b) => a * b, 1) !== data.length) {
    throw new FitsError(`${label}: shape [${shape.join(', ')}] does not hold ${data.length} values`);
  }

  const offset = data ? unsignedOffset(data) : null;
  const stored = data ? toStored(data) : null;
  let bitpix: Bitpix;
  if (stored) bitpix = bitpixOf(stored);
  else {
    const b = source.getCard('BITPIX');
    bitpix = b?.type === 'integer' && [8, 16, 32, 64, -32, -64].includes(Number(b.value)) ? (Number(b.value) as Bitpix) : 8;
  }

  const comment = (key: string, fallback: string): string => source.getCard(key)?.comment ?? fallback;
  const header = new Header();
  if (primary) header.set('SIMPLE', true, comment('SIMPLE', 'conforms to FITS standard'));
  else header.set('XTENSION', 'IMAGE', comment('XTENSION', 'Image extension'));
  header.set('BITPIX', bitpix, comment('BITPIX', 'array data type'));
  header.set('NAXIS', shape.length, comment('NAXIS', 'number of array dimensions'));
  shape.forEach((len, i) => header.set(`NAXIS${i + 1}`, len, source.getCard(`NAXIS${i + 1}`)?.comment));
  if (primary) {
    // §4.4.2.1: EXTEND = T says extensions may follow; kept if the input had it.
    const had = source.getCard('EXTEND');
    if (extend || had) header.set('EXTEND', extend || had?.value === true, comment('EXTEND', 'FITS dataset may contain extensions'));
  } else {
    header.set('PCOUNT', 0, comment('PCOUNT', 'number of parameters'));
    header.set('GCOUNT', 1, comment('GCOUNT', 'number of groups'));
  }
  if (offset) {
    const bzero = source.getCard('BZERO');
    const bscale = source.getCard('BSCALE');
    const matches =
      (bzero?.type === 'integer' && BigInt(bzero.value) === BigInt(offset.bzero)) ||
      (bzero?.type === 'float' && bzero.value === Number(offset.bzero));
    if (bzero && !matches) {
      throw new FitsError(`${label}: header BZERO conflicts with the ${offset.bzero} offset of the unsigned data`);
    }
    if (bscale && Number(bscale.value) !== 1) {
      throw new FitsError(`${label}: header BSCALE must be 1 for unsigned data`);
    }
    if (!bzero) header.set('BZERO', offset.bzero, 'offset for unsigned integers');
    if (!bscale) header.set('BSCALE', 1, 'default scaling factor');
  }
  for (const card of source.cards) {
    if (!card.hierarch && STRUCTURAL.test(card.keyword)) continue;
    header.append(card);
  }
  return { header, data: stored };
}

/** Stored values → big-endian bytes. */
function dataBytes(data: RawPixels, start = 0, end = data.length): Buffer {
  const bpe = data.BYTES_PER_ELEMENT;
  const src = new Uint8Array(data.buffer, data.byteOffset + start * bpe, (end - start) * bpe);
  const out = Buffer.allocUnsafe(src.byteLength);
  out.set(src);
  swapToBigEndian(out, bpe);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** FITS data are big-endian (§5.2): swaps native little-endian values in place. */
export function swapToBigEndian(bytes: Buffer, bytesPerElement: number): void {
  if (!LITTLE_ENDIAN) return;
  if (bytesPerElement === 2) bytes.swap16();
  else if (bytesPerElement === 4) bytes.swap32();
  else if (bytesPerElement === 8) bytes.swap64();
}

function prepareAll(hdus: readonly ImageHduInput[]): PreparedHdu[] {
  if (hdus.length === 0) throw new FitsError('a FITS file needs at least a primary HDU');
  return hdus.map((h, i) => prepareImageHdu(h, { primary: i === 0, extend: hdus.length > 1, label: i === 0 ? 'primary HDU' : `HDU ${i}` }));
}

/**
 * The file as a sequence of chunks (header blocks, data in pieces of at most chunkBytes, zero
 * padding): for streaming an HTTP response without holding the whole file twice.
 */
export function* fitsChunks(hdus: readonly ImageHduInput[], chunkBytes = 1 << 20): Generator<Buffer, void, void> {
  for (const { header, data } of prepareAll(hdus)) {
    yield header.toBuffer();
    if (!data) continue;
    const perChunk = Math.max(1, Math.floor(chunkBytes / data.BYTES_PER_ELEMENT));
    for (let i = 0; i < data.length; i += perChunk) yield dataBytes(data, i, Math.min(data.length, i + perChunk));
    const pad = padToBlock(data.byteLength) - data.byteLength;
    if (pad > 0) yield Buffer.alloc(pad);
  }
}

/** Size in bytes of a prepared HDU: header blocks plus padded data. */
function hduSize(p: PreparedHdu, header: Buffer): number {
  return header.length + (p.data ? padToBlock(p.data.byteLength) : 0);
}

/** Writes header and big-endian data of a prepared HDU into `out` (zero-filled) at `pos`. */
function fillHdu(out: Buffer, pos: number, p: PreparedHdu, header: Buffer): void {
  out.set(header, pos);
  if (!p.data) return;
  const start = pos + header.length;
  const region = out.subarray(start, start + p.data.byteLength);
  region.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  swapToBigEndian(region, p.data.BYTES_PER_ELEMENT);
}

/** The bytes of one HDU (header + padded data), e.g. to splice into a hand-assembled file. */
export function hduBytes(p: PreparedHdu): Buffer {
  const header = p.header.toBuffer();
  const out = Buffer.alloc(hduSize(p, header)); // zero-filled: data padding is zeros (§3.3.2)
  fillHdu(out, 0, p, header);
  return out;
}

/** The whole file in one Buffer (allocated once, at its final size). */
export function writeFitsBuffer(hdus: readonly ImageHduInput[]): Buffer {
  const prepared = prepareAll(hdus);
  const headers = prepared.map((p) => p.header.toBuffer());
  const sizes = prepared.map((p, i) => hduSize(p, headers[i]!));
  const out = Buffer.alloc(sizes.reduce((a, b) => a + b, 0)); // zero-filled: data padding is zeros (§3.3.2)
  let pos = 0;
  prepared.forEach((p, i) => {
    fillHdu(out, pos, p, headers[i]!);
    pos += sizes[i]!;
  });
  return out;
}

/** Writes the file (truncating any existing one), chunk by chunk. */
export async function writeFitsFile(path: string, hdus: readonly ImageHduInput[]): Promise<void> {
  const chunks = fitsChunks(hdus); // prepared before the file is touched, so bad input leaves no file
  const first = chunks.next();
  const handle = await fs.promises.open(path, 'w');
  try {
    if (!first.done) await handle.write(first.value);
    for (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}
