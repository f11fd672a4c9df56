/**
 * The shape of the SQL buildSiaQuery writes: the published ObsCore columns in order, the
 * R*Tree driving every POS query (EXPLAIN QUERY PLAN shows no scan of ivoa_obscore), many
 * values within SQLite's limits.
 */
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { buildSiaQuery, MAX_CONSTRAINT_VALUES, SiaError } from '../../shared/sia';
import { ALL, BASE_URL, LIMITS, openFixture, siaParams, type Fixture, type Pairs } from './fixture';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await openFixture();
});
afterAll(() => fixture.close());

const build = (pairs: Pairs) => buildSiaQuery(siaParams(pairs), LIMITS, BASE_URL);

/** The `detail` lines of EXPLAIN QUERY PLAN. */
function plan(pairs: Pairs): string[] {
  const query = build(pairs);
  return (fixture.db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as { detail: string }[]).map((r) => r.detail);
}

test('the result has every published ObsCore column, in definition order', () => {
  const columns = fixture.db
    .prepare(build([]).sql)
    .columns()
    .map((c) => c.name);
  expect(columns).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
  expect(columns).not.toContain('_id');
  expect(columns).not.toContain('_file');
});

test('access_url is absolute: the base URL before the stored path; null stays null', () => {
  const query = build([['MAXREC', '50']]);
  const links = (fixture.db.prepare(query.sql).all(...query.params) as { access_url: string | null }[]).map((r) => r.access_url);
  const stored = links.filter((l) => l !== null);
  expect(stored.length).toBeGreaterThan(3);
  for (const link of stored) expect(link).toMatch(/^http:\/\/sia\.test\/api\/datalink\/links\?ID=/);
  expect(links).toContain(null);
});

describe('POS queries are driven by the R*Tree, never a scan of ivoa_obscore', () => {
  test.each<[string, Pairs]>([
    ['one CIRCLE', [['POS', 'CIRCLE 55.7 -32.3 0.5']]],
    ['one POLYGON', [['POS', 'POLYGON 150.4 2.2 150.6 2.2 150.5 2.4']]],
    ['a RANGE across RA 0', [['POS', 'RANGE 359.9 0.1 0 1']]],
    [
      'three POS values',
      [
        ['POS', 'CIRCLE 55.7 -32.3 0.5'],
        ['POS', 'RANGE 359.9 0.1 0 1'],
        ['POS', 'POLYGON 150.4 2.2 150.6 2.2 150.5 2.4'],
      ],
    ],
    [
      'POS with indexed BAND and TIME',
      [
        ['POS', 'CIRCLE 55.7 -32.3 0.5'],
        ['BAND', '600e-9'],
        ['TIME', '60000 +Inf'],
        ['CALIB', '2'],
      ],
    ],
  ])('%s', (_, pairs) => {
    const details = plan(pairs);
    expect(details.some((d) => /ivoa_obscore_rtree VIRTUAL TABLE/.test(d))).toBe(true);
    expect(details.filter((d) => /SCAN ivoa_obscore\b/.test(d))).toEqual([]);
    expect(details.some((d) => /SEARCH ivoa_obscore USING INTEGER PRIMARY KEY/.test(d))).toBe(true);
  });

  test('POS with ID: the case-insensitive identifier index leads (migration 002), no scan', () => {
    const details = plan([
      ['POS', 'CIRCLE 55.7 -32.3 0.5'],
      ['ID', 'ivo://example.org/x'],
    ]);
    expect(details.some((d) => /SEARCH ivoa_obscore USING INDEX ivoa_obscore_did_nocase/.test(d))).toBe(true);
    expect(details.filter((d) => /SCAN ivoa_obscore\b/.test(d))).toEqual([]);
  });

  test("the prefilter keeps rows whose box meets the shape's; the exact test decides", () => {
    const query = build([['POS', 'POLYGON 150.05 2.85 150.15 2.95 150.05 2.95']]);
    const [prefilter] = query.sql.match(/_id IN \(SELECT id FROM "ivoa_obscore_rtree" WHERE [^)]*\)/)!;
    // After the base URL of access_url, the prefilter's six values.
    const boxed = fixture.db
      .prepare(`SELECT obs_id FROM ivoa_obscore WHERE ${prefilter}`)
      .pluck()
      .all(...query.params.slice(1, 7));
    expect(boxed).toEqual(['triangle']);
    expect(fixture.run(query)).toEqual([]);
  });
});

describe('many values', () => {
  test("1500 OR-ed values stay within SQLite's expression depth", () => {
    const bands: Pairs = Array.from({ length: 1500 }, (_, i) => ['BAND', `${10 + i}`]);
    expect(fixture.run(build([...bands, ['BAND', '750e-9']]))).toEqual(['i-calexp']);
    const positions: Pairs = Array.from({ length: 1500 }, (_, i) => ['POS', `CIRCLE ${100 + i / 100} -60 0.001`]);
    expect(fixture.run(build([...positions, ['POS', 'CIRCLE 0 0.5 0.1']]))).toEqual(['west-of-0']);
  });

  test(`${MAX_CONSTRAINT_VALUES} POS values fit SQLite's variable limit; one more is refused`, () => {
    const positions: Pairs = Array.from({ length: MAX_CONSTRAINT_VALUES - 1 }, (_, i) => ['POS', `CIRCLE ${i / 100} -60 0.001`]);
    expect(fixture.run(build([...positions, ['POS', 'RANGE -Inf +Inf -Inf +Inf']]))).toEqual(ALL.filter((id) => id !== 'nulls'));
    expect(() => build([...positions, ['CALIB', '1'], ['CALIB', '2']])).toThrow(
      new SiaError(
        'UsageFault',
        `too many constraint values: ${MAX_CONSTRAINT_VALUES + 1} given, at most ${MAX_CONSTRAINT_VALUES} per query`,
      ),
    );
  });

  test('ID, CALIB and string values become one IN list each', () => {
    const query = build([
      ['ID', 'a'],
      ['ID', 'b'],
      ['CALIB', '1'],
      ['CALIB', '2'],
      ['COLLECTION', 'c'],
    ]);
    expect(query.sql).toContain('obs_publisher_did COLLATE NOCASE IN (?, ?)');
    expect(query.sql).toContain('calib_level IN (?, ?)');
    expect(query.sql).toContain('obs_collection IN (?)');
    // The first value is the base URL of access_url.
    expect(query.params).toEqual([BASE_URL, 'a', 'b', 'c', 1, 2, LIMITS.maxrecDefault + 1]);
  });
});
