/**
 * FITS header cards: parsing 80-character keyword records, an ordered Header with typed
 * accessors, and fixed-format writing (Definition of the FITS Standard 4.0, §4). Pure: no I/O.
 *
 * Cards keep their order and their value type (1 and 1.0 stay an integer and a float) so that
 * a header read and written back carries the same cards with the same values.
 */
import { FitsError } from './errors';

/** §3.1: every header and data unit is a sequence of 2880-byte blocks. */
export const BLOCK_SIZE = 2880;
/** §4.1.1: a header is a sequence of 80-character keyword records. */
export const CARD_LENGTH = 80;

export interface FitsComplex {
  readonly re: number;
  readonly im: number;
}

interface CardBase {
  /** Upper-case standard keyword (may be '' for a blank commentary card), or the HIERARCH
   *  name without its prefix, e.g. 'ESO DET CHIP'. */
  readonly keyword: string;
  readonly comment?: string;
  /** Written as `HIERARCH <keyword> = value` (ESO HIERARCH convention). */
  readonly hierarch?: boolean;
}

/** One logical card. A long string read from a keyword plus CONTINUE records is one card. */
export type Card =
  | (CardBase & { readonly type: 'string'; readonly value: string })
  | (CardBase & { readonly type: 'logical'; readonly value: boolean })
  /** number when it is a safe integer, bigint beyond 2^53 (§4.2.3 sets no size limit). */
  | (CardBase & { readonly type: 'integer'; readonly value: number | bigint })
  | (CardBase & { readonly type: 'float'; readonly value: number })
  | (CardBase & { readonly type: 'complex'; readonly value: FitsComplex })
  /** §4.1.2.3: a value indicator followed by a blank value field: the value is undefined. */
  | (CardBase & { readonly type: 'undefined'; readonly value: null })
  /** COMMENT, HISTORY, blank keyword, or any keyword without a value indicator (§4.4.2.4). */
  | (CardBase & { readonly type: 'commentary'; readonly value: string })
  /** A value field that is none of the §4.2 forms (e.g. an unquoted date): kept verbatim. */
  | (CardBase & { readonly type: 'unparsed'; readonly value: string });

export type CardType = Card['type'];
export type CardValue = Card['value'];

/** What the setters accept. null writes a keyword with an undefined value. */
export type SettableValue = string | boolean | number | bigint | FitsComplex | null;

export interface SetOptions {
  /** Force the numeric form; by default a safe integer is written as an integer unless the
   *  card being replaced is a float, so `set('CRPIX1', 100)` keeps CRPIX1 a float. */
  numberType?: 'integer' | 'float';
}

const COMMENTARY_KEYWORDS = new Set(['COMMENT', 'HISTORY', '']);
/** §4.1.2.1: keyword names are up to 8 of A-Z, 0-9, hyphen and underscore. */
const STANDARD_KEYWORD = /^[A-Z0-9_-]{0,8}$/;
/** §4.1.1: header text is restricted to ASCII 32-126. */
const ASCII_TEXT = /^[\x20-\x7e]*$/;

// ---------------------------------------------------------------------------------------------
// Keywords

export interface NormalizedKeyword {
  keyword: string;
  hierarch: boolean;
}

/**
 * Standard keywords are upper-cased; anything longer than 8 characters or containing spaces or
 * other characters becomes a HIERARCH keyword. `HIERARCH ESO DET CHIP` and `ESO DET CHIP` name
 * the same keyword.
 */
export function normalizeKeyword(key: string): NormalizedKeyword {
  const trimmed = key.trim();
  const prefixed = /^HIERARCH\s+(.+)$/i.exec(trimmed);
  if (prefixed) return { keyword: checkHierarch(prefixed[1]!, key), hierarch: true };
  const upper = trimmed.toUpperCase();
  if (STANDARD_KEYWORD.test(upper)) return { keyword: upper, hierarch: false };
  return { keyword: checkHierarch(trimmed, key), hierarch: true };
}

function checkHierarch(name: string, original: string): string {
  const collapsed = name.trim().replace(/\s+/g, ' ');
  if (!/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/.test(collapsed) || collapsed.includes('=')) {
    throw new FitsError(`invalid FITS keyword ${JSON.stringify(original)}`);
  }
  return collapsed;
}

