/**
 * Row encoding inside SQLite (native/rows.cc, an SQLite extension): for VOTable TABLEDATA and
 * BINARY2, CSV and TSV, a query can return each row already serialised, one value per row,
 * instead of one JavaScript value per cell. On 100k ObsCore rows × 37 columns that is
 * 0.2 s instead of 0.6–0.8 s of a worker thread (bench/tap measures the whole path).
 * The JavaScript writers stay the reference: the encoders produce their bytes exactly, and
 * are used only where a writer says its columns allow it (rowEncoding).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../runtime';
import { isFloatType, isIntegerType, isScalar } from './cells';
import type { FieldDef, ResultFormat } from './types';

/** The compiled extension (`npm run build` makes it with g++, scripts/build-native.ts). */
export const ROW_ENCODERS_LIBRARY = path.join(PROJECT_ROOT, 'dist', 'native', 'vo_rows.so');

/** How one result's rows are encoded in SQL: `<sqlFunction>('<spec>', c1, …, cn)`. */
export interface RowEncoding {
  readonly sqlFunction: 'vo_binary2_row' | 'vo_csv_row' | 'vo_tsv_row' | 'vo_tabledata_row';
  /** One letter per column (rows.cc lists them). */
  readonly spec: string;
}

/** SQLite allows 1000 arguments per function call (SQLITE_MAX_FUNCTION_ARG). */
const MAX_COLUMNS = 999;

const BINARY2_LETTERS: Readonly<Partial<Record<FieldDef['datatype'], string>>> = {
  boolean: 'B', short: 'S', int: 'I', long: 'L', float: 'F', double: 'D',
};

/** BINARY2: scalar numbers and booleans, and variable-length text; others stay in JavaScript. */
function binary2Letter(f: FieldDef): string | undefined {
  if (f.datatype === 'char' || f.datatype === 'unicodeChar') {
    // `*` and `n*` are written whole (binary2.ts); fixed sizes pad and truncate.
    return f.arraysize?.endsWith('*') ? (f.datatype === 'char' ? 'C' : 'U') : undefined;
  }
  return isScalar(f) ? BINARY2_LETTERS[f.datatype] : undefined;
}

/** Text formats: the classes of cells.ts textFormatter. */
function textLetter(f: FieldDef): string {
  if (!isScalar(f)) return 't';
  if (f.datatype === 'boolean') return 'b';
  if (isIntegerType(f)) return 'i';
  return isFloatType(f) ? 'f' : 't';
}

const TEXT_FUNCTIONS = { votable: 'vo_tabledata_row', csv: 'vo_csv_row', tsv: 'vo_tsv_row' } as const;

/**
 * The SQL encoding of rows with these FIELDs (char arraysizes already defaulted, as the
 * writer sends them) in `format`; undefined where only the JavaScript writer can (JSON,
 * fixed-size BINARY2 arrays, more columns than a function takes).
 */
export function rowEncoding(format: ResultFormat, fields: readonly FieldDef[]): RowEncoding | undefined {
  if (fields.length === 0 || fields.length > MAX_COLUMNS) return undefined;
  if (format === 'votable-binary2') {
    const letters = fields.map(binary2Letter);
    return letters.every((l) => l !== undefined) ? { sqlFunction: 'vo_binary2_row', spec: letters.join('') } : undefined;
  }
  if (format === 'json') return undefined;
  return { sqlFunction: TEXT_FUNCTIONS[format], spec: fields.map(textLetter).join('') };
}

/** Loads the encoders into a connection; false when the extension was not built. */
export function loadRowEncoders(db: Database.Database, library = ROW_ENCODERS_LIBRARY): boolean {
  if (!fs.existsSync(library)) return false;
  // SQLite derives the entry point from the file name: vo_rows.so → sqlite3_vorows_init.
  db.loadExtension(library);
  return true;
}

/**
 * `sql` with its rows encoded: its columns renamed c0…cn by a CTE (result columns may share
 * a name), each passed through `column` (e.g. to make a link absolute), then encoded.
 * SQLite keeps the inner ORDER BY when it flattens or co-routines the CTE.
 */
export function encodedRowsSql(
  sql: string,
  columnCount: number,
  encoding: RowEncoding,
  column: (name: string, index: number) => string = (name) => name,
): string {
  const names = Array.from({ length: columnCount }, (_, i) => `c${i}`);
  // The spec holds only the letters above: safe to inline.
  return `WITH vo_rows(${names.join(', ')}) AS (${sql}) SELECT ${encoding.sqlFunction}('${encoding.spec}', ${names.map(column).join(', ')}) FROM vo_rows`;
}
