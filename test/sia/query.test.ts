/**
 * SIA 2.0 {query} parameters → SQL, run on a real ObsCore file: the exact rows of every
 * constraint alone, repeated (OR), combined (AND), against NULL columns, open intervals and
 * footprints across RA 0 or around the pole; the errors; MAXREC and RESPONSEFORMAT.
 */
import { buildSiaQuery, SiaError } from '../../shared/sia';
import { ALL, BASE_URL, allBut, did, LIMITS, openFixture, siaParams, TRIANGLE_DID, type Fixture, type Pairs } from './fixture';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await openFixture();
});
afterAll(() => fixture.close());

const RUBIN = allBut('triangle', 'nulls');
const DP02_FIELD = ['g-diff', 'i-calexp', 'r-coadd'];

describe('each parameter alone', () => {
  test.each<[string, Pairs, string[]]>([
    // §2.1.1 POS: the shape intersects s_region.
    ['CIRCLE inside two footprints', [['POS', 'CIRCLE 55.8 -32.25 0.02']], ['i-calexp', 'r-coadd']],
    ['CIRCLE over the whole field', [['POS', 'CIRCLE 55.7 -32.3 0.5']], DP02_FIELD],
    ['CIRCLE on RA 0 (footprint across RA 0)', [['POS', 'CIRCLE 0 0.5 0.1']], ['west-of-0']],
    ['RANGE across RA 0', [['POS', 'RANGE 359.9 0.1 0 1']], ['west-of-0']],
    ['RANGE with negative longitude across RA 0', [['POS', 'RANGE -0.1 0.25 0 1']], ['east-of-0', 'west-of-0']],
    ['RANGE east of RA 0 meets the part past 0', [['POS', 'RANGE 0 0.01 0 1']], ['west-of-0']],
    ['RANGE west of the wrapped footprint', [['POS', 'RANGE 359 359.5 0 1']], []],
    ['RANGE around the north pole', [['POS', 'RANGE 0 360 89 +Inf']], ['near-pole']],
    ['RANGE of the whole sky', [['POS', 'RANGE -Inf +Inf -Inf +Inf']], allBut('nulls')],
    ['POLYGON inside the triangle', [['POS', 'POLYGON 150.4 2.2 150.6 2.2 150.5 2.4']], ['triangle']],
    ["POLYGON in the triangle's box but outside it", [['POS', 'POLYGON 150.05 2.85 150.15 2.95 150.05 2.95']], []],
    ['a NULL s_region never matches', [['POS', 'CIRCLE 200 -10 1']], []],
    // §2.1.2 BAND: the interval overlaps [em_min, em_max]; one value v is [v, v].
    ['BAND one value', [['BAND', '600e-9']], ['r-coadd']],
    ['BAND one value on a shared edge', [['BAND', '552e-9']], ['g-diff', 'r-coadd']],
    ['BAND interval', [['BAND', '700e-9 750e-9']], ['i-calexp']],
    ['BAND interval reaching into the next band', [['BAND', '700e-9 818e-9']], ['i-calexp', 'west-of-0']],
    ['BAND open above', [['BAND', '1.5e-6 +Inf']], ['pol-v', 'triangle']],
    ['BAND open below', [['BAND', '-Inf 400e-9']], ['near-pole']],
    ['BAND open on both sides: every known band', [['BAND', '-Inf +Inf']], allBut('nulls', 'half-open')],
    // §2.1.3 TIME: MJD interval overlaps [t_min, t_max].
    ['TIME one value', [['TIME', '60010.1002']], ['i-calexp']],
    ['TIME interval', [['TIME', '60000 60025']], ['g-diff', 'i-calexp']],
    ['TIME inside a long coadd', [['TIME', '60200 +Inf']], ['r-coadd']],
    ['TIME bound included', [['TIME', '-Inf 59000']], ['triangle']],
    ['TIME open on both sides: every known time', [['TIME', '-Inf +Inf']], allBut('nulls', 'half-open')],
    // §2.1.4 POL: a state listed in pol_states.
    ['POL I', [['POL', 'I']], ['triangle']],
    ['POL U, last in the list', [['POL', 'U']], ['triangle']],
    ['POL V', [['POL', 'V']], ['pol-v']],
    ['POL LL, listed nowhere', [['POL', 'LL']], []],
    // §2.1.5–2.1.7, §2.1.15, §2.1.16: the value lies in the interval.
    ['FOV', [['FOV', '1 2']], ['triangle']],
    ['FOV open below', [['FOV', '-Inf 0.5']], allBut('triangle', 'nulls')],
    ['FOV one value', [['FOV', '0.28']], allBut('triangle', 'nulls')],
    ['SPATRES', [['SPATRES', '1 +Inf']], ['g-diff', 'triangle']],
    ['EXPTIME', [['EXPTIME', '600']], ['triangle']],
    ['EXPTIME short', [['EXPTIME', '-Inf 60']], allBut('triangle', 'r-coadd', 'nulls')],
    ['TIMERES', [['TIMERES', '5 20']], ['triangle']],
    ['TIMERES any known', [['TIMERES', '-Inf +Inf']], allBut('r-coadd', 'nulls')],
    ['SPECRP', [['SPECRP', '100 +Inf']], ['triangle']],
    // §2.1.8 ID: case-insensitive.
    ['ID', [['ID', did('g-diff')]], ['g-diff']],
    ['ID in another case', [['ID', TRIANGLE_DID.toUpperCase()]], ['triangle']],
    ['ID unknown', [['ID', 'ivo://example.org/none']], []],
    // §2.1.9–2.1.14, §2.1.17: exact, case-sensitive.
    ['COLLECTION', [['COLLECTION', 'LSST.DP02']], allBut('triangle', 'pol-v', 'half-open')],
    ['COLLECTION is case-sensitive', [['COLLECTION', 'lsst.dp02']], ['half-open']],
    ['COLLECTION is exact', [['COLLECTION', 'LSST']], []],
    ['FACILITY', [['FACILITY', 'Other:Telescope']], ['triangle']],
    ['INSTRUMENT', [['INSTRUMENT', 'LSSTCam-imSim']], RUBIN],
    ['DPTYPE image', [['DPTYPE', 'image']], RUBIN],
    ['DPTYPE cube', [['DPTYPE', 'cube']], ['triangle']],
    ['CALIB 0', [['CALIB', '0']], ['nulls']],
    ['CALIB 1', [['CALIB', '1']], ['pol-v', 'triangle']],
    ['CALIB 4, held by none', [['CALIB', '4']], []],
    ['TARGET', [['TARGET', 'COSMOS']], ['triangle']],
    ['TARGET is case-sensitive', [['TARGET', 'cosmos']], []],
    ['FORMAT', [['FORMAT', 'application/fits']], ['triangle']],
    ['FORMAT DataLink', [['FORMAT', 'application/x-votable+xml;content=datalink']], RUBIN],
  ])('%s', (_, pairs, expected) => {
    expect(fixture.search(...pairs)).toEqual(expected);
  });
});