/** Keys compare case-insensitively (HIERARCH names are case-preserving but not distinct). */
function lookupKey(keyword: string): string {
  return keyword.toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// Parsing

const INTEGER_TOKEN = /^[+-]?\d+$/;
/** §4.2.4: a decimal point and/or an exponent introduced by E or D. */
const FLOAT_TOKEN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EDed][+-]?\d+)?$/;
const NUMBER_PART = '[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[EDed][+-]?\\d+)?';
const COMPLEX_TOKEN = new RegExp(`^\\(\\s*(${NUMBER_PART})\\s*,\\s*(${NUMBER_PART})\\s*\\)$`);

function parseFloatToken(token: string): number {
  return Number(token.replace(/[Dd]/, 'E'));
}

function parseIntegerToken(token: string): number | bigint {
  const n = Number(token);
  return Number.isSafeInteger(n) ? n : BigInt(token);
}

function parseComment(text: string): string | undefined {
  const c = text.trim();
  return c === '' ? undefined : c;
}

/**
 * Parses the value/comment field (everything after the value indicator) of one record.
 * §4.1.2.3: a string value is delimited by single quotes with '' standing for one quote; any
 * other value ends at the first '/', after which comes the comment.
 */
function parseValueField(keyword: string, hierarch: boolean, field: string): Card {
  const base = hierarch ? { keyword, hierarch: true } : { keyword };
  let i = 0;
  while (i < field.length && field[i] === ' ') i++;
  if (field[i] === "'") {
    let value = '';
    let j = i + 1;
    let end = field.length;
    for (;;) {
      const q = field.indexOf("'", j);
      if (q < 0) {
        // Unterminated string: keep what is there rather than reject the whole header.
        value += field.slice(j);
        break;
      }
      if (field[q + 1] === "'") {
        value += field.slice(j, q) + "'";
        j = q + 2;
        continue;
      }
      value += field.slice(j, q);
      end = q + 1;
      break;
    }
    const rest = field.slice(end);
    const slash = rest.indexOf('/');
    const comment = slash >= 0 ? parseComment(rest.slice(slash + 1)) : undefined;
    // §4.2.1.1: trailing spaces in a string value are not significant; leading ones are.
    return withComment({ ...base, type: 'string', value: value.trimEnd() }, comment);
  }
  const slash = field.indexOf('/', i);
  const token = (slash >= 0 ? field.slice(i, slash) : field.slice(i)).trim();
  const comment = slash >= 0 ? parseComment(field.slice(slash + 1)) : undefined;
  return withComment(classifyToken(base, token), comment);
}

function classifyToken(base: CardBase, token: string): Card {
  if (token === '') return { ...base, type: 'undefined', value: null };
  if (token === 'T' || token === 'F') return { ...base, type: 'logical', value: token === 'T' };
  if (INTEGER_TOKEN.test(token)) return { ...base, type: 'integer', value: parseIntegerToken(token) };
  if (FLOAT_TOKEN.test(token)) return { ...base, type: 'float', value: parseFloatToken(token) };
  const complex = COMPLEX_TOKEN.exec(token);
  if (complex) {
    return {
      ...base,
      type: 'complex',
      value: { re: parseFloatToken(complex[1]!), im: parseFloatToken(complex[2]!) },
    };
  }
  return { ...base, type: 'unparsed', value: token };
}

function withComment(card: Card, comment: string | undefined): Card {
  return comment === undefined ? card : { ...card, comment };
}

type ParsedRecord = { kind: 'card'; card: Card } | { kind: 'continue'; value: string; comment?: string } | { kind: 'end' };

/** Parses a single 80-character record (shorter input is treated as space-padded). */
function parseRecord(image: string): ParsedRecord {
  const kw = image.slice(0, 8).trim().toUpperCase();
  if (kw === 'END' && image.slice(8).trim() === '') return { kind: 'end' };
  if (kw === 'HIERARCH') {
    // ESO HIERARCH convention: `HIERARCH A B C = value / comment`, the '=' anywhere after col 9.
    const rest = image.slice(8);
    const eq = rest.indexOf('=');
    const name = eq > 0 ? rest.slice(0, eq).trim().replace(/\s+/g, ' ') : '';
    if (name !== '' && !name.includes("'")) {
      return { kind: 'card', card: parseValueField(name, true, rest.slice(eq + 1)) };
    }
    return { kind: 'card', card: { keyword: kw, type: 'commentary', value: rest.trimEnd() } };
  }
  if (kw === 'CONTINUE' && image.slice(8, 10) !== '= ') {
    // §4.2.1.2: CONTINUE, two spaces, then a string value (and optional comment) in cols 11-80.
    const field = image.slice(8);
    const parsed = parseValueField(kw, false, field);
    if (parsed.type === 'string') {
      return { kind: 'continue', value: parsed.value, ...(parsed.comment ? { comment: parsed.comment } : {}) };
    }
    return { kind: 'card', card: { keyword: kw, type: 'commentary', value: field.trimEnd() } };
  }
  // §4.1.2.2: "= " in columns 9-10 marks a value, except for the commentary keywords whose
  // columns 9-80 are free text (§4.4.2.4). A missing space after '=' is tolerated on input.
  if (image[8] === '=' && !COMMENTARY_KEYWORDS.has(kw)) {
    return { kind: 'card', card: parseValueField(kw, false, image.slice(9)) };
  }
  return { kind: 'card', card: { keyword: kw, type: 'commentary', value: image.slice(8).trimEnd() } };
}

