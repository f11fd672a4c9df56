/**
 * Result encoding inside SQLite (native/rows.cc, an SQLite extension): for VOTable TABLEDATA
 * and BINARY2, CSV and TSV, a query returns its rows already serialised, in batches of about
 * 48 KiB, instead of one JavaScript value per cell. On 100k ObsCore rows × 37 columns a
 * worker thread spends 0.2 s instead of 0.6–0.9 s (bench/tap measures the whole path).
 * The JavaScript writers stay the reference: the encoders produce their bytes exactly, and
 * are used only where a writer says its columns allow it (rowEncoding).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../runtime';
import { isScalar, textKind, type TextKind } from './cells';
import type { FieldDef, ResultFormat, RowEncoding } from './types';

export type { RowEncoding } from './types';

/** The compiled extension (`npm run build` makes it with g++, scripts/build-native.ts). */
export const ROW_ENCODERS_LIBRARY = path.join(PROJECT_ROOT, 'dist', 'native', 'vo_rows.so');

/** SQLite allows 1000 arguments per function call (SQLITE_MAX_FUNCTION_ARG); 3 are not columns. */
const MAX_COLUMNS = 997;

const BINARY2_LETTERS: Readonly<Partial<Record<FieldDef['datatype'], string>>> = {
  boolean: 'B',
  short: 'S',
  int: 'I',
  long: 'L',
  float: 'F',
  double: 'D',
};

/** BINARY2: scalar numbers and booleans, and variable-length text; others stay in JavaScript. */
function binary2Letter(f: FieldDef): string | undefined {
  if (f.datatype === 'char' || f.datatype === 'unicodeChar') {
    // `*` and `n*` are written whole (binary2.ts); fixed sizes pad and truncate.
    return f.arraysize?.endsWith('*') ? (f.datatype === 'char' ? 'C' : 'U') : undefined;
  }
  return isScalar(f) ? BINARY2_LETTERS[f.datatype] : undefined;
}

/** Text formats: cells.ts textKind. */
const TEXT_LETTERS: Readonly<Record<TextKind, string>> = { boolean: 'b', integer: 'i', float: 'f', text: 't' };

const TEXT_FUNCTIONS = { votable: 'vo_tabledata_batch', csv: 'vo_csv_batch', tsv: 'vo_tsv_batch' } as const;

/**
 * The SQL encoding of rows with these FIELDs (char arraysizes already defaulted, as the
 * writer sends them) in `format`; undefined where only the JavaScript writer can (JSON,
 * fixed-size BINARY2 arrays, more columns than a function takes).
 */
export function rowEncoding(format: ResultFormat, fields: readonly FieldDef[]): RowEncoding | undefined {
  if (fields.length === 0 || fields.length > MAX_COLUMNS) return undefined;
  if (format === 'votable-binary2') {
    const letters = fields.map(binary2Letter);
    return letters.every((l) => l !== undefined) ? { sqlFunction: 'vo_binary2_batch', spec: letters.join('') } : undefined;
  }
  if (format === 'json') return undefined;
  return { sqlFunction: TEXT_FUNCTIONS[format], spec: fields.map((f) => TEXT_LETTERS[textKind(f)]).join('') };
}

/** Whether `npm run build` could build the extension (it needs a C++ compiler). */
export function rowEncodersBuilt(library = ROW_ENCODERS_LIBRARY): boolean {
  return fs.existsSync(library);
}

/** Loads the encoders into a connection; false when the extension was not built. */
export function loadRowEncoders(db: Database.Database, library = ROW_ENCODERS_LIBRARY): boolean {
  if (!rowEncodersBuilt(library)) return false;
  // SQLite derives the entry point from the file name: vo_rows.so → sqlite3_vorows_init.
  db.loadExtension(library);
  return true;
}

export interface EncodedRowsOptions {
  /** Tells this result's batch from any other of the connection's thread. */
  token: number;
  maxrec: number;
}

/**
 * The query returning `sql`'s rows encoded, in batches (NULL between them); then
 * BATCH_ROWS_SQL and BATCH_END_SQL with the token. The columns are renamed c0… by a CTE
 * (result columns may share a name). SQLite keeps the inner ORDER BY when it flattens the
 * CTE or runs it as a co-routine; LIMIT maxrec + 1 stops at the row that shows an overflow.
 */
export function encodedRowsQuery(
  query: { sql: string; params: readonly unknown[] },
  columnCount: number,
  encoding: RowEncoding,
  options: EncodedRowsOptions,
): { sql: string; params: unknown[] } {
  const names = Array.from({ length: columnCount }, (_, i) => `c${i}`).join(', ');
  // The spec holds only the letters above: safe to inline.
  return {
    sql: `WITH vo_rows(${names}) AS (${query.sql}) SELECT ${encoding.sqlFunction}(?, ?, '${encoding.spec}', ${names}) FROM vo_rows LIMIT ?`,
    params: [...query.params, options.token, options.maxrec, options.maxrec + 1],
  };
}

/** Rows a batch has seen: at most maxrec + 1. */
export const BATCH_ROWS_SQL = 'SELECT vo_batch_rows(?)';
/** The rest of a batch's rows; the batch is forgotten. */
export const BATCH_END_SQL = 'SELECT vo_batch_end(?)';
