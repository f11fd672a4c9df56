import { parseAdql } from '../../shared/adql';
import { and, bin, cmp, col, expr, geom, id, int, item, neg, not, num, or, p, select, str, table, tableName, where } from './helpers';

describe('Rubin tutorial queries', () => {
  const obscore = table('ObsCore', 'ivoa');
  const circleQuery =
    "SELECT * FROM ivoa.ObsCore WHERE 1=CONTAINS( POINT('ICRS', ivoa.ObsCore.s_ra, ivoa.ObsCore.s_dec), CIRCLE('ICRS', 55.74673760481304, -32.286155241413624, 10) )";
  const contains = cmp(
    '=',
    int(1),
    geom(
      'CONTAINS',
      null,
      geom('POINT', str('ICRS'), col('s_ra', 'ObsCore', 'ivoa'), col('s_dec', 'ObsCore', 'ivoa')),
      geom('CIRCLE', str('ICRS'), num('55.74673760481304', 'decimal'), neg(num('32.286155241413624', 'decimal')), int(10)),
    ),
  );

  test('TAP_SCHEMA.tables', () => {
    expect(p('\n  SELECT schema_name, table_name, description FROM TAP_SCHEMA.tables\n  ')).toEqual(
      select({
        items: [item(col('schema_name')), item(col('table_name')), item(col('description'))],
        from: [table('tables', 'TAP_SCHEMA')],
      }),
    );
  });

  test('tap_schema.schemas', () => {
    expect(p('SELECT * FROM tap_schema.schemas\n')).toEqual(select({ from: [table('schemas', 'tap_schema')] }));
  });

  test('lower-case keywords, LIKE and ORDER BY ASC', () => {
    expect(p("  SELECT * FROM tap_schema.tables where schema_name like 'ivoa' order by table_index ASC  ")).toEqual(
      select({
        from: [table('tables', 'tap_schema')],
        where: { kind: 'like', negated: false, caseInsensitive: false, expr: col('schema_name'), pattern: str('ivoa') },
        orderBy: [{ target: col('table_index'), direction: 'ASC' }],
      }),
    );
  });

  test('TAP_SCHEMA.columns', () => {
    expect(p("SELECT column_name, datatype, unit, ucd, utype from TAP_SCHEMA.columns where table_name='ivoa.ObsCore'")).toEqual(
      select({
        items: ['column_name', 'datatype', 'unit', 'ucd', 'utype'].map((c) => item(col(c))),
        from: [table('columns', 'TAP_SCHEMA')],
        where: cmp('=', col('table_name'), str('ivoa.ObsCore')),
      }),
    );
  });

  test('COUNT(*) with GROUP BY', () => {
    const count = { kind: 'aggregate', name: 'COUNT', quantifier: null, arg: null };
    expect(
      p('SELECT dataproduct_type, facility_name, instrument_name, obs_collection, COUNT(*) FROM ivoa.ObsCore GROUP BY dataproduct_type'),
    ).toEqual(
      select({
        items: [...['dataproduct_type', 'facility_name', 'instrument_name', 'obs_collection'].map((c) => item(col(c))), item(count)],
        from: [obscore],
        groupBy: [col('dataproduct_type')],
      }),
    );
    expect(
      p(
        'SELECT dataproduct_type, dataproduct_subtype, calib_level, COUNT(*) FROM ivoa.ObsCore GROUP BY dataproduct_subtype, calib_level ORDER BY calib_level',
      ),
    ).toEqual(
      select({
        items: [...['dataproduct_type', 'dataproduct_subtype', 'calib_level'].map((c) => item(col(c))), item(count)],
        from: [obscore],
        groupBy: [col('dataproduct_subtype'), col('calib_level')],
        orderBy: [{ target: col('calib_level'), direction: null }],
      }),
    );
  });

  test('cone search with CONTAINS/POINT/CIRCLE', () => {
    expect(p(`\n${circleQuery}\n`)).toEqual(select({ from: [obscore], where: contains }));
  });

  test('cone search with further constraints', () => {
    const q = `${circleQuery} AND dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_band='r'`;
    expect(p(`  ${q}\n`)).toEqual(
      select({
        from: [obscore],
        where: and(
          and(
            and(and(contains, cmp('=', col('dataproduct_type'), str('image'))), cmp('=', col('obs_collection'), str('LSST.DP02'))),
            cmp('=', col('dataproduct_subtype'), str('lsst.deepCoadd_calexp')),
          ),
          cmp('=', col('lsst_band'), str('r')),
        ),
      }),
    );
  });

  test('tract/patch/band selection', () => {
    const q = p(
      "SELECT * FROM ivoa.ObsCore WHERE dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_tract = 4431 AND lsst_patch = 17 AND lsst_band = 'i'",
    );
    const conds = [
      cmp('=', col('dataproduct_type'), str('image')),
      cmp('=', col('obs_collection'), str('LSST.DP02')),
      cmp('=', col('dataproduct_subtype'), str('lsst.deepCoadd_calexp')),
      cmp('=', col('lsst_tract'), int(4431)),
      cmp('=', col('lsst_patch'), int(17)),
      cmp('=', col('lsst_band'), str('i')),
    ];
    expect(q).toEqual(select({ from: [obscore], where: conds.slice(1).reduce((l, r) => and(l, r), conds[0]) }));
  });

  test('LIKE with leading wildcard', () => {
    expect(
      p(
        "\nSELECT access_url, dataproduct_subtype, lsst_patch, lsst_tract, lsst_band FROM ivoa.ObsCore WHERE access_url like '%20d28216-534a-4102-b8a7-1c7f32a9b78c'\n",
      ),
    ).toEqual(
      select({
        items: ['access_url', 'dataproduct_subtype', 'lsst_patch', 'lsst_tract', 'lsst_band'].map((c) => item(col(c))),
        from: [obscore],
        where: {
          kind: 'like',
          negated: false,
          caseInsensitive: false,
          expr: col('access_url'),
          pattern: str('%20d28216-534a-4102-b8a7-1c7f32a9b78c'),
        },
      }),
    );
  });
});