/**
 * Parses the records of a header up to (not including) END. Long strings (§4.2.1.2): a string
 * value whose last non-space character is '&' followed by CONTINUE records is one value; the
 * comments of all its records are joined with single spaces.
 */
export function parseCards(images: readonly string[]): Card[] {
  const cards: Card[] = [];
  const records = images.map(parseRecord);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec.kind === 'end') break;
    if (rec.kind === 'continue') {
      // A CONTINUE that continues nothing: keep it as text so nothing is lost.
      const text = images[i]!.slice(8).trimEnd();
      cards.push({ keyword: 'CONTINUE', type: 'commentary', value: text });
      continue;
    }
    const card = rec.card;
    if (card.type !== 'string' || !card.value.endsWith('&') || records[i + 1]?.kind !== 'continue') {
      cards.push(card);
      continue;
    }
    let value = card.value.slice(0, -1);
    const comments = card.comment ? [card.comment] : [];
    while (i + 1 < records.length) {
      const next = records[i + 1]!;
      if (next.kind !== 'continue') break;
      i++;
      if (next.comment) comments.push(next.comment);
      if (next.value.endsWith('&') && records[i + 1]?.kind === 'continue') {
        value += next.value.slice(0, -1);
      } else {
        value += next.value;
        break;
      }
    }
    // As for a single record, trailing spaces of the whole value are not significant.
    const merged: Card = {
      keyword: card.keyword,
      type: 'string',
      value: value.trimEnd(),
      ...(card.hierarch ? { hierarch: true } : {}),
    };
    cards.push(withComment(merged, comments.length ? comments.join(' ') : undefined));
  }
  return cards;
}

/** Splits header text into 80-character records. */
export function splitRecords(text: string): string[] {
  const images: string[] = [];
  for (let i = 0; i < text.length; i += CARD_LENGTH) images.push(text.slice(i, i + CARD_LENGTH));
  return images;
}

/**
 * Index (in records) of the END record in header text, or -1 when there is none yet.
 * Only column 1-8 = 'END' is required, which also accepts END records followed by junk.
 */
export function findEndRecord(text: string, fromRecord = 0): number {
  for (let r = fromRecord; r * CARD_LENGTH < text.length; r++) {
    if (text.startsWith('END     ', r * CARD_LENGTH)) return r;
  }
  return -1;
}

/** Decodes header bytes as text. latin1 keeps one character per byte (§4.1.1 is ASCII). */
export function headerText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// Formatting

/**
 * The shortest decimal that parses back to exactly the same double (ECMAScript guarantees this
 * for Number#toExponential() without an argument), written as a FITS real (§4.2.4): always with
 * a '.', and with an E exponent outside 1e-4 <= |x| < 1e16 (the same switch as Python's repr).
 */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x)) {
    throw new FitsError(`${x} cannot be written as a FITS header value (§4.2.4 has no NaN or infinity)`);
  }
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    // The same shortest round-trip digits as toExponential(), already positional in this
    // range (ECMA-262 Number::toString uses an exponent below 1e-6 and from 1e21 only).
    const text = String(x);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const expPart = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${expPart}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits.padEnd(intLen, '0')}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** The value token of a non-string card, exactly as written in the value field. */
export function formatValueToken(card: Card): string {
  switch (card.type) {
    case 'logical':
      return card.value ? 'T' : 'F';
    case 'integer':
      if (typeof card.value === 'number' && !Number.isSafeInteger(card.value)) {
        if (!Number.isInteger(card.value)) throw new FitsError(`${card.keyword}: ${card.value} is not an integer`);
        return BigInt(card.value).toString(); // String(1e21) would be '1e+21', a float
      }
      return String(card.value);
    case 'float':
      return formatFloat(card.value);
    case 'complex':
      return `(${formatFloat(card.value.re)}, ${formatFloat(card.value.im)})`;
    case 'undefined':
      return '';
    case 'unparsed':
      return card.value;
    case 'string':
      return `'${card.value.replace(/'/g, "''").padEnd(8)}'`;
    case 'commentary':
      throw new FitsError(`commentary card ${card.keyword} has no value token`);
  }
}

