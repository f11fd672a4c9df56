/**
 * The bytes of a SODA cutout: a FITS file made of the source's primary header (with provenance
 * keywords) and one IMAGE extension per cut HDU, each the source header with its pixel origin
 * moved and the rectangle's stored bytes copied unchanged (big-endian on both sides, so BITPIX,
 * BZERO, BSCALE and BLANK keep their meaning and no value is converted).
 *
 * Shifted keywords, for a rectangle at 0-based (x0, y0):
 *   CRPIXja − x0 / − y0 for the primary WCS and every alternate one present (FITS WCS Paper I
 *     §2.1: CRPIX is in the pixel grid; SIP terms are relative to CRPIX and stay valid);
 *   LTV1 − x0, LTV2 − y0 (IRAF/Rubin: image pixel = physical pixel + LTV, so offsets accumulate
 *     over cutouts of cutouts), added as 0.0 first where absent.
 * CHECKSUM and DATASUM are dropped (they would no longer hold). Other HDUs are left out.
 *
 * Provenance in the primary header:
 *   SODA_ID   the ID cut out (long IDs continue on CONTINUE cards, FITS 4.0 §4.2.1.2)
 *   SODA_POS  the spatial constraint as a DALI shape (a CIRCLE/POLYGON parameter is written as
 *             the equivalent POS, SODA 1.0 §3.3.2–3.3.3; the comment names the parameter)
 *   SODA_BND  the BAND interval [m], SODA_TIM the TIME interval [MJD], SODA_POL the POL states
 *   HISTORY   one card per cut HDU: its 0-based pixel ranges in the source image.
 *
 * Fast path: per file (path, size, mtime) the primary header is formatted once and each cut
 * HDU's header becomes an ImageHduTemplate once (a small LRU); a cutout then rewrites a few
 * cards and reads the rectangle's rows into the output buffer (close rows in one read: FitsFile.readRectBytes),
 * or copies them from rows read ahead for many cutouts of one image (RowWindow).
 */
import type { Interval } from '../dali/interval';
import {
  type Card,
  type FitsFile,
  FileVersions,
  Header,
  ImageHduTemplate,
  type Rect,
  type RowWindow,
  BLOCK_SIZE,
  CARD_LENGTH,
  bytesPerPixel,
  decodeBigEndian,
  formatCard,
  padToBlock,
  prepareImageHdu,
} from '../fits';
import { formatDali } from '../sky';
import { SodaError } from './errors';
import { LruCache } from './lru';
import type { SodaCutout } from './params';
import type { CutoutPlan, PlannedHdu } from './plan';

/** Largest cutout, in pixels over all its HDUs: 2^26 (256 MiB of float32). */
export const DEFAULT_MAX_CUTOUT_PIXELS = 2 ** 26;
/** Data chunk size of cutoutChunks. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

const STALE_KEYWORDS = ['CHECKSUM', 'DATASUM'];
const PROVENANCE_KEYWORDS = ['SODA_ID', 'SODA_POS', 'SODA_BND', 'SODA_TIM', 'SODA_POL'];
const ALTERNATE_WCS = ['', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];

/** A keyword that moves with the pixel origin, its axis (1 = x, 2 = y) and its source value. */
interface OriginCard {
  readonly key: string;
  readonly axis: 1 | 2;
  readonly value: number;
}

/** A cut HDU's header formatted once: the template and the unshifted values of its variable cards. */
interface CutTemplate {
  readonly template: ImageHduTemplate;
  readonly origin: readonly OriginCard[];
}

/** What is kept per source file. */
interface FileHeaders {
  /** Records of the output primary header without provenance and END. */
  primaryRecords?: string;
  readonly templates: Map<number, CutTemplate>;
}

/**
 * Formatted headers per source file version, least recently used dropped first. A file's
 * version (size, mtime) is looked at once per `statEveryMs` (FileVersions): a file rewritten in
 * place is seen within that time.
 */
export class HeaderCache extends LruCache<string, FileHeaders> {
  readonly versions: FileVersions;

  constructor(capacity = 64, statEveryMs = 1000) {
    super(capacity);
    this.versions = new FileVersions(statEveryMs);
  }
}

const sharedCache = new HeaderCache();

