/**
 * VOSI-tables documents (VOSI 1.1 §3.3, schema VOSITables-v1.1 over VODataService 1.2):
 * the `<vosi:tableset>` of `/tables` (full, or `detail=min` without columns and keys) and the
 * `<vosi:table>` of a `/tables/{name}` child resource. They are built from the same
 * published table definitions as TAP_SCHEMA (shared/tapschema), so the two cannot disagree;
 * names are the published ones, never the physical SQLite ones.
 */
import { publishedColumnName, type ColumnDef, type ForeignKey, type SchemaDef, type TableDef } from '../tapschema/model';
import { element, NAMESPACES, optionalText, textElement, votableDataTypeXml, xmlDocument } from './xml';

/** VOSI 1.1 §3.3.1: `max` lists columns and foreign keys, `min` only schemas and tables. */
export type TablesDetail = 'min' | 'max';

export interface TablesetOptions {
  detail?: TablesDetail;
  /** Approximate row counts by published table name, written as `<nrows>`. */
  rowCounts?: ReadonlyMap<string, number>;
}

const ROOT_NAMESPACES = { 'xmlns:vosi': NAMESPACES.vosiTables, 'xmlns:vs': NAMESPACES.vs, 'xmlns:xsi': NAMESPACES.xsi } as const;

/**
 * VODataService flags: `indexed` and `nullable` are the standard's own, `principal` carries
 * TAP_SCHEMA.columns.principal (TAP 1.1 §4.3). TAP_SCHEMA's `std` goes to the std attribute.
 */
function columnFlags(column: ColumnDef): string[] {
  const flags: string[] = [];
  if (column.indexed) flags.push('indexed');
  if (column.principal) flags.push('principal');
  if (!column.notNull) flags.push('nullable');
  return flags;
}

/** vs:TableParam: name, description, unit, ucd, utype, dataType, flag*, and @std. */
function columnXml(column: ColumnDef): string {
  return element('column', { std: Boolean(column.std) }, [
    textElement('name', publishedColumnName(column)),
    optionalText('description', column.description),
    optionalText('unit', column.unit),
    optionalText('ucd', column.ucd),
    optionalText('utype', column.utype),
    votableDataTypeXml(column),
    ...columnFlags(column).map((flag) => textElement('flag', flag)),
  ]);
}

/** vs:ForeignKey: targetTable, fkColumn+, description. */
function foreignKeyXml(key: ForeignKey): string {
  const columns = key.columns.map(([from, target]) =>
    element('fkColumn', {}, [textElement('fromColumn', from), textElement('targetColumn', target)]),
  );
  return element('foreignKey', {}, [textElement('targetTable', key.targetTable), ...columns, optionalText('description', key.description)]);
}

/** The children of a vs:Table in schema order: name, description, utype, nrows, column*, foreignKey*. */
function tableContent(table: TableDef, detail: TablesDetail, rowCount: number | undefined): string[] {
  return [
    textElement('name', table.name),
    optionalText('description', table.description),
    optionalText('utype', table.utype),
    optionalText('nrows', rowCount),
    ...(detail === 'max' ? [...table.columns.map(columnXml), ...(table.foreignKeys ?? []).map(foreignKeyXml)] : []),
  ];
}

/** vs:TableSchema: name, description, utype, table*. */
function schemaXml(schema: SchemaDef, tables: readonly TableDef[], options: TablesetOptions): string {
  const detail = options.detail ?? 'max';
  return element('schema', {}, [
    textElement('name', schema.name),
    optionalText('description', schema.description),
    optionalText('utype', schema.utype),
    ...tables.map((t) => element('table', { type: t.type }, tableContent(t, detail, options.rowCounts?.get(t.name)))),
  ]);
}

/**
 * The `/tables` document: each schema in the given order with its tables in the given
 * order. Every table must belong to one of the schemas (a table outside any schema would
 * not be valid VODataService).
 */
export function tablesetXml(schemas: readonly SchemaDef[], tables: readonly TableDef[], options: TablesetOptions = {}): string {
  const orphan = tables.find((t) => !schemas.some((s) => s.name === t.schema));
  if (orphan) throw new RangeError(`table ${orphan.name} is in schema ${orphan.schema}, which is not among the schemas`);
  const body = schemas.map((schema) =>
    schemaXml(
      schema,
      tables.filter((t) => t.schema === schema.name),
      options,
    ),
  );
  return xmlDocument(element('vosi:tableset', ROOT_NAMESPACES, body));
}

/** The `/tables/{name}` document (VOSI 1.1 §3.3.1): one `<vosi:table>` in full detail. */
export function tableXml(table: TableDef, rowCount?: number): string {
  return xmlDocument(element('vosi:table', { ...ROOT_NAMESPACES, type: table.type }, tableContent(table, 'max', rowCount)));
}

/**
 * The table a `/tables/{name}` request names: the exact published name, or else the one name
 * equal to it ignoring case (ADQL identifiers are case-insensitive; docs/architecture.md).
 */
export function findTable(tables: readonly TableDef[], name: string): TableDef | undefined {
  const exact = tables.find((t) => t.name === name);
  if (exact) return exact;
  const folded = tables.filter((t) => t.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}
