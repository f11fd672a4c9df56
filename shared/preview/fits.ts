/**
 * Pictures of FITS files: the image plane to draw, and Rubin's MASK plane for transparency.
 * The only I/O of shared/preview (reads through shared/fits).
 */
import {
  type Bitpix,
  type FitsFile,
  FitsError,
  type HduInfo,
  type PhysicalPixels,
  type PixelScaling,
  type RawPixels,
  type RawRect,
  type Rect,
  openFits,
  openFitsBuffer,
  toPhysical,
} from '../fits';
import { BlockAverager, downsampleFactor } from './downsample';
import { renderPreview } from './render';
import type { DisplayOptions, Plane, PreviewFormat } from './types';

export interface FitsPlaneOptions {
  /** EXTNAME of the HDU to draw (e.g. 'IMAGE'); default the first image HDU that has data. */
  readonly extname?: string;
  /**
   * Mask planes whose pixels are drawn as having no data (transparent), by name: the bits come
   * from the MASK HDU's MP_<name> keywords (Rubin's convention, e.g. MP_NO_DATA = 8). Default
   * ['NO_DATA']: pixels outside the exposure. Other planes (DETECTED, SAT, EDGE, …) mark data
   * worth seeing and stay drawn. A plane without its keyword is ignored.
   */
  readonly maskPlanes?: readonly string[];
  /**
   * A rectangle of the image (and of its mask) instead of the whole: a cutout's pixels read
   * straight from its source file, with no FITS written and parsed again in between.
   */
  readonly rect?: Rect;
}

export const DEFAULT_TRANSPARENT_MASK_PLANES: readonly string[] = ['NO_DATA'];

/** What planeOfFits reads: the image HDU, and the MASK HDU with the bits that hide pixels. */
export interface PlaneHdus {
  readonly image: HduInfo;
  readonly mask: { readonly hdu: HduInfo; readonly bits: number } | null;
}

function hasData(hdu: HduInfo): boolean {
  return hdu.kind === 'image' && hdu.axes.length > 0 && hdu.axes.every((n) => n > 0);
}

/**
 * The HDU to draw (options.extname, else the first image HDU with data, e.g. a Rubin file's
 * IMAGE after its empty primary) and, when the file has an integer image HDU with EXTNAME
 * MASK of the same size that defines some of the requested planes, that MASK.
 */
export function planeHdus(file: FitsFile, options: FitsPlaneOptions = {}): PlaneHdus {
  let image: HduInfo | undefined;
  if (options.extname !== undefined) {
    image = file.hdu(options.extname);
    if (!hasData(image)) throw new FitsError(`${file.name}: HDU ${image.index} (${options.extname}) has no image data`);
  } else {
    image = file.hdus.find(hasData);
    if (!image) throw new FitsError(`${file.name} has no image HDU with data`);
  }
  const maskHdu = file.findHdu('MASK');
  if (!maskHdu || maskHdu === image || !hasData(maskHdu) || maskHdu.bitpix < 0) return { image, mask: null };
  if (maskHdu.axes[0] !== image.axes[0] || (maskHdu.axes[1] ?? 1) !== (image.axes[1] ?? 1)) return { image, mask: null };
  let bits = 0;
  for (const plane of options.maskPlanes ?? DEFAULT_TRANSPARENT_MASK_PLANES) {
    const bit = maskHdu.header.getInteger(`MP_${plane.toUpperCase()}`);
    if (bit !== undefined && bit >= 0 && bit < 32) bits |= 1 << bit;
  }
  return { image, mask: bits === 0 ? null : { hdu: maskHdu, bits: bits >>> 0 } };
}

/**
 * Marks in `out` (1, else 0) the pixels whose mask value (physical: BZERO + BSCALE × stored)
 * has any of `bits` set; BLANK mask values mark nothing. Returns whether any pixel is marked.
 */
function markMasked(data: RawPixels, scaling: PixelScaling, bits: number, out: Uint8Array): boolean {
  const { bzero, bscale, blank } = scaling;
  const n = data.length;
  let any = false;
  if (data instanceof BigInt64Array) {
    out.fill(0, 0, n);
    // 64-bit masks: only the low 32 bits can hold the planes asked for (bits < 32).
    if (!Number.isInteger(bzero) || bscale !== 1) return false;
    const blankBig = blank === null ? null : BigInt(blank);
    const offset = BigInt(bzero);
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v !== blankBig && (Number(BigInt.asUintN(32, offset + v)) & bits) !== 0) {
        out[i] = 1;
        any = true;
      }
    }
    return any;
  }
  const blankNum = blank === null ? null : Number(blank);
  const plain = bzero === 0 && bscale === 1;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    const hit = v !== blankNum && ((plain ? v : bzero + bscale * v) >>> 0) & bits;
    out[i] = hit ? 1 : 0;
    if (hit) any = true;
  }
  return any;
}

