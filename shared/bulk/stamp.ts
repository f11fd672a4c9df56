/**
 * One stamp of a bulk job: a small FITS file cut from one image at one position, made with the
 * SODA cutout machinery (shared/soda/cutout.ts cutLayouts: the same cached primary header and
 * per-HDU templates, so a clipped stamp's extensions are byte for byte a SODA cutout's).
 *
 * Layout: the image's primary header (NAXIS = 0, EXTEND = T) with the provenance below, then
 * one IMAGE extension per plane asked for, in the order IMAGE, MASK, VARIANCE: the plane's
 * header with NAXISn the stamp's size and CRPIXja / LTVn moved by the stamp's origin in the
 * image (FITS WCS Paper I §2.1: CRPIX is in the pixel grid, so the WCS stays exact; SIP terms
 * are relative to CRPIX), then the stored pixels copied unchanged (big-endian both sides, FITS
 * 4.0 §5.2, so BITPIX/BZERO/BSCALE/BLANK keep their meaning).
 *
 * Edges, for a box {x0, y0, nx, ny} (0-based, in the image's pixel grid) that runs off the image:
 *   clip  the HDU holds only the overlap, as a SODA cutout would (its origin the overlap's);
 *   pad   the HDU is nx × ny, its origin (x0, y0) even when negative; pixels off the image are
 *         NaN in floating-point planes (FITS 4.0 §5.3), the NO_DATA bit in the integer MASK
 *         plane (MP_NO_DATA of the MASK header, Rubin's default bit 8 when absent), and BLANK
 *         in any other integer plane (a plane without BLANK cannot be padded). So every padded
 *         stamp of a job has one shape, and its WCS is the image's, shifted.
 *
 * Provenance in the primary header (after the image's own cards):
 *   BULK_ID   the input row's id (non-ASCII %-encoded; long ids continue on CONTINUE cards,
 *             FITS 4.0 §4.2.1.2)
 *   BULK_ROW  the 1-based row of the positions table
 *   BULK_RA, BULK_DEC  the requested position [deg, ICRS]
 *   BULK_BND  the band (a filter letter, or the label of a wavelength interval)
 *   BULK_SRC  obs_publisher_did of the image cut
 *   HISTORY   the edge mode, and per plane the stamp's pixel ranges in the image (as SODA's HISTORY).
 *
 * Cost: files stay open in a small LRU and their headers formatted once (a HeaderCache), so a
 * stamp costs at most one stat a second per file (statEveryMs), its rows copied from the rows
 * read ahead (or one read per plane of its rows' span), a few 80-byte card rewrites and its CRC-32.
 */
import { crc32 } from '../archive/crc32';
import {
  type Bitpix,
  type Card,
  FileVersions,
  FitsError,
  type FitsFile,
  type HduInfo,
  type Rect,
  RowWindow,
  decodeBigEndian,
  openFitsSync,
  padToBlock,
  toPhysical,
} from '../fits';
import { type PlaneHdus, type Plane as PicturePlane, maskedPixels, planeHdus } from '../preview';
import { DEFAULT_MAX_CUTOUT_PIXELS, HeaderCache, asciiText, cutLayouts } from '../soda/cutout';
import { LruCache } from '../soda/lru';
import type { ManifestStatus } from './manifest';
import type { Plane } from './params';
import { PLANES } from './params';

/** A pixel box, 0-based, in an image's grid: columns x0 … x0 + nx − 1, rows y0 … y0 + ny − 1. */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly nx: number;
  readonly ny: number;
}

/** What the stamp's primary header records of the request (see the top of this file). */
export interface StampProvenance {
  /** The row's id (its id column, else the row number). */
  readonly id: string;
  /** 1-based row of the positions table. */
  readonly row: number;
  /** Requested position, ICRS degrees. */
  readonly ra: number;
  readonly dec: number;
  /** Band label (BulkBand.label). */
  readonly band: string;
  /** obs_publisher_did of the image. */
  readonly did: string;
}

