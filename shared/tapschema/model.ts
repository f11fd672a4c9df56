/**
 * What TAP publishes, defined once: tables and their columns with the metadata TAP_SCHEMA
 * (TAP 1.1 §4) and VOTable FIELDs need, plus the physical SQLite names behind them. The
 * database schema, the TAP_SCHEMA rows and (later) ADQL validation are all derived from
 * these definitions, so they cannot drift apart.
 */

/** VOTable datatypes, as TAP 1.1 TAP_SCHEMA.columns.datatype holds them. */
export type VotableDatatype = 'boolean' | 'short' | 'int' | 'long' | 'float' | 'double' | 'char' | 'unicodeChar';

export type SqlType = 'TEXT' | 'INTEGER' | 'REAL';

export interface ColumnDef {
  /** Published (ADQL) name, lower-case. */
  name: string;
  datatype: VotableDatatype;
  /** `*` for variable-length strings. */
  arraysize?: string;
  /** DALI xtype: `timestamp`, `polygon`, `point`, `circle`, … */
  xtype?: string;
  unit?: string;
  ucd?: string;
  utype?: string;
  description: string;
  /** Part of the default (principal) column set. */
  principal?: boolean;
  /** Backed by a database index. */
  indexed?: boolean;
  /** Defined by a standard (ObsCore, TAP_SCHEMA). */
  std?: boolean;
  notNull?: boolean;
  /** An ADQL reserved word as a name (TAP_SCHEMA.columns."size"): published delimited (TAP 1.1 §4.3). */
  delimited?: boolean;
  /** Physical column name, when it differs from `name` (e.g. `"size"`). */
  sqlName?: string;
  /**
   * Stored as a path relative to the service ('/api/…', so that moving the service needs no
   * re-ingest) but published absolute: queries see and compare the base URL + path.
   */
  serviceRelative?: boolean;
  sqlType: SqlType;
}

export interface ForeignKey {
  keyId: string;
  targetTable: string;
  columns: [from: string, target: string][];
  description?: string;
}

export interface TableDef {
  schema: string;
  /** Published, schema-qualified name (`ivoa.ObsCore`). */
  name: string;
  /** Physical SQLite table. */
  sqlName: string;
  type: 'table' | 'view';
  description: string;
  utype?: string;
  columns: ColumnDef[];
  foreignKeys?: ForeignKey[];
}

export interface SchemaDef {
  name: string;
  description: string;
  utype?: string;
}

/** `ivoa.ObsCore` → `ObsCore`. */
export function unqualified(tableName: string): string {
  return tableName.slice(tableName.indexOf('.') + 1);
}

/** The name TAP_SCHEMA and VOSI tables show: delimited (`"size"`) for reserved words. */
export function publishedColumnName(column: ColumnDef): string {
  return column.delimited ? `"${column.name}"` : column.name;
}

export function columnSqlName(column: ColumnDef): string {
  return column.sqlName ?? column.name;
}

/**
 * A service-relative column's SQL as published: the base URL, bound (one `?`), before a stored
 * path. Idempotent: a value that is absolute already (a derived table's) stays as it is.
 * ADQL's translation and SIA's query both use it, so every query sees and returns the same
 * absolute links, in WHERE as in the result.
 */
export function publishedLinkSql(sql: string): string {
  return `(CASE WHEN substr(${sql}, 1, 1) = '/' THEN ? || ${sql} ELSE ${sql} END)`;
}