export interface CutoutOptions {
  /** Largest cutout in pixels over all HDUs; default DEFAULT_MAX_CUTOUT_PIXELS. */
  readonly maxPixels?: number;
  /**
   * Where cutoutBuffer puts the file: memory of `bytes` to fill (e.g. ResultPack.reserve), or
   * undefined for a new buffer. Default: a new buffer.
   */
  readonly allocate?: (bytes: number) => Buffer | undefined;
  /** Where formatted headers are kept between cutouts; default one module-wide cache; null: none. */
  readonly cache?: HeaderCache | null;
  /** Rows of this file read ahead: rectangles they hold are copied from them (cutoutBuffer). */
  readonly rows?: RowWindow;
}

export interface ChunkOptions extends CutoutOptions {
  /** Largest data chunk in bytes (whole rows, at least one); default DEFAULT_CHUNK_BYTES. */
  readonly chunkBytes?: number;
}

/** Throws a UsageError naming the limit when the plan's rectangles hold more than `maxPixels` pixels. */
export function checkCutoutSize(plan: CutoutPlan, maxPixels = DEFAULT_MAX_CUTOUT_PIXELS): void {
  const pixels = plan.hdus.reduce((sum, h) => sum + h.rect.width * h.rect.height, 0);
  if (pixels > maxPixels) {
    const sizes = plan.hdus.map((h) => `${h.rect.width}×${h.rect.height}`).join(' + ');
    throw new SodaError(
      'UsageError',
      `the cutout would hold ${pixels} pixels (${sizes}); the limit is ${maxPixels} pixels: ask for a smaller region`,
    );
  }
}

