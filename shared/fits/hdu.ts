/**
 * Locating the header-data units of a FITS file: header and data offsets and sizes from the
 * mandatory keywords (§4.4.1, §7), so that any HDU can be reached without reading the others'
 * data. Pure apart from the read plan, which io.ts runs against a file or buffer.
 */
import { FitsError, hduLabel } from './errors';
import { BLOCK_SIZE, CARD_LENGTH, Header, findEndRecord, headerText, parseCards, splitRecords } from './header';
import type { ReadPlan } from './io';

/**
 * image: primary array or IMAGE extension; compressed-image: a BINTABLE with ZIMAGE = T (§10
 * tiled image compression, not decoded here); random-groups: §6 primary; other: any other
 * conforming extension (its size is still known, §7).
 */
export type HduKind = 'image' | 'compressed-image' | 'bintable' | 'table' | 'random-groups' | 'other';

export interface HduInfo {
  /** 0 is the primary HDU. */
  readonly index: number;
  readonly header: Header;
  readonly kind: HduKind;
  /** XTENSION value (trimmed), null for the primary HDU. */
  readonly xtension: string | null;
  /** EXTNAME (trimmed) or null. */
  readonly extname: string | null;
  readonly extver: number | null;
  readonly bitpix: number;
  /** NAXIS1..NAXISn; NAXIS1 varies fastest. */
  readonly axes: readonly number[];
  readonly pcount: number;
  readonly gcount: number;
  /** Byte offset of the first header record. */
  readonly headerOffset: number;
  /** Header length in bytes including padding to a whole block. */
  readonly headerSize: number;
  /** Byte offset of the data (a block boundary). */
  readonly dataOffset: number;
  /** Data length in bytes without padding (§4.4.1.1, §7.1 formulae). */
  readonly dataSize: number;
  /** dataSize rounded up to whole 2880-byte blocks. */
  readonly paddedDataSize: number;
}

export type HduSelector = number | string | { readonly extname: string; readonly extver?: number };

export interface DataLayout {
  bitpix: number;
  axes: number[];
  pcount: number;
  gcount: number;
  dataSize: number;
}

const VALID_BITPIX = new Set([8, 16, 32, 64, -32, -64]);

export function padToBlock(n: number): number {
  return Math.ceil(n / BLOCK_SIZE) * BLOCK_SIZE;
}

/**
 * Structural keywords → data size. §4.4.1.1 (primary): |BITPIX| × NAXIS1 × … × NAXISm bits.
 * §7.1 (extensions): |BITPIX| × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISm). §6 random groups:
 * as extensions but without the NAXIS1 = 0 factor. NAXIS = 0 means no array (PCOUNT may still
 * describe a heap, as astropy also assumes).
 */
export function dataLayout(header: Header, primary: boolean, label: string): DataLayout {
  const need = (key: string): number => {
    const v = header.getInteger(key);
    if (v === undefined) throw new FitsError(`${label}: mandatory keyword ${key} is missing (§4.4.1)`);
    return v;
  };
  const bitpix = need('BITPIX');
  if (!VALID_BITPIX.has(bitpix)) throw new FitsError(`${label}: BITPIX = ${bitpix} is not one of 8, 16, 32, 64, -32, -64`);
  const naxis = need('NAXIS');
  if (naxis < 0 || naxis > 999) throw new FitsError(`${label}: NAXIS = ${naxis} is outside 0..999`);
  const axes: number[] = [];
  for (let n = 1; n <= naxis; n++) {
    const len = need(`NAXIS${n}`);
    if (len < 0) throw new FitsError(`${label}: NAXIS${n} = ${len} is negative`);
    axes.push(len);
  }
  // PCOUNT/GCOUNT are mandatory in extensions (§7); tolerate their absence with the defaults.
  const pcount = header.getInteger('PCOUNT') ?? 0;
  const gcount = header.getInteger('GCOUNT') ?? 1;
  if (pcount < 0 || gcount < 0) throw new FitsError(`${label}: negative PCOUNT or GCOUNT`);
  const groups = primary && naxis > 0 && axes[0] === 0 && header.get('GROUPS') === true;
  let elements = 0;
  if (naxis > 0) {
    elements = 1;
    for (const len of groups ? axes.slice(1) : axes) elements *= len;
  }
  const withGroups = primary && !groups ? elements : gcount * (pcount + elements);
  const dataSize = (Math.abs(bitpix) / 8) * withGroups;
  if (!Number.isSafeInteger(dataSize)) throw new FitsError(`${label}: data size overflows`);
  return { bitpix, axes, pcount: primary && !groups ? 0 : pcount, gcount: primary && !groups ? 1 : gcount, dataSize };
}

