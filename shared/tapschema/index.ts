/**
 * TAP_SCHEMA (TAP 1.1 §4): the five tables that describe what the service publishes,
 * themselves included, and the rows that describe a set of published tables.
 */
import { columnSqlName, publishedColumnName, type ColumnDef, type SchemaDef, type TableDef } from './model';

export * from './model';

const s = (name: string, description: string, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  name,
  datatype: 'char',
  arraysize: '*',
  description,
  std: true,
  principal: true,
  sqlType: 'TEXT',
  ...extra,
});
const i = (name: string, description: string, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  name,
  datatype: 'int',
  description,
  std: true,
  principal: true,
  sqlType: 'INTEGER',
  ...extra,
});

export const TAP_SCHEMA: SchemaDef = {
  name: 'TAP_SCHEMA',
  description: 'Metadata of the tables and columns this TAP service publishes (TAP 1.1 §4)',
};

export const TAP_SCHEMA_TABLES: TableDef[] = [
  {
    schema: 'TAP_SCHEMA',
    name: 'TAP_SCHEMA.schemas',
    sqlName: 'tap_schema_schemas',
    type: 'table',
    description: 'The schemas published by this service',
    columns: [
      s('schema_name', 'schema name, possibly qualified', { notNull: true, indexed: true }),
      s('utype', 'lists the utypes of schemas in the tableset'),
      s('description', 'describes schemas in the tableset'),
      i('schema_index', 'recommended sort order when listing schemas'),
    ],
  },
  {
    schema: 'TAP_SCHEMA',
    name: 'TAP_SCHEMA.tables',
    sqlName: 'tap_schema_tables',
    type: 'table',
    description: 'The tables published by this service',
    columns: [
      s('schema_name', 'the schema name from TAP_SCHEMA.schemas', { notNull: true }),
      s('table_name', 'table name as it should be used in queries', { notNull: true, indexed: true }),
      s('table_type', 'one of: table, view', { notNull: true }),
      s('utype', 'lists the utype of tables in the tableset'),
      s('description', 'describes tables in the tableset'),
      i('table_index', 'recommended sort order when listing tables'),
    ],
    foreignKeys: [
      {
        keyId: 'tables_schema',
        targetTable: 'TAP_SCHEMA.schemas',
        columns: [['schema_name', 'schema_name']],
        description: 'schema of each table',
      },
    ],
  },
  {
    schema: 'TAP_SCHEMA',
    name: 'TAP_SCHEMA.columns',
    sqlName: 'tap_schema_columns',
    type: 'table',
    description: 'The columns of the tables published by this service',
    columns: [
      s('table_name', 'table name from TAP_SCHEMA.tables', { notNull: true, indexed: true }),
      s('column_name', 'column name', { notNull: true }),
      s('datatype', 'a VOTable datatype', { notNull: true }),
      s('arraysize', 'VOTable arraysize'),
      s('xtype', 'a DALI or custom extended type annotation'),
      i('size', 'deprecated: use arraysize', { sqlName: 'size_', principal: false, delimited: true }),
      s('description', 'describes the columns in the tableset'),
      s('utype', 'lists the utypes of columns in the tableset'),
      s('unit', 'unit in VO standard format'),
      s('ucd', 'UCD of column if any'),
      i('indexed', 'an indexed column; 1 means true, 0 means false', { notNull: true }),
      i('principal', 'a principal column; 1 means true, 0 means false', { notNull: true }),
      i('std', 'a standard column; 1 means true, 0 means false', { notNull: true }),
      i('column_index', 'recommended sort order when listing columns'),
    ],
    foreignKeys: [
      {
        keyId: 'columns_table',
        targetTable: 'TAP_SCHEMA.tables',
        columns: [['table_name', 'table_name']],
        description: 'table of each column',
      },
    ],
  },
  {
    schema: 'TAP_SCHEMA',
    name: 'TAP_SCHEMA.keys',
    sqlName: 'tap_schema_keys',
    type: 'table',
    description: 'Foreign keys between the published tables',
    columns: [
      s('key_id', 'unique key identifier', { notNull: true }),
      s('from_table', 'fully qualified table name', { notNull: true }),
      s('target_table', 'fully qualified table name', { notNull: true }),
      s('description', 'description of this key'),
      s('utype', 'utype of this key'),
    ],
    foreignKeys: [
      {
        keyId: 'keys_from',
        targetTable: 'TAP_SCHEMA.tables',
        columns: [['from_table', 'table_name']],
        description: 'table a key starts from',
      },
      {
        keyId: 'keys_target',
        targetTable: 'TAP_SCHEMA.tables',
        columns: [['target_table', 'table_name']],
        description: 'table a key points at',
      },
    ],
  },
  {
    schema: 'TAP_SCHEMA',
    name: 'TAP_SCHEMA.key_columns',
    sqlName: 'tap_schema_key_columns',
    type: 'table',
    description: 'The columns of the foreign keys',
    columns: [
      s('key_id', 'key identifier from TAP_SCHEMA.keys', { notNull: true }),
      s('from_column', 'key column name in the from_table', { notNull: true }),
      s('target_column', 'key column name in the target_table', { notNull: true }),
    ],
    foreignKeys: [
      { keyId: 'key_columns_key', targetTable: 'TAP_SCHEMA.keys', columns: [['key_id', 'key_id']], description: 'key of each column' },
    ],
  },
];