function formatBound(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatInterval(interval: Interval): string {
  return `${formatBound(interval.lo)} ${formatBound(interval.hi)}`;
}

/** Header text is ASCII 32–126 (FITS 4.0 §4.1.1): anything else in an opaque ID is %-encoded (UTF-8). */
export function asciiText(text: string): string {
  const percent = (c: string): string =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return text.replace(/[^\x20-\x7e]/gu, percent);
}

function hduName(h: PlannedHdu): string {
  return `HDU ${h.index}${h.name ? ` (${h.name})` : ''}`;
}

/** The provenance cards of the primary header (see the top of this file). */
function provenanceCards(cutout: SodaCutout, plan: CutoutPlan): Card[] {
  const header = new Header();
  header.set('SODA_ID', asciiText(cutout.id), 'SODA 1.0 ID of the dataset cut out');
  if (cutout.spatial) header.set('SODA_POS', formatDali(cutout.spatial.shape), `SODA 1.0 ${cutout.spatial.param}, ICRS deg`);
  if (cutout.band) header.set('SODA_BND', formatInterval(cutout.band), '[m] SODA 1.0 BAND');
  if (cutout.time) header.set('SODA_TIM', formatInterval(cutout.time), '[d] SODA 1.0 TIME, MJD');
  if (cutout.pol) header.set('SODA_POL', cutout.pol.join(' '), 'SODA 1.0 POL');
  for (const planned of plan.hdus) {
    const { x0, y0, width, height } = planned.rect;
    const [imageWidth, imageHeight] = planned.imageSize;
    header.addHistory(
      `SODA cutout of ${hduName(planned)}: x ${x0}..${x0 + width - 1}, y ${y0}..${y0 + height - 1} of ${imageWidth}x${imageHeight} (0-based)`,
    );
  }
  return [...header.cards];
}

/** The source header of a cut HDU: stale checksums dropped, LTV1/LTV2 present. */
function cutSource(header: Header): Header {
  const h = header.clone();
  for (const key of STALE_KEYWORDS) h.delete(key);
  for (const key of ['LTV1', 'LTV2']) {
    if (!h.has(key)) h.set(key, 0, 'image pixel = physical pixel + LTV', { numberType: 'float' });
  }
  return h;
}

/** CRPIXja of every WCS present, and LTV1/LTV2 (which cutSource guarantees). */
function originCards(header: Header): OriginCard[] {
  const cards: OriginCard[] = [];
  for (const alt of ALTERNATE_WCS) {
    for (const axis of [1, 2] as const) {
      const value = header.getNumber(`CRPIX${axis}${alt}`);
      if (value !== undefined) cards.push({ key: `CRPIX${axis}${alt}`, axis, value });
    }
  }
  for (const axis of [1, 2] as const) cards.push({ key: `LTV${axis}`, axis, value: header.getNumber(`LTV${axis}`) ?? 0 });
  return cards;
}

/** The origin cards' values moved to the rectangle's corner. */
function shifted(origin: readonly OriginCard[], rect: Rect): Record<string, number> {
  const values: Record<string, number> = {};
  for (const { key, axis, value } of origin) values[key] = value - (axis === 1 ? rect.x0 : rect.y0);
  return values;
}

/**
 * The complete header of a cut HDU (general path, for cutoutChunks and a cut primary HDU):
 * structural keywords first (FITS 4.0 §4.4.1) with the rectangle's NAXISn, then the source's cards
 * with the origin moved, then `extra` cards. Byte for byte what the template path writes.
 */
function cutHeader(file: FitsFile, planned: PlannedHdu, primary: boolean, extend: boolean, extra: readonly Card[]): Buffer {
  const sourceHeader = file.hdu(planned.index).header;
  const source = cutSource(sourceHeader);
  for (const [key, value] of Object.entries(shifted(originCards(source), planned.rect))) source.set(key, value);
  for (const card of extra) source.setCard(card);
  const { header } = prepareImageHdu({ header: source }, { primary, extend });
  const at = header.indexOf('NAXIS');
  header.set('NAXIS', 2);
  [planned.rect.width, planned.rect.height].forEach((length, i) => {
    const comment = sourceHeader.getCard(`NAXIS${i + 1}`)?.comment;
    header.insert(at + 1 + i, { keyword: `NAXIS${i + 1}`, type: 'integer', value: length, ...(comment ? { comment } : {}) });
  });
  return header.toBuffer();
}

/** A header of `records` (formatted cards) followed by `extra`, END and blank padding. */
function headerBytes(records: string, extra: readonly Card[]): Buffer {
  const text = records + extra.flatMap(formatCard).join('') + 'END'.padEnd(CARD_LENGTH);
  return Buffer.from(text.padEnd(Math.ceil(text.length / BLOCK_SIZE) * BLOCK_SIZE, ' '), 'latin1');
}

/**
 * The output primary header when the source primary is not cut: its cards with NAXIS = 0 (any
 * data it has is not copied), formatted once per file, then this cutout's provenance.
 */
function primaryHeader(file: FitsFile, headers: FileHeaders, extra: readonly Card[]): Buffer {
  if (headers.primaryRecords === undefined) {
    const source = file.hdus[0]!.header.clone();
    for (const key of [...STALE_KEYWORDS, ...PROVENANCE_KEYWORDS]) source.delete(key);
    const { header } = prepareImageHdu({ header: source }, { primary: true, extend: true });
    headers.primaryRecords = header.cards.flatMap(formatCard).join('');
  }
  return headerBytes(headers.primaryRecords, extra);
}

/** The cut HDU's template, made once per file version: its data type from one sample value. */
function templateFor(file: FitsFile, headers: FileHeaders, index: number): CutTemplate {
  const cached = headers.templates.get(index);
  if (cached) return cached;
  const source = cutSource(file.hdu(index).header);
  const bitpix = file.imageLayout(index).bitpix;
  const sample = decodeBigEndian(new ArrayBuffer(bytesPerPixel(bitpix)), bitpix);
  const origin = originCards(source);
  const made = {
    template: ImageHduTemplate.create(
      source,
      sample,
      origin.map((c) => c.key),
    ),
    origin,
  };
  headers.templates.set(index, made);
  return made;
}

/** The file's cached headers (`cache` undefined: the module-wide cache; null: a fresh, unkept entry). */
function fileHeaders(file: FitsFile, cache: HeaderCache | null | undefined): FileHeaders {
  const store = cache === undefined ? sharedCache : cache;
  const key = store && store.versions.key(file.name);
  const make = (): FileHeaders => ({ templates: new Map() });
  return store && key !== null ? store.getOrCreate(key, make) : make();
}

/** One cut HDU: its header, then its data in runs of whole rows of at most `chunkBytes`, then zero padding. */
function* hduChunks(file: FitsFile, planned: PlannedHdu, header: Buffer, chunkBytes: number): Generator<Buffer, void, void> {
  yield header;
  const { x0, y0, width, height } = planned.rect;
  const rowBytes = width * file.imageLayout(planned.index).bytesPerPixel;
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / rowBytes));
  for (let row = 0; row < height; row += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, height - row);
    const chunk = Buffer.allocUnsafe(rows * rowBytes);
    file.readRectBytes(planned.index, { x0, y0: y0 + row, width, height: rows }, chunk);
    yield chunk;
  }
  const data = rowBytes * height;
  if (padToBlock(data) > data) yield Buffer.alloc(padToBlock(data) - data); // data padding is zeros (FITS 4.0 §3.3.2)
}

/**
 * The cutout as one FITS file in one Buffer, allocated at its final size: the cached primary
 * header with provenance, then per cut HDU its templated header and the rectangle's rows read
 * straight into place. Throws SodaError (UsageError) when the plan exceeds `maxPixels`,
 * FitsError when the file cannot be read.
 */