/** The bytes marking the pixels of a MASK read that have any of `bits` set, or null when none does. */
export function maskedPixels(raw: RawRect, bits: number): Uint8Array | null {
  const out = new Uint8Array(raw.data.length);
  return markMasked(raw.data, raw.scaling, bits, out) ? out : null;
}

function wholeRect(hdu: HduInfo): Rect {
  return { x0: 0, y0: 0, width: hdu.axes[0]!, height: hdu.axes[1] ?? 1 };
}

/**
 * Physical values of a raw read. Unscaled floating-point data are their own physical values
 * (§5.3: no BLANK for floats) and are used as read: toPhysical would copy them, which for a
 * 4k × 4k image costs another 64 MiB of fresh memory and its copy.
 */
function physicalOf(raw: RawRect): PhysicalPixels {
  const { data, scaling } = raw;
  if ((data instanceof Float32Array || data instanceof Float64Array) && scaling.bzero === 0 && scaling.bscale === 1) return data;
  return toPhysical(raw);
}

function planeOf(hdus: PlaneHdus, data: PhysicalPixels, mask: RawRect | null, rect: Rect): Plane {
  const masked = mask && hdus.mask ? maskedPixels(mask, hdus.mask.bits) : null;
  return masked ? { width: rect.width, height: rect.height, data, masked } : { width: rect.width, height: rect.height, data };
}

/**
 * The plane to draw from FITS bytes or an open file (synchronous reads): physical values
 * (BZERO/BSCALE applied, BLANK → NaN; float32 for unscaled BITPIX −32, float64 otherwise),
 * row 0 = FITS row 1, with `masked` from the MASK HDU when it marks any pixel (see
 * planeHdus). Throws FitsError when there is no image to draw (no image HDU with data, a
 * table, a tile-compressed image, a cube).
 */
export function planeOfFits(source: Uint8Array | FitsFile, options: FitsPlaneOptions = {}): Plane {
  const file = source instanceof Uint8Array ? openFitsBuffer(source) : source;
  try {
    const hdus = planeHdus(file, options);
    const rect = options.rect ?? wholeRect(hdus.image);
    const data = physicalOf(file.readRawRect(hdus.image, rect));
    const mask = hdus.mask ? file.readRawRect(hdus.mask.hdu, rect) : null;
    return planeOf(hdus, data, mask, rect);
  } finally {
    if (source instanceof Uint8Array) file.close();
  }
}

/** planeOfFits of a file on disk, with asynchronous reads. */
export async function planeOfFitsFile(path: string, options: FitsPlaneOptions = {}): Promise<Plane> {
  const file = await openFits(path);
  try {
    const hdus = planeHdus(file, options);
    const rect = options.rect ?? wholeRect(hdus.image);
    const data = physicalOf(await file.readRawRectAsync(hdus.image, rect));
    const mask = hdus.mask ? await file.readRawRectAsync(hdus.mask.hdu, rect) : null;
    return planeOf(hdus, data, mask, rect);
  } finally {
    file.close();
  }
}

/** Bytes read per strip by downsampledPlaneOfFits: small enough to stay in the CPU's caches. */
const STRIP_BYTES = 1 << 20;

