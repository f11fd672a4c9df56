import { OBSCORE_COLUMNS } from '../../../shared/obscore/columns';
import { PUBLISHED_TABLES } from '../../../shared/obscore/published';
import { angularDistance } from '../../../shared/sky';
import { CORPUS } from '../corpus';
import { DID, fail, ids, openFixture, type Fixture } from './fixture';

let fx: Fixture;
beforeAll(async () => {
  fx = await openFixture();
});
afterAll(() => fx.close());

describe('Rubin tutorial queries', () => {
  const circleQuery =
    "SELECT * FROM ivoa.ObsCore WHERE 1=CONTAINS( POINT('ICRS', ivoa.ObsCore.s_ra, ivoa.ObsCore.s_dec), CIRCLE('ICRS', 55.74673760481304, -32.286155241413624, 10) )";
  const expected: [string, number][] = [
    [CORPUS[0]!, PUBLISHED_TABLES.length],
    [CORPUS[1]!, 2],
    [CORPUS[2]!, 1],
    [CORPUS[3]!, OBSCORE_COLUMNS.length],
    [CORPUS[4]!, 1],
    [CORPUS[5]!, 3],
    [circleQuery, 5],
    [CORPUS[6]!, 1],
    [CORPUS[7]!, 1],
    [CORPUS[8]!, 1],
  ];
  test.each(expected)('%s', (adql, count) => {
    expect(fx.run(adql).rows).toHaveLength(count);
  });

  test('SELECT * expands to the published columns in order, with metadata', () => {
    const { rows, translated } = fx.run(CORPUS[7]!);
    expect(translated.columns.map((c) => c.name)).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
    expect(Object.keys(rows[0]!)).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
    expect(rows[0]!.obs_publisher_did).toBe(DID);
    const sRa = translated.columns.find((c) => c.name === 's_ra')!;
    expect(sRa).toMatchObject({ datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra' });
    expect(sRa.column?.name).toBe('s_ra');
  });

  test('tract/patch/LIKE values', () => {
    const { rows } = fx.run(CORPUS[8]!);
    expect(rows[0]).toEqual({
      access_url: `/api/datalink/links?ID=${DID}`,
      dataproduct_subtype: 'lsst.deepCoadd_calexp',
      lsst_patch: 17,
      lsst_tract: 4431,
      lsst_band: 'i',
    });
  });

  test('GROUP BY counts and output names', () => {
    const { rows, translated } = fx.run(CORPUS[5]!);
    expect(translated.columns.map((c) => [c.name, c.datatype])).toEqual([
      ['dataproduct_type', 'char'],
      ['dataproduct_subtype', 'char'],
      ['calib_level', 'int'],
      ['count', 'long'],
    ]);
    expect(rows.map((r) => [r.dataproduct_subtype, r.count]).sort()).toEqual([
      ['lsst.calexp', 3],
      ['lsst.deepCoadd_calexp', 4],
      ['lsst.goodSeeingDiff_differenceExp', 1],
    ]);
  });
});

describe('TAP_SCHEMA', () => {
  test('tables listed', () => {
    const { rows } = fx.run('SELECT table_name FROM TAP_SCHEMA.tables ORDER BY table_name');
    expect(rows.map((r) => r.table_name)).toEqual(PUBLISHED_TABLES.map((t) => t.name).sort());
  });

  test('ObsCore columns with datatype and UCD', () => {
    const { rows } = fx.run(
      "SELECT column_name, datatype, ucd FROM tap_schema.columns WHERE table_name = 'ivoa.ObsCore' ORDER BY column_index",
    );
    expect(rows.find((r) => r.column_name === 's_ra')).toEqual({ column_name: 's_ra', datatype: 'double', ucd: 'pos.eq.ra' });
  });

  test('size maps to its physical column', () => {
    const { translated } = fx.run('SELECT size FROM TAP_SCHEMA.columns');
    expect(translated.sql).toContain('"size_"');
  });

  test('join of tables and columns with aliases', () => {
    const { rows } = fx.run(
      'SELECT t.table_name, COUNT(*) AS n FROM TAP_SCHEMA.tables AS t JOIN TAP_SCHEMA.columns AS c ON t.table_name = c.table_name GROUP BY t.table_name ORDER BY n DESC, 1',
    );
    expect(rows[0]).toEqual({ table_name: 'ivoa.ObsCore', n: OBSCORE_COLUMNS.length });
    expect(rows).toHaveLength(PUBLISHED_TABLES.length);
  });

  test('qualified by schema.table and JOIN USING', () => {
    const { rows } = fx.run(
      "SELECT TAP_SCHEMA.tables.table_name, schema_name FROM TAP_SCHEMA.tables JOIN TAP_SCHEMA.schemas USING (schema_name) WHERE schema_name = 'ivoa'",
    );
    expect(rows).toEqual([{ table_name: 'ivoa.ObsCore', schema_name: 'ivoa' }]);
  });
});

describe('query features', () => {
  test('TOP, ORDER BY alias DESC and OFFSET', () => {
    expect(fx.run('SELECT TOP 2 obs_id AS o FROM ivoa.ObsCore ORDER BY o DESC').rows.map((r) => r.o)).toEqual(['west-of-0', 'far-coadd-r']);
    const all = fx.run('SELECT obs_id FROM ivoa.ObsCore ORDER BY 1').rows.map((r) => r.obs_id);
    expect(fx.run('SELECT obs_id FROM ivoa.ObsCore ORDER BY 1 OFFSET 6').rows.map((r) => r.obs_id)).toEqual(all.slice(6));
    expect(fx.run('SELECT TOP 2 obs_id FROM ivoa.ObsCore ORDER BY 1 OFFSET 1').rows.map((r) => r.obs_id)).toEqual(all.slice(1, 3));
  });

  test('DISTINCT', () => {
    expect(fx.run('SELECT DISTINCT lsst_band FROM ivoa.ObsCore ORDER BY lsst_band').rows.map((r) => r.lsst_band)).toEqual([
      'g',
      'i',
      'r',
      'y',
      'z',
    ]);
  });

  test('LIKE is case-sensitive, ILIKE is not', () => {
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE obs_id LIKE 'COADD%'").rows).toHaveLength(0);
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE obs_id LIKE 'coadd_%'").rows).toHaveLength(3);
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE obs_id ILIKE 'COADD%'").rows).toHaveLength(3);
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE obs_id NOT LIKE '%-r'").rows).toHaveLength(4);
  });

  test('IN list, IN subquery, EXISTS and scalar subquery', () => {
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE lsst_band IN ('g', 'i')").rows).toHaveLength(2);
    expect(
      fx.run(
        "SELECT table_name FROM TAP_SCHEMA.tables WHERE table_name IN (SELECT table_name FROM TAP_SCHEMA.columns WHERE column_name = 's_ra')",
      ).rows,
    ).toEqual([{ table_name: 'ivoa.ObsCore' }]);
    expect(
      fx.run(
        "SELECT s.schema_name FROM TAP_SCHEMA.schemas AS s WHERE EXISTS (SELECT * FROM TAP_SCHEMA.tables AS t WHERE t.schema_name = s.schema_name AND t.table_name LIKE '%ObsCore')",
      ).rows,
    ).toEqual([{ schema_name: 'ivoa' }]);
    expect(fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE s_ra = (SELECT MAX(s_ra) FROM ivoa.ObsCore)').rows).toEqual([
      { obs_id: 'west-of-0' },
    ]);
  });

  test('UNION, CASE, CAST, COALESCE, math, concatenation, <>', () => {
    expect(
      fx
        .run("SELECT obs_id FROM ivoa.ObsCore WHERE lsst_band = 'g' UNION SELECT obs_id FROM ivoa.ObsCore WHERE lsst_band = 'i' ORDER BY 1")
        .rows.map((r) => r.obs_id),
    ).toEqual(['coadd-g', 'coadd-i']);
    const { rows, translated } = fx.run(
      "SELECT CASE WHEN calib_level > 2 THEN 'coadd' ELSE 'visit' END AS k, CAST(s_ra AS INTEGER) AS ira, COALESCE(lsst_tract, -1) AS tr, SQRT(16) AS four, obs_id || '/' || lsst_band AS tag, 7 / 2 AS half FROM ivoa.ObsCore WHERE obs_id = 'calexp-r' AND lsst_band <> 'g' AND lsst_band != 'i'",
    );
    expect(rows).toEqual([{ k: 'visit', ira: 55, tr: -1, four: 4, tag: 'calexp-r/r', half: 3 }]);
    expect(translated.columns.map((c) => c.datatype)).toEqual(['char', 'int', 'long', 'double', 'char', 'long']);
  });

  test('GROUP BY with bare columns is accepted (lenient)', () => {
    expect(fx.run(CORPUS[4]!).rows[0]).toMatchObject({ dataproduct_type: 'image', count: 8 });
  });

  test('generated names are unique', () => {
    const { translated } = fx.run('SELECT obs_id, obs_id, 1 + 1, COUNT(*), COUNT(*) FROM ivoa.ObsCore');
    expect(translated.columns.map((c) => c.name)).toEqual(['obs_id', 'obs_id_2', 'col3', 'count', 'count_2']);
  });
});

describe('geometry', () => {
  test('cone with CONTAINS(...)=1 selects the right rows', () => {
    const { rows } = fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE CONTAINS(POINT(s_ra, s_dec), CIRCLE(55.7, -32.3, 0.06)) = 1');
    expect(ids(rows)).toEqual(['calexp-r', 'coadd-r', 'diff-r']);
  });

  test('cone across RA 0', () => {
    const { rows } = fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 0, 0.5, 0.1))");
    expect(ids(rows)).toEqual(['east-of-0', 'west-of-0']);
  });

  test('INTERSECTS with the footprint', () => {
    const { rows } = fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE INTERSECTS(s_region, CIRCLE(0.2, 0.5, 0.1)) = 1');
    expect(ids(rows)).toEqual(['east-of-0']);
  });

  test('DISTANCE, POINT, AREA in the select list', () => {
    const { rows, translated } = fx.run(
      "SELECT obs_id, DISTANCE(POINT(s_ra, s_dec), POINT(55.7, -32.3)) AS d, POINT(s_ra, s_dec) AS p, AREA(s_region) AS a, COORD1(POINT(s_ra, s_dec)) AS c1 FROM ivoa.ObsCore WHERE obs_id = 'coadd-i'",
    );
    expect(rows[0]!.d as number).toBeCloseTo(angularDistance({ ra: 55.8, dec: -32.3 }, { ra: 55.7, dec: -32.3 }), 10);
    expect(rows[0]!.p).toBe('55.8 -32.3');
    expect(rows[0]!.a as number).toBeCloseTo(0.04, 3);
    expect(rows[0]!.c1).toBe(55.8);
    expect(translated.columns.map((c) => [c.name, c.datatype, c.xtype])).toEqual([
      ['obs_id', 'char', undefined],
      ['d', 'double', undefined],
      ['p', 'char', 'point'],
      ['a', 'double', undefined],
      ['c1', 'double', undefined],
    ]);
  });
});