describe('select clause', () => {
  test('quantifier, TOP, aliases, t.*, OFFSET', () => {
    expect(p('select distinct top 10 o.*, s.t.*, a AS x, b y, "Mixed" FROM t o OFFSET 5')).toEqual(
      select({
        quantifier: 'DISTINCT',
        top: 10,
        items: [
          { kind: 'allColumns', table: tableName('o') },
          { kind: 'allColumns', table: tableName('t', 's') },
          item(col('a'), 'x'),
          item(col('b'), 'y'),
          item({ kind: 'column', schema: null, table: null, column: id('Mixed', true) }),
        ],
        from: [table('t', null, 'o')],
        offset: 5,
      }),
    );
    expect(p('SELECT ALL a FROM t')).toEqual(select({ quantifier: 'ALL', items: [item(col('a'))], from: [table('t')] }));
  });

  test('quoted identifiers keep case and escape ""', () => {
    expect(p('SELECT "a""b" AS "Select" FROM "My Schema"."T"')).toEqual(
      select({
        items: [
          {
            kind: 'selectExpression',
            expr: { kind: 'column', schema: null, table: null, column: id('a"b', true) },
            alias: id('Select', true),
          },
        ],
        from: [{ kind: 'table', table: { kind: 'tableName', schema: id('My Schema', true), name: id('T', true) }, alias: null }],
      }),
    );
  });

  test('ORDER BY expression, alias, position', () => {
    const q = parseAdql('SELECT a AS x, b FROM t ORDER BY 2 DESC, x, a + 1 ASC, 1');
    expect(
      q.kind === 'select' &&
        q.orderBy.map((o) => ({ target: o.target.kind === 'position' ? o.target.position : o.target.kind, dir: o.direction })),
    ).toEqual([
      { target: 2, dir: 'DESC' },
      { target: 'column', dir: null },
      { target: 'binary', dir: 'ASC' },
      { target: 1, dir: null },
    ]);
  });

  test('GROUP BY and HAVING', () => {
    expect(p('SELECT a, AVG(b) FROM t GROUP BY a HAVING COUNT(DISTINCT c) > 2')).toEqual(
      select({
        items: [item(col('a')), item({ kind: 'aggregate', name: 'AVG', quantifier: null, arg: col('b') })],
        from: [table('t')],
        groupBy: [col('a')],
        having: cmp('>', { kind: 'aggregate', name: 'COUNT', quantifier: 'DISTINCT', arg: col('c') }, int(2)),
      }),
    );
  });

  test('comments and trailing semicolon', () => {
    expect(p('-- leading comment\nSELECT a -- the column\nFROM t; ')).toEqual(select({ items: [item(col('a'))], from: [table('t')] }));
  });

  test('locations', () => {
    const q = parseAdql('\n  SELECT a,\n    b FROM t');
    expect(q.loc).toEqual({ line: 2, column: 3, offset: 3 });
    expect(q.kind === 'select' && q.items[1]!.loc).toEqual({ line: 3, column: 5, offset: 17 });
  });
});

