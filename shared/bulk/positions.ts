/**
 * The positions of a bulk job: an uploaded table (VOTable, CSV or TSV, told apart by content)
 * or the job's POSITION values, as rows with a sky position and the per-row overrides of the
 * job's parameters (size, band, dpsubtype, time). Pure: bytes in, rows out.
 *
 * A row that cannot be used (empty, not a number, out of range) is kept with `invalid` saying
 * why, never dropped: row numbers stay those of the input, and the job reports each failure.
 * A table that cannot be read at all (no ra/dec column, malformed CSV quoting, not a VOTable)
 * is a SodaError `UsageError: …` naming what is wrong; one over the row limit is TooManyRows
 * (errors.ts), which the api answers with 413.
 *
 * Positions are decimal degrees (ICRS); sexagesimal text is refused as not a number.
 */
import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { SodaError } from '../soda/errors';
import { readVotable, VotableReadError, type UploadedTable } from '../votable/reader';
import type { Cell } from '../votable/types';
import { quoted, TooManyRows, usage } from './errors';
import { normaliseRa, parseBand, parseDecimal, type BulkBand, type BulkRequest, type SkyPosition } from './params';

export interface PositionRow {
  /** 1-based number of the row among the table's data rows (the header is not counted). */
  readonly row: number;
  /** The id column's value as text (trimmed), else String(row); see safeMemberStem for file names. */
  readonly id: string;
  /** Degrees in [0, 360); NaN when the row is invalid for want of one. */
  readonly ra: number;
  /** Degrees in [-90, 90]; NaN when the row is invalid for want of one. */
  readonly dec: number;
  /** The row's stamp size, in the job's SIZE_UNIT. */
  readonly size?: number;
  /** The row's band: its label (a lower-case letter, or an interval's label, as BulkBand.label). */
  readonly band?: string;
  /** The row's band in full (wavelengths in metres). */
  readonly bandSpec?: BulkBand;
  readonly dpsubtype?: string;
  /** The row's time interval (MJD): either side may be given alone. */
  readonly tMin?: number;
  readonly tMax?: number;
  /** Why the row cannot be used (every problem, separated by "; "); absent for a usable row. */
  readonly invalid?: string;
}

/** The names, as written in the table, of the columns read. */
export interface PositionColumns {
  readonly ra: string;
  readonly dec: string;
  readonly id?: string;
  readonly size?: string;
  readonly band?: string;
  readonly dpsubtype?: string;
  readonly tMin?: string;
  readonly tMax?: string;
}

export type PositionsFormat = 'votable' | 'csv' | 'tsv' | 'positions';

export interface PositionsTable {
  /** What the positions came from: an upload's format, or the job's POSITION values. */
  readonly format: PositionsFormat;
  readonly rows: PositionRow[];
  readonly columns: PositionColumns;
}

export interface PositionsLimits {
  /** Most data rows (BULK_MAX_ROWS); more is TooManyRows. */
  readonly maxRows: number;
}

