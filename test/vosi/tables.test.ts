import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { PUBLISHED_SCHEMAS, PUBLISHED_TABLES } from '../../shared/obscore/published';
import type { SchemaDef, TableDef } from '../../shared/tapschema';
import { findTable, tablesetXml, tableXml } from '../../shared/vosi';
import { child, childNames, children, parseDocument, type XmlElement } from './parse';

const ROOT_NAMESPACES = {
  'xmlns:vosi': 'http://www.ivoa.net/xml/VOSITables/v1.0',
  'xmlns:vs': 'http://www.ivoa.net/xml/VODataService/v1.1',
  'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
};

const tableset = parseDocument(tablesetXml(PUBLISHED_SCHEMAS, PUBLISHED_TABLES, { rowCounts: new Map([['ivoa.ObsCore', 1234]]) }));
const schemas = children(tableset, 'schema');
const allTables = schemas.flatMap((s) => children(s, 'table'));

function table(name: string): XmlElement {
  const found = allTables.find((t) => child(t, 'name').text === name);
  if (!found) throw new Error(`no table ${name}`);
  return found;
}

function column(tableElement: XmlElement, name: string): XmlElement {
  const found = children(tableElement, 'column').find((c) => child(c, 'name').text === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

describe('VOSI tableset from the published tables', () => {
  test('root <vosi:tableset> with its namespaces; one <schema> per published schema, in order', () => {
    expect(tableset.name).toBe('vosi:tableset');
    expect(tableset.attributes).toEqual(ROOT_NAMESPACES);
    expect(childNames(tableset)).toEqual(PUBLISHED_SCHEMAS.map(() => 'schema'));
    expect(schemas.map((s) => child(s, 'name').text)).toEqual(['ivoa', 'TAP_SCHEMA']);
    expect(childNames(schemas[0]!)).toEqual(['name', 'description', 'table']);
  });

  test('ivoa holds ivoa.ObsCore; TAP_SCHEMA holds its five tables', () => {
    const names = (schema: XmlElement) => children(schema, 'table').map((t) => child(t, 'name').text);
    expect(names(schemas[0]!)).toEqual(['ivoa.ObsCore']);
    expect(names(schemas[1]!)).toEqual([
      'TAP_SCHEMA.schemas',
      'TAP_SCHEMA.tables',
      'TAP_SCHEMA.columns',
      'TAP_SCHEMA.keys',
      'TAP_SCHEMA.key_columns',
    ]);
    expect(allTables.map((t) => t.attributes)).toEqual(PUBLISHED_TABLES.map(() => ({ type: 'table' })));
  });

  test('ivoa.ObsCore: table elements in schema order, its utype and row count, every column in definition order', () => {
    const obscore = table('ivoa.ObsCore');
    const names = childNames(obscore);
    expect(names.slice(0, 4)).toEqual(['name', 'description', 'utype', 'nrows']);
    expect(names.slice(4)).toEqual(OBSCORE_COLUMNS.map(() => 'column'));
    expect(child(obscore, 'utype').text).toBe('ivo://ivoa.net/std/ObsCore#core-1.1');
    expect(child(obscore, 'nrows').text).toBe('1234');
    expect(children(obscore, 'column').map((c) => child(c, 'name').text)).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
  });

  test('s_ra: deg, pos.eq.ra, ObsCore utype, VOTableType double, indexed, standard', () => {
    const sRa = column(table('ivoa.ObsCore'), 's_ra');
    expect(sRa.attributes).toEqual({ std: 'true' });
    expect(childNames(sRa)).toEqual(['name', 'description', 'unit', 'ucd', 'utype', 'dataType', 'flag', 'flag', 'flag']);
    expect(child(sRa, 'unit').text).toBe('deg');
    expect(child(sRa, 'ucd').text).toBe('pos.eq.ra');
    expect(child(sRa, 'utype').text).toBe('obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1');
    expect(child(sRa, 'dataType').attributes).toEqual({ 'xsi:type': 'vs:VOTableType' });
    expect(child(sRa, 'dataType').text).toBe('double');
    expect(children(sRa, 'flag').map((f) => f.text)).toEqual(['indexed', 'principal', 'nullable']);
  });

  test('access_url: variable-length char, meta.ref.url, no unit', () => {
    const accessUrl = column(table('ivoa.ObsCore'), 'access_url');
    expect(childNames(accessUrl)).toEqual(['name', 'description', 'ucd', 'utype', 'dataType', 'flag', 'flag']);
    expect(child(accessUrl, 'ucd').text).toBe('meta.ref.url');
    expect(child(accessUrl, 'utype').text).toBe('obscore:Access.reference');
    expect(child(accessUrl, 'dataType').attributes).toEqual({ 'xsi:type': 'vs:VOTableType', arraysize: '*' });
    expect(child(accessUrl, 'dataType').text).toBe('char');
  });

  test('the xtype goes to extendedType; not-null columns are not nullable; non-standard columns say std="false"', () => {
    const obscore = table('ivoa.ObsCore');
    expect(child(column(obscore, 's_region'), 'dataType').attributes).toEqual({
      'xsi:type': 'vs:VOTableType',
      arraysize: '*',
      extendedType: 'adql:REGION',
    });
    expect(children(column(obscore, 'obs_publisher_did'), 'flag').map((f) => f.text)).toEqual(['indexed', 'principal']);
    expect(child(column(obscore, 'calib_level'), 'dataType').text).toBe('int');
    expect(column(obscore, 'lsst_band').attributes).toEqual({ std: 'false' });
  });

  test('published column names, never the physical ones (TAP_SCHEMA.columns "size" is size_ in SQLite)', () => {
    const names = children(table('TAP_SCHEMA.columns'), 'column').map((c) => child(c, 'name').text);
    // TAP 1.1 §4.3: the reserved word is published delimited, as taplint (E-TME-CRSV) requires.
    expect(names).toContain('"size"');
    expect(names).not.toContain('size_');
  });

  test('foreign keys: targetTable, fkColumn (fromColumn, targetColumn), description', () => {
    const keys = children(table('TAP_SCHEMA.keys'), 'foreignKey');
    expect(keys).toHaveLength(2);
    expect(childNames(keys[0]!)).toEqual(['targetTable', 'fkColumn', 'description']);
    expect(child(keys[0]!, 'targetTable').text).toBe('TAP_SCHEMA.tables');
    const fk = child(keys[0]!, 'fkColumn');
    expect(fk.children.map((c) => [c.name, c.text])).toEqual([
      ['fromColumn', 'from_table'],
      ['targetColumn', 'table_name'],
    ]);
    expect(childNames(table('TAP_SCHEMA.columns')).slice(-1)).toEqual(['foreignKey']);
  });

  test('detail=min: the same schemas and tables without columns or foreign keys', () => {
    const min = parseDocument(tablesetXml(PUBLISHED_SCHEMAS, PUBLISHED_TABLES, { detail: 'min' }));
    const tables = children(min, 'schema').flatMap((s) => children(s, 'table'));
    expect(tables.map((t) => child(t, 'name').text)).toEqual(PUBLISHED_TABLES.map((t) => t.name));
    for (const t of tables) expect(childNames(t).filter((n) => n === 'column' || n === 'foreignKey')).toEqual([]);
    expect(childNames(tables[0]!)).toEqual(['name', 'description', 'utype']);
  });

  test('a schema without tables is still listed; a table outside every schema is refused', () => {
    const lonely: SchemaDef = { name: 'empty', description: 'nothing yet' };
    const doc = parseDocument(tablesetXml([lonely], []));
    expect(children(doc, 'schema').map((s) => childNames(s))).toEqual([['name', 'description']]);
    expect(() => tablesetXml([lonely], PUBLISHED_TABLES)).toThrow(/ivoa\.ObsCore is in schema ivoa/);
  });

  test('descriptions and names are escaped', () => {
    const odd: TableDef = {
      schema: 's',
      name: 's.t',
      sqlName: 's_t',
      type: 'view',
      description: `rows with a < b & c > "d" or 'e'`,
      columns: [{ name: 'x', datatype: 'short', description: 'x <&> y', sqlType: 'INTEGER', notNull: true }],
    };
    const xml = tablesetXml([{ name: 's', description: 'A & B' }], [odd]);
    expect(xml).toContain('a &lt; b &amp; c &gt; &quot;d&quot; or &apos;e&apos;');
    const t = child(child(parseDocument(xml), 'schema'), 'table');
    expect(t.attributes).toEqual({ type: 'view' });
    expect(child(t, 'description').text).toBe(`rows with a < b & c > "d" or 'e'`);
    const x = child(t, 'column');
    expect(x.attributes).toEqual({ std: 'false' });
    expect(child(x, 'description').text).toBe('x <&> y');
    expect(children(x, 'flag')).toEqual([]);
  });
});

describe('VOSI single table (/tables/{name})', () => {
  test('<vosi:table> root with the table type and every column', () => {
    const obscore = PUBLISHED_TABLES.find((t) => t.name === 'ivoa.ObsCore')!;
    const root = parseDocument(tableXml(obscore));
    expect(root.name).toBe('vosi:table');
    expect(root.attributes).toEqual({ ...ROOT_NAMESPACES, type: 'table' });
    expect(childNames(root).slice(0, 3)).toEqual(['name', 'description', 'utype']);
    expect(children(root, 'column')).toHaveLength(OBSCORE_COLUMNS.length);
    expect(child(root, 'name').text).toBe('ivoa.ObsCore');
  });

  test('with a row count, and with its foreign keys after the columns', () => {
    const root = parseDocument(tableXml(findTable(PUBLISHED_TABLES, 'TAP_SCHEMA.key_columns')!, 5));
    expect(childNames(root)).toEqual(['name', 'description', 'nrows', 'column', 'column', 'column', 'foreignKey']);
    expect(child(root, 'nrows').text).toBe('5');
  });

  test('findTable: exact name first, else the single case-insensitive match', () => {
    expect(findTable(PUBLISHED_TABLES, 'ivoa.ObsCore')?.name).toBe('ivoa.ObsCore');
    expect(findTable(PUBLISHED_TABLES, 'IVOA.obscore')?.name).toBe('ivoa.ObsCore');
    expect(findTable(PUBLISHED_TABLES, 'tap_schema.columns')?.name).toBe('TAP_SCHEMA.columns');
    expect(findTable(PUBLISHED_TABLES, 'ivoa_obscore')).toBeUndefined();
    expect(findTable(PUBLISHED_TABLES, 'ObsCore')).toBeUndefined();
  });
});