describe('repeated values are OR-ed (§2.1)', () => {
  test.each<[string, Pairs, string[]]>([
    [
      'POS circle or polygon',
      [
        ['POS', 'CIRCLE 55.8 -32.25 0.02'],
        ['POS', 'POLYGON 150.4 2.2 150.6 2.2 150.5 2.4'],
      ],
      ['i-calexp', 'r-coadd', 'triangle'],
    ],
    [
      'POS on both sides of RA 0',
      [
        ['POS', 'RANGE 359.9 359.95 0 1'],
        ['POS', 'CIRCLE 0.3 0.5 0.01'],
      ],
      ['east-of-0', 'west-of-0'],
    ],
    [
      'BAND',
      [
        ['BAND', '600e-9'],
        ['BAND', '1.5e-6 2.5e-6'],
      ],
      ['r-coadd', 'triangle'],
    ],
    [
      'TIME',
      [
        ['TIME', '60010.1002'],
        ['TIME', '60030 60040'],
      ],
      ['east-of-0', 'i-calexp', 'west-of-0'],
    ],
    [
      'POL',
      [
        ['POL', 'Q'],
        ['POL', 'V'],
      ],
      ['pol-v', 'triangle'],
    ],
    [
      'FOV',
      [
        ['FOV', '-Inf 0.01'],
        ['FOV', '1 +Inf'],
      ],
      ['triangle'],
    ],
    [
      'ID',
      [
        ['ID', TRIANGLE_DID],
        ['ID', did('nulls')],
      ],
      ['nulls', 'triangle'],
    ],
    [
      'COLLECTION',
      [
        ['COLLECTION', 'OTHER.SURVEY'],
        ['COLLECTION', 'lsst.dp02'],
      ],
      ['half-open', 'pol-v', 'triangle'],
    ],
    [
      'DPTYPE',
      [
        ['DPTYPE', 'image'],
        ['DPTYPE', 'cube'],
      ],
      allBut('nulls'),
    ],
    [
      'CALIB',
      [
        ['CALIB', '0'],
        ['CALIB', '3'],
      ],
      ['g-diff', 'nulls', 'r-coadd'],
    ],
    [
      'the same value twice',
      [
        ['CALIB', '3'],
        ['CALIB', '3'],
      ],
      ['g-diff', 'r-coadd'],
    ],
  ])('%s', (_, pairs, expected) => {
    expect(fixture.search(...pairs)).toEqual(expected);
  });
});

