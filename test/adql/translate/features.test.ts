import { parseAdql } from '../../../shared/adql';
import { AdqlValidationError, parseShape, translateAdql } from '../../../shared/adql/translate';
import { PUBLISHED_TABLES } from '../../../shared/obscore/published';
import { CORPUS } from '../corpus';
import { fail, ids, openFixture, type Fixture } from './fixture';

let fx: Fixture;
beforeAll(async () => {
  fx = await openFixture();
});
afterAll(() => fx.close());

describe('spatial prefilters', () => {
  /** The index searches of a query's plan. */
  const plan = (adql: string): string => {
    const t = translateAdql(parseAdql(adql), PUBLISHED_TABLES);
    return (fx.db.prepare(`EXPLAIN QUERY PLAN ${t.sql}`).all(...t.params) as { detail: string }[]).map((r) => r.detail).join('\n');
  };
  const SKY = /SEARCH ivoa_obscore USING COVERING INDEX ivoa_obscore_sky \(<expr>=/;
  const RTREE = /ivoa_obscore_rtree VIRTUAL TABLE/;

  test('a constant cone on s_ra/s_dec uses the sky index, with the same rows', () => {
    const cone = 'CONTAINS(POINT(o.s_ra, o.s_dec), CIRCLE(0, 0.5, 0.1))';
    const indexed = fx.run(`SELECT obs_id FROM ivoa.ObsCore AS o WHERE ${cone} = 1 AND o.calib_level = 2`);
    expect(plan(`SELECT obs_id FROM ivoa.ObsCore AS o WHERE ${cone} = 1 AND o.calib_level = 2`)).toMatch(SKY);
    expect(ids(indexed.rows)).toEqual(['east-of-0', 'west-of-0']);
    // Same condition not in a top-level conjunct: no prefilter, same answer.
    const plain = fx.run(`SELECT obs_id FROM ivoa.ObsCore AS o WHERE (${cone} = 1 OR 1 = 0) AND o.calib_level = 2`);
    expect(plan(`SELECT obs_id FROM ivoa.ObsCore AS o WHERE (${cone} = 1 OR 1 = 0) AND o.calib_level = 2`)).not.toMatch(SKY);
    expect(ids(plain.rows)).toEqual(ids(indexed.rows));
  });

  test('a point in another constant shape, and s_region against a constant shape either way round, use the R*Tree, with the same rows', () => {
    const queries = [
      "SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), BOX('ICRS', 0, 0.5, 0.4, 0.4))",
      'SELECT obs_id FROM ivoa.ObsCore WHERE CONTAINS(POINT(s_ra, s_dec), POLYGON(359.7, 0.2, 0.3, 0.2, 0.3, 0.8, 359.7, 0.8)) = 1',
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = INTERSECTS(s_region, CIRCLE(POINT(0, 0.5), 0.1))',
      "SELECT obs_id FROM ivoa.ObsCore WHERE INTERSECTS(CIRCLE('ICRS', 0, 0.5, 0.1), s_region) = 1 AND calib_level >= 0",
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(0.01, 0.5), s_region)',
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(s_region, CIRCLE(0.01, 0.5, 3))',
    ];
    for (const adql of queries) {
      expect(plan(adql)).toMatch(RTREE);
      const unfiltered = adql.replace('WHERE ', 'WHERE 1 = 1 AND (').concat(' OR 1 = 0)');
      expect(plan(unfiltered)).not.toMatch(RTREE);
      const rows = ids(fx.run(adql).rows);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(ids(fx.run(unfiltered).rows));
    }
  });

  test('not used for other points, non-constant or invalid shapes, or another query level', () => {
    for (const adql of [
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_dec, s_ra), CIRCLE(0, 0.5, 0.1))',
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), CIRCLE(s_ra, 0.5, 0.1))',
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = INTERSECTS(s_region, CIRCLE(s_ra, 0.5, 0.1))',
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = INTERSECTS(s_region, s_region)',
      'SELECT s_ra FROM ivoa.ObsCore AS o WHERE EXISTS (SELECT * FROM ivoa.ObsCore AS p WHERE 1 = CONTAINS(POINT(o.s_ra, o.s_dec), CIRCLE(0, 0.5, 0.1)))',
    ]) {
      expect(plan(adql)).not.toMatch(SKY);
      expect(plan(adql)).not.toMatch(RTREE);
    }
    // An invalid constant circle is left to the SQL function, which reports it.
    expect(() => fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), CIRCLE(0, 95, 1))')).toThrow(
      /latitude 95 out of range/,
    );
  });

  test('the private _id column stays unreachable', () => {
    expect(fail('SELECT "_id" FROM ivoa.ObsCore')).toMatch(/^unknown column "_id"/);
  });
});

