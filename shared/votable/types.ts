/** Shared types of the result serialisers. */
import type { ColumnDef, VotableDatatype } from '../tapschema/model';

export type { VotableDatatype };

/**
 * One output column: the FIELD-relevant part of a TAP_SCHEMA column (VOTable 1.4 §4.2) plus
 * an optional XML ID (so DataLink service descriptors can reference it via `ref`).
 */
export type FieldDef = Pick<ColumnDef, 'name' | 'datatype' | 'arraysize' | 'xtype' | 'unit' | 'ucd' | 'utype'> & {
  description?: string;
  id?: string;
};

/** One cell value as the database layer hands it over; `null` (or `undefined`) is SQL NULL. */
export type Cell = string | number | bigint | boolean | null | undefined;

export interface InfoDef {
  name: string;
  value: string;
  /** Element text (e.g. the query string); empty element when absent. */
  content?: string;
  id?: string;
}

/** A constant-valued PARAM (VOTable 1.4 §4.3); used in RESOURCE before the TABLE. */
export type ParamDef = FieldDef & { value: string };

export interface BeginInfo {
  /** INFOs written after `QUERY_STATUS=OK`, before the TABLE (DALI 1.1 §4.4.1). */
  infos?: InfoDef[];
  params?: ParamDef[];
  /** TABLE `name` attribute. */
  tableName?: string;
  /**
   * Raw, already well-formed XML appended after the results RESOURCE (e.g. DataLink
   * `<RESOURCE type="meta" utype="adhoc:service">` descriptors). Ignored by text formats.
   */
  extraResources?: string;
}

export type ResultFormat = 'votable' | 'votable-binary2' | 'csv' | 'tsv' | 'json';

export interface WriterOptions {
  /** Characters (or base64 characters) buffered before each `write()`; default 64 KiB. */
  chunkSize?: number;
  /** Call `out.end()` in `end()` and wait for `finish`; default true. */
  endStream?: boolean;
}

export interface ResultWriter {
  readonly format: ResultFormat;
  begin(fields: FieldDef[], info?: BeginInfo): Promise<void>;
  /**
   * Serialises one row. Returns a promise only when the destination asked to wait for
   * `drain`; callers should `const p = w.row(r); if (p) await p;` to keep the fast path sync.
   */
  row(cells: readonly Cell[]): Promise<void> | void;
  /**
   * After begin(): how SQLite can encode this writer's rows itself (native.ts), or undefined
   * when only `row` can.
   */
  readonly rowEncoding: RowEncoding | undefined;
  /**
   * Rows as rowEncoding's SQL function returned them: a batch of UTF-8 lines (base64 ones for
   * BINARY2); `rows` is added to rowCount.
   */
  encoded(bytes: Uint8Array, rows: number): Promise<void> | void;
  /** Closes the document; `overflow` marks a truncated (MAXREC) result. */
  end(overflow: boolean): Promise<void>;
  /** Rows written so far. */
  readonly rowCount: number;
}

/** The FIELD of a column description (TAP_SCHEMA column, ADQL output column): its defined attributes only. */
export function columnField(column: Omit<FieldDef, 'description' | 'id'>, description?: string): FieldDef {
  const field: FieldDef = { name: column.name, datatype: column.datatype };
  for (const key of ['arraysize', 'xtype', 'unit', 'ucd', 'utype'] as const) if (column[key] !== undefined) field[key] = column[key];
  if (description) field.description = description;
  return field;
}

/** How one result's rows are encoded in SQL: `<sqlFunction>(token, maxrec, '<spec>', c0, …)`. */
export interface RowEncoding {
  readonly sqlFunction: 'vo_binary2_batch' | 'vo_csv_batch' | 'vo_tsv_batch' | 'vo_tabledata_batch';
  /** One letter per column (native/rows.cc lists them). */
  readonly spec: string;
}