describe('different parameters are AND-ed (§2.1)', () => {
  test.each<[string, Pairs, string[]]>([
    [
      'POS and BAND',
      [
        ['POS', 'CIRCLE 55.7 -32.3 0.5'],
        ['BAND', '600e-9'],
      ],
      ['r-coadd'],
    ],
    [
      'POS and two BANDs and CALIB',
      [
        ['POS', 'CIRCLE 55.7 -32.3 0.5'],
        ['BAND', '600e-9'],
        ['BAND', '750e-9'],
        ['CALIB', '2'],
      ],
      ['i-calexp'],
    ],
    [
      'POS and TIME',
      [
        ['POS', 'RANGE -Inf +Inf -Inf +Inf'],
        ['TIME', '60000 60035'],
      ],
      ['g-diff', 'i-calexp', 'west-of-0'],
    ],
    [
      'COLLECTION and POL',
      [
        ['COLLECTION', 'OTHER.SURVEY'],
        ['POL', 'I'],
      ],
      ['triangle'],
    ],
    [
      'DPTYPE and FORMAT that exclude each other',
      [
        ['DPTYPE', 'cube'],
        ['FORMAT', 'application/x-votable+xml;content=datalink'],
      ],
      [],
    ],
    [
      'every parameter, one row',
      [
        ['POS', 'CIRCLE 150.5 2.5 1'],
        ['BAND', '1.2e-6'],
        ['TIME', '59000.5'],
        ['POL', 'Q'],
        ['FOV', '1 2'],
        ['SPATRES', '1 2'],
        ['EXPTIME', '600'],
        ['TIMERES', '10'],
        ['SPECRP', '1000'],
        ['ID', TRIANGLE_DID],
        ['COLLECTION', 'OTHER.SURVEY'],
        ['FACILITY', 'Other:Telescope'],
        ['INSTRUMENT', 'OtherCam'],
        ['DPTYPE', 'cube'],
        ['CALIB', '1'],
        ['TARGET', 'COSMOS'],
        ['FORMAT', 'application/fits'],
      ],
      ['triangle'],
    ],
  ])('%s', (_, pairs, expected) => {
    expect(fixture.search(...pairs)).toEqual(expected);
  });
});

test('no parameter: every row', () => {
  expect(fixture.search()).toEqual(ALL);
});

test.each<[string, string]>([
  ['BAND', '-Inf +Inf'],
  ['TIME', '-Inf +Inf'],
  ['FOV', '-Inf +Inf'],
  ['SPATRES', '-Inf +Inf'],
  ['EXPTIME', '-Inf +Inf'],
  ['TIMERES', '-Inf +Inf'],
  ['SPECRP', '-Inf +Inf'],
  ['POS', 'RANGE -Inf +Inf -Inf +Inf'],
  ['DPTYPE', 'image'],
])('a NULL column never satisfies %s=%s (§2.1)', (name, value) => {
  const rows = fixture.search([name, value]);
  expect(rows).not.toContain('nulls');
  expect(rows.length).toBeGreaterThan(0);
});

test('parameter names are compared upper-cased; blank values, unknown parameters and UPLOAD are ignored', () => {
  expect(fixture.search(['calib', '0'])).toEqual(['nulls']);
  expect(fixture.search(['POS', ''], ['BAND', '  '], ['CALIB', '0'])).toEqual(['nulls']);
  expect(fixture.search(['REQUEST', 'query'], ['FOO', 'bar'], ['UPLOAD', 't,http://example.org/t.xml'], ['CALIB', '0'])).toEqual(['nulls']);
});