export interface StampOptions {
  /** Planes to cut, each an IMAGE extension with that EXTNAME; written in the order IMAGE, MASK, VARIANCE. */
  readonly planes: readonly Plane[];
  readonly edge: 'clip' | 'pad';
  readonly provenance: StampProvenance;
  /** Largest stamp in pixels over its planes; default DEFAULT_MAX_CUTOUT_PIXELS (SODA's). */
  readonly maxPixels?: number;
  /** Also hand out the stamp's IMAGE plane as a picture draws it (Stamp.picture). */
  readonly picture?: boolean;
  /**
   * Memory of exactly `bytes` for the stamp (e.g. a result pack's: ResultPack.reserve), or
   * undefined to allocate it: a part then allocates and copies no buffer per stamp.
   */
  readonly allocate?: (bytes: number) => Buffer | undefined;
}

/** What a stamp holds, known without cutting it. */
export interface StampPlan {
  /** The stamp's pixels in the image grid: the overlap (clip), or the whole box (pad). */
  readonly box: PixelBox;
  /** The part of the box on the image. */
  readonly overlap: PixelBox;
  /** The box runs off the image: the manifest's `partial`. */
  readonly partial: boolean;
  /** Exact size of the FITS file in bytes (whole 2880-byte blocks, FITS 4.0 §3.1). */
  readonly bytes: number;
}

export interface Stamp extends StampPlan {
  /** The FITS file; its length is `bytes`. */
  readonly data: Buffer;
  /** CRC-32 (zip's, shared/archive/crc32.ts) of `data`. */
  readonly crc32: number;
  /**
   * With StampOptions.picture and an IMAGE plane cut: its physical values, and when the MASK
   * plane is cut too the pixels with its NO_DATA bit, made from the pixels just copied into
   * the stamp: what shared/preview's planeOfFits reads from the stamp's bytes, without parsing
   * them (that parse cost more than the cut itself).
   */
  readonly picture?: PicturePlane;
}

/**
 * A stamp that cannot be made for a reason the manifest names: `no_coverage` (the box misses
 * the image) or `too_large` (more pixels than maxPixels). Anything else thrown (FitsError, I/O)
 * is the manifest's `error`.
 */
export class StampError extends Error {
  constructor(
    readonly status: Extract<ManifestStatus, 'no_coverage' | 'too_large'>,
    message: string,
  ) {
    super(message);
    this.name = 'StampError';
  }
}

/** Rubin's mask plane NO_DATA when the MASK header names no MP_NO_DATA (afw's default plane order: bit 8, value 256). */
export const DEFAULT_NO_DATA_BIT = 8;

/** One plane of an open image, found once. */
interface PlaneHdu {
  readonly plane: Plane;
  readonly hdu: HduInfo;
  readonly width: number;
  readonly height: number;
  readonly bytesPerPixel: number;
  /** Header length of the plane's extension in a stamp (the template's: independent of the box). */
  headerBytes?: number;
  /** One stored pixel, big-endian, that pads beyond the image; made when first needed. */
  fill?: Buffer;
}

interface OpenImage {
  readonly file: FitsFile;
  readonly planes: Map<Plane, PlaneHdu>;
  /** How its stamps' headers are made: found once per opened version of the file. */
  layouts?: ReturnType<typeof cutLayouts>;
  /** The IMAGE plane pictures draw and the MASK bits that hide pixels (planeHdus), found once. */
  pictureHdus?: PlaneHdus;
  /** Whole rows of planes read ahead (StampCutter.readRows). */
  window?: RowWindow;
}

export interface StampCutterOptions {
  /** Images kept open (least recently used closed first); default 16. */
  readonly openFiles?: number;
  /** Where formatted headers are kept; default a cache of this cutter's own (not SODA's module-wide one). */
  readonly headerCache?: HeaderCache;
  /**
   * How long an image's size and mtime are trusted before they are looked at again (a file
   * changed on disk is then opened afresh), ms; default 1000: a stat per stamp costs ~20 µs.
   */
  readonly statEveryMs?: number;
}