describe('more SQL', () => {
  test('derived table, HAVING and correlated scalar subquery', () => {
    const { rows } = fx.run(
      'SELECT b.band, b.n FROM (SELECT lsst_band AS band, COUNT(*) AS n FROM ivoa.ObsCore GROUP BY lsst_band HAVING COUNT(*) > 1) AS b ORDER BY b.n DESC',
    );
    expect(rows).toEqual([{ band: 'r', n: 4 }]);
    const corr = fx.run(
      "SELECT t.table_name, (SELECT COUNT(*) FROM TAP_SCHEMA.columns AS c WHERE c.table_name = t.table_name) AS n FROM TAP_SCHEMA.tables AS t WHERE t.schema_name = 'ivoa'",
    );
    expect(corr.rows).toEqual([{ table_name: 'ivoa.ObsCore', n: 37 }]);
  });

  test('set operations with ORDER BY of the result', () => {
    const { rows } = fx.run(
      "SELECT lsst_band FROM ivoa.ObsCore WHERE calib_level = 3 EXCEPT SELECT lsst_band FROM ivoa.ObsCore WHERE lsst_band = 'r' ORDER BY lsst_band DESC",
    );
    expect(rows.map((r) => r.lsst_band)).toEqual(['i', 'g']);
    expect(
      fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE lsst_band = 'r' INTERSECT SELECT obs_id FROM ivoa.ObsCore WHERE calib_level = 2").rows,
    ).toEqual([{ obs_id: 'calexp-r' }]);
    expect(fx.run('SELECT lsst_band FROM ivoa.ObsCore UNION ALL SELECT lsst_band FROM ivoa.ObsCore').rows).toHaveLength(16);
  });

  test('NATURAL join and t.*', () => {
    // schemas and tables share schema_name, utype and description: NATURAL compares all three.
    expect(fx.run('SELECT * FROM TAP_SCHEMA.schemas NATURAL JOIN TAP_SCHEMA.tables').rows).toHaveLength(0);
    const { rows, translated } = fx.run(
      "SELECT s.*, t.table_name FROM TAP_SCHEMA.schemas AS s JOIN TAP_SCHEMA.tables AS t USING (schema_name) WHERE t.table_name LIKE 'TAP%' ORDER BY 5",
    );
    expect(rows).toHaveLength(5);
    expect(translated.columns.map((c) => c.name)).toEqual(['schema_name', 'utype', 'description', 'schema_index', 'table_name']);
  });

  test('math and trig functions run in SQLite', () => {
    const { rows } = fx.run(
      "SELECT ABS(-2) AS a, CEILING(1.2) AS b, FLOOR(1.8) AS c, DEGREES(PI()) AS d, RADIANS(180) AS e, EXP(0) AS f, LOG(EXP(2)) AS g, LOG10(1000) AS h, MOD(7, 3) AS i, POWER(2, 10) AS j, ROUND(2.567, 2) AS k, TRUNCATE(2.567, 1) AS l, COT(PI() / 4) AS m, ATAN2(1, 1) AS n, ASIN(1) AS o, UPPER('ab') AS p, LOWER('AB') AS q, CAST(3.7 AS VARCHAR(2)) AS r FROM TAP_SCHEMA.schemas WHERE schema_name = 'ivoa'",
    );
    const r = rows[0]!;
    expect(r).toMatchObject({ a: 2, b: 2, c: 1, d: 180, f: 1, h: 3, i: 1, j: 1024, k: 2.57, l: 2.5, p: 'AB', q: 'ab', r: '3.' });
    expect(r.e as number).toBeCloseTo(Math.PI, 12);
    expect(r.g as number).toBeCloseTo(2, 12);
    expect(r.m as number).toBeCloseTo(1, 12);
    expect(r.n as number).toBeCloseTo(Math.PI / 4, 12);
    expect(r.o as number).toBeCloseTo(Math.PI / 2, 12);
    const rand = fx.run('SELECT RAND() AS x FROM TAP_SCHEMA.schemas').rows;
    for (const row of rand) expect(row.x as number).toBeGreaterThanOrEqual(0);
  });

  test('BETWEEN, IS NULL, NOT IN', () => {
    expect(ids(fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE lsst_patch BETWEEN 16 AND 17').rows)).toEqual(['coadd-i', 'coadd-r']);
    expect(fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE lsst_tract IS NULL').rows).toHaveLength(4);
    expect(fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE lsst_band NOT IN ('r', 'z', 'y')").rows).toHaveLength(2);
  });
});

describe('geometry functions', () => {
  test('POLYGON, BOX and REGION', () => {
    const poly = fx.run(
      'SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), POLYGON(55.5, -32.5, 55.9, -32.5, 55.9, -32.1, 55.5, -32.1))',
    );
    expect(poly.rows).toHaveLength(5);
    const box = fx.run('SELECT obs_id FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), BOX(150, 2, 1, 1))');
    expect(ids(box.rows)).toEqual(['far-coadd-r']);
    const region = fx.run("SELECT obs_id FROM ivoa.ObsCore WHERE 1 = INTERSECTS(s_region, REGION('Circle ICRS 150 2.2 0.01'))");
    expect(ids(region.rows)).toEqual(['far-coadd-r']);
  });

  test('CIRCLE(POINT, r), CENTROID, COORD2 and DALI output', () => {
    const { rows, translated } = fx.run(
      "SELECT CIRCLE(POINT(s_ra, s_dec), 1) AS c, COORD2(CENTROID(s_region)) AS d, DISTANCE(s_ra, s_dec, s_ra, s_dec + 1) AS one FROM ivoa.ObsCore WHERE obs_id = 'far-coadd-r'",
    );
    expect(rows[0]!.c).toBe('150 2.2 1');
    expect(rows[0]!.d as number).toBeCloseTo(2.2, 3);
    expect(rows[0]!.one as number).toBeCloseTo(1, 10);
    expect(translated.columns[0]).toMatchObject({ xtype: 'circle', datatype: 'char' });
  });

  test('CONTAINS of a circle or polygon in a circle', () => {
    const { rows } = fx.run(
      "SELECT CONTAINS(CIRCLE(10, 10, 1), CIRCLE(10, 10.5, 2)) AS inside, CONTAINS(CIRCLE(10, 10, 1), CIRCLE(10, 12, 1.5)) AS outside, CONTAINS(BOX(10, 10, 1, 1), CIRCLE(10, 10, 1)) AS box FROM TAP_SCHEMA.schemas WHERE schema_name = 'ivoa'",
    );
    expect(rows).toEqual([{ inside: 1, outside: 0, box: 1 }]);
    expect(() => fx.run('SELECT CONTAINS(CIRCLE(10, 10, 1), BOX(10, 10, 5, 5)) AS x FROM TAP_SCHEMA.schemas')).toThrow(/not supported/);
  });

  test('AVG keeps the unit, COUNT is long', () => {
    const { translated, rows } = fx.run('SELECT AVG(s_ra) AS m, COUNT(obs_id) AS n FROM ivoa.ObsCore WHERE lsst_tract = 4431');
    expect(translated.columns.map((c) => [c.datatype, c.unit])).toEqual([
      ['double', 'deg'],
      ['long', undefined],
    ]);
    expect(rows[0]!.m as number).toBeCloseTo((55.75 + 55.8 + 55.6) / 3, 10);
  });

  test('parseShape reads STC-S and DALI text', () => {
    expect(parseShape('Circle ICRS 1 2 3')).toEqual(parseShape('1 2 3'));
    expect(parseShape('10 20')).toMatchObject({ kind: 'point', ra: 10, dec: 20 });
  });
});

describe('more validation', () => {
  test('ORDER BY position out of range', () => {
    expect(fail('SELECT obs_id FROM ivoa.ObsCore ORDER BY 2')).toBe('ORDER BY position 2 is not in the select list (1 to 1)');
  });

  test('set operation column counts must agree', () => {
    expect(fail('SELECT obs_id FROM ivoa.ObsCore UNION SELECT obs_id, s_ra FROM ivoa.ObsCore')).toBe(
      'UNION operands have different numbers of columns (1 and 2)',
    );
  });

  test('a table alias hides the table name; unknown tables in subqueries', () => {
    expect(fail('SELECT ObsCore.obs_id FROM ivoa.ObsCore AS o')).toBe('unknown table "ObsCore" in column reference "ObsCore.obs_id"');
    expect(fail('SELECT obs_id FROM ivoa.ObsCore WHERE obs_id IN (SELECT x FROM ivoa.secret)')).toBe('unknown table "ivoa.secret"');
  });

  test('unknown qualified column', () => {
    expect(fail('SELECT o.foo FROM ivoa.ObsCore AS o')).toMatch(/^unknown column "o.foo" \(in ivoa.ObsCore: dataproduct_type, /);
  });
});

describe('robustness', () => {
  test('every corpus query translates or fails validation (never another error)', () => {
    for (const text of CORPUS) {
      try {
        translateAdql(parseAdql(text), PUBLISHED_TABLES);
      } catch (err) {
        expect(err).toBeInstanceOf(AdqlValidationError);
      }
    }
  });

  test('LEFT, RIGHT and FULL joins run', () => {
    for (const join of ['LEFT OUTER JOIN', 'RIGHT JOIN', 'FULL JOIN']) {
      const { rows } = fx.run(
        `SELECT s.schema_name, t.table_name FROM TAP_SCHEMA.schemas AS s ${join} TAP_SCHEMA.tables AS t ON s.schema_name = t.schema_name`,
      );
      expect(rows).toHaveLength(PUBLISHED_TABLES.length);
    }
  });
});