export function cutoutBuffer(file: FitsFile, plan: CutoutPlan, provenance: SodaCutout, options: CutoutOptions = {}): Buffer {
  checkCutoutSize(plan, options.maxPixels);
  const headers = fileHeaders(file, options.cache);
  const extra = provenanceCards(provenance, plan);
  // A cut primary HDU (a single-image file) carries the provenance in its own header: general path.
  if (plan.primary === 'cut') return Buffer.concat([...chunksOf(file, plan, headers, extra, Infinity)]);
  const primary = primaryHeader(file, headers, extra);
  const parts = plan.hdus.map((planned) => {
    const cut = templateFor(file, headers, planned.index);
    const dataBytes = planned.rect.width * planned.rect.height * cut.template.bytesPerPixel;
    return { planned, cut, bytes: cut.template.headerBytes + padToBlock(dataBytes) };
  });
  const size = parts.reduce((n, p) => n + p.bytes, primary.length);
  const out = options.allocate?.(size) ?? Buffer.allocUnsafe(size);
  let pos = primary.copy(out, 0);
  // Each HDU laid out in place: its header from the template, its padding zeroed, its data
  // area filled with the rectangle's rows straight from the file.
  for (const { planned, cut, bytes } of parts) {
    const { rect } = planned;
    const { data } = cut.template.layout(shifted(cut.origin, rect), [rect.width, rect.height], undefined, out.subarray(pos, pos + bytes));
    if (!options.rows?.copyRect(planned.index, rect, data)) file.readRectBytes(planned.index, rect, data);
    pos += bytes;
  }
  return out;
}

/**
 * The same bytes as cutoutBuffer, as a sequence of chunks (headers, data in runs of whole rows
 * of at most `chunkBytes`, padding), for streaming very large cutouts with bounded memory. The
 * size check happens before the first chunk.
 */
export function cutoutChunks(
  file: FitsFile,
  plan: CutoutPlan,
  provenance: SodaCutout,
  options: ChunkOptions = {},
): Generator<Buffer, void, void> {
  checkCutoutSize(plan, options.maxPixels);
  const headers = fileHeaders(file, options.cache);
  return chunksOf(file, plan, headers, provenanceCards(provenance, plan), options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
}

function* chunksOf(
  file: FitsFile,
  plan: CutoutPlan,
  headers: FileHeaders,
  extra: readonly Card[],
  chunkBytes: number,
): Generator<Buffer, void, void> {
  if (plan.primary === 'header') yield primaryHeader(file, headers, extra);
  for (const [i, planned] of plan.hdus.entries()) {
    const primary = plan.primary === 'cut' && i === 0;
    yield* hduChunks(file, planned, cutHeader(file, planned, primary, primary && plan.hdus.length > 1, primary ? extra : []), chunkBytes);
  }
}

/**
 * The cached headers of one file for callers that lay out cut HDUs themselves (bulk stamps:
 * many small cutouts of one image, some padded beyond its edge). Byte for byte what
 * cutoutBuffer writes for the same rectangles; one cache lookup per call of cutLayouts.
 */
export interface CutLayouts {
  /** The output primary header (the source's, NAXIS = 0, EXTEND = T), then `extra`, END and padding. */
  primaryHeader(extra: readonly Card[]): Buffer;
  /**
   * HDU `index` cut to `rect` as an IMAGE extension: its header (NAXISn the rectangle's size,
   * CRPIXja and LTVn moved by its origin) and a data area of width × height pixels for the
   * caller to fill with big-endian stored values, the padding after it zeroed. The rectangle
   * may reach beyond the image: only CRPIX and LTV move, so the WCS stays exact (Paper I §2.1).
   * Laid out in `into` when given (exactly the HDU's size), else in a new Buffer.
   */
  cutHdu(index: number, rect: Rect, into?: Buffer): { bytes: Buffer; data: Buffer };
}

/** The file's CutLayouts (`cache` as in CutoutOptions: undefined the module-wide one, null none). */
export function cutLayouts(file: FitsFile, cache?: HeaderCache | null): CutLayouts {
  const headers = fileHeaders(file, cache);
  return {
    primaryHeader: (extra) => primaryHeader(file, headers, extra),
    cutHdu: (index, rect, into) => {
      const cut = templateFor(file, headers, index);
      return cut.template.layout(shifted(cut.origin, rect), [rect.width, rect.height], undefined, into);
    },
  };
}
