/**
 * FIELD declarations of an uploaded VOTable turned into column readers: the FieldDef the
 * service publishes for the column, and how one cell decodes from TABLEDATA text (VOTable 1.4
 * §5.1) or from BINARY/BINARY2 bytes (§5.3, §5.4), following the representations of §6.
 *
 * Cells become the values the rest of the service uses (`Cell`): booleans, numbers (`long`
 * beyond 2^53 as bigint), strings; arrays of numbers or booleans become their DALI text,
 * space-separated values (DALI 1.1 §3.3), which is also valid TABLEDATA for the same FIELD.
 */
import { floatText } from './cells';
import { quoted, VotableReadError } from './read-errors';
import type { Cell, FieldDef, VotableDatatype } from './types';

/** A FIELD as written in the document: its attributes and the parts of its content used here. */
export interface FieldDeclaration {
  attributes: ReadonlyMap<string, string>;
  description?: string;
  /** VALUES `null` (VOTable 1.4 §4.7): the magic value that marks a null cell. */
  nullValue?: string;
}

/** Bytes of a BINARY/BINARY2 stream, consumed cell by cell. */
export class ByteReader {
  pos = 0;

  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Claims the next `n` bytes and returns where they start. */
  take(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.length) throw new VotableReadError('the data stream ends in the middle of the row (truncated or corrupt data)');
    this.pos = at + n;
    return at;
  }

  /** The 4-byte element count in front of a variable-length array (§5.3). */
  count(): number {
    return this.bytes.readUInt32BE(this.take(4));
  }
}

export interface Column {
  readonly field: FieldDef;
  /** TABLEDATA: the cell from the text of its TD (empty for `<TD/>`). */
  fromText(text: string): Cell;
  /**
   * BINARY2 (`inBandNulls` false) or BINARY (true: with no null flags, VOTable 1.4 §5.5 null
   * conventions apply: NaN, empty strings and empty arrays are null).
   */
  fromBytes(input: ByteReader, inBandNulls: boolean): Cell;
  /** Steps over a cell flagged null in BINARY2 without decoding it (its bytes may be anything). */
  skipBytes(input: ByteReader): void;
}

type Element = number | bigint | boolean | null;

/** One VOTable primitive (§6) as a scalar or an array element. */
interface Primitive {
  /** Bytes in BINARY; bit arrays are packed and handled apart. */
  readonly bytes: number;
  /** A trimmed, non-empty TABLEDATA token. */
  readonly parse: (token: string) => Element;
  readonly read: (bytes: Buffer, at: number) => Element;
  /** An array element in DALI text (a function property: primitives share them). */
  readonly format: (value: Element) => string;
}

/** `a short`, `an int`. */
function withArticle(datatype: string): string {
  return `${/^[aeiou]/.test(datatype) ? 'an' : 'a'} ${datatype}`;
}

