/**
 * SODA 1.0 §3 parameters: every accepted form (the standard's examples and what pyvo sends),
 * every rejection with its label and message, multiplicity for sync and async (§3.1), and the
 * combinations an async job turns into results (§6).
 */
import { SodaError, type SodaParam, combinations, countCombinations, parseSodaRequest, sodaErrorText } from '../../shared/soda';
import { DEFAULT_DISPLAY } from '../../shared/preview';
import { sodaFailure } from './helpers';

const SYNC = { multiValued: false } as const;
const ASYNC = { multiValued: true } as const;

function params(...pairs: Array<[string, string]>): SodaParam[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

/** `text` begins with `prefix` (shown as a diff when not). */
function expectPrefix(text: string, prefix: string): void {
  expect(text.slice(0, prefix.length)).toBe(prefix);
}

/** The text/plain body the request fails with. */
function failure(list: SodaParam[], options: { multiValued: boolean; maxCombinations?: number } = SYNC): string {
  return sodaFailure(() => parseSodaRequest(list, options));
}

describe('accepted forms', () => {
  test('ID alone: one cutout of the whole dataset', () => {
    const request = parseSodaRequest(params(['ID', 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c']), SYNC);
    expect(request).toEqual({
      ids: ['butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c'],
      spatial: [],
      bands: [],
      times: [],
      pol: [],
      output: { kind: 'fits' },
    });
    expect(combinations(request)).toEqual([
      { id: 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c', spatial: null, band: null, time: null, pol: null },
    ]);
  });

  test('the ID is opaque: used exactly as given', () => {
    const id = ' ivo://x/y?a=1&b= 2 ';
    expect(parseSodaRequest(params(['ID', id]), SYNC).ids).toEqual([id]);
  });

  test('POS=CIRCLE, POS=RANGE, POS=POLYGON (SODA §3.3.1 examples)', () => {
    const spatial = (value: string) => parseSodaRequest(params(['ID', 'a'], ['POS', value]), SYNC).spatial[0];
    expect(spatial('CIRCLE 12 34 0.5')).toEqual({ param: 'POS', shape: { kind: 'circle', center: { ra: 12, dec: 34 }, radius: 0.5 } });
    expect(spatial('RANGE 12 14 34 36')).toEqual({ param: 'POS', shape: { kind: 'range', raMin: 12, raMax: 14, decMin: 34, decMax: 36 } });
    expect(spatial('RANGE 0 360 -2 2')).toEqual({ param: 'POS', shape: { kind: 'range', raMin: 0, raMax: 360, decMin: -2, decMax: 2 } });
    expect(spatial('RANGE 0 360 89 90')).toEqual({ param: 'POS', shape: { kind: 'range', raMin: 0, raMax: 360, decMin: 89, decMax: 90 } });
    const polygon = spatial('POLYGON 12 34 14 34 14 36 12 36');
    expect(polygon?.shape.kind).toBe('polygon');
    expect(polygon?.shape.kind === 'polygon' && polygon.shape.vertices).toHaveLength(4);
    // Keywords are case-insensitive, white space is free.
    expect(spatial('  circle   12\t34 0.5 ')).toEqual({
      param: 'POS',
      shape: { kind: 'circle', center: { ra: 12, dec: 34 }, radius: 0.5 },
    });
  });

  test('POS=RANGE with open sides (-Inf, +Inf), and a longitude range through 0/360', () => {
    const spatial = (value: string) => parseSodaRequest(params(['ID', 'a'], ['POS', value]), SYNC).spatial[0]?.shape;
    expect(spatial('RANGE -Inf +Inf -Inf +Inf')).toEqual({
      kind: 'range',
      raMin: -Infinity,
      raMax: Infinity,
      decMin: -Infinity,
      decMax: Infinity,
    });
    expect(spatial('RANGE 10 +Inf -Inf 5')).toEqual({ kind: 'range', raMin: 10, raMax: Infinity, decMin: -Infinity, decMax: 5 });
    expect(spatial('RANGE -10 10 -1 1')).toEqual({ kind: 'range', raMin: 350, raMax: 10, decMin: -1, decMax: 1 });
  });

  test("pyvo's CIRCLE and POLYGON (DALI values, no shape word), and POS=RANGE", () => {
    const request = parseSodaRequest(params(['ID', 'a'], ['CIRCLE', '150.1 2.2 0.01']), SYNC);
    expect(request.spatial).toEqual([{ param: 'CIRCLE', shape: { kind: 'circle', center: { ra: 150.1, dec: 2.2 }, radius: 0.01 } }]);
    const polygon = parseSodaRequest(params(['ID', 'a'], ['POLYGON', '12 34 14 34 14 36']), SYNC).spatial[0]!;
    expect(polygon.param).toBe('POLYGON');
    expect(polygon.shape.kind === 'polygon' && polygon.shape.vertices.map((v) => [v.ra, v.dec]).sort()).toEqual([
      [12, 34],
      [14, 34],
      [14, 36],
    ]);
    expect(parseSodaRequest(params(['ID', 'a'], ['POS', 'RANGE 150 150.2 2.1 2.3']), SYNC).spatial[0]).toEqual({
      param: 'POS',
      shape: { kind: 'range', raMin: 150, raMax: 150.2, decMin: 2.1, decMax: 2.3 },
    });
  });

  test('BAND and TIME intervals: closed, open on either side, scalar (SODA §3.3.4, §3.3.5 examples)', () => {
    const band = (value: string) => parseSodaRequest(params(['ID', 'a'], ['BAND', value]), SYNC).bands[0];
    expect(band('500e-9 550e-9')).toEqual({ lo: 500e-9, hi: 550e-9 });
    expect(band('-Inf 300e-9')).toEqual({ lo: -Infinity, hi: 300e-9 });
    expect(band('750e-9 +Inf')).toEqual({ lo: 750e-9, hi: Infinity });
    expect(band('7.5E-7 inf')).toEqual({ lo: 7.5e-7, hi: Infinity });
    expect(band('550e-9 550e-9')).toEqual({ lo: 550e-9, hi: 550e-9 });
    const time = (value: string) => parseSodaRequest(params(['ID', 'a'], ['TIME', value]), SYNC).times[0];
    expect(time(' 55100.0 +Inf')).toEqual({ lo: 55100, hi: Infinity });
    expect(time('55123.456 55123.466')).toEqual({ lo: 55123.456, hi: 55123.466 });
    expect(time('55678.123456 55678.123456')).toEqual({ lo: 55678.123456, hi: 55678.123456 });
  });

  test('POL: every value in one filter, repeats removed; several POL are fine for sync (§3.3.6)', () => {
    const request = parseSodaRequest(params(['ID', 'a'], ['POL', 'I'], ['POL', 'Q'], ['POL', 'U'], ['POL', 'Q']), SYNC);
    expect(request.pol).toEqual(['I', 'Q', 'U']);
    expect(combinations(request)).toEqual([{ id: 'a', spatial: null, band: null, time: null, pol: ['I', 'Q', 'U'] }]);
  });

  test("DALI's common parameters are accepted, names are case-insensitive, blank values count as absent", () => {
    const request = parseSodaRequest(
      params(
        ['id', 'a'],
        ['RESPONSEFORMAT', 'application/fits'],
        ['RUNID', 'r'],
        ['request', 'doQuery'],
        ['VERSION', '1.0'],
        ['MAXREC', '10'],
        ['pos', 'CIRCLE 1 2 3'],
        ['BAND', ''],
        ['TIME', '  '],
        ['POL', ''],
      ),
      SYNC,
    );
    expect(request).toEqual({
      ids: ['a'],
      spatial: [{ param: 'POS', shape: { kind: 'circle', center: { ra: 1, dec: 2 }, radius: 3 } }],
      bands: [],
      times: [],
      pol: [],
      output: { kind: 'fits' },
    });
  });

  test.each(['application/fits', 'image/fits', 'fits', 'APPLICATION/FITS'])('RESPONSEFORMAT=%s is FITS', (format) => {
    expect(parseSodaRequest(params(['ID', 'a'], ['RESPONSEFORMAT', format]), SYNC).output).toEqual({ kind: 'fits' });
  });

  test('RESPONSEFORMAT=image/png or image/jpeg: the IMAGE plane drawn, with the display parameters', () => {
    const png = parseSodaRequest(params(['ID', 'a'], ['RESPONSEFORMAT', 'image/png']), SYNC).output;
    expect(png).toEqual({ kind: 'image', format: 'png', display: DEFAULT_DISPLAY, rgb: null });
    const jpeg = parseSodaRequest(
      params(
        ['ID', 'a'],
        ['responseformat', 'jpeg'],
        ['STRETCH', 'linear'],
        ['CUTS', 'minmax'],
        ['CMAP', 'viridis'],
        ['PREVIEW_SIZE', '32'],
      ),
      SYNC,
    ).output;
    expect(jpeg).toEqual({
      kind: 'image',
      format: 'jpeg',
      display: { stretch: 'linear', cuts: { kind: 'minmax' }, cmap: 'viridis', maxSide: 32 },
      rgb: null,
    });
  });

  test('RGB: three IDs drawn as one colour picture, bands red first (sync takes the three IDs)', () => {
    const request = parseSodaRequest(
      params(['ID', 'a'], ['ID', 'b'], ['ID', 'c'], ['RESPONSEFORMAT', 'image/png'], ['RGB', 'i, r,G'], ['CIRCLE', '1 2 0.01']),
      SYNC,
    );
    expect(request.ids).toEqual(['a', 'b', 'c']);
    expect(request.output).toEqual({ kind: 'image', format: 'png', display: DEFAULT_DISPLAY, rgb: ['i', 'r', 'g'] });
  });
});

describe('refused rather than ignored', () => {
  const ID: [string, string] = ['ID', 'a'];
  const TAKES =
    'this service takes ID, POS, CIRCLE, POLYGON, BAND, TIME, POL, REQUEST, VERSION, RESPONSEFORMAT, RUNID, STRETCH, CUTS, CMAP, PREVIEW_SIZE, RGB\n';
  test.each<[string, Array<[string, string]>, string]>([
    ["DaCHS's PIXEL_1", [ID, ['PIXEL_1', '1 10']], `UsageError: unsupported parameter PIXEL_1; ${TAKES}`],
    [
      "Rubin's CUTOUTDETAIL and KIND, each named once",
      [ID, ['CUTOUTDETAIL', 'x'], ['kind', 'y'], ['CUTOUTDETAIL', 'z']],
      `UsageError: unsupported parameters CUTOUTDETAIL, KIND; ${TAKES}`,
    ],
    ['an unknown parameter even when blank', [ID, ['FOO', '']], `UsageError: unsupported parameter FOO; ${TAKES}`],
    [
      'an unknown RESPONSEFORMAT (DALI 1.1 §3.4.3)',
      [ID, ['RESPONSEFORMAT', 'text/html']],
      'UsageError: unsupported RESPONSEFORMAT text/html; this service answers application/fits, image/png, image/jpeg\n',
    ],
    [
      'RESPONSEFORMAT twice',
      [ID, ['RESPONSEFORMAT', 'png'], ['RESPONSEFORMAT', 'png']],
      'UsageError: RESPONSEFORMAT has 2 values; give one\n',
    ],
    [
      'display parameters with FITS',
      [ID, ['STRETCH', 'log'], ['CMAP', 'gray']],
      'UsageError: STRETCH, CMAP only apply to RESPONSEFORMAT=image/png or image/jpeg\n',
    ],
    ['a bad STRETCH', [ID, ['RESPONSEFORMAT', 'image/png'], ['STRETCH', 'cubic']], 'UsageError: '],
    [
      'RGB of two bands',
      [ID, ['ID', 'b'], ['ID', 'c'], ['RESPONSEFORMAT', 'png'], ['RGB', 'i,r']],
      'UsageError: RGB must name three different bands among u g r i z y, red first (e.g. RGB=i,r,g), not "i,r"\n',
    ],
    [
      'RGB of one band twice',
      [ID, ['ID', 'b'], ['ID', 'c'], ['RESPONSEFORMAT', 'png'], ['RGB', 'i,i,g']],
      'UsageError: RGB must name three different bands',
    ],
    [
      'RGB with two IDs',
      [ID, ['ID', 'b'], ['RESPONSEFORMAT', 'png'], ['RGB', 'i,r,g']],
      'UsageError: RGB needs three IDs, one image per band (i, r, g); the request has 2\n',
    ],
    [
      'RGB with FITS',
      [ID, ['ID', 'b'], ['ID', 'c'], ['RGB', 'i,r,g']],
      'UsageError: RGB only applies to RESPONSEFORMAT=image/png or image/jpeg\n',
    ],
  ])('%s', (_name, list, expected) => {
    expectPrefix(failure(params(...list)), expected);
  });
});

describe('rejections: label and message', () => {
  const ID: [string, string] = ['ID', 'a'];
  test.each<[string, Array<[string, string]>, string]>([
    ['no ID', [['POS', 'CIRCLE 1 2 3']], 'UsageError: missing parameter ID (the identifier of the dataset to cut out)\n'],
    ['blank ID', [['ID', ' ']], 'UsageError: missing parameter ID'],
    ['latitude beyond 90', [ID, ['POS', 'CIRCLE 12 91 1']], 'UsageError: latitude 91 out of range [-90, 90] in POS\n'],
    ['zero radius', [ID, ['CIRCLE', '12 34 0']], 'UsageError: radius must be positive (got 0) in CIRCLE\n'],
    ['negative radius', [ID, ['POS', 'CIRCLE 12 34 -1']], 'UsageError: radius must be positive (got -1) in POS\n'],
    ['radius beyond 180', [ID, ['CIRCLE', '12 34 181']], 'UsageError: radius 181 exceeds 180 degrees in CIRCLE\n'],
    [
      'circle with two values',
      [ID, ['CIRCLE', '12 34']],
      'UsageError: CIRCLE needs 3 values (longitude latitude radius) but got 2 in CIRCLE\n',
    ],
    ['NaN', [ID, ['CIRCLE', '12 34 NaN']], 'UsageError: expected a number but found "NaN" in CIRCLE\n'],
    ['infinite radius', [ID, ['CIRCLE', '12 34 Inf']], 'UsageError: value Inf must be finite in CIRCLE\n'],
    ['infinite circle centre', [ID, ['POS', 'CIRCLE +Inf 34 1']], 'UsageError: value +Inf must be finite in POS\n'],
    ['unknown shape', [ID, ['POS', 'BOX 1 2 3 4']], 'UsageError: unknown shape "BOX"; expected CIRCLE, RANGE or POLYGON in POS\n'],
    ['POS without shape word', [ID, ['POS', '12 34 0.5']], 'UsageError: missing shape keyword; expected CIRCLE, RANGE or POLYGON in POS\n'],
    ['polygon of two vertices', [ID, ['POLYGON', '1 2 3 4']], 'UsageError: POLYGON needs at least 3 vertices (got 2) in POLYGON\n'],
    ['polygon with an odd count', [ID, ['POLYGON', '1 2 3 4 5']], 'UsageError: POLYGON needs an even number of values'],
    ['self-intersecting polygon', [ID, ['POLYGON', '0 0 2 2 2 0 0 2']], 'UsageError: polygon is self-intersecting'],
    ['range with 3 values', [ID, ['POS', 'RANGE 1 2 3']], 'UsageError: RANGE needs 4 values'],
    ['range latitudes reversed', [ID, ['POS', 'RANGE 12 14 36 34']], 'UsageError: latitude lower bound 36 exceeds upper bound 34 in POS\n'],
    ['range opening the wrong way', [ID, ['POS', 'RANGE +Inf 12 0 1']], 'UsageError: longitude lower bound cannot be +Inf in POS\n'],
    ['range latitude beyond 90', [ID, ['POS', 'RANGE 0 1 0 95']], 'UsageError: latitude 95 out of range [-90, 90] in POS\n'],
    ['BAND reversed', [ID, ['BAND', '5e-7 3e-7']], 'UsageError: lower bound 5e-7 exceeds upper bound 3e-7 in BAND\n'],
    ['BAND of one value', [ID, ['BAND', '5e-7']], 'UsageError: BAND needs 2 values (lower upper) but got 1\n'],
    ['BAND of three values', [ID, ['BAND', '1 2 3']], 'UsageError: BAND needs 2 values (lower upper) but got 3\n'],
    ['BAND not a number', [ID, ['BAND', '5e-7 red']], 'UsageError: expected a number but found "red" in BAND\n'],
    ['BAND NaN', [ID, ['BAND', 'NaN 1']], 'UsageError: expected a number but found "NaN" in BAND\n'],
    ['BAND from +Inf', [ID, ['BAND', '+Inf +Inf']], 'UsageError: lower bound cannot be +Inf in BAND\n'],
    ['TIME up to -Inf', [ID, ['TIME', '-Inf -Inf']], 'UsageError: upper bound cannot be -Inf in TIME\n'],
    ['TIME reversed', [ID, ['TIME', '60001 60000']], 'UsageError: lower bound 60001 exceeds upper bound 60000 in TIME\n'],
    [
      'unknown POL',
      [ID, ['POL', 'Z']],
      'UsageError: unknown polarization state "Z" in POL; expected one of I Q U V RR LL RL LR XX YY XY YX POLI POLA\n',
    ],
    ['POL is case-sensitive', [ID, ['POL', 'i']], 'UsageError: unknown polarization state "i" in POL'],
  ])('%s', (_name, list, expected) => {
    expectPrefix(failure(params(...list)), expected);
  });

  test('malformed values fail in async requests too', () => {
    expect(failure(params(['ID', 'a'], ['CIRCLE', '1 2 3'], ['CIRCLE', '1 95 3']), ASYNC)).toBe(
      'UsageError: latitude 95 out of range [-90, 90] in CIRCLE\n',
    );
  });
});

describe('multiplicity (SODA §3.1)', () => {
  test.each<[string, Array<[string, string]>, string]>([
    [
      'two IDs',
      [
        ['ID', 'a'],
        ['ID', 'b'],
      ],
      'MultiValuedParamNotSupported: ID has 2 values; this service takes one per request (the async service takes several)\n',
    ],
    [
      'POS and CIRCLE',
      [
        ['ID', 'a'],
        ['POS', 'CIRCLE 1 2 3'],
        ['CIRCLE', '1 2 3'],
      ],
      'MultiValuedParamNotSupported: 2 spatial constraints (POS, CIRCLE); this service takes one per request (the async service takes several)\n',
    ],
    [
      'CIRCLE and POLYGON',
      [
        ['ID', 'a'],
        ['POLYGON', '0 0 1 0 1 1'],
        ['CIRCLE', '1 2 3'],
      ],
      'MultiValuedParamNotSupported: 2 spatial constraints (POLYGON, CIRCLE)',
    ],
    [
      'two POS',
      [
        ['ID', 'a'],
        ['POS', 'CIRCLE 1 2 3'],
        ['POS', 'RANGE 1 2 3 4'],
      ],
      'MultiValuedParamNotSupported: 2 spatial constraints (POS, POS)',
    ],
    [
      'two BAND',
      [
        ['ID', 'a'],
        ['BAND', '1 2'],
        ['BAND', '3 4'],
      ],
      'MultiValuedParamNotSupported: BAND has 2 values',
    ],
    [
      'three TIME',
      [
        ['ID', 'a'],
        ['TIME', '1 2'],
        ['TIME', '3 4'],
        ['TIME', '5 6'],
      ],
      'MultiValuedParamNotSupported: TIME has 3 values',
    ],
  ])('sync refuses %s', (_name, list, expected) => {
    expectPrefix(failure(params(...list)), expected);
  });

  test('sync: several IDs are refused, never reduced to one (docs/protocols.md, SODA 1.0)', () => {
    expect(failure(params(['ID', 'a'], ['ID', 'a']))).toMatch(/^MultiValuedParamNotSupported: ID has 2 values/);
  });

  test('async: 2 CIRCLE × 2 BAND give 4 cutouts (SODA §6), ID slowest, in the order given', () => {
    const request = parseSodaRequest(
      params(
        ['ID', 'a'],
        ['CIRCLE', '10 20 1'],
        ['BAND', '1e-7 2e-7'],
        ['CIRCLE', '11 21 2'],
        ['BAND', '3e-7 4e-7'],
        ['POL', 'I'],
        ['POL', 'V'],
      ),
      ASYNC,
    );
    expect(countCombinations(request)).toBe(4);
    const circle = (ra: number, dec: number, radius: number) => ({
      param: 'CIRCLE',
      shape: { kind: 'circle', center: { ra, dec }, radius },
    });
    expect(combinations(request)).toEqual([
      { id: 'a', spatial: circle(10, 20, 1), band: { lo: 1e-7, hi: 2e-7 }, time: null, pol: ['I', 'V'] },
      { id: 'a', spatial: circle(10, 20, 1), band: { lo: 3e-7, hi: 4e-7 }, time: null, pol: ['I', 'V'] },
      { id: 'a', spatial: circle(11, 21, 2), band: { lo: 1e-7, hi: 2e-7 }, time: null, pol: ['I', 'V'] },
      { id: 'a', spatial: circle(11, 21, 2), band: { lo: 3e-7, hi: 4e-7 }, time: null, pol: ['I', 'V'] },
    ]);
  });

  test('async: POS, CIRCLE and POLYGON together are one list of regions, in request order', () => {
    const request = parseSodaRequest(
      params(
        ['ID', 'a'],
        ['ID', 'b'],
        ['POLYGON', '0 0 1 0 1 1'],
        ['POS', 'RANGE 1 2 3 4'],
        ['CIRCLE', '1 2 3'],
        ['TIME', '1 2'],
        ['TIME', '3 4'],
      ),
      ASYNC,
    );
    expect(request.spatial.map((s) => s.param)).toEqual(['POLYGON', 'POS', 'CIRCLE']);
    const all = combinations(request);
    expect(all).toHaveLength(2 * 3 * 2);
    expect(countCombinations(request)).toBe(12);
    expect(all.map((c) => `${c.id}:${c.spatial?.param}:${c.time?.lo}`)).toEqual([
      'a:POLYGON:1',
      'a:POLYGON:3',
      'a:POS:1',
      'a:POS:3',
      'a:CIRCLE:1',
      'a:CIRCLE:3',
      'b:POLYGON:1',
      'b:POLYGON:3',
      'b:POS:1',
      'b:POS:3',
      'b:CIRCLE:1',
      'b:CIRCLE:3',
    ]);
    // Plain data: survives a structured clone (the worker thread boundary) unchanged.
    expect(structuredClone(all)).toEqual(all);
  });

  test('async: a request expanding beyond maxCombinations is a UsageError naming the limit', () => {
    const many = params(['ID', 'a'], ['ID', 'b'], ...Array.from({ length: 6 }, (_, k): [string, string] => ['CIRCLE', `${k} 0 1`]));
    expect(combinations(parseSodaRequest(many, { multiValued: true, maxCombinations: 12 }))).toHaveLength(12);
    expect(failure(many, { multiValued: true, maxCombinations: 11 })).toBe(
      'UsageError: the request asks for 12 cutouts (2 ID × 6 positions × 1 BAND × 1 TIME); the limit is 11\n',
    );
  });
});

test('sodaErrorText is "<code>: <message>" and a newline, for every code', () => {
  for (const code of [
    'Error',
    'AuthenticationError',
    'AuthorizationError',
    'ServiceUnavailable',
    'UsageError',
    'MultiValuedParamNotSupported',
  ] as const) {
    const err = new SodaError(code, 'something happened');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(sodaErrorText(err)).toBe(`${code}: something happened\n`);
  }
});