describe('validation', () => {
  test('unknown table', () => {
    expect(fail('SELECT * FROM ivoa.nothing')).toBe('unknown table "ivoa.nothing"');
  });

  test('unknown column lists the columns in scope', () => {
    expect(fail('SELECT foo FROM ivoa.ObsCore')).toBe(
      `unknown column "foo" (in ivoa.ObsCore: ${OBSCORE_COLUMNS.map((c) => c.name).join(', ')})`,
    );
  });

  test('ambiguous column', () => {
    expect(fail('SELECT schema_name FROM TAP_SCHEMA.schemas, TAP_SCHEMA.tables')).toBe(
      'ambiguous column "schema_name" (in TAP_SCHEMA.schemas, TAP_SCHEMA.tables)',
    );
  });

  test('private and physical names are unknown', () => {
    expect(fail('SELECT "_file" FROM ivoa.ObsCore')).toMatch(/^unknown column "_file" \(in ivoa.ObsCore: /);
    expect(fail('SELECT * FROM ivoa_obscore')).toBe('unknown table "ivoa_obscore"');
    expect(fail('SELECT * FROM sqlite_master')).toBe('unknown table "sqlite_master"');
    expect(fail('SELECT size_ FROM TAP_SCHEMA.columns')).toMatch(/^unknown column "size_"/);
    expect(fail('SELECT x.obs_id FROM ivoa.ObsCore')).toBe('unknown table "x" in column reference "x.obs_id"');
  });

  test('quoted identifiers are case-sensitive', () => {
    expect(fail('SELECT "S_RA" FROM ivoa.ObsCore')).toMatch(/^unknown column "S_RA" \(in /);
    expect(fx.run('SELECT "s_ra" FROM "ivoa"."ObsCore"').rows).toHaveLength(8);
    expect(fail('SELECT * FROM ivoa."obscore"')).toBe('unknown table "ivoa.obscore"');
  });

  test('string literals are bound, not spliced', () => {
    const { rows, translated } = fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE obs_id = 'x''; DROP TABLE ivoa_obscore; --'");
    expect(rows).toHaveLength(0);
    expect(translated.sql).not.toContain('DROP');
    expect(translated.sql).toContain('?');
    expect(translated.params).toEqual(["x'; DROP TABLE ivoa_obscore; --"]);
  });

  test('unknown functions are rejected', () => {
    expect(fail('SELECT my_udf(s_ra) FROM ivoa.ObsCore')).toBe('unknown function "my_udf"');
  });
});