test('user text never reaches the SQL: it is bound', () => {
  const hostile = `LSST.DP02' OR '1'='1`;
  const query = buildSiaQuery(
    siaParams([
      ['COLLECTION', hostile],
      ['TARGET', 'x"); DROP TABLE ivoa_obscore; --'],
    ]),
    LIMITS,
    BASE_URL,
  );
  expect(query.sql).not.toContain('LSST');
  expect(query.sql).not.toContain('DROP');
  expect(query.params).toEqual([BASE_URL, hostile, 'x"); DROP TABLE ivoa_obscore; --', LIMITS.maxrecDefault + 1]);
  expect(fixture.run(query)).toEqual([]);
  // The SQL depends only on which parameters came and how often, never on their values.
  const shape = (pairs: Pairs) => buildSiaQuery(siaParams(pairs), LIMITS, BASE_URL).sql;
  expect(
    shape([
      ['POS', 'CIRCLE 1 2 3'],
      ['BAND', '1'],
      ['ID', 'a'],
    ]),
  ).toBe(
    shape([
      ['POS', 'POLYGON 1 2 3 4 5 7'],
      ['BAND', '-Inf 2'],
      ['ID', 'b'],
    ]),
  );
});

describe('MAXREC and RESPONSEFORMAT (§2.1.18; DALI 1.1 §3.4)', () => {
  test('MAXREC defaults to maxrecDefault; the query returns one row more to show the overflow', () => {
    const query = buildSiaQuery([], LIMITS, BASE_URL);
    expect(query.maxrec).toBe(LIMITS.maxrecDefault);
    expect(query.params.at(-1)).toBe(LIMITS.maxrecDefault + 1);
    expect(fixture.run(query)).toEqual(ALL);
  });

  test.each<[string, number, number]>([
    ['3', 3, 4],
    [' 3 ', 3, 4],
    ['0', 0, 1],
    ['50', 50, ALL.length],
    ['51', 50, ALL.length],
    ['99999999999999999999', 50, ALL.length],
  ])('MAXREC=%j → maxrec %d, %d rows fetched', (value, maxrec, rows) => {
    const query = buildSiaQuery(siaParams([['MAXREC', value]]), LIMITS, BASE_URL);
    expect(query.maxrec).toBe(maxrec);
    expect(fixture.run(query)).toHaveLength(rows);
  });

  test('the limit applies to the matching rows: two matches under MAXREC=2 are no overflow', () => {
    const query = buildSiaQuery(
      siaParams([
        ['MAXREC', '2'],
        ['CALIB', '3'],
      ]),
      LIMITS,
      BASE_URL,
    );
    expect(fixture.run(query)).toEqual(['g-diff', 'r-coadd']);
  });

  test('RESPONSEFORMAT is returned as given, for the caller to resolve', () => {
    expect(buildSiaQuery(siaParams([['RESPONSEFORMAT', 'text/csv']]), LIMITS, BASE_URL).responseFormat).toBe('text/csv');
    expect(buildSiaQuery(siaParams([['RESPONSEFORMAT', 'votable']]), LIMITS, BASE_URL).responseFormat).toBe('votable');
    expect(buildSiaQuery([], LIMITS, BASE_URL).responseFormat).toBeUndefined();
  });
});

/** The message of the SiaError the parameters raise. */
function failure(pairs: Pairs): string {
  try {
    buildSiaQuery(siaParams(pairs), LIMITS, BASE_URL);
  } catch (err) {
    expect(err).toBeInstanceOf(SiaError);
    expect((err as SiaError).label).toBe('UsageFault');
    return (err as SiaError).message;
  }
  throw new Error(`no error for ${JSON.stringify(pairs)}`);
}