/**
 * Cuts stamps, keeping images open and their headers formatted between stamps. One per worker
 * (it is synchronous and not shared across threads); close() releases the files.
 */
export class StampCutter {
  private readonly files: LruCache<string, OpenImage>;
  readonly headerCache: HeaderCache;
  /** Reused for rows of a padded stamp that must be spread out. */
  private scratch = Buffer.alloc(0);
  /** Each source's version (size, mtime), looked at once per statEveryMs: the key of its open file. */
  private readonly versions: FileVersions;
  /** Plane rectangles copied from rows read ahead (readRows) rather than read from the file. */
  rowsAheadUsed = 0;

  constructor(options: StampCutterOptions = {}) {
    this.files = new LruCache<string, OpenImage>(options.openFiles ?? 16, (image) => image.file.close());
    this.headerCache = options.headerCache ?? new HeaderCache();
    this.versions = new FileVersions(options.statEveryMs ?? 1000);
  }

  /** Times an image had to be opened (cache misses); a job's stamps of one image open it once. */
  get filesOpened(): number {
    return this.files.misses;
  }

  /** What the stamp of `box` would hold and its exact size, without reading pixels. */
  plan(source: string, box: PixelBox, options: StampOptions): StampPlan {
    const { shape, bytes } = this.layoutOf(source, box, options);
    return { ...shape, bytes };
  }

  /**
   * The stamp's file laid out, without its pixels: its image and planes, its shape, their
   * header layouts, its primary header (with the provenance), the size of each plane's HDU
   * (header and padded data, in order) and of the whole file.
   */
  private layoutOf(source: string, box: PixelBox, options: StampOptions) {
    const image = this.open(source);
    const planes = this.planesOf(image, options.planes);
    const shape = stampShape(planes[0]!, box, options);
    const layouts = this.layoutsOf(image);
    const primary = layouts.primaryHeader(provenanceCards(options.provenance, planes, shape, options.edge));
    const hduBytes = planes.map(
      (p) => (p.headerBytes ??= headerBytesOf(layouts, p)) + padToBlock(shape.box.nx * shape.box.ny * p.bytesPerPixel),
    );
    return { image, planes, shape, layouts, primary, hduBytes, bytes: hduBytes.reduce((sum, n) => sum + n, primary.length) };
  }

  /**
   * The stamp of `box` from the FITS file at `source` (an absolute path). Throws StampError
   * (no_coverage, too_large), FitsError for a file without a plane asked for or a plane that
   * cannot be padded, and any I/O error.
   */
  cut(source: string, box: PixelBox, options: StampOptions): Stamp {
    const { image, planes, shape, layouts, primary, hduBytes, bytes } = this.layoutOf(source, box, options);
    const { overlap, partial } = shape;
    const rect = toRect(overlap);
    // The stamp is laid out in one piece of memory of its final size: each plane's HDU in place.
    const out = options.allocate?.(bytes) ?? Buffer.allocUnsafe(bytes);
    let at = primary.copy(out, 0);
    // The planes' pixels as stored in the stamp, kept for its picture.
    const stored = options.picture ? new Map<Plane, Uint8Array>() : undefined;
    for (const [k, p] of planes.entries()) {
      const { data } = layouts.cutHdu(p.hdu.index, toRect(shape.box), out.subarray(at, at + hduBytes[k]!));
      at += hduBytes[k]!;
      if (!partial || options.edge === 'clip') {
        this.readRect(image, p, rect, data);
      } else {
        p.fill ??= fillPixel(image.file, p);
        data.fill(p.fill);
        const bpp = p.bytesPerPixel;
        const rowBytes = shape.box.nx * bpp;
        const runBytes = overlap.nx * bpp;
        const start = (overlap.y0 - shape.box.y0) * rowBytes + (overlap.x0 - shape.box.x0) * bpp;
        if (overlap.nx === shape.box.nx) {
          // Whole rows of the stamp: they are contiguous in it too.
          this.readRect(image, p, rect, data.subarray(start, start + runBytes * overlap.ny));
        } else {
          if (this.scratch.length < runBytes * overlap.ny) this.scratch = Buffer.allocUnsafe(runBytes * overlap.ny);
          const rows = this.readRect(image, p, rect, this.scratch);
          for (let r = 0; r < overlap.ny; r++) data.set(rows.subarray(r * runBytes, (r + 1) * runBytes), start + r * rowBytes);
        }
      }
      stored?.set(p.plane, data);
    }
    const stamp: Stamp = { ...shape, bytes: out.length, data: out, crc32: crc32(out) };
    const picture = stored && picturePlane(image, shape.box, stored);
    return picture ? { ...stamp, picture } : stamp;
  }

