/** Per-datatype cell formatting shared by the text serialisers. */
import type { Cell, FieldDef } from './types';

export type Value = Exclude<Cell, null | undefined>;
export type Formatter = (v: Value) => string;

const TRUE_WORDS = new Set(['t', 'true', '1', 'y', 'yes']);
const FALSE_WORDS = new Set(['f', 'false', '0', 'n', 'no']);

/** Booleans often arrive as SQLite 0/1 integers or words; `undefined` = not recognisable. */
export function toBool(v: Value): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  const w = v.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

export function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  const t = v.trim();
  // Number('') is 0; an empty string is no number at all.
  return t === '' ? NaN : Number(t);
}

/**
 * Floating-point text as VOTable 1.4 §6 (TABLEDATA) spells it: `NaN`, `+Inf`, `-Inf`, otherwise
 * the shortest round-trip decimal (`String(x)`), which keeps full double precision.
 */
export function floatText(x: number): string {
  if (Number.isFinite(x)) return String(x);
  if (Number.isNaN(x)) return 'NaN';
  return x > 0 ? '+Inf' : '-Inf';
}

/** A scalar (no arraysize) numeric or boolean field; arrays are passed through as text. */
export function isScalar(f: FieldDef): boolean {
  return f.arraysize === undefined || f.arraysize === '' || f.arraysize === '1';
}

/**
 * How the text formats (TABLEDATA, CSV, TSV, JSON) write a field's cells: scalar booleans,
 * integers and floating-point numbers are formatted, and need no escape; everything else
 * (char, arrays, other datatypes) is written as its text.
 */
export type TextKind = 'boolean' | 'integer' | 'float' | 'text';

export function textKind(f: FieldDef): TextKind {
  if (!isScalar(f)) return 'text';
  switch (f.datatype) {
    case 'boolean':
      return 'boolean';
    case 'short':
    case 'int':
    case 'long':
      return 'integer';
    case 'float':
    case 'double':
      return 'float';
    default:
      return 'text';
  }
}

/**
 * Plain text of a value according to the field's datatype, before any format-specific
 * escaping. `trueText`/`falseText` differ between VOTable (`T`/`F`) and CSV (`true`/`false`).
 */
export function textFormatter(f: FieldDef, trueText: string, falseText: string): Formatter {
  switch (textKind(f)) {
    case 'boolean':
      return (v) => {
        const b = toBool(v);
        return b === undefined ? '' : b ? trueText : falseText;
      };
    case 'integer':
      return (v) => {
        if (typeof v === 'number') return Number.isFinite(v) ? String(Math.trunc(v)) : '';
        if (typeof v === 'bigint') return String(v);
        if (typeof v === 'boolean') return v ? '1' : '0';
        return v;
      };
    case 'float':
      return (v) => (typeof v === 'number' ? floatText(v) : typeof v === 'string' ? v : floatText(toNumber(v)));
    case 'text':
      return (v) => (typeof v === 'string' ? v : typeof v === 'number' ? floatText(v) : String(v));
  }
}