/** §4.2.1.2 long strings: room for the quoted text on a record, minus the closing quote. */
const CONTINUE_PREFIX = 'CONTINUE  ';
/** Comment pieces of a long string go on `CONTINUE  '&' / ...` records (as astropy does). */
const COMMENT_PIECE = CARD_LENGTH - `${CONTINUE_PREFIX}'&' / `.length;

function valuePrefix(card: Card): string {
  return card.hierarch ? `HIERARCH ${card.keyword} = ` : `${card.keyword.padEnd(8)}= `;
}

function checkAscii(images: string[], card: Card): string[] {
  for (const image of images) {
    if (!ASCII_TEXT.test(image)) {
      throw new FitsError(`card ${JSON.stringify(card.keyword)} contains characters outside ASCII 32-126 (§4.1.1)`);
    }
  }
  return images;
}

/** Appends " / comment", cutting the comment at column 80 (non-string values cannot continue). */
function appendComment(head: string, comment: string | undefined): string {
  if (!comment) return head.padEnd(CARD_LENGTH);
  return `${head} / ${comment}`.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

/**
 * Formats one card as one or more 80-character records in fixed format (§4.2): strings open
 * in column 11 and are padded to at least 8 characters inside the quotes, other values end in
 * column 30. Strings that do not fit, or whose comment would not fit, use CONTINUE records.
 * Comments of non-string values are cut at column 80.
 */
export function formatCard(card: Card): string[] {
  if (card.type === 'commentary') return checkAscii(formatCommentary(card.keyword, card.value), card);
  if (card.type === 'string') return checkAscii(formatStringCard(card), card);
  const token = formatValueToken(card);
  const head = card.hierarch ? `${valuePrefix(card)}${token}` : `${valuePrefix(card)}${token.padStart(20)}`;
  if (head.length > CARD_LENGTH) {
    throw new FitsError(`value of ${card.keyword} does not fit on an 80-character card`);
  }
  return checkAscii([appendComment(head, card.comment)], card);
}

function formatCommentary(keyword: string, text: string): string[] {
  if (keyword.length > 8) throw new FitsError(`commentary keyword ${JSON.stringify(keyword)} is longer than 8 characters`);
  // §4.4.2.4: columns 9-80 hold the text; longer text is spread over several cards.
  const kw = keyword.padEnd(8);
  if (text.length <= CARD_LENGTH - 8) return [(kw + text).padEnd(CARD_LENGTH)];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += CARD_LENGTH - 8) {
    out.push((kw + text.slice(i, i + CARD_LENGTH - 8)).padEnd(CARD_LENGTH));
  }
  return out;
}

function formatStringCard(card: Card & { type: 'string' }): string[] {
  const prefix = valuePrefix(card);
  const quoted = `'${card.value.replace(/'/g, "''").padEnd(8)}'`;
  const single = card.hierarch ? prefix + quoted : (prefix + quoted).padEnd(card.comment ? 30 : 0);
  if (single.length <= CARD_LENGTH && (!card.comment || single.length + 3 + card.comment.length <= CARD_LENGTH)) {
    return [appendComment(single, card.comment)];
  }
  // Long string (§4.2.1.2): split the unescaped text so a doubled quote is never cut in two;
  // every piece but the last ends in '&'.
  const chunks = splitForContinue(card.value, CARD_LENGTH - prefix.length - 3, CARD_LENGTH - CONTINUE_PREFIX.length - 3);
  const images = chunks.map((chunk, k) => `${k === 0 ? prefix : CONTINUE_PREFIX}'${chunk}&'`);
  const lastChunk = chunks[chunks.length - 1]!;
  const lastPlain = `${chunks.length === 1 ? prefix : CONTINUE_PREFIX}'${lastChunk}'`;
  const comment = card.comment;
  if (!comment || lastPlain.length + 3 + comment.length <= CARD_LENGTH) {
    images[images.length - 1] = appendComment(lastPlain, comment);
    return images.map((s) => s.padEnd(CARD_LENGTH));
  }
  const pieces = splitComment(comment, COMMENT_PIECE);
  pieces.forEach((piece, k) => {
    images.push(`${CONTINUE_PREFIX}'${k === pieces.length - 1 ? '' : '&'}' / ${piece}`);
  });
  return images.map((s) => s.padEnd(CARD_LENGTH));
}