describe('set operations', () => {
  test('UNION ALL / INTERSECT precedence with ORDER BY on the result', () => {
    const a = select({ items: [item(col('a'))], from: [table('t')] });
    const b = select({ items: [item(col('b'))], from: [table('u')] });
    const c = select({ items: [item(col('c'))], from: [table('v')] });
    expect(p('SELECT a FROM t UNION ALL SELECT b FROM u INTERSECT SELECT c FROM v ORDER BY 1 OFFSET 2')).toEqual({
      kind: 'setOperation',
      op: 'UNION',
      all: true,
      left: a,
      right: { kind: 'setOperation', op: 'INTERSECT', all: false, left: b, right: c, orderBy: [], offset: null },
      orderBy: [{ target: { kind: 'position', position: 1 }, direction: null }],
      offset: 2,
    });
    expect(p('SELECT a FROM t EXCEPT SELECT b FROM u')).toMatchObject({ kind: 'setOperation', op: 'EXCEPT', all: false });
  });
});

describe('from clause', () => {
  test('joins', () => {
    expect(p('SELECT * FROM a AS x JOIN b ON x.i = b.i LEFT OUTER JOIN c USING (i, j) NATURAL JOIN d CROSS JOIN e, f')).toEqual(
      select({
        from: [
          {
            kind: 'join',
            joinType: 'CROSS',
            natural: false,
            condition: null,
            right: table('e'),
            left: {
              kind: 'join',
              joinType: 'INNER',
              natural: true,
              condition: null,
              right: table('d'),
              left: {
                kind: 'join',
                joinType: 'LEFT',
                natural: false,
                right: table('c'),
                condition: { kind: 'using', columns: [id('i'), id('j')] },
                left: {
                  kind: 'join',
                  joinType: 'INNER',
                  natural: false,
                  left: table('a', null, 'x'),
                  right: table('b'),
                  condition: { kind: 'on', condition: cmp('=', col('i', 'x'), col('i', 'b')) },
                },
              },
            },
          },
          table('f'),
        ],
      }),
    );
    for (const [sql, type] of [
      ['INNER JOIN', 'INNER'],
      ['RIGHT JOIN', 'RIGHT'],
      ['FULL OUTER JOIN', 'FULL'],
      ['left join', 'LEFT'],
    ]) {
      expect(p(`SELECT * FROM a ${sql} b ON a.i = b.i`)).toMatchObject({ from: [{ kind: 'join', joinType: type }] });
    }
  });

  test('subquery in FROM, parenthesised join', () => {
    expect(p('SELECT * FROM (SELECT a FROM t) AS s, (a JOIN b USING (k)) ')).toEqual(
      select({
        from: [
          { kind: 'derivedTable', alias: id('s'), query: select({ items: [item(col('a'))], from: [table('t')] }) },
          {
            kind: 'join',
            joinType: 'INNER',
            natural: false,
            left: table('a'),
            right: table('b'),
            condition: { kind: 'using', columns: [id('k')] },
          },
        ],
      }),
    );
  });
});