function classify(header: Header, xtension: string | null, axes: readonly number[]): HduKind {
  if (xtension === null) {
    return axes.length > 0 && axes[0] === 0 && header.get('GROUPS') === true ? 'random-groups' : 'image';
  }
  switch (xtension.toUpperCase()) {
    case 'IMAGE':
    case 'IUEIMAGE': // pre-standard name of IMAGE, same layout (§7.1 note)
      return 'image';
    case 'BINTABLE':
      return header.get('ZIMAGE') === true ? 'compressed-image' : 'bintable';
    case 'TABLE':
      return 'table';
    default:
      return 'other';
  }
}

/** Headers are read this many blocks at a time at first, doubling for very long headers. */
const FIRST_HEADER_READ = 4 * BLOCK_SIZE;
const MAX_HEADER_READ = 64 * BLOCK_SIZE;

/**
 * Walks the file from the start: header (until END), then data skipped by its computed size.
 * Anything after the last HDU that does not start with an XTENSION record (zero padding left
 * by some writers, for instance) is ignored, as §3.5 special records allow.
 */
export function* scanHdus(fileName: string, fileSize: number): ReadPlan<HduInfo[]> {
  const hdus: HduInfo[] = [];
  let offset = 0;
  while (offset < fileSize) {
    const index = hdus.length;
    const primary = index === 0;
    let text = '';
    let endRecord = -1;
    let readSize = FIRST_HEADER_READ;
    while (endRecord < 0) {
      const pos = offset + text.length;
      if (pos >= fileSize) {
        throw new FitsError(`${hduLabel(fileName, index)}: header has no END record before the end of the file`);
      }
      const chunk = new Uint8Array(Math.min(readSize, fileSize - pos));
      yield [{ position: pos, target: chunk }];
      const searchFrom = Math.floor(text.length / CARD_LENGTH);
      text += headerText(chunk);
      if (searchFrom === 0) {
        // §3.3.1 / §3.4.1: the first record must be SIMPLE (primary) or XTENSION (extension).
        if (primary && !text.startsWith('SIMPLE  =')) throw new FitsError(`${fileName} is not a FITS file (no SIMPLE card)`);
        if (!primary && !text.startsWith('XTENSION=')) return hdus;
      }
      endRecord = findEndRecord(text, searchFrom);
      readSize = Math.min(readSize * 2, MAX_HEADER_READ);
    }
    const header = new Header(parseCards(splitRecords(text.slice(0, endRecord * CARD_LENGTH))));
    const headerSize = padToBlock((endRecord + 1) * CARD_LENGTH);
    const xtension = primary ? null : (header.getString('XTENSION') ?? '').trim();
    const extname = extnameOf(header);
    const label = hduLabel(fileName, index, extname);
    const layout = dataLayout(header, primary, label);
    const dataOffset = offset + headerSize;
    if (dataOffset + layout.dataSize > fileSize) {
      throw new FitsError(
        `${label}: data of ${layout.dataSize} bytes at offset ${dataOffset} extends beyond the end of the file (${fileSize} bytes); the file is truncated`,
      );
    }
    const extverCard = header.getCard('EXTVER');
    hdus.push({
      index,
      header,
      kind: classify(header, xtension, layout.axes),
      xtension,
      extname,
      extver: extverCard?.type === 'integer' ? Number(extverCard.value) : null,
      bitpix: layout.bitpix,
      axes: layout.axes,
      pcount: layout.pcount,
      gcount: layout.gcount,
      headerOffset: offset,
      headerSize,
      dataOffset,
      dataSize: layout.dataSize,
      paddedDataSize: padToBlock(layout.dataSize),
    });
    offset = dataOffset + padToBlock(layout.dataSize);
  }
  return hdus;
}

function extnameOf(header: Header): string | null {
  const card = header.getCard('EXTNAME');
  if (!card || card.type !== 'string') return null;
  const name = card.value.trim();
  return name === '' ? null : name;
}

/** Finds an HDU by index, by EXTNAME (case-insensitive), or by EXTNAME and EXTVER. */
export function findHdu(hdus: readonly HduInfo[], selector: HduSelector): HduInfo | undefined {
  if (typeof selector === 'number') return Number.isInteger(selector) ? hdus[selector] : undefined;
  const name = (typeof selector === 'string' ? selector : selector.extname).trim().toUpperCase();
  const extver = typeof selector === 'string' ? undefined : selector.extver;
  return hdus.find((h) => h.extname?.toUpperCase() === name && (extver === undefined || (h.extver ?? 1) === extver));
}

/** findHdu that throws a FitsError naming the file when there is no such HDU. */
export function getHdu(hdus: readonly HduInfo[], selector: HduSelector, fileName: string): HduInfo {
  const hdu = findHdu(hdus, selector);
  if (hdu) return hdu;
  const what =
    typeof selector === 'number'
      ? `HDU ${selector} (it has ${hdus.length})`
      : typeof selector === 'string'
        ? `HDU with EXTNAME ${JSON.stringify(selector)}`
        : `HDU with EXTNAME ${JSON.stringify(selector.extname)}${selector.extver !== undefined ? ` and EXTVER ${selector.extver}` : ''}`;
  throw new FitsError(`${fileName} has no ${what}`);
}