  /** Closes every open image. The cutter can be used again (images are reopened). */
  close(): void {
    this.files.clear();
  }

  /** The image, open; a file changed on disk (size or mtime) is opened afresh. */
  /**
   * Reads whole rows y0 … y1 − 1 (clipped to the image) of `planes` of the image at `source`
   * ahead, in one positioned read per plane (or a few for large spans): the stamps cut next
   * from those rows copy them from memory instead of reading each of their rows from the file.
   * A bulk part cuts its stamps of one image in pixel-row order, so each row is read once.
   * Replaces the image's earlier rows; `releaseRows` frees them.
   */
  readRows(source: string, planes: readonly Plane[], y0: number, y1: number): void {
    const image = this.open(source);
    const wanted = this.planesOf(image, planes);
    const height = wanted[0]!.height;
    const from = Math.max(0, y0);
    const to = Math.min(height, y1);
    image.window = undefined;
    if (to <= from) return;
    image.window = new RowWindow(
      image.file,
      wanted.map((p) => p.hdu.index),
      from,
      to,
    );
  }

  /**
   * The stored bytes of `rect` of a plane into `into`: copied from the rows read ahead when they
   * hold it (StampCutter.readRows), else read from the file (FitsFile.readRectBytes: its rows together when they are close).
   */
  private readRect(image: OpenImage, p: PlaneHdu, rect: Rect, into: Uint8Array): Uint8Array {
    const copied = image.window?.copyRect(p.hdu.index, rect, into);
    if (!copied) return image.file.readRectBytes(p.hdu.index, rect, into);
    this.rowsAheadUsed++;
    return copied;
  }

  /** Bytes of one whole row of each of `planes` of the image at `source`, or undefined when it cannot be read as stamps need. */
  rowBytes(source: string, planes: readonly Plane[]): number[] | undefined {
    try {
      return this.planesOf(this.open(source), planes).map((p) => p.width * p.bytesPerPixel);
    } catch {
      return undefined; // each stamp then says why (StampCutter.cut)
    }
  }

  private layoutsOf(image: OpenImage): ReturnType<typeof cutLayouts> {
    return (image.layouts ??= cutLayouts(image.file, this.headerCache));
  }

  /** Frees the rows read ahead for every image. */
  releaseRows(): void {
    for (const image of this.files.values()) image.window = undefined;
  }

  /** The image, open; a file changed on disk (size or mtime, looked at once a second) is opened afresh. */
  private open(source: string): OpenImage {
    // Not a regular file: opening it says why (missing, a directory, …).
    const key = this.versions.key(source) ?? source;
    return this.files.getOrCreate(key, () => ({ file: openFitsSync(source), planes: new Map() }));
  }

  /** The planes asked for, in PLANES order, each a 2-D image of one size. */
  private planesOf(image: OpenImage, wanted: readonly Plane[]): PlaneHdu[] {
    const planes = PLANES.filter((plane) => wanted.includes(plane)).map((plane) => planeHdu(image, plane));
    if (planes.length === 0) throw new RangeError('a stamp needs at least one plane');
    const [first] = planes;
    for (const p of planes) {
      if (p.width !== first!.width || p.height !== first!.height) {
        throw new FitsError(
          `${image.file.name}: the ${p.plane} plane is ${p.width}x${p.height}, the ${first!.plane} plane ${first!.width}x${first!.height}; stamps need one pixel grid`,
        );
      }
    }
    return planes;
  }
}