/** Splits text into escaped chunks of at most firstRoom / room escaped characters. */
function splitForContinue(value: string, firstRoom: number, room: number): string[] {
  if (firstRoom < 1) throw new FitsError(`HIERARCH keyword too long for a string value`);
  const chunks: string[] = [];
  let current = '';
  let limit = firstRoom;
  for (const ch of value) {
    const esc = ch === "'" ? "''" : ch;
    if (current.length + esc.length > limit) {
      chunks.push(current);
      current = '';
      limit = room;
    }
    current += esc;
  }
  chunks.push(current);
  return chunks;
}

/** Splits a comment at spaces so that re-joining the pieces with one space restores it. */
function splitComment(comment: string, room: number): string[] {
  const pieces: string[] = [];
  let rest = comment;
  while (rest.length > room) {
    let cut = rest.lastIndexOf(' ', room);
    if (cut <= 0) cut = room; // one word longer than a record: cut it (a space is re-inserted)
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  pieces.push(rest);
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Header

function numberCardType(value: number, existing: Card | undefined, opts: SetOptions | undefined): 'integer' | 'float' {
  if (opts?.numberType) return opts.numberType;
  if (existing?.type === 'float') return 'float';
  return Number.isSafeInteger(value) && !Object.is(value, -0) ? 'integer' : 'float';
}

function describeType(card: Card): string {
  return card.type === 'undefined' ? 'undefined' : `a ${card.type}`;
}

/** An ordered list of cards (without END) with typed getters and replace-or-append setters. */
export class Header {
  private readonly list: Card[];

  constructor(cards: Iterable<Card> = []) {
    this.list = [...cards];
  }

  /** Parses header text or bytes up to END (which is required). */
  static parse(input: string | Uint8Array): Header {
    const text = typeof input === 'string' ? input : headerText(input);
    const end = findEndRecord(text);
    if (end < 0) throw new FitsError('header has no END card');
    return new Header(parseCards(splitRecords(text.slice(0, end * CARD_LENGTH))));
  }

  get cards(): readonly Card[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  clone(): Header {
    return new Header(this.list);
  }

  /** Index of the first card with this keyword, or -1. */
  indexOf(key: string): number {
    const want = lookupKey(normalizeKeyword(key).keyword);
    return this.list.findIndex((c) => lookupKey(c.keyword) === want);
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  getCard(key: string): Card | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.list[i];
  }

  /** The value of the first card with this keyword; null for an undefined value. */
  get(key: string): CardValue | undefined {
    return this.getCard(key)?.value;
  }

  getString(key: string): string | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type !== 'string') throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not a string`);
    return card.value;
  }

  /** Integer or float value as a number (integers beyond 2^53 are rounded). */
  getNumber(key: string): number | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type === 'integer' || card.type === 'float') return Number(card.value);
    throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not a number`);
  }

  /** An integer value that is a safe JavaScript integer (structural keywords, for instance). */
  getInteger(key: string): number | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type === 'integer' && typeof card.value === 'number') return card.value;
    if (card.type === 'integer') throw new FitsError(`keyword ${card.keyword} = ${card.value} exceeds 2^53`);
    throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not an integer`);
  }

  /** Any integer value, exactly. */
  getBigInt(key: string): bigint | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type === 'integer') return BigInt(card.value);
    throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not an integer`);
  }

  getBoolean(key: string): boolean | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type !== 'logical') throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not a logical`);
    return card.value;
  }

  getComplex(key: string): FitsComplex | undefined {
    const card = this.getCard(key);
    if (!card || card.type === 'undefined') return undefined;
    if (card.type !== 'complex') throw new FitsError(`keyword ${card.keyword} is ${describeType(card)}, not complex`);
    return card.value;
  }

  /** Texts of all COMMENT cards, in order. */
  comments(): string[] {
    return this.list.flatMap((c) => (c.keyword === 'COMMENT' && c.type === 'commentary' ? [c.value] : []));
  }

  /** Texts of all HISTORY cards, in order. */
  history(): string[] {
    return this.list.flatMap((c) => (c.keyword === 'HISTORY' && c.type === 'commentary' ? [c.value] : []));
  }

  /**
   * Replaces the value of the first card with this keyword (keeping its position, and its
   * comment unless one is given) or appends a new card. COMMENT/HISTORY/blank always append.
   */
  set(key: string, value: SettableValue, comment?: string, opts?: SetOptions): this {
    const { keyword, hierarch } = normalizeKeyword(key);
    if (COMMENTARY_KEYWORDS.has(keyword) && !hierarch) {
      if (typeof value !== 'string') throw new FitsError(`${keyword || 'blank keyword'} cards hold text only`);
      return this.append({ keyword, type: 'commentary', value });
    }
    const index = this.indexOf(key);
    const existing = index >= 0 ? this.list[index] : undefined;
    const base: CardBase = {
      keyword,
      ...(hierarch ? { hierarch: true } : {}),
      ...(comment !== undefined ? (comment ? { comment } : {}) : existing?.comment ? { comment: existing.comment } : {}),
    };
    const card = makeCard(base, value, existing, opts);
    if (index >= 0) this.list[index] = card;
    else this.list.push(card);
    return this;
  }

  /** Replaces the first card with the same keyword, or appends it. */
  setCard(card: Card): this {
    const i = this.indexOf(card.hierarch ? `HIERARCH ${card.keyword}` : card.keyword);
    if (i >= 0 && card.type !== 'commentary') this.list[i] = card;
    else this.list.push(card);
    return this;
  }

  /** Appends a card unconditionally (duplicates allowed, as for COMMENT/HISTORY). */
  append(card: Card): this {
    this.list.push(card);
    return this;
  }

  /** Inserts a card before position `index`. */
  insert(index: number, card: Card): this {
    this.list.splice(index, 0, card);
    return this;
  }

  addComment(text: string): this {
    return this.append({ keyword: 'COMMENT', type: 'commentary', value: text });
  }

  addHistory(text: string): this {
    return this.append({ keyword: 'HISTORY', type: 'commentary', value: text });
  }

  /** Removes every card with this keyword; returns how many were removed. */
  delete(key: string): number {
    const want = lookupKey(normalizeKeyword(key).keyword);
    let removed = 0;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (lookupKey(this.list[i]!.keyword) === want) {
        this.list.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** All records including END, as text padded with spaces to whole 2880-byte blocks (§4.4.1). */
  format(): string {
    const images: string[] = [];
    for (const card of this.list) images.push(...formatCard(card));
    images.push('END'.padEnd(CARD_LENGTH));
    const text = images.join('');
    const padded = Math.ceil(text.length / BLOCK_SIZE) * BLOCK_SIZE;
    return text.padEnd(padded, ' ');
  }

  /** format() as bytes. */
  toBuffer(): Buffer {
    return Buffer.from(this.format(), 'latin1');
  }
}

function makeCard(base: CardBase, value: SettableValue, existing: Card | undefined, opts: SetOptions | undefined): Card {
  if (value === null) return { ...base, type: 'undefined', value: null };
  if (typeof value === 'string') return { ...base, type: 'string', value };
  if (typeof value === 'boolean') return { ...base, type: 'logical', value };
  if (typeof value === 'bigint') {
    if (opts?.numberType === 'float') return { ...base, type: 'float', value: Number(value) };
    return { ...base, type: 'integer', value: Number.isSafeInteger(Number(value)) ? Number(value) : value };
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FitsError(`${base.keyword}: ${value} cannot be written in a FITS header`);
    if (numberCardType(value, existing, opts) === 'float') return { ...base, type: 'float', value };
    if (!Number.isInteger(value)) throw new FitsError(`${base.keyword}: ${value} is not an integer`);
    return { ...base, type: 'integer', value: Number.isSafeInteger(value) ? value : BigInt(value) };
  }
  if (!Number.isFinite(value.re) || !Number.isFinite(value.im)) {
    throw new FitsError(`${base.keyword}: complex parts must be finite`);
  }
  return { ...base, type: 'complex', value: { re: value.re, im: value.im } };
}

/** A keyword → scalar value lookup, the form keyword consumers (e.g. the WCS parser) read. */
export interface ScalarLookup {
  get(keyword: string): string | number | boolean | undefined;
}

/**
 * Scalar values looked up through `headers` in turn (an image HDU's, then the primary's, as
 * Rubin files inherit keywords). Integers beyond 2^53 become (rounded) numbers; complex and
 * undefined values are absent.
 */
export function scalarLookup(...headers: readonly Header[]): ScalarLookup {
  return {
    get(keyword: string) {
      for (const header of headers) {
        const value = header.get(keyword);
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
        if (typeof value === 'bigint') return Number(value);
      }
      return undefined;
    },
  };
}