describe('expressions', () => {
  test('literals', () => {
    expect(expr('42')).toEqual(int(42));
    expect(expr('4.5')).toEqual(num('4.5', 'decimal'));
    expect(expr('.5')).toEqual(num('.5', 'decimal'));
    expect(expr('5.')).toEqual(num('5.', 'decimal'));
    expect(expr('1.5e-3')).toEqual(num('1.5e-3', 'exponent'));
    expect(expr('2E10')).toEqual(num('2E10', 'exponent'));
    expect(expr('0xFF')).toEqual(num('0xFF', 'hex'));
    expect(expr("'it''s'")).toEqual(str("it's"));
    expect(expr("'ab' 'cd'")).toEqual(str('abcd'));
    expect(expr("''")).toEqual(str(''));
  });

  test('precedence: -a*b+c, || lowest', () => {
    expect(expr('-a*b+c')).toEqual(bin('+', bin('*', neg(col('a')), col('b')), col('c')));
    expect(expr('a - b - c')).toEqual(bin('-', bin('-', col('a'), col('b')), col('c')));
    expect(expr('a / (b - c)')).toEqual(bin('/', col('a'), bin('-', col('b'), col('c'))));
    expect(expr("a || 'x' || b + 1")).toEqual(bin('||', bin('||', col('a'), str('x')), bin('+', col('b'), int(1))));
    expect(expr('1 - -2')).toEqual(bin('-', int(1), neg(int(2))));
  });

  test('precedence: a OR b AND NOT c', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => cmp('=', col(x), int(1)));
    expect(where('a = 1 OR b = 1 AND NOT c = 1')).toEqual(or(a, and(b, not(c))));
    expect(where('(a = 1 OR b = 1) AND c = 1')).toEqual(and(or(a, b), c));
    expect(where('NOT (a = 1 AND b = 1)')).toEqual(not(and(a, b)));
  });

  test('functions', () => {
    expect(expr('ABS(-x)')).toEqual({ kind: 'function', name: 'ABS', args: [neg(col('x'))] });
    expect(expr('pi()')).toEqual({ kind: 'function', name: 'PI', args: [] });
    expect(expr('round(x, 2)')).toEqual({ kind: 'function', name: 'ROUND', args: [col('x'), int(2)] });
    for (const f of [
      'CEILING',
      'DEGREES',
      'EXP',
      'FLOOR',
      'LOG',
      'LOG10',
      'RADIANS',
      'SQRT',
      'RAND',
      'TRUNCATE',
      'ACOS',
      'ASIN',
      'ATAN',
      'COS',
      'COT',
      'SIN',
      'TAN',
      'LOWER',
      'UPPER',
    ]) {
      expect(expr(`${f.toLowerCase()}(x)`)).toEqual({ kind: 'function', name: f, args: [col('x')] });
    }
    for (const f of ['MOD', 'POWER', 'ATAN2', 'COALESCE']) {
      expect(expr(`${f}(x, 2)`)).toEqual({ kind: 'function', name: f, args: [col('x'), int(2)] });
    }
    expect(expr('ivo_healpix_index(10, ra, dec)')).toEqual({
      kind: 'userFunction',
      name: 'ivo_healpix_index',
      args: [int(10), col('ra'), col('dec')],
    });
    for (const f of ['AVG', 'MAX', 'MIN', 'SUM']) {
      expect(expr(`${f.toLowerCase()}(x)`)).toEqual({ kind: 'aggregate', name: f, quantifier: null, arg: col('x') });
    }
    expect(expr('count(x)')).toEqual({ kind: 'aggregate', name: 'COUNT', quantifier: null, arg: col('x') });
  });

  test('CASE and CAST', () => {
    expect(expr("CASE WHEN a > 1 THEN 'big' ELSE 'small' END")).toEqual({
      kind: 'case',
      operand: null,
      whens: [{ when: cmp('>', col('a'), int(1)), then: str('big') }],
      otherwise: str('small'),
    });
    expect(expr("case a when 1 then 'one' when 2 then 'two' end")).toEqual({
      kind: 'case',
      operand: col('a'),
      whens: [
        { when: int(1), then: str('one') },
        { when: int(2), then: str('two') },
      ],
      otherwise: null,
    });
    const types: [string, string, number | null][] = [
      ['INTEGER', 'INTEGER', null],
      ['smallint', 'SMALLINT', null],
      ['BIGINT', 'BIGINT', null],
      ['REAL', 'REAL', null],
      ['DOUBLE PRECISION', 'DOUBLE PRECISION', null],
      ['CHAR(3)', 'CHAR', 3],
      ['VARCHAR(20)', 'VARCHAR', 20],
      ['VARCHAR', 'VARCHAR', null],
      ['TIMESTAMP', 'TIMESTAMP', null],
    ];
    for (const [sql, name, length] of types) {
      expect(expr(`CAST(x AS ${sql})`)).toEqual({ kind: 'cast', expr: col('x'), type: { name, length } });
    }
  });

  test('geometry', () => {
    expect(expr('POINT(ra, dec)')).toEqual(geom('POINT', null, col('ra'), col('dec')));
    expect(expr("CIRCLE('ICRS', POINT(1, 2), 3)")).toEqual(geom('CIRCLE', str('ICRS'), geom('POINT', null, int(1), int(2)), int(3)));
    expect(expr("BOX('', 1, 2, 3, 4)")).toEqual(geom('BOX', str(''), int(1), int(2), int(3), int(4)));
    expect(expr('POLYGON(1, 2, 3, 4, 5, 6)')).toEqual(geom('POLYGON', null, ...[1, 2, 3, 4, 5, 6].map(int)));
    expect(expr("REGION('CIRCLE ICRS 1 2 3')")).toEqual(geom('REGION', null, str('CIRCLE ICRS 1 2 3')));
    expect(expr('DISTANCE(POINT(a, b), POINT(c, d))')).toEqual(
      geom('DISTANCE', null, geom('POINT', null, col('a'), col('b')), geom('POINT', null, col('c'), col('d'))),
    );
    expect(expr('DISTANCE(a, b, c, d)')).toEqual(geom('DISTANCE', null, col('a'), col('b'), col('c'), col('d')));
    for (const f of ['AREA', 'COORD1', 'COORD2', 'COORDSYS', 'CENTROID']) {
      expect(expr(`${f.toLowerCase()}(s_region)`)).toEqual(geom(f, null, col('s_region')));
    }
    expect(where('INTERSECTS(s_region, CIRCLE(1, 2, 3)) = 1')).toEqual(
      cmp('=', geom('INTERSECTS', null, col('s_region'), geom('CIRCLE', null, int(1), int(2), int(3))), int(1)),
    );
  });

  test('scalar subquery', () => {
    expect(expr('(SELECT MAX(x) FROM u)')).toEqual({
      kind: 'subquery',
      query: select({ items: [item({ kind: 'aggregate', name: 'MAX', quantifier: null, arg: col('x') })], from: [table('u')] }),
    });
  });
});