function notA(datatype: string, token: string): VotableReadError {
  return new VotableReadError(`${quoted(token)} is not ${withArticle(datatype)}`);
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;
const HEX_INTEGER = /^0[xX][0-9a-fA-F]+$/;

/**
 * §6: integers are decimal with an optional sign, or `0x` and at most width/4 hex digits,
 * which give the two's-complement bit pattern (so `0xFFFF` is a short -1).
 */
function integer(datatype: string, bits: 8 | 16 | 32, signed: boolean, read: (bytes: Buffer, at: number) => number): Primitive {
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return {
    bytes: bits / 8,
    parse(token) {
      if (DECIMAL_INTEGER.test(token)) {
        const value = Number(token);
        if (value < min || value > max) throw new VotableReadError(`${quoted(token)} is out of range for ${withArticle(datatype)}`);
        return value + 0; // -0 → 0
      }
      if (HEX_INTEGER.test(token) && token.length - 2 <= bits / 4) {
        const pattern = Number.parseInt(token.slice(2), 16);
        return signed && pattern > max ? pattern - 2 ** bits : pattern;
      }
      throw notA(datatype, token);
    },
    read,
    format: String,
  };
}

const TWO_32 = 2 ** 32;

/** `long`: a number when it is exact as one, a bigint beyond 2^53. */
function longValue(value: bigint): number | bigint {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
}

const LONG: Primitive = {
  bytes: 8,
  parse(token) {
    if (DECIMAL_INTEGER.test(token)) {
      // Up to 15 digits a double is exact; only longer values need BigInt.
      if (token.length <= 15) return Number(token) + 0;
      const value = BigInt(token);
      if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new VotableReadError(`${quoted(token)} is out of range for a long`);
      return longValue(value);
    }
    if (HEX_INTEGER.test(token) && token.length - 2 <= 16) return longValue(BigInt.asIntN(64, BigInt(token)));
    throw notA('long', token);
  },
  read(bytes, at) {
    const high = bytes.readInt32BE(at);
    // |high| < 2^21: the value fits in 53 bits, so the halves combine exactly without BigInt.
    if (high >= -0x200000 && high < 0x200000) return high * TWO_32 + bytes.readUInt32BE(at + 4);
    return longValue(bytes.readBigInt64BE(at));
  },
  format: String,
};

/** §6 names NaN, +Inf and -Inf; writers vary in case and spelling (astropy writes `+InF`). */
const FLOAT_SPECIALS: ReadonlyMap<string, number> = new Map([
  ['nan', NaN],
  ['+nan', NaN],
  ['-nan', NaN],
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-infinity', -Infinity],
]);

function parseFloatToken(datatype: string, token: string): number {
  const value = Number(token);
  if (!Number.isNaN(value)) {
    // Number() also reads 0x…, 0b… and 0o… literals, which are no VOTable floats.
    if (token.length > 1 && token.charCodeAt(0) === 0x30 && /[xXbBoO]/.test(token[1]!)) throw notA(datatype, token);
    return value;
  }
  const special = FLOAT_SPECIALS.get(token.toLowerCase());
  if (special === undefined) throw notA(datatype, token);
  return special;
}

/**
 * The shortest decimal that reads back as the same 32-bit float, so a `float` 1.1 stored in
 * BINARY reads as 1.1 (as it does from TABLEDATA), not as 1.100000023841858.
 */
export function float32Value(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  // Rounding the magnitude rounds halves away from zero, as toPrecision() does.
  const magnitude = Math.abs(x);
  let exponent = Math.floor(Math.log10(magnitude));
  if (10 ** exponent > magnitude) exponent--;
  for (let digits = 1; digits <= 9; digits++) {
    const places = digits - 1 - exponent;
    // Up to 10^22 powers of ten are exact doubles, so n / 10^k and n * 10^k round once, to
    // the double nearest the decimal, as Number() of its text would; beyond, use the text.
    const candidate =
      places > 22 || places < -22
        ? Number(magnitude.toPrecision(digits))
        : places >= 0
          ? Math.round(magnitude * 10 ** places) / 10 ** places
          : Math.round(magnitude / 10 ** -places) * 10 ** -places;
    if (Math.fround(candidate) === magnitude) return x < 0 ? -candidate : candidate;
  }
  return x;
}

const formatFloat = (value: Element): string => floatText(Number(value));

const FLOAT: Primitive = {
  bytes: 4,
  parse: (token) => parseFloatToken('float', token),
  read: (bytes, at) => float32Value(bytes.readFloatBE(at)),
  format: formatFloat,
};

const DOUBLE: Primitive = {
  bytes: 8,
  parse: (token) => parseFloatToken('double', token),
  read: (bytes, at) => bytes.readDoubleBE(at),
  format: formatFloat,
};

const TRUE_BYTES = new Set([0x54, 0x74, 0x31]); // T t 1
const FALSE_BYTES = new Set([0x46, 0x66, 0x30]); // F f 0
const NULL_BOOLEAN_BYTES = new Set([0x00, 0x20, 0x3f]); // NUL, space, ?

/** §6 Logical: T/t/1, F/f/0, any case of true/false in TABLEDATA; `?` (or NUL, space) is null. */
const BOOLEAN: Primitive = {
  bytes: 1,
  parse(token) {
    const word = token.toLowerCase();
    if (word === 't' || word === 'true' || word === '1') return true;
    if (word === 'f' || word === 'false' || word === '0') return false;
    if (word === '?') return null;
    throw notA('boolean', token);
  },
  read(bytes, at) {
    const b = bytes[at]!;
    if (TRUE_BYTES.has(b)) return true;
    if (FALSE_BYTES.has(b)) return false;
    if (NULL_BOOLEAN_BYTES.has(b)) return null;
    throw new VotableReadError(`byte 0x${b.toString(16).padStart(2, '0')} is not a boolean (T, F or ?)`);
  },
  format: (value) => (value === null ? '?' : value ? 'T' : 'F'),
};

/**
 * §6 Bit: a scalar bit is one byte. The standard puts it in the most significant bit, but
 * astropy writes 0x08, so any set bit is true. Bits become booleans (there is no bit column
 * type in TAP_SCHEMA).
 */
const BIT: Primitive = {
  bytes: 1,
  parse(token) {
    if (token === '1') return true;
    if (token === '0') return false;
    throw notA('bit', token);
  },
  read: (bytes, at) => bytes[at] !== 0,
  format: BOOLEAN.format,
};

const PRIMITIVES: Readonly<Record<string, Primitive>> = {
  boolean: BOOLEAN,
  bit: BIT,
  unsignedByte: integer('unsignedByte', 8, false, (bytes, at) => bytes[at]!),
  short: integer('short', 16, true, (bytes, at) => bytes.readInt16BE(at)),
  int: integer('int', 32, true, (bytes, at) => bytes.readInt32BE(at)),
  long: LONG,
  float: FLOAT,
  double: DOUBLE,
};

/**
 * What the column is published as: unsignedByte widens to short and bit to boolean, the
 * nearest TAP_SCHEMA datatypes that hold every value.
 */
const PUBLISHED_DATATYPE: Readonly<Record<string, VotableDatatype>> = {
  boolean: 'boolean',
  bit: 'boolean',
  unsignedByte: 'short',
  short: 'short',
  int: 'int',
  long: 'long',
  float: 'float',
  double: 'double',
  char: 'char',
  unicodeChar: 'unicodeChar',
};

/** §2.2 arraysize: `2`, `2x3`, `*`, `10*`, `2x*`; the last dimension may be variable. */
interface Shape {
  /** No arraysize (or the discouraged `1`, read as one value as most clients do). */
  scalar: boolean;
  variable: boolean;
  /** Elements of a fixed array; for a variable one, elements per step of the last dimension. */
  elements: number;
  dimensions: number;
}

function parseShape(arraysize: string | undefined): Shape | undefined {
  if (arraysize === undefined || arraysize === '' || arraysize === '1')
    return { scalar: true, variable: false, elements: 1, dimensions: 0 };
  if (!/^(?:\d+x)*(?:\d+|\d*\*)$/.test(arraysize)) return undefined;
  const dimensions = arraysize.split('x');
  const variable = arraysize.endsWith('*');
  const fixed = variable ? dimensions.slice(0, -1) : dimensions;
  return { scalar: false, variable, elements: fixed.reduce((n, d) => n * Number(d), 1), dimensions: dimensions.length };
}

const OPTIONAL_ATTRIBUTES = ['xtype', 'unit', 'ucd', 'utype'] as const;

/**
 * The reader of the column `name` (already checked by the caller) declared by a FIELD. Throws
 * VotableReadError for datatypes and shapes uploads do not support.
 */
export function makeColumn(declaration: FieldDeclaration, name: string): Column {
  const { attributes } = declaration;
  const datatype = attributes.get('datatype')?.trim() ?? '';
  const arraysize = attributes.get('arraysize')?.trim();
  const published = PUBLISHED_DATATYPE[datatype];
  if (published === undefined) {
    if (datatype === '') throw new VotableReadError('the FIELD has no datatype');
    if (datatype === 'floatComplex' || datatype === 'doubleComplex') {
      throw new VotableReadError(`datatype "${datatype}" is not supported in uploads (store the real and imaginary parts as two columns)`);
    }
    throw new VotableReadError(`unknown datatype ${quoted(datatype)}`);
  }
  const shape = parseShape(arraysize);
  if (shape === undefined) throw new VotableReadError(`arraysize ${quoted(arraysize ?? '')} is not valid (expected e.g. 8, *, 8* or 2x3)`);

  const field: FieldDef = { name, datatype: published };
  if (arraysize !== undefined && arraysize !== '') field.arraysize = arraysize;
  for (const key of OPTIONAL_ATTRIBUTES) {
    const value = attributes.get(key);
    if (value !== undefined && value !== '') field[key] = value;
  }
  if (declaration.description) field.description = declaration.description;

  if (datatype === 'char' || datatype === 'unicodeChar') {
    if (shape.dimensions > 1) throw new VotableReadError(`arrays of strings (arraysize "${arraysize ?? ''}") are not supported in uploads`);
    return stringColumn(field, datatype === 'unicodeChar', shape, declaration.nullValue);
  }
  const primitive = PRIMITIVES[datatype]!;
  if (shape.scalar) return scalarColumn(field, datatype, primitive, magicValue(primitive, datatype, declaration.nullValue));
  return arrayColumn(field, datatype, primitive, shape, arraysize ?? '');
}

/** VALUES null parsed as a cell of the column (§4.7: it follows the TABLEDATA rules); undefined: none. */
function magicValue(primitive: Primitive, datatype: string, nullValue: string | undefined): Element | undefined {
  if (nullValue === undefined || nullValue.trim() === '') return undefined;
  try {
    return primitive.parse(nullValue.trim());
  } catch (e) {
    if (e instanceof VotableReadError) throw new VotableReadError(`VALUES null=${quoted(nullValue)} is not a valid ${datatype}`);
    throw e;
  }
}

/**
 * char (ASCII, read as UTF-8 since writers use it for any text) and unicodeChar (UCS-2
 * big-endian, §6). In BINARY a string ends at its first NUL (§6, FITS rules). TABLEDATA text is
 * kept exactly, white space included (§5.1).
 */
function stringColumn(field: FieldDef, unicode: boolean, shape: Shape, nullValue: string | undefined): Column {
  const unitBytes = unicode ? 2 : 1;
  const decode = (bytes: Buffer, at: number, length: number): string => {
    if (!unicode) {
      let end = at;
      while (end < at + length && bytes[end] !== 0) end++;
      return bytes.toString('utf8', at, end);
    }
    const text = Buffer.from(bytes.subarray(at, at + 2 * length))
      .swap16()
      .toString('utf16le');
    const nul = text.indexOf('\0');
    return nul < 0 ? text : text.slice(0, nul);
  };
  return {
    field,
    fromText: (text) => (text === '' || text === nullValue ? null : text),
    fromBytes(input, inBandNulls) {
      const length = shape.variable ? input.count() : shape.elements;
      const value = decode(input.bytes, input.take(length * unitBytes), length);
      return (inBandNulls && value === '') || value === nullValue ? null : value;
    },
    skipBytes(input) {
      input.take((shape.variable ? input.count() : shape.elements) * unitBytes);
    },
  };
}

function scalarColumn(field: FieldDef, datatype: string, primitive: Primitive, magic: Element | undefined): Column {
  const nanIsNull = datatype === 'float' || datatype === 'double';
  return {
    field,
    fromText(text) {
      // §5.1: white space around numbers does not matter; an empty TD is null.
      const token = text.trim();
      if (token === '') return null;
      const value = primitive.parse(token);
      return value === magic ? null : value;
    },
    fromBytes(input, inBandNulls) {
      const value = primitive.read(input.bytes, input.take(primitive.bytes));
      // §5.5: without null flags, NaN is the null of floating-point columns.
      if (inBandNulls && nanIsNull && Number.isNaN(value)) return null;
      return value === magic ? null : value;
    },
    skipBytes(input) {
      input.take(primitive.bytes);
    },
  };
}

/**
 * Arrays of numbers or booleans. Individual elements cannot be null except through magic
 * values and NaN (§5.5), which stay in the text; an empty array is null, since TABLEDATA cannot
 * tell the two apart (§5.5) and an empty DALI value means nothing else.
 */
function arrayColumn(field: FieldDef, datatype: string, primitive: Primitive, shape: Shape, arraysize: string): Column {
  const isBit = datatype === 'bit';
  const elementsOf = (count: number): number => (shape.variable ? count * shape.elements : shape.elements);
  /** Bytes of `n` elements: bits are packed, most significant first (§6). */
  const byteLength = (n: number): number => (isBit ? Math.ceil(n / 8) : n * primitive.bytes);
  const checkCount = (n: number): void => {
    const fits = shape.variable ? shape.elements === 0 || n % shape.elements === 0 : n === shape.elements;
    if (!fits) {
      const wanted = shape.variable ? `a multiple of ${shape.elements}` : String(shape.elements);
      throw new VotableReadError(`${n} values where arraysize "${arraysize}" needs ${wanted}`);
    }
  };
  return {
    field,
    fromText(text) {
      const trimmed = text.trim();
      if (trimmed === '') return null;
      // §6: bit arrays are written as a run of 0 and 1, with or without separators.
      const tokens = isBit ? trimmed.replace(/\s+/g, '').split('') : trimmed.split(/\s+/);
      checkCount(tokens.length);
      let out = '';
      for (let i = 0; i < tokens.length; i++) out += (i === 0 ? '' : ' ') + primitive.format(primitive.parse(tokens[i]!));
      return out;
    },
    fromBytes(input) {
      const n = elementsOf(shape.variable ? input.count() : 1);
      if (n === 0) return null;
      const bytes = input.bytes;
      const at = input.take(byteLength(n));
      let out = '';
      for (let i = 0; i < n; i++) {
        const value = isBit ? (bytes[at + (i >> 3)]! & (0x80 >> (i & 7))) !== 0 : primitive.read(bytes, at + i * primitive.bytes);
        out += (i === 0 ? '' : ' ') + primitive.format(value);
      }
      return out;
    },
    skipBytes(input) {
      input.take(byteLength(elementsOf(shape.variable ? input.count() : 1)));
    },
  };
}
