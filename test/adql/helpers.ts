/** Test helpers: location-free AST builders and a location stripper. */
import { parseAdql } from '../../shared/adql';

/** Deep copy without `loc` properties, for comparisons modulo source locations. */
export function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'loc') out[k] = strip(v);
    return out;
  }
  return value;
}

export function p(text: string): unknown {
  return strip(parseAdql(text));
}

/** The WHERE condition of `SELECT * FROM t WHERE <cond>`, without locations. */
export function where(cond: string): unknown {
  const q = parseAdql(`SELECT * FROM t WHERE ${cond}`);
  if (q.kind !== 'select') throw new Error('not a select');
  return strip(q.where);
}

/** The single select expression of `SELECT <expr> FROM t`, without locations. */
export function expr(e: string): unknown {
  const q = parseAdql(`SELECT ${e} FROM t`);
  if (q.kind !== 'select' || q.items[0]?.kind !== 'selectExpression') throw new Error('not an expression');
  return strip(q.items[0].expr);
}

export const id = (name: string, quoted = false) => ({ kind: 'identifier', name, quoted });
export const col = (column: string, table: string | null = null, schema: string | null = null) => ({
  kind: 'column',
  schema: schema === null ? null : id(schema),
  table: table === null ? null : id(table),
  column: id(column),
});
export const int = (n: number) => ({ kind: 'number', text: String(n), value: n, numberType: 'integer' });
export const num = (text: string, numberType: 'integer' | 'decimal' | 'exponent' | 'hex') => ({
  kind: 'number',
  text,
  value: numberType === 'hex' ? parseInt(text.slice(2), 16) : Number(text),
  numberType,
});
export const str = (value: string) => ({ kind: 'string', value });
export const bin = (op: string, left: unknown, right: unknown) => ({ kind: 'binary', op, left, right });
export const neg = (operand: unknown) => ({ kind: 'unary', op: '-', operand });
export const cmp = (op: string, left: unknown, right: unknown) => ({ kind: 'comparison', op, left, right });
export const and = (left: unknown, right: unknown) => ({ kind: 'logical', op: 'AND', left, right });
export const or = (left: unknown, right: unknown) => ({ kind: 'logical', op: 'OR', left, right });
export const not = (operand: unknown) => ({ kind: 'not', operand });
export const tableName = (name: string, schema: string | null = null) => ({
  kind: 'tableName',
  schema: schema === null ? null : id(schema),
  name: id(name),
});
export const table = (name: string, schema: string | null = null, alias: string | null = null) => ({
  kind: 'table',
  table: tableName(name, schema),
  alias: alias === null ? null : id(alias),
});
export const item = (e: unknown, alias: string | null = null) => ({
  kind: 'selectExpression',
  expr: e,
  alias: alias === null ? null : id(alias),
});
export const geom = (name: string, coordSys: unknown, ...args: unknown[]) => ({ kind: 'geometry', name, coordSys, args });
export const select = (parts: Record<string, unknown>) => ({
  kind: 'select',
  quantifier: null,
  top: null,
  items: [],
  from: [],
  where: null,
  groupBy: [],
  having: null,
  orderBy: [],
  offset: null,
  ...parts,
});