describe('predicates', () => {
  test('comparisons', () => {
    for (const op of ['=', '<>', '<', '>', '<=', '>=']) expect(where(`a ${op} 1`)).toEqual(cmp(op, col('a'), int(1)));
    expect(where('a != 1')).toEqual(cmp('<>', col('a'), int(1)));
    expect(where('(a + 1) * 2 >= b')).toEqual(cmp('>=', bin('*', bin('+', col('a'), int(1)), int(2)), col('b')));
  });

  test('BETWEEN, LIKE, ILIKE, IN, IS NULL, EXISTS', () => {
    expect(where('a BETWEEN 1 AND 2 AND b = 1')).toEqual(
      and({ kind: 'between', negated: false, expr: col('a'), low: int(1), high: int(2) }, cmp('=', col('b'), int(1))),
    );
    expect(where('a NOT BETWEEN -1 AND b')).toEqual({ kind: 'between', negated: true, expr: col('a'), low: neg(int(1)), high: col('b') });
    expect(where("a NOT LIKE 'x%'")).toEqual({ kind: 'like', negated: true, caseInsensitive: false, expr: col('a'), pattern: str('x%') });
    expect(where("a ILIKE 'x%'")).toEqual({ kind: 'like', negated: false, caseInsensitive: true, expr: col('a'), pattern: str('x%') });
    expect(where("a IN (1, 'b')")).toEqual({
      kind: 'in',
      negated: false,
      expr: col('a'),
      source: { kind: 'list', items: [int(1), str('b')] },
    });
    expect(where('a NOT IN (SELECT b FROM u)')).toEqual({
      kind: 'in',
      negated: true,
      expr: col('a'),
      source: { kind: 'query', query: select({ items: [item(col('b'))], from: [table('u')] }) },
    });
    expect(where('a IS NULL')).toEqual({ kind: 'isNull', negated: false, expr: col('a') });
    expect(where('a is not null')).toEqual({ kind: 'isNull', negated: true, expr: col('a') });
    expect(where('NOT EXISTS (SELECT * FROM u WHERE u.k = t.k)')).toEqual(
      not({ kind: 'exists', query: select({ from: [table('u')], where: cmp('=', col('k', 'u'), col('k', 't')) }) }),
    );
  });
});