/**
 * The stamp's IMAGE plane as shared/preview draws it (see Stamp.picture), from the planes' stored
 * bytes in the stamp (big-endian, the source's BITPIX and scaling: a stamp's HDUs keep them), or
 * undefined without an IMAGE plane. The NO_DATA bits are those of the source's MASK header,
 * which the stamp's MASK header copies.
 */
function picturePlane(image: OpenImage, box: PixelBox, stored: ReadonlyMap<Plane, Uint8Array>): PicturePlane | undefined {
  const imageBytes = stored.get('IMAGE');
  if (!imageBytes) return undefined;
  const hdus = (image.pictureHdus ??= planeHdus(image.file, { extname: 'IMAGE' }));
  const rect = { x0: 0, y0: 0, width: box.nx, height: box.ny };
  // decodeBigEndian swaps bytes in place: a copy of the stamp's, which stay as written.
  const raw = (hdu: HduInfo, bytes: Uint8Array) => {
    const { bitpix, scaling } = image.file.imageLayout(hdu);
    return { ...rect, bitpix, scaling, data: decodeBigEndian(new Uint8Array(bytes).buffer, bitpix) };
  };
  const values = toPhysical(raw(hdus.image, imageBytes));
  const maskBytes = stored.get('MASK');
  const masked = hdus.mask && maskBytes ? maskedPixels(raw(hdus.mask.hdu, maskBytes), hdus.mask.bits) : null;
  return masked ? { width: box.nx, height: box.ny, data: values, masked } : { width: box.nx, height: box.ny, data: values };
}

function planeHdu(image: OpenImage, plane: Plane): PlaneHdu {
  let found = image.planes.get(plane);
  if (found) return found;
  const hdu = image.file.findHdu(plane);
  if (!hdu) throw new FitsError(`${image.file.name} has no ${plane} plane (an IMAGE extension with EXTNAME = '${plane}')`);
  // imageLayout checks it is a readable 2-D image (not a table, not tile-compressed, not a cube).
  const layout = image.file.imageLayout(hdu);
  found = { plane, hdu, width: layout.width, height: layout.height, bytesPerPixel: layout.bytesPerPixel };
  image.planes.set(plane, found);
  return found;
}

function checkBox(box: PixelBox): void {
  const { x0, y0, nx, ny } = box;
  if (![x0, y0, nx, ny].every(Number.isSafeInteger) || nx < 1 || ny < 1) {
    throw new RangeError(`a stamp box needs integer x0, y0 and positive integer nx, ny, not ${JSON.stringify(box)}`);
  }
}

/** The part of `box` on a width × height image, or null. */
export function boxOverlap(box: PixelBox, width: number, height: number): PixelBox | null {
  checkBox(box);
  const x0 = Math.max(0, box.x0);
  const y0 = Math.max(0, box.y0);
  const x1 = Math.min(width, box.x0 + box.nx);
  const y1 = Math.min(height, box.y0 + box.ny);
  return x1 > x0 && y1 > y0 ? { x0, y0, nx: x1 - x0, ny: y1 - y0 } : null;
}

function stampShape(
  plane: PlaneHdu,
  box: PixelBox,
  options: Pick<StampOptions, 'planes' | 'edge' | 'maxPixels'>,
): Omit<StampPlan, 'bytes'> {
  const overlap = boxOverlap(box, plane.width, plane.height);
  if (!overlap) {
    throw new StampError(
      'no_coverage',
      `the box x ${box.x0}..${box.x0 + box.nx - 1}, y ${box.y0}..${box.y0 + box.ny - 1} misses the ${plane.width}x${plane.height} image`,
    );
  }
  const partial = overlap.nx !== box.nx || overlap.ny !== box.ny;
  const out = options.edge === 'pad' ? box : overlap;
  const planes = PLANES.filter((p) => options.planes.includes(p)).length;
  const pixels = out.nx * out.ny * planes;
  const limit = options.maxPixels ?? DEFAULT_MAX_CUTOUT_PIXELS;
  if (pixels > limit)
    throw new StampError(
      'too_large',
      `the stamp would hold ${pixels} pixels (${out.nx}x${out.ny} x ${planes} planes); the limit is ${limit}`,
    );
  return { box: { x0: out.x0, y0: out.y0, nx: out.nx, ny: out.ny }, overlap, partial };
}