/** The rows of a job's POSITION values: row n is the n-th POSITION, its id String(n). */
export function positionsFromRequest(positions: ReadonlyArray<SkyPosition>): PositionsTable {
  return {
    format: 'positions',
    rows: positions.map((p, i) => ({ row: i + 1, id: String(i + 1), ra: p.ra, dec: p.dec })),
    columns: { ra: 'ra', dec: 'dec' },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the bytes

/** A table's columns, known before any row is read: names (and UCDs, for a VOTable). */
interface TableHead {
  readonly format: 'votable' | 'csv' | 'tsv';
  readonly names: readonly string[];
  readonly ucds: readonly (string | undefined)[];
}

/** Turns the cells of each row into a PositionRow, once the head is known. */
type StartRows = (head: TableHead) => RowBuilder;

/**
 * Reads an uploaded positions table. `request` gives RA_COL, DEC_COL, ID_COL and, if present,
 * the job's SIZE_UNIT (a row's size in pix must be a whole number). Throws SodaError
 * (UsageError) when the table cannot be read, lacks ra/dec columns or has no rows,
 * TooManyRows beyond `limits.maxRows` data rows.
 */
export function readPositionsTable(
  bytes: Buffer,
  request: Pick<BulkRequest, 'columns'> & { readonly size?: Pick<BulkRequest['size'], 'unit'> },
  limits: PositionsLimits,
): PositionsTable {
  let builder: RowBuilder | undefined;
  const start: StartRows = (head) => (builder = new RowBuilder(head, resolveColumns(head, request.columns), request.size?.unit === 'pix'));
  const { format, rows } = readRows(bytes, limits.maxRows, start);
  // A job without positions makes nothing; say so now rather than succeed empty.
  if (rows.length === 0 || builder === undefined) throw usage(`the positions table (${FORMAT_NAMES[format]}) has no rows`);
  return { format, rows, columns: builder.columns };
}

const FORMAT_NAMES = { votable: 'VOTable', csv: 'CSV', tsv: 'TSV' } as const;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

function isAsciiSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Format from content: XML (a VOTable) when the first non-blank character is `<` — which
 * covers `<?xml` and `<VOTABLE`, and lets an HTML page fetched by mistake be told for what it
 * is —, else CSV or TSV (decided by the header line). Text is UTF-8, or UTF-16 with a byte
 * order mark (what spreadsheets write as "Unicode text").
 */
function readRows(bytes: Buffer, maxRows: number, start: StartRows): { format: TableHead['format']; rows: PositionRow[] } {
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'be' : undefined;
  if (utf16 === undefined) {
    let first = UTF8_BOM.every((b, i) => bytes[i] === b) ? 3 : 0;
    while (isAsciiSpace(bytes[first])) first++;
    if (first >= bytes.length) throw usage('the positions table is empty');
    // `<` is XML in any ASCII-compatible encoding; `<\0` and `\0<` are UTF-16 without a BOM.
    if (bytes[first] === 0x3c || (bytes[0] === 0x00 && bytes[1] === 0x3c)) return readVotableRows(bytes, maxRows, start);
    return readDelimited(decodeText(bytes, 'utf-8'), maxRows, start);
  }
  const text = decodeText(utf16 === 'le' ? bytes : Buffer.from(bytes).swap16(), 'utf-16le');
  const first = text.search(/\S/);
  if (first < 0) throw usage('the positions table is empty');
  if (text[first] === '<') return readVotableRows(bytes, maxRows, start);
  return readDelimited(text, maxRows, start);
}

function decodeText(bytes: Buffer, encoding: 'utf-8' | 'utf-16le'): string {
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    // Not decoded with replacement characters: ids must reach the results as they were written.
    throw usage(`the positions table is not valid ${encoding === 'utf-8' ? 'UTF-8' : 'UTF-16'} text; save it as UTF-8`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function readVotableRows(bytes: Buffer, maxRows: number, start: StartRows): { format: 'votable'; rows: PositionRow[] } {
  let table: UploadedTable;
  try {
    table = readVotable(bytes, { maxRows });
  } catch (e) {
    if (!(e instanceof VotableReadError)) throw e;
    // The reader's own row limit (read-data.ts), checked while reading, so memory stays bounded.
    if (e.message === `the table has more than ${maxRows} rows, the limit for uploads`) throw new TooManyRows(maxRows);
    throw usage(
      `the positions table (VOTable): ${e.message.replace('; TAP uploads must be VOTable documents', '; send a VOTable, CSV or TSV table')}`,
    );
  }
  if (table.rows.length > maxRows) throw new TooManyRows(maxRows);
  const builder = start({ format: 'votable', names: table.fields.map((f) => f.name), ucds: table.fields.map((f) => f.ucd) });
  return { format: 'votable', rows: table.rows.map((cells, i) => builder.row(cells, i + 1)) };
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/**
 * CSV (RFC 4180: `"` quotes a field, `""` is a quote inside one, a quoted field may hold
 * delimiters and line breaks) or TSV read the same way with tabs; CRLF, LF or CR end a record.
 * The first record is the header. Blank records are rows (`the row is empty`, so that row
 * numbers are the file's), except at the end of the file, where they are dropped. Rows are
 * made as records are read, so that only the rows stay in memory, not every field's text.
 */
function readDelimited(text: string, maxRows: number, start: StartRows): { format: 'csv' | 'tsv'; rows: PositionRow[] } {
  const headerEnd = text.search(/[\r\n]/);
  const headerLine = headerEnd < 0 ? text : text.slice(0, headerEnd);
  if (headerLine.startsWith('# %ECSV'))
    throw usage('the positions table is ECSV, which is not supported; send it as CSV (astropy: format="ascii.csv") or VOTable');
  const commas = headerLine.split(',').length - 1;
  const tabs = headerLine.split('\t').length - 1;
  if (commas === 0 && tabs === 0) {
    throw usage(
      `the positions table's first line, ${quoted(headerLine.trim(), 60)}, is not a header of several columns: ` +
        'send a VOTable, or CSV or TSV whose first line names the columns (at least ra and dec)',
    );
  }
  const format = tabs > commas ? 'tsv' : 'csv';
  let builder: RowBuilder | undefined;
  const rows: PositionRow[] = [];
  let pendingBlank = 0;
  parseRecords(text, format === 'tsv' ? 0x09 : 0x2c, (fields) => {
    if (builder === undefined) {
      builder = start({ format, names: fields.map((f) => f.trim()), ucds: [] });
      return;
    }
    if (isBlankRecord(fields)) {
      // Kept back: blank records at the end of the file are no rows.
      pendingBlank++;
      return;
    }
    for (; pendingBlank > 0; pendingBlank--) {
      if (rows.length >= maxRows) throw new TooManyRows(maxRows);
      rows.push(builder.blank(rows.length + 1));
    }
    if (rows.length >= maxRows) throw new TooManyRows(maxRows);
    rows.push(builder.row(fields, rows.length + 1));
  });
  return { format, rows };
}

function isBlankRecord(fields: readonly string[]): boolean {
  for (const field of fields) if (field.trim() !== '') return false;
  return true;
}

/**
 * Calls `onRecord` with each record's fields (RFC 4180: quoted fields may hold delimiters,
 * doubled quotes and line breaks; CRLF or LF ends a record). One pass over the text, unquoted
 * fields sliced out whole: linear in the size of the text. Throws SodaError (UsageError) for
 * a quote that is not closed or text after a closing quote.
 */
export function parseRecords(text: string, delimiter: number, onRecord: (fields: string[]) => void): void {
  const n = text.length;
  let record = 0;
  let fields: string[] = [];
  let i = 0;
  for (;;) {
    if (i < n && text.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) throw usage(`the positions table (${where(record)}): a quoted field is not closed`);
        value += text.slice(from, quote);
        if (text.charCodeAt(quote + 1) === QUOTE) {
          value += '"';
          from = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      // Spaces between a closing quote and the delimiter are layout; anything else is an error.
      while (i < n && text.charCodeAt(i) === 0x20 && delimiter !== 0x20) i++;
      const next = text.charCodeAt(i);
      if (i < n && next !== delimiter && next !== CR && next !== LF) {
        throw usage(`the positions table (${where(record)}): text follows a closing quote; a quote inside a quoted field is written ""`);
      }
      fields.push(value);
    } else {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === delimiter || c === LF || c === CR) break;
        j++;
      }
      fields.push(text.slice(i, j));
      i = j;
    }
    if (i >= n) {
      onRecord(fields);
      return;
    }
    const c = text.charCodeAt(i);
    if (c === delimiter) {
      i++;
      continue;
    }
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    onRecord(fields);
    fields = [];
    record++;
    if (i >= n) return;
  }
}

/** Where a CSV record is, for messages: the header, or data row n. */
function where(record: number): string {
  return record === 0 ? 'header' : `row ${record}`;
}

// ---------------------------------------------------------------------------------------------
// Columns

/** Column indices of what is read from each row. */
interface ColumnIndices {
  ra: number;
  dec: number;
  id?: number;
  size?: number;
  band?: number;
  dpsubtype?: number;
  tMin?: number;
  tMax?: number;
}

const UCD_RA = 'pos.eq.ra;meta.main';
const UCD_DEC = 'pos.eq.dec;meta.main';

/** The table's columns for a message: quoted, the first 30. */
function columnList(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, 30).map((name) => quoted(name));
  return shown.join(', ') + (names.length > 30 ? `, … (${names.length} in all)` : '');
}

/** Index of the column named `name`: the same case first, then any case; ambiguity is an error. */
function lookup(names: readonly string[], name: string, override?: string): number | undefined {
  const exact: number[] = [];
  const folded: number[] = [];
  const lower = name.toLowerCase();
  names.forEach((candidate, index) => {
    if (candidate === name) exact.push(index);
    if (candidate.toLowerCase() === lower) folded.push(index);
  });
  if (exact.length === 1) return exact[0];
  if (folded.length === 1) return folded[0];
  if (folded.length === 0) return undefined;
  const hint = override === undefined ? '' : `; name the one to use with ${override}`;
  throw usage(
    `the positions table has ${folded.length} columns named ${quoted(name)} (${columnList(folded.map((i) => names[i]!))})${hint}`,
  );
}

function byUcd(table: TableHead, ucd: string): number | undefined {
  const matches: number[] = [];
  table.ucds.forEach((candidate, index) => {
    if (candidate !== undefined && candidate.trim().toLowerCase() === ucd) matches.push(index);
  });
  if (matches.length > 1) {
    throw usage(
      `the positions table has ${matches.length} columns with UCD ${ucd} (${columnList(matches.map((i) => table.names[i]!))}); name the one to use`,
    );
  }
  return matches[0];
}

/** RA_COL, DEC_COL, ID_COL: the named column must exist. */
function named(table: TableHead, parameter: string, name: string): number {
  const index = lookup(table.names, name);
  if (index === undefined) {
    throw usage(`${parameter}=${quoted(name)} names no column of the positions table; its columns are: ${columnList(table.names)}`);
  }
  return index;
}

/**
 * ra and dec: RA_COL/DEC_COL, else the columns named ra/dec, else s_ra/s_dec (ObsCore), else in
 * a VOTable the columns with UCD pos.eq.ra;meta.main / pos.eq.dec;meta.main. The optional
 * per-row columns are found by name only (any case).
 */
function resolveColumns(table: TableHead, chosen: BulkRequest['columns']): ColumnIndices {
  const find = (parameter: string, override: string | undefined, names: readonly string[], ucd: string): number | undefined => {
    if (override !== undefined) return named(table, parameter, override);
    for (const name of names) {
      const index = lookup(table.names, name, parameter);
      if (index !== undefined) return index;
    }
    return table.format === 'votable' ? byUcd(table, ucd) : undefined;
  };
  const ra = find('RA_COL', chosen.ra, ['ra', 's_ra'], UCD_RA);
  const dec = find('DEC_COL', chosen.dec, ['dec', 's_dec'], UCD_DEC);
  if (ra === undefined || dec === undefined) {
    const missing = ra === undefined && dec === undefined ? 'ra and dec columns' : ra === undefined ? 'ra column' : 'dec column';
    const looked =
      table.format === 'votable'
        ? 'columns named ra/dec or s_ra/s_dec, or with UCDs pos.eq.ra;meta.main/pos.eq.dec;meta.main'
        : 'columns named ra/dec or s_ra/s_dec';
    throw usage(
      `the positions table has no ${missing}: looked for ${looked} (or name them with RA_COL and DEC_COL); its columns are: ${columnList(table.names)}`,
    );
  }
  const indices: ColumnIndices = { ra, dec };
  const id = chosen.id !== undefined ? named(table, 'ID_COL', chosen.id) : lookup(table.names, 'id', 'ID_COL');
  if (id !== undefined) indices.id = id;
  for (const [key, name] of [
    ['size', 'size'],
    ['band', 'band'],
    ['dpsubtype', 'dpsubtype'],
    ['tMin', 't_min'],
    ['tMax', 't_max'],
  ] as const) {
    const index = lookup(table.names, name);
    if (index !== undefined) indices[key] = index;
  }
  return indices;
}

function columnNames(table: TableHead, indices: ColumnIndices): PositionColumns {
  const out: { -readonly [K in keyof PositionColumns]: PositionColumns[K] } = {
    ra: table.names[indices.ra]!,
    dec: table.names[indices.dec]!,
  };
  for (const key of ['id', 'size', 'band', 'dpsubtype', 'tMin', 'tMax'] as const) {
    const index = indices[key];
    if (index !== undefined) out[key] = table.names[index]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** A cell as text ('' for null): what a CSV cell is, and how a VOTable cell reads as one. */
function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell.trim();
  if (typeof cell === 'number' && Number.isNaN(cell)) return '';
  return String(cell);
}

/** A number from a cell, or why there is none; `expected` follows "is not a number" (` in decimal degrees`). */
function numberOf(cell: Cell, column: string, expected: string): number | string {
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return `${column} is empty`;
    return Number.isFinite(cell) ? cell : `${column} ${cell} is not finite`;
  }
  if (typeof cell === 'bigint') return Number(cell);
  const text = cellText(cell);
  if (text === '') return `${column} is empty`;
  const value = parseDecimal(text);
  if (value === undefined) return `${column} ${quoted(text)} is not a number${expected}`;
  return Number.isFinite(value) ? value : `${column} ${quoted(text)} is not finite`;
}

/** The text of a number for a message: as written in the table when it was text. */
function shown(cell: Cell, value: number): string {
  return typeof cell === 'string' ? cell.trim() : String(value);
}

/** An optional cell: undefined when blank, else as numberOf. */
function optionalNumber(cell: Cell, column: string, expected: string): number | string | undefined {
  return cellText(cell) === '' ? undefined : numberOf(cell, column, expected);
}

/** `problems` and one more, separated by "; ". */
function and(problems: string | undefined, problem: string): string {
  return problems === undefined ? problem : `${problems}; ${problem}`;
}

type MutableRow = { -readonly [K in keyof PositionRow]: PositionRow[K] };

/** Makes the rows of one table: the columns to read, and what the job's SIZE_UNIT requires. */
class RowBuilder {
  readonly columns: PositionColumns;
  /** RFC 4180 §2.4: every record has the header's number of fields (VOTable rows always do). */
  private readonly fieldCount: number | undefined;
  /** A table names a handful of bands thousands of times: each is parsed once, and rows share it. */
  private readonly bands = new Map<string, BulkBand | string>();

  constructor(
    head: TableHead,
    private readonly indices: ColumnIndices,
    private readonly sizeInPixels: boolean,
  ) {
    this.columns = columnNames(head, indices);
    this.fieldCount = head.format === 'votable' ? undefined : head.names.length;
  }

  /** A blank line of a CSV/TSV file, kept as a row so that row numbers stay the file's. */
  blank(number: number): PositionRow {
    return { row: number, id: String(number), ra: NaN, dec: NaN, invalid: 'the row is empty' };
  }

  /** Row `number` (1-based) from its cells. */
  row(cells: readonly Cell[], number: number): PositionRow {
    const { indices, columns } = this;
    const idText = indices.id === undefined ? '' : cellText(cells[indices.id]);
    const row: MutableRow = { row: number, id: idText === '' ? String(number) : idText, ra: NaN, dec: NaN };
    let problems: string | undefined;
    // A shifted row would put some other value in ra or dec.
    if (this.fieldCount !== undefined && cells.length !== this.fieldCount) {
      problems = `the row has ${cells.length} fields, the header ${this.fieldCount}`;
    }
    const ra = numberOf(cells[indices.ra], columns.ra, ' in decimal degrees');
    if (typeof ra === 'string') problems = and(problems, ra);
    else row.ra = normaliseRa(ra);
    const decCell = cells[indices.dec];
    const dec = numberOf(decCell, columns.dec, ' in decimal degrees');
    if (typeof dec === 'string') problems = and(problems, dec);
    else if (!(dec >= -90 && dec <= 90)) problems = and(problems, `${columns.dec} ${shown(decCell, dec)} is outside [-90, 90]`);
    else row.dec = dec + 0;

    if (indices.size !== undefined) {
      const cell = cells[indices.size];
      const size = optionalNumber(cell, columns.size!, '');
      if (typeof size === 'string') problems = and(problems, size);
      else if (size !== undefined) {
        if (!(size > 0)) problems = and(problems, `${columns.size!} ${shown(cell, size)} is not a positive number`);
        else if (this.sizeInPixels && !Number.isSafeInteger(size)) {
          problems = and(problems, `${columns.size!} ${shown(cell, size)} is not a whole number of pixels (SIZE_UNIT=pix)`);
        } else row.size = size;
      }
    }
    if (indices.band !== undefined) {
      const text = cellText(cells[indices.band]);
      if (text !== '') {
        let band = this.bands.get(text);
        if (band === undefined) {
          band = bandOrProblem(text, columns.band!);
          this.bands.set(text, band);
        }
        if (typeof band === 'string') problems = and(problems, band);
        else {
          row.band = band.label;
          row.bandSpec = band;
        }
      }
    }
    if (indices.dpsubtype !== undefined) {
      const text = cellText(cells[indices.dpsubtype]);
      if (text !== '') row.dpsubtype = text;
    }
    if (indices.tMin !== undefined) {
      const tMin = optionalNumber(cells[indices.tMin], columns.tMin!, ' (MJD)');
      if (typeof tMin === 'string') problems = and(problems, tMin);
      else if (tMin !== undefined) row.tMin = tMin;
    }
    if (indices.tMax !== undefined) {
      const tMax = optionalNumber(cells[indices.tMax], columns.tMax!, ' (MJD)');
      if (typeof tMax === 'string') problems = and(problems, tMax);
      else if (tMax !== undefined) row.tMax = tMax;
    }
    if (row.tMin !== undefined && row.tMax !== undefined && row.tMin > row.tMax) {
      const tMin = shown(cells[indices.tMin!], row.tMin);
      problems = and(problems, `${columns.tMin!} ${tMin} is after ${columns.tMax!} ${shown(cells[indices.tMax!], row.tMax)}`);
    }
    if (problems !== undefined) row.invalid = problems;
    return row;
  }
}

/** A row's band, or why it is none. */
function bandOrProblem(text: string, column: string): BulkBand | string {
  try {
    return parseBand(text, column);
  } catch (e) {
    if (e instanceof SodaError) return e.detail;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// File names

/** Longest stem: with an extension and a row prefix, member names stay far below NAME_MAX (255). */
const MAX_STEM = 100;
const HASH_LENGTH = 12;
/** The suffix a changed id gets: `__` and 12 hex digits of SHA-256 (48 bits). */
const HASHED = /__[0-9a-f]{12}$/;
/** DOS device names, which Windows will not create as files whatever the extension. */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$/i;

/**
 * A file-name stem for an id, safe on any file system and unambiguous: only [A-Za-z0-9._-],
 * never empty, never starting with `.` or `-` (no `.`, `..`, hidden files or options), at most
 * 100 characters, and not a Windows device name. An id that already is such a stem is kept as
 * it is; any other id (and one that ends like a hashed stem) becomes its sanitised, shortened
 * text plus `__` and 12 hex digits of its SHA-256. So two different ids never share a stem
 * (barring a 48-bit hash collision): an unchanged stem cannot end like a hashed one, and hashed
 * stems differ in their hashes. Equal ids do get equal stems — the caller tells rows apart
 * (e.g. by row number); and stems that differ only in case collide on case-insensitive file
 * systems, which the caller must also handle when it matters.
 */
export function safeMemberStem(id: string): string {
  const replaced = id.replace(/[^A-Za-z0-9._-]/gu, '_').replace(/^[.-]/, '_');
  const unchanged = replaced === id && id !== '' && id.length <= MAX_STEM && !HASHED.test(id) && !WINDOWS_RESERVED.test(id);
  if (unchanged) return id;
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const head = replaced.slice(0, MAX_STEM - HASH_LENGTH - 2);
  return `${head === '' ? '_' : head}__${hash}`;
}
