/**
 * Many HDUs cut from one image share its header but for a few numbers (NAXISn, CRPIXn,
 * LTVn): the header is formatted once, and per HDU only those cards are rewritten in place
 * (every card is 80 bytes, §4.1.1, so the header keeps its length). Formatting ~150 cards
 * per cutout otherwise costs more than reading the pixels.
 */
import { FitsError } from './errors';
import { formatCard, formatFloat, formatValueToken, type Card, type Header } from './header';
import type { RawPixels } from './image';
import { prepareImageHdu, swapToBigEndian } from './writer';

const CARD = 80;
const BLOCK = 2880;
/** A fixed-format value ends in column 30 (§4.2.3 for integers, §4.2.4 for floats). */
const VALUE_START = 10;
const VALUE_WIDTH = 20;

interface Slot {
  offset: number;
  card: Card;
  /**
   * The card is laid out in fixed format (value in columns 11–30, any comment after): a new
   * value of at most 20 characters rewrites those columns only, the same bytes formatCard
   * would give for the whole card.
   */
  fixed: boolean;
}

export class ImageHduTemplate {
  private constructor(
    private readonly header: Buffer,
    private readonly slots: ReadonlyMap<string, Slot>,
    readonly primary: boolean,
    /** |BITPIX| / 8 of the data. */
    readonly bytesPerPixel: number,
  ) {}

  /**
   * A template for HDUs with `header`'s cards and data of `sample`'s type. `variable` names
   * the keywords each HDU sets (NAXIS1/NAXIS2 always are); absent ones are added with 0 first.
   */
  static create(
    header: Header,
    sample: RawPixels,
    variable: readonly string[],
    options: { primary?: boolean; extend?: boolean } = {},
  ): ImageHduTemplate {
    const copy = header.clone();
    for (const keyword of variable) if (!copy.has(keyword)) copy.set(keyword, 0);
    const prepared = prepareImageHdu(
      { header: copy, data: sample, shape: [sample.length, 1] },
      { primary: options.primary ?? false, extend: options.extend },
    );
    const bytes = prepared.header.toBuffer();
    const slots = new Map<string, Slot>();
    for (const keyword of ['NAXIS1', 'NAXIS2', ...variable]) {
      const card = prepared.header.getCard(keyword);
      if (!card || (card.type !== 'integer' && card.type !== 'float')) throw new FitsError(`template keyword ${keyword} is not numeric`);
      for (let offset = 0; offset < bytes.length; offset += CARD) {
        if (bytes.toString('latin1', offset, offset + 8).trimEnd() === keyword) {
          slots.set(keyword, { offset, card, fixed: !card.hierarch && formatValueToken(card).length <= VALUE_WIDTH });
          break;
        }
      }
      if (!slots.has(keyword)) throw new FitsError(`template keyword ${keyword} not found`);
    }
    return new ImageHduTemplate(bytes, slots, options.primary ?? false, sample.BYTES_PER_ELEMENT);
  }

  /** Bytes of the header (a multiple of 2880), the same for every HDU of this template. */
  get headerBytes(): number {
    return this.header.length;
  }

  /**
   * The whole HDU (after `prefix` if given) with its header written and its data area left for
   * the caller to fill with big-endian bytes (e.g. FitsFile.readRectBytes straight from the
   * source file); the padding after the data is zeroed. Written into `into` when given (memory
   * of exactly the HDU's size, e.g. a result pack's: ResultPack.reserve), else a new Buffer.
   */
  layout(
    values: Readonly<Record<string, number>>,
    shape: readonly [number, number],
    prefix?: Buffer,
    into?: Buffer,
  ): { bytes: Buffer; data: Buffer } {
    const start = prefix?.length ?? 0;
    const dataBytes = shape[0] * shape[1] * this.bytesPerPixel;
    const size = start + this.header.length + Math.ceil(dataBytes / BLOCK) * BLOCK;
    if (into && into.length !== size) throw new RangeError(`an HDU of ${size} bytes laid out into ${into.length}`);
    const out = into ?? Buffer.allocUnsafe(size);
    if (prefix) prefix.copy(out, 0);
    this.header.copy(out, start);
    for (const keyword in values) this.writeValue(out, start, keyword, values[keyword]!);
    this.writeValue(out, start, 'NAXIS1', shape[0]);
    this.writeValue(out, start, 'NAXIS2', shape[1]);
    const dataStart = start + this.header.length;
    out.fill(0, dataStart + dataBytes); // data padding is zeros (§3.3.2)
    return { bytes: out, data: out.subarray(dataStart, dataStart + dataBytes) };
  }

  /** Card `keyword` of the header at `start` in `out` rewritten with `value` (its value field only when it fits there). */
  private writeValue(out: Buffer, start: number, keyword: string, value: number): void {
    const slot = this.slots.get(keyword);
    if (!slot) throw new FitsError(`keyword ${keyword} is not variable in this template`);
    const integer = slot.card.type === 'integer' && Number.isInteger(value);
    if (slot.fixed && (!integer || Number.isSafeInteger(value))) {
      const token = integer ? String(value) : formatFloat(value);
      if (token.length <= VALUE_WIDTH) {
        out.write(token.padStart(VALUE_WIDTH), start + slot.offset + VALUE_START, VALUE_WIDTH, 'latin1');
        return;
      }
    }
    const card: Card = { ...slot.card, type: integer ? 'integer' : 'float', value };
    const lines = formatCard(card);
    if (lines.length !== 1) throw new FitsError(`${keyword} = ${value} does not fit one card`);
    out.write(lines[0]!, start + slot.offset, CARD, 'latin1');
  }

  /** Bytes of the header (with these values) and of `data` (native values), padded; after `prefix` if given. */
  render(values: Readonly<Record<string, number>>, data: RawPixels, shape: readonly [number, number], prefix?: Buffer): Buffer {
    if (data.length !== shape[0] * shape[1]) throw new FitsError(`data of ${data.length} values for a ${shape[0]}×${shape[1]} image`);
    if (data.BYTES_PER_ELEMENT !== this.bytesPerPixel)
      throw new FitsError(`data of ${data.BYTES_PER_ELEMENT}-byte values for a ${this.bytesPerPixel}-byte image`);
    const { bytes, data: region } = this.layout(values, shape, prefix);
    region.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    swapToBigEndian(region, data.BYTES_PER_ELEMENT);
    return bytes;
  }
}