function toRect(box: PixelBox): Rect {
  return { x0: box.x0, y0: box.y0, width: box.nx, height: box.ny };
}

function headerBytesOf(layouts: ReturnType<typeof cutLayouts>, plane: PlaneHdu): number {
  const { bytes, data } = layouts.cutHdu(plane.hdu.index, { x0: 0, y0: 0, width: 1, height: 1 });
  return bytes.length - padToBlock(data.length);
}

function range(start: number, length: number): string {
  return `${start}..${start + length - 1}`;
}

/** The provenance cards of the primary header (see the top of this file). */
function provenanceCards(p: StampProvenance, planes: readonly PlaneHdu[], shape: Omit<StampPlan, 'bytes'>, edge: 'clip' | 'pad'): Card[] {
  // Cards made directly, not through Header.set: this runs once per stamp, and the setter's
  // keyword lookups and checks were a tenth of a stamp's cost. formatCard still checks them.
  const cards: Card[] = [
    { keyword: 'BULK_ID', type: 'string', value: asciiText(p.id), comment: 'id of the row of the positions table' },
    { keyword: 'BULK_ROW', type: 'integer', value: p.row, comment: '1-based row of the positions table' },
  ];
  // A row without a usable position is never cut; the check keeps a non-finite value out.
  if (Number.isFinite(p.ra)) cards.push({ keyword: 'BULK_RA', type: 'float', value: p.ra, comment: '[deg] requested position, ICRS' });
  if (Number.isFinite(p.dec)) cards.push({ keyword: 'BULK_DEC', type: 'float', value: p.dec, comment: '[deg] requested position, ICRS' });
  cards.push(
    { keyword: 'BULK_BND', type: 'string', value: asciiText(p.band), comment: 'band' },
    { keyword: 'BULK_SRC', type: 'string', value: asciiText(p.did), comment: 'obs_publisher_did of the image cut' },
  );
  const { box, partial } = shape;
  const how = !partial ? 'inside the image' : edge === 'pad' ? 'padded beyond the image' : 'clipped to the image';
  cards.push({ keyword: 'HISTORY', type: 'commentary', value: `bulk stamp, EDGE=${edge}: ${how}` });
  for (const plane of planes) {
    const name = plane.hdu.extname ? ` (${plane.hdu.extname})` : '';
    cards.push({
      keyword: 'HISTORY',
      type: 'commentary',
      value: `bulk stamp of HDU ${plane.hdu.index}${name}: x ${range(box.x0, box.nx)}, y ${range(box.y0, box.ny)} of ${plane.width}x${plane.height} (0-based)`,
    });
  }
  return cards;
}