/** Stored big-endian values at the start of `bytes`, swapped in place and viewed as their type. */
function decodeStrip(bytes: Uint8Array, bitpix: Bitpix): RawPixels {
  const { buffer, byteOffset, byteLength } = bytes;
  const b = Buffer.from(buffer, byteOffset, byteLength);
  if (LITTLE_ENDIAN) {
    if (bitpix === 16) b.swap16();
    else if (bitpix === 32 || bitpix === -32) b.swap32();
    else if (bitpix === 64 || bitpix === -64) b.swap64();
  }
  const n = byteLength / (Math.abs(bitpix) / 8);
  switch (bitpix) {
    case 8:
      return new Uint8Array(buffer, byteOffset, n);
    case 16:
      return new Int16Array(buffer, byteOffset, n);
    case 32:
      return new Int32Array(buffer, byteOffset, n);
    case 64:
      return new BigInt64Array(buffer, byteOffset, n);
    case -32:
      return new Float32Array(buffer, byteOffset, n);
    case -64:
      return new Float64Array(buffer, byteOffset, n);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Physical values of stored ones (BZERO + BSCALE × v, BLANK → NaN) into `out`. */
function physicalInto(data: RawPixels, scaling: PixelScaling, out: Float64Array): Float64Array {
  const { bzero, bscale, blank } = scaling;
  const n = data.length;
  if (data instanceof BigInt64Array) {
    const blankBig = blank === null ? null : BigInt(blank);
    for (let i = 0; i < n; i++) out[i] = data[i] === blankBig ? NaN : bzero + bscale * Number(data[i]!);
  } else {
    const blankNum = blank === null ? null : Number(blank);
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      out[i] = v === blankNum ? NaN : bzero + bscale * v;
    }
  }
  return out.subarray(0, n);
}

/**
 * The image block-averaged to at most maxSide pixels a side (as downsample(planeOfFits(…),
 * maxSide) gives, to the last bit), read in strips of about 1 MiB with synchronous reads into
 * one reused buffer: the whole image is never held (a 4k × 4k float32 image needs 64 MiB
 * otherwise, and fresh memory costs a page fault per 4 KiB), and each strip is swapped,
 * scaled, masked and averaged while it is in the CPU's caches. When the image already fits
 * (factor 1) this is planeOfFits. `stripBytes`: the strip size aimed at (tests use small ones).
 */
export function downsampledPlaneOfFits(file: FitsFile, maxSide: number, options: FitsPlaneOptions = {}, stripBytes = STRIP_BYTES): Plane {
  const hdus = planeHdus(file, options);
  const layout = file.imageLayout(hdus.image);
  const { width, height, bitpix, scaling } = layout;
  const f = downsampleFactor(width, height, maxSide);
  if (f === 1) return planeOfFits(file, options);
  const rowBytes = width * layout.bytesPerPixel;
  const rowsPerStrip = f * Math.max(1, Math.floor(stripBytes / (f * rowBytes)));
  const strip = new Uint8Array(rowsPerStrip * rowBytes);
  const plain = bitpix < 0 && scaling.bzero === 0 && scaling.bscale === 1;
  const physical = plain ? null : new Float64Array(rowsPerStrip * width);
  const mask = hdus.mask;
  const maskLayout = mask ? file.imageLayout(mask.hdu) : null;
  const maskStrip = maskLayout ? new Uint8Array(rowsPerStrip * width * maskLayout.bytesPerPixel) : null;
  const masked = mask ? new Uint8Array(rowsPerStrip * width) : null;
  const averager = new BlockAverager(width, height, f);
  for (let y0 = 0; y0 < height; y0 += rowsPerStrip) {
    const rows = Math.min(rowsPerStrip, height - y0);
    const rect = { x0: 0, y0, width, height: rows };
    const raw = decodeStrip(file.readRectBytes(hdus.image, rect, strip), bitpix);
    const data = physical ? physicalInto(raw, scaling, physical) : (raw as Float32Array | Float64Array);
    let stripMask: Uint8Array | undefined;
    if (mask && maskLayout && maskStrip && masked) {
      const bits = decodeStrip(file.readRectBytes(mask.hdu, rect, maskStrip), maskLayout.bitpix);
      if (markMasked(bits, maskLayout.scaling, mask.bits, masked)) stripMask = masked.subarray(0, rows * width);
    }
    averager.addRows(data, rows, stripMask);
  }
  return averager.result();
}

/**
 * A picture of a FITS file (a path, or the file's bytes): the first image HDU with data (or
 * planeOptions.extname), pixels flagged NO_DATA in its MASK transparent, drawn with
 * renderPreview. With options.maxSide the image is read strip by strip and averaged on the
 * way (downsampledPlaneOfFits); otherwise it is read whole (asynchronously for a path).
 * For result and stamp thumbnails and DataLink #preview.
 */
export async function previewOfFits(
  source: string | Buffer,
  options: DisplayOptions,
  format: PreviewFormat,
  planeOptions: FitsPlaneOptions = {},
): Promise<Buffer> {
  let plane: Plane;
  if (options.maxSide === undefined) {
    plane = typeof source === 'string' ? await planeOfFitsFile(source, planeOptions) : planeOfFits(source, planeOptions);
  } else {
    const file = typeof source === 'string' ? await openFits(source) : openFitsBuffer(source);
    try {
      plane = downsampledPlaneOfFits(file, options.maxSide, planeOptions);
    } finally {
      file.close();
    }
  }
  return renderPreview(plane, options, format);
}