export type Row = Record<string, string | number | null>;

export interface TapSchemaRows {
  schemas: Row[];
  tables: Row[];
  columns: Row[];
  keys: Row[];
  keyColumns: Row[];
}

/** The TAP_SCHEMA rows describing `tables` (which should include TAP_SCHEMA_TABLES). */
export function tapSchemaRows(schemas: readonly SchemaDef[], tables: readonly TableDef[]): TapSchemaRows {
  const rows: TapSchemaRows = { schemas: [], tables: [], columns: [], keys: [], keyColumns: [] };
  schemas.forEach((schema, index) => {
    rows.schemas.push({ schema_name: schema.name, utype: schema.utype ?? null, description: schema.description, schema_index: index });
  });
  tables.forEach((table, tableIndex) => {
    rows.tables.push({
      schema_name: table.schema,
      table_name: table.name,
      table_type: table.type,
      utype: table.utype ?? null,
      description: table.description,
      table_index: tableIndex,
    });
    table.columns.forEach((column, columnIndex) => {
      rows.columns.push({
        table_name: table.name,
        column_name: publishedColumnName(column),
        datatype: column.datatype,
        arraysize: column.arraysize ?? null,
        xtype: column.xtype ?? null,
        size_: null,
        description: column.description,
        utype: column.utype ?? null,
        unit: column.unit ?? null,
        ucd: column.ucd ?? null,
        indexed: column.indexed ? 1 : 0,
        principal: column.principal ? 1 : 0,
        std: column.std ? 1 : 0,
        column_index: columnIndex,
      });
    });
    for (const key of table.foreignKeys ?? []) {
      rows.keys.push({
        key_id: key.keyId,
        from_table: table.name,
        target_table: key.targetTable,
        description: key.description ?? null,
        utype: null,
      });
      for (const [from, target] of key.columns) rows.keyColumns.push({ key_id: key.keyId, from_column: from, target_column: target });
    }
  });
  return rows;
}

/** `CREATE TABLE` for a published table, from its definition. */
export function createTableSql(table: TableDef, extraColumns: readonly string[] = []): string {
  const columns = table.columns.map((c) => `"${columnSqlName(c)}" ${c.sqlType}${c.notNull ? ' NOT NULL' : ''}`);
  return `CREATE TABLE "${table.sqlName}" (${[...extraColumns, ...columns].join(', ')})`;
}