describe('errors: UsageFault naming the parameter and the value (§3.2)', () => {
  test.each<[Pairs, string]>([
    [[['POS', 'CIRCLE 12 34']], 'invalid POS value "CIRCLE 12 34": CIRCLE needs 3 values (longitude latitude radius) but got 2'],
    [[['POS', 'CIRCLE 12 95 1']], 'invalid POS value "CIRCLE 12 95 1": latitude 95 out of range [-90, 90]'],
    [[['POS', 'CIRCLE 12 34 -1']], 'invalid POS value "CIRCLE 12 34 -1": radius must be positive (got -1)'],
    [[['POS', 'BOX 12 34 1 1']], 'invalid POS value "BOX 12 34 1 1": unknown shape "BOX"; expected CIRCLE, RANGE or POLYGON'],
    [[['POS', '12 34 1']], 'invalid POS value "12 34 1": missing shape keyword; expected CIRCLE, RANGE or POLYGON'],
    [[['POS', 'POLYGON 1 2 3 4']], 'invalid POS value "POLYGON 1 2 3 4": POLYGON needs at least 3 vertices (got 2)'],
    [[['POS', 'RANGE 1 2 40 30']], 'invalid POS value "RANGE 1 2 40 30": latitude lower bound 40 exceeds upper bound 30'],
    [[['BAND', 'x']], 'invalid BAND value "x": expected a number but found "x" in BAND'],
    [[['BAND', '-2']], 'invalid BAND value "-2": BAND cannot be negative'],
    [[['BAND', '-1e-6 2e-6']], 'invalid BAND value "-1e-6 2e-6": BAND cannot be negative'],
    [[['BAND', '2e-6 1e-6']], 'invalid BAND value "2e-6 1e-6": lower bound 2e-6 exceeds upper bound 1e-6 in BAND'],
    [[['BAND', '1 2 3']], 'invalid BAND value "1 2 3": expected one number or two (lower upper), not 3'],
    [[['BAND', '+Inf']], 'invalid BAND value "+Inf": a single value must be finite'],
    [[['BAND', '+Inf +Inf']], 'invalid BAND value "+Inf +Inf": lower bound cannot be +Inf in BAND'],
    [[['TIME', '60000 -Inf']], 'invalid TIME value "60000 -Inf": upper bound cannot be -Inf in TIME'],
    [[['TIME', 'NaN']], 'invalid TIME value "NaN": expected a number but found "NaN" in TIME'],
    [[['FOV', '1 two']], 'invalid FOV value "1 two": expected a number but found "two" in FOV'],
    [[['SPATRES', '-1']], 'invalid SPATRES value "-1": SPATRES cannot be negative'],
    [[['EXPTIME', '1,2']], 'invalid EXPTIME value "1,2": expected a number but found "1,2" in EXPTIME'],
    [[['TIMERES', '5 1']], 'invalid TIMERES value "5 1": lower bound 5 exceeds upper bound 1 in TIMERES'],
    [[['SPECRP', '1e']], 'invalid SPECRP value "1e": expected a number but found "1e" in SPECRP'],
    [[['POL', 'q']], 'invalid POL value "q": expected one of I, Q, U, V, RR, LL, RL, LR, XX, YY, XY, YX, POLI, POLA'],
    [[['POL', '%']], 'invalid POL value "%": expected one of I, Q, U, V, RR, LL, RL, LR, XX, YY, XY, YX, POLI, POLA'],
    [[['DPTYPE', 'spectrum']], 'invalid DPTYPE value "spectrum": expected one of image, cube'],
    [[['DPTYPE', 'IMAGE']], 'invalid DPTYPE value "IMAGE": expected one of image, cube'],
    [[['CALIB', '5']], 'invalid CALIB value "5": expected one of 0, 1, 2, 3, 4'],
    [[['CALIB', '2.0']], 'invalid CALIB value "2.0": expected one of 0, 1, 2, 3, 4'],
    [[['MAXREC', '-1']], 'invalid MAXREC value "-1": expected a non-negative integer'],
    [[['MAXREC', '1.5']], 'invalid MAXREC value "1.5": expected a non-negative integer'],
    [[['MAXREC', 'ten']], 'invalid MAXREC value "ten": expected a non-negative integer'],
    [
      [
        ['MAXREC', '5'],
        ['MAXREC', '6'],
      ],
      'MAXREC takes one value, but 2 were given ("5", "6")',
    ],
    [
      [
        ['RESPONSEFORMAT', 'csv'],
        ['RESPONSEFORMAT', 'votable'],
      ],
      'RESPONSEFORMAT takes one value, but 2 were given ("csv", "votable")',
    ],
    // The first bad value is the one reported, in the order the parameters are defined (§2.1).
    [
      [
        ['CALIB', '9'],
        ['POS', 'CIRCLE 1 2'],
      ],
      'invalid POS value "CIRCLE 1 2": CIRCLE needs 3 values (longitude latitude radius) but got 2',
    ],
  ])('%j', (pairs, detail) => {
    expect(failure(pairs)).toBe(`UsageFault: ${detail}`);
  });

  test('a bad value is refused even where another value of the parameter is good', () => {
    expect(
      failure([
        ['CALIB', '2'],
        ['CALIB', 'two'],
      ]),
    ).toBe('UsageFault: invalid CALIB value "two": expected one of 0, 1, 2, 3, 4');
  });
});