const INTEGER_RANGE: Readonly<Record<8 | 16 | 32 | 64, readonly [bigint, bigint]>> = {
  8: [0n, 255n], // §5.2.1: BITPIX 8 is unsigned
  16: [-(2n ** 15n), 2n ** 15n - 1n],
  32: [-(2n ** 31n), 2n ** 31n - 1n],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** One stored value, big-endian (§5.2). */
function storedPixel(bitpix: Bitpix, value: bigint | number): Buffer {
  const out = Buffer.alloc(Math.abs(bitpix) / 8);
  switch (bitpix) {
    case 8:
      out.writeUInt8(Number(value));
      break;
    case 16:
      out.writeInt16BE(Number(value));
      break;
    case 32:
      out.writeInt32BE(Number(value));
      break;
    case 64:
      out.writeBigInt64BE(BigInt(value));
      break;
    case -32:
      out.writeFloatBE(Number(value));
      break;
    case -64:
      out.writeDoubleBE(Number(value));
      break;
  }
  return out;
}

/**
 * The stored value that pads a plane beyond the image: NaN for floating point (§5.3: NaN is the
 * undefined value there, whatever BZERO/BSCALE say); for the integer MASK the NO_DATA bit, as
 * the stored value whose physical value (BZERO + BSCALE × stored, §4.4.2.5) has that bit; for
 * other integer planes BLANK (§4.4.2.5: stored BLANK is undefined).
 */
function fillPixel(file: FitsFile, plane: PlaneHdu): Buffer {
  const layout = file.imageLayout(plane.hdu);
  const { bitpix } = layout;
  if (bitpix < 0) return storedPixel(bitpix, NaN);
  const bits = bitpix as 8 | 16 | 32 | 64;
  const [min, max] = INTEGER_RANGE[bits];
  const label = `${file.name} ${plane.plane} plane (BITPIX ${bitpix})`;
  if (plane.plane !== 'MASK') {
    if (layout.scaling.blank === null)
      throw new FitsError(`${label} has no BLANK: pixels beyond the image cannot be padded (use EDGE=clip)`);
    return storedPixel(bitpix, BigInt(layout.scaling.blank));
  }
  const card = plane.hdu.header.getCard('MP_NO_DATA');
  const bit = card === undefined ? DEFAULT_NO_DATA_BIT : card.type === 'integer' || card.type === 'float' ? Number(card.value) : NaN;
  if (!(Number.isInteger(bit) && bit >= 0 && bit < bits)) {
    throw new FitsError(`${label}: MP_NO_DATA = ${Number.isNaN(bit) ? `a ${card?.type} value` : bit} is not a bit of the mask`);
  }
  const { bzero, bscale } = layout.scaling;
  let stored: bigint;
  if (bzero === 0 && bscale === 1) {
    // The bit itself, also the sign bit: masks are bit fields, whatever sign the integer has.
    stored = bits === 8 ? BigInt.asUintN(8, 1n << BigInt(bit)) : BigInt.asIntN(bits, 1n << BigInt(bit));
  } else {
    // Unsigned masks (BZERO = 2^(BITPIX−1), §5.2.5): stored = physical − BZERO.
    const value = (2 ** bit - bzero) / bscale;
    if (!Number.isSafeInteger(value))
      throw new FitsError(`${label}: the NO_DATA value ${2 ** bit} has no stored value with BZERO ${bzero}, BSCALE ${bscale}`);
    stored = BigInt(value);
  }
  if (stored < min || stored > max) throw new FitsError(`${label}: the NO_DATA value ${2 ** bit} does not fit`);
  return storedPixel(bitpix, stored);
}

/** The cutter behind the functions below: one per process (worker thread). */
const shared = new StampCutter();

/** The stamp's FITS bytes (StampCutter.cut with a module-wide cutter). */
export function cutStamp(source: string, box: PixelBox, options: StampOptions): Buffer {
  return shared.cut(source, box, options).data;
}

/** The stamp with its box, overlap, size and CRC-32 (StampCutter.cut with a module-wide cutter). */
export function cutStampWithInfo(source: string, box: PixelBox, options: StampOptions): Stamp {
  return shared.cut(source, box, options);
}

/** The stamp's box and overlap without cutting it (for DRYRUN manifests); `bytes` its exact size. */
export function planStamp(source: string, box: PixelBox, options: StampOptions): StampPlan {
  return shared.plan(source, box, options);
}

/** Exact size in bytes of the stamp cutStamp would make: header blocks plus data blocks. */
export function stampBytes(source: string, box: PixelBox, options: StampOptions): number {
  return shared.plan(source, box, options).bytes;
}

/** Closes the images the module-wide cutter keeps open. */
export function closeStampFiles(): void {
  shared.close();
}
