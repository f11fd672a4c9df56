/**
 * The bulk service's parameters: defaults, every accepted form (names in any case, DALI 1.1
 * §3.1), band letters and DALI §3.3.4 intervals with their file-name labels, the UPLOAD and
 * POSITION sources, and every rejection with its SODA 1.0 §5.2 label and exact message.
 */
import {
  BULK_DEFAULTS,
  normaliseRa,
  parseBand,
  parseBulkParameters,
  type BulkParam,
  type BulkParamLimits,
  type BulkRequest,
} from '../../shared/bulk/params';
import { SodaError } from '../../shared/soda/errors';

const LIMITS: BulkParamLimits = { maxPositions: 1000 };

function params(...pairs: Array<[string, string]>): BulkParam[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

/** A request from one POSITION and the given parameters. */
function parse(...pairs: Array<[string, string]>): BulkRequest {
  return parseBulkParameters(params(['POSITION', '10 20'], ...pairs), LIMITS);
}

/** The message (`<label>: <detail>`) parseBulkParameters fails with, checking it is a SodaError. */
function failure(list: BulkParam[], limits: BulkParamLimits = LIMITS): string {
  try {
    parseBulkParameters(list, limits);
  } catch (e) {
    if (e instanceof SodaError) return e.message;
    throw e;
  }
  throw new Error('parseBulkParameters did not fail');
}

/** The failure with one POSITION and the given parameters. */
function fails(...pairs: Array<[string, string]>): string {
  return failure(params(['POSITION', '10 20'], ...pairs));
}

const G = { kind: 'letter', label: 'g', lo: 402e-9, hi: 552e-9 };

describe('defaults and accepted forms', () => {
  test('one POSITION and nothing else: the service defaults, every LSST band', () => {
    expect(parse()).toEqual({
      size: { value: 64, unit: 'pix' },
      bands: [
        { kind: 'letter', label: 'u', lo: 330e-9, hi: 400e-9 },
        G,
        { kind: 'letter', label: 'r', lo: 552e-9, hi: 691e-9 },
        { kind: 'letter', label: 'i', lo: 691e-9, hi: 818e-9 },
        { kind: 'letter', label: 'z', lo: 818e-9, hi: 922e-9 },
        { kind: 'letter', label: 'y', lo: 949e-9, hi: 1060e-9 },
      ],
      dpsubtype: 'lsst.deepCoadd_calexp',
      collection: undefined,
      time: undefined,
      match: 'best',
      edge: 'pad',
      planes: ['IMAGE'],
      packaging: 'zip',
      dryRun: false,
      columns: {},
      source: { kind: 'positions', positions: [{ ra: 10, dec: 20 }] },
    });
    expect(BULK_DEFAULTS.size).toEqual({ value: 64, unit: 'pix' });
  });

  test('every parameter given, names in any case (DALI 1.1 §3.1), keyword values in any case', () => {
    const request = parseBulkParameters(
      params(
        ['upload', 'positions,param:targets'],
        ['Size', '2.5'],
        ['size_unit', 'ARCSEC'],
        ['band', 'G'],
        ['Band', '550e-9 700e-9'],
        ['dpSubType', ' lsst.calexp '],
        ['collection', 'LSST/DP1'],
        ['time', '60000 60010.5'],
        ['match', 'All'],
        ['edge', 'CLIP'],
        ['planes', 'variance, image'],
        ['package', 'TAR'],
        ['dryrun', 'TRUE'],
        ['ra_col', ' RAJ2000 '],
        ['dec_col', 'DEJ2000'],
        ['id_col', 'name'],
        ['runid', 'my run'],
      ),
      LIMITS,
    );
    expect(request).toEqual({
      size: { value: 2.5, unit: 'arcsec' },
      bands: [G, { kind: 'interval', label: '550e-9_700e-9', lo: 550e-9, hi: 700e-9 }],
      dpsubtype: 'lsst.calexp',
      collection: 'LSST/DP1',
      time: { lo: 60000, hi: 60010.5 },
      match: 'all',
      edge: 'clip',
      planes: ['IMAGE', 'VARIANCE'],
      packaging: 'tar',
      dryRun: true,
      columns: { ra: 'RAJ2000', dec: 'DEJ2000', id: 'name' },
      source: { kind: 'upload', uri: 'param:targets', location: { kind: 'part', part: 'TARGETS' } },
    });
  });

  test('a blank value counts as not given', () => {
    const request = parse(['SIZE', ''], ['BAND', ' '], ['PLANES', ''], ['PREVIEW', ''], ['RGB', ' '], ['STRETCH', ''], ['DRYRUN', '']);
    expect(request.size).toEqual({ value: 64, unit: 'pix' });
    expect(request.bands).toHaveLength(6);
    expect(request.planes).toEqual(['IMAGE']);
    expect(request.dryRun).toBe(false);
    expect(request.preview).toBeUndefined();
  });

  test('PREVIEW, RGB and the display parameters: forms, defaults, what each applies to', () => {
    const defaults = { stretch: 'asinh', cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 }, cmap: 'gray' };
    expect(parse()).not.toHaveProperty('preview');
    expect(parse()).not.toHaveProperty('rgb');
    for (const [value, format] of [
      ['png', 'png'],
      ['JPEG', 'jpeg'],
      ['image/png', 'png'],
      [' Image/JPEG ', 'jpeg'],
      ['jpg', 'jpeg'],
    ] as const) {
      expect(parse(['PREVIEW', value]).preview).toEqual({ format, display: defaults });
    }
    const request = parse(
      ['preview', 'jpeg'],
      ['Stretch', 'LOG'],
      ['cuts', 'p1,99'],
      ['CMAP', 'viridis'],
      ['preview_size', '32'],
      ['rgb', 'I, r ,g'],
      ['BAND', 'g'],
      ['BAND', 'r'],
      ['BAND', 'i'],
    );
    expect(request.preview).toEqual({
      format: 'jpeg',
      display: { stretch: 'log', cuts: { kind: 'percentile', lo: 1, hi: 99 }, cmap: 'viridis', maxSide: 32 },
    });
    expect(request.rgb).toEqual({ bands: ['i', 'r', 'g'], format: 'jpeg', maxSide: 32 });
    // RGB alone: composites in PNG, no picture of each stamp; the job's default bands are all six.
    const rgb = parse(['RGB', 'z,i,u'], ['PREVIEW_SIZE', '16']);
    expect([rgb.preview, rgb.rgb]).toEqual([undefined, { bands: ['z', 'i', 'u'], format: 'png', maxSide: 16 }]);
    expect(parse(['PREVIEW', 'png'], ['CUTS', 'ZSCALE']).preview?.display.cuts).toEqual({ kind: 'zscale' });
    expect(parse(['PREVIEW', 'png'], ['CUTS', 'minmax'], ['PLANES', 'IMAGE,MASK']).preview?.display.cuts).toEqual({ kind: 'minmax' });
  });

  test('SIZE in each unit; the default size keeps a chosen unit', () => {
    expect(parse(['SIZE', '128']).size).toEqual({ value: 128, unit: 'pix' });
    expect(parse(['SIZE', '0.01'], ['SIZE_UNIT', 'deg']).size).toEqual({ value: 0.01, unit: 'deg' });
    expect(parse(['SIZE', '1.5e1'], ['SIZE_UNIT', 'arcsec']).size).toEqual({ value: 15, unit: 'arcsec' });
    expect(parse(['SIZE_UNIT', 'deg']).size).toEqual({ value: 64, unit: 'deg' });
    expect(parse(['SIZE', '1']).size).toEqual({ value: 1, unit: 'pix' });
  });

  test('PLANES: repeated or comma-separated, any case, repeats removed, IMAGE MASK VARIANCE order', () => {
    expect(parse(['PLANES', 'mask'], ['PLANES', 'Image,MASK,'], ['PLANES', 'variance']).planes).toEqual(['IMAGE', 'MASK', 'VARIANCE']);
    expect(parse(['PLANES', 'VARIANCE,MASK']).planes).toEqual(['MASK', 'VARIANCE']);
    expect(parse(['PLANES', 'mask']).planes).toEqual(['MASK']);
  });

  test('MATCH, EDGE, PACKAGE, DRYRUN keywords', () => {
    expect(parse(['MATCH', 'best']).match).toBe('best');
    expect(parse(['EDGE', 'skip']).edge).toBe('skip');
    expect(parse(['EDGE', 'pad']).edge).toBe('pad');
    expect(parse(['PACKAGE', 'none']).packaging).toBe('none');
    expect(parse(['PACKAGE', 'zip']).packaging).toBe('zip');
    expect(parse(['DRYRUN', 'false']).dryRun).toBe(false);
    expect(parse(['DRYRUN', 'True']).dryRun).toBe(true);
  });

  test('RESPONSEFORMAT sets the packaging, alone or agreeing with PACKAGE', () => {
    expect(parse(['RESPONSEFORMAT', 'application/zip']).packaging).toBe('zip');
    expect(parse(['RESPONSEFORMAT', 'application/x-tar']).packaging).toBe('tar');
    expect(parse(['RESPONSEFORMAT', 'Application/TAR']).packaging).toBe('tar');
    expect(parse(['RESPONSEFORMAT', 'application/fits']).packaging).toBe('none');
    expect(parse(['RESPONSEFORMAT', 'image/fits']).packaging).toBe('none');
    expect(parse(['RESPONSEFORMAT', 'tar']).packaging).toBe('tar');
    expect(parse(['RESPONSEFORMAT', 'application/zip'], ['PACKAGE', 'zip']).packaging).toBe('zip');
  });

  test('REQUEST=doQuery and VERSION=1.0 are accepted (what generic DAL clients send)', () => {
    expect(parse(['REQUEST', 'doQuery'], ['VERSION', '1.0']).size.value).toBe(64);
    expect(parse(['VERSION', '1']).size.value).toBe(64);
  });

  test('UWS control parameters and RUNID are left to the UWS layer', () => {
    expect(parse(['RUNID', 'x'], ['PHASE', 'RUN'], ['EXECUTIONDURATION', '60'], ['DESTRUCTION', '2030-01-01T00:00:00Z']).size.value).toBe(
      64,
    );
  });

  test('TIME: a DALI interval in MJD, open sides allowed', () => {
    expect(parse(['TIME', '60000 +Inf']).time).toEqual({ lo: 60000, hi: Infinity });
    expect(parse(['TIME', '-Inf 59000']).time).toEqual({ lo: -Infinity, hi: 59000 });
  });
});

describe('BAND', () => {
  test('letters in any case, intervals with file-name-safe labels, repeats removed in order', () => {
    const bands = parse(
      ['BAND', 'r'],
      ['BAND', 'G'],
      ['BAND', 'g'],
      ['BAND', '5.5e-7 7e-7'],
      ['BAND', '550e-9   700e-9'],
      ['BAND', '-Inf 4e-7'],
    ).bands;
    expect(bands).toEqual([
      { kind: 'letter', label: 'r', lo: 552e-9, hi: 691e-9 },
      G,
      { kind: 'interval', label: '550e-9_700e-9', lo: 5.5e-7, hi: 7e-7 },
      { kind: 'interval', label: '-Inf_400e-9', lo: -Infinity, hi: 4e-7 },
    ]);
  });

  test('labels of other intervals', () => {
    expect(parseBand('0 +Inf', 'BAND').label).toBe('0_Inf');
    expect(parseBand('1.2345e-6 2e-6', 'BAND').label).toBe('1234.5e-9_2000e-9');
    expect(parseBand('402e-9 552e-9', 'BAND')).toEqual({ kind: 'interval', label: '402e-9_552e-9', lo: 402e-9, hi: 552e-9 });
    for (const text of ['0 +Inf', '1.2345e-6 2e-6', '-Inf +Inf', '3e-9 3.0000001e-9'])
      expect(parseBand(text, 'BAND').label).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  test('rejections name BAND and echo the value', () => {
    expect(fails(['BAND', 'q'])).toBe(
      'UsageError: BAND must be a band letter (u g r i z y) or a wavelength interval in metres "lo hi", not "q"',
    );
    expect(fails(['BAND', 'gr'])).toBe(
      'UsageError: BAND must be a band letter (u g r i z y) or a wavelength interval in metres "lo hi", not "gr"',
    );
    expect(fails(['BAND', '1 2 3'])).toBe('UsageError: BAND needs 2 values (lower upper) but got 3: "1 2 3"');
    expect(fails(['BAND', '7e-7 5e-7'])).toBe('UsageError: lower bound 7e-7 exceeds upper bound 5e-7 in BAND: "7e-7 5e-7"');
    expect(fails(['BAND', '5e-7 x'])).toBe('UsageError: expected a number but found "x" in BAND: "5e-7 x"');
    expect(fails(['BAND', '-1e-7 5e-7'])).toBe('UsageError: BAND wavelengths are metres and cannot be negative: "-1e-7 5e-7"');
  });
});

describe('sources: UPLOAD or POSITION', () => {
  test('UPLOAD=positions,https://…', () => {
    const request = parseBulkParameters(params(['UPLOAD', ' Positions , https://example.org/t.xml?a=1;b=2 ']), LIMITS);
    expect(request.source).toEqual({
      kind: 'upload',
      uri: 'https://example.org/t.xml?a=1;b=2',
      location: { kind: 'url', url: 'https://example.org/t.xml?a=1;b=2' },
    });
  });

  test('the uploaded file itself is skipped: byReference, or under the part name', () => {
    const byReference = parseBulkParameters(
      [
        { name: 'UPLOAD', value: 'positions,param:tbl' },
        { name: 'TBL', value: 'https://api/jobs/1/parameters/TBL', byReference: true },
      ],
      LIMITS,
    );
    expect(byReference.source).toEqual({ kind: 'upload', uri: 'param:tbl', location: { kind: 'part', part: 'TBL' } });
    const plain = parseBulkParameters(params(['UPLOAD', 'positions,param:tbl'], ['tbl', 'targets.csv']), LIMITS);
    expect(plain.source).toEqual({ kind: 'upload', uri: 'param:tbl', location: { kind: 'part', part: 'TBL' } });
  });

  test('POSITION: ra normalised into [0, 360), white space or a comma between ra and dec', () => {
    const request = parseBulkParameters(
      params(['POSITION', '-10 -90'], ['position', '360 90'], ['POSITION', ' 725.5,\t-0 '], ['POSITION', '1e1 2E1']),
      LIMITS,
    );
    expect(request.source).toEqual({
      kind: 'positions',
      positions: [
        { ra: 350, dec: -90 },
        { ra: 0, dec: 90 },
        { ra: 5.5, dec: 0 },
        { ra: 10, dec: 20 },
      ],
    });
    // -0 is read as 0 (a file name or message would show "-0").
    const third = request.source.kind === 'positions' ? request.source.positions[2] : undefined;
    expect(Object.is(third?.dec, 0)).toBe(true);
  });

  test('normaliseRa: -0 and tiny negative values give 0, never 360', () => {
    expect(Object.is(normaliseRa(-0), 0)).toBe(true);
    expect(normaliseRa(-1e-15)).toBe(0);
    expect(normaliseRa(720)).toBe(0);
    expect(normaliseRa(-725)).toBe(355);
    expect(normaliseRa(359.999)).toBe(359.999);
  });

  test('as many POSITIONs as the limit, not one more', () => {
    const two = params(['POSITION', '1 2'], ['POSITION', '3 4']);
    expect(parseBulkParameters(two, { maxPositions: 2 }).source).toEqual({
      kind: 'positions',
      positions: [
        { ra: 1, dec: 2 },
        { ra: 3, dec: 4 },
      ],
    });
    expect(failure([...two, { name: 'POSITION', value: '5 6' }], { maxPositions: 2 })).toBe(
      'UsageError: POSITION is given 3 times; at most 2 are allowed (send more as an UPLOAD=positions,… table)',
    );
  });

  test('POSITION rejections echo the value', () => {
    const one = (value: string) => failure(params(['POSITION', value]));
    expect(one('abc')).toBe('UsageError: POSITION must be "<ra> <dec>" in decimal degrees, not "abc"');
    expect(one('10')).toBe('UsageError: POSITION must be "<ra> <dec>" in decimal degrees, not "10"');
    expect(one('1 2 3')).toBe('UsageError: POSITION must be "<ra> <dec>" in decimal degrees, not "1 2 3"');
    expect(one('12:30:00 +20:00:00')).toBe('UsageError: POSITION must be "<ra> <dec>" in decimal degrees, not "12:30:00 +20:00:00"');
    expect(one('10 95')).toBe('UsageError: POSITION "10 95": dec 95 is outside [-90, 90]');
    expect(one('10 -90.5')).toBe('UsageError: POSITION "10 -90.5": dec -90.5 is outside [-90, 90]');
    expect(one('1e999 0')).toBe('UsageError: POSITION "1e999 0": ra 1e999 is not finite');
    expect(one('Infinity 0')).toBe('UsageError: POSITION must be "<ra> <dec>" in decimal degrees, not "Infinity 0"');
  });

  test('both sources, or none', () => {
    expect(failure(params(['UPLOAD', 'positions,param:t'], ['POSITION', '1 2']))).toBe(
      'UsageError: give either UPLOAD=positions,<URI> or POSITION, not both',
    );
    expect(failure(params(['SIZE', '10']))).toBe(
      'UsageError: no positions: give UPLOAD=positions,<URI> (a table with ra and dec columns) or POSITION=<ra> <dec> (repeatable)',
    );
    expect(failure([])).toMatch(/^UsageError: no positions: /);
  });

  test('UPLOAD rejections', () => {
    const upload = (value: string) => failure(params(['UPLOAD', value]));
    expect(upload('targets,param:t')).toBe('UsageError: UPLOAD\'s table must be named positions, not "targets" (UPLOAD=positions,<URI>)');
    expect(upload('positions')).toBe('UsageError: UPLOAD must be positions,<URI> (param:<part> or an http(s) URL), not "positions"');
    expect(upload('positions,param:')).toBe('UsageError: UPLOAD "param:" names no part: use param:<name of the file part>');
    expect(upload('positions,file:///etc/passwd')).toBe(
      'UsageError: UPLOAD URI must be param:<part> (a file sent with the request) or an http(s) URL, not "file:///etc/passwd"',
    );
    expect(upload('positions,ftp://example.org/t.csv')).toBe(
      'UsageError: UPLOAD URI must be param:<part> (a file sent with the request) or an http(s) URL, not "ftp://example.org/t.csv"',
    );
    expect(upload('positions,https://')).toBe('UsageError: UPLOAD URI is not a valid URL: "https://"');
    expect(upload('positions,param:a;more,param:b')).toBe(
      'UsageError: UPLOAD takes one table, positions, not several: "positions,param:a;more,param:b"',
    );
  });

  test('RA_COL, DEC_COL, ID_COL need an UPLOAD table', () => {
    expect(fails(['RA_COL', 'raj2000'])).toBe(
      'UsageError: RA_COL="raj2000" names a column of an UPLOAD table, but the job has POSITION values',
    );
    expect(fails(['ID_COL', 'name'])).toBe('UsageError: ID_COL="name" names a column of an UPLOAD table, but the job has POSITION values');
  });
});

describe('rejections', () => {
  test('SIZE', () => {
    expect(fails(['SIZE', 'abc'])).toBe('UsageError: SIZE must be a positive number, not "abc"');
    expect(fails(['SIZE', '0'])).toBe('UsageError: SIZE must be a positive number, not "0"');
    expect(fails(['SIZE', '-5'])).toBe('UsageError: SIZE must be a positive number, not "-5"');
    expect(fails(['SIZE', '1e999'])).toBe('UsageError: SIZE must be a positive number, not "1e999"');
    expect(fails(['SIZE', '0x40'])).toBe('UsageError: SIZE must be a positive number, not "0x40"');
    expect(fails(['SIZE', '10 20'])).toBe('UsageError: SIZE must be a positive number, not "10 20"');
    expect(fails(['SIZE', '10.5'])).toBe('UsageError: SIZE must be a whole number of pixels with SIZE_UNIT=pix, not "10.5"');
    expect(fails(['SIZE', '0.5'], ['SIZE_UNIT', 'pix'])).toBe(
      'UsageError: SIZE must be a whole number of pixels with SIZE_UNIT=pix, not "0.5"',
    );
  });

  test('keywords', () => {
    expect(fails(['SIZE_UNIT', 'arcmin'])).toBe('UsageError: SIZE_UNIT must be pix, arcsec or deg, not "arcmin"');
    expect(fails(['MATCH', 'first'])).toBe('UsageError: MATCH must be best or all, not "first"');
    expect(fails(['EDGE', 'crop'])).toBe('UsageError: EDGE must be clip, pad or skip, not "crop"');
    expect(fails(['PACKAGE', 'tgz'])).toBe('UsageError: PACKAGE must be zip, tar or none, not "tgz"');
    expect(fails(['PLANES', 'IMAGE,PSF'])).toBe('UsageError: PLANES must be IMAGE, MASK or VARIANCE, not "PSF"');
    expect(fails(['DRYRUN', 'yes'])).toBe('UsageError: DRYRUN must be true or false, not "yes"');
    expect(fails(['DRYRUN', '1'])).toBe('UsageError: DRYRUN must be true or false, not "1"');
    expect(fails(['TIME', '60010 60000'])).toBe('UsageError: lower bound 60010 exceeds upper bound 60000 in TIME: "60010 60000"');
    expect(fails(['TIME', '60000'])).toBe('UsageError: TIME needs 2 values (lower upper) but got 1: "60000"');
  });

  test('RESPONSEFORMAT: unknown, or contradicting PACKAGE', () => {
    expect(fails(['RESPONSEFORMAT', 'votable'])).toBe(
      'UsageError: RESPONSEFORMAT must be application/zip, application/x-tar or application/fits (or zip, tar, fits), not "votable"',
    );
    expect(fails(['RESPONSEFORMAT', 'application/x-tar'], ['PACKAGE', 'zip'])).toBe(
      'UsageError: RESPONSEFORMAT="application/x-tar" contradicts PACKAGE=zip; give one of them',
    );
  });

  test('REQUEST and VERSION', () => {
    expect(fails(['REQUEST', 'getCutout'])).toBe('UsageError: REQUEST must be doQuery or left out, not "getCutout"');
    expect(fails(['VERSION', '2.0'])).toBe('UsageError: VERSION "2.0" is not supported; this service implements version 1.0');
  });

  test('an unknown parameter is named and its value echoed', () => {
    expect(fails(['radius', '0.1'])).toBe(
      'UsageError: unknown parameter RADIUS="0.1"; this service takes POSITION, BAND, PLANES, UPLOAD, SIZE, SIZE_UNIT, DPSUBTYPE, ' +
        'COLLECTION, TIME, MATCH, EDGE, PACKAGE, DRYRUN, RA_COL, DEC_COL, ID_COL, REQUEST, VERSION, RESPONSEFORMAT, PREVIEW, RGB, ' +
        'STRETCH, CUTS, CMAP, PREVIEW_SIZE (and RUNID)',
    );
    expect(fails(['MAXREC', ''])).toMatch(/^UsageError: unknown parameter MAXREC=""; /);
  });

  test('picture parameters: bad values, and each named when given without what it applies to', () => {
    expect(fails(['PREVIEW', 'gif'])).toBe('UsageError: PREVIEW must be png or jpeg (or image/png, image/jpeg), not "gif"');
    expect(fails(['PREVIEW', 'png'], ['STRETCH', 'cubic'])).toBe(
      'UsageError: STRETCH must be one of linear, asinh, log, sqrt, not "cubic"',
    );
    expect(fails(['PREVIEW', 'png'], ['CUTS', 'p99,1'])).toBe(
      'UsageError: CUTS must be zscale, minmax or p<lo>,<hi> (percentiles, 0 <= lo < hi <= 100, e.g. p0.5,99.5), not "p99,1"',
    );
    expect(fails(['PREVIEW', 'png'], ['CMAP', 'jet'])).toBe('UsageError: CMAP must be one of gray, viridis, inferno, not "jet"');
    expect(fails(['PREVIEW', 'png'], ['PREVIEW_SIZE', '0'])).toBe('UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "0"');
    expect(fails(['RGB', 'i,r'])).toBe('UsageError: RGB must be three band letters (u g r i z y), red first, e.g. RGB=i,r,g, not "i,r"');
    expect(fails(['RGB', 'i,r,q'])).toBe(
      'UsageError: RGB must be three band letters (u g r i z y), red first, e.g. RGB=i,r,g, not "i,r,q"',
    );
    expect(fails(['RGB', 'i,r,I'])).toBe('UsageError: RGB needs three different bands, not "i,r,I"');
    expect(fails(['RGB', 'z,r,g'], ['BAND', 'g'], ['BAND', 'r'], ['BAND', 'i'])).toBe(
      "UsageError: RGB band z is not one of the job's bands (BAND=g,r,i): add BAND=z",
    );
    expect(fails(['RGB', 'i,r,g'], ['MATCH', 'all'])).toBe(
      'UsageError: RGB needs MATCH=best: with MATCH=all a row has a stamp per image and band, and no three of them go together',
    );
    expect(fails(['PREVIEW', 'png'], ['PLANES', 'MASK,VARIANCE'])).toBe(
      "UsageError: PREVIEW draws the stamps' IMAGE plane: add IMAGE to PLANES (PLANES=MASK,VARIANCE)",
    );
    expect(fails(['RGB', 'i,r,g'], ['PLANES', 'VARIANCE'])).toBe(
      "UsageError: RGB draws the stamps' IMAGE plane: add IMAGE to PLANES (PLANES=VARIANCE)",
    );
    for (const name of ['STRETCH', 'cuts', 'Cmap']) {
      expect(fails([name, 'x'], ['RGB', 'i,r,g'])).toBe(
        `UsageError: ${name.toUpperCase()} is only used with PREVIEW (each stamp's picture; RGB composites are drawn with the Lupton asinh stretch): add PREVIEW=png or PREVIEW=jpeg`,
      );
    }
    expect(fails(['preview_size', '64'])).toBe(
      'UsageError: PREVIEW_SIZE is only used with PREVIEW or RGB: add PREVIEW=png, PREVIEW=jpeg or RGB=<red>,<green>,<blue>',
    );
    expect(fails(['PREVIEW', 'png'], ['PREVIEW', 'jpeg'])).toBe(
      'MultiValuedParamNotSupported: PREVIEW is given 2 times ("png", "jpeg"); it takes one value',
    );
  });

  test('a repeated single-valued parameter is MultiValuedParamNotSupported (SODA 1.0 §5.2)', () => {
    expect(fails(['SIZE', '10'], ['size', '20'])).toBe(
      'MultiValuedParamNotSupported: SIZE is given 2 times ("10", "20"); it takes one value',
    );
    expect(fails(['EDGE', 'pad'], ['EDGE', 'pad'], ['EDGE', 'clip'], ['EDGE', 'skip'])).toBe(
      'MultiValuedParamNotSupported: EDGE is given 4 times ("pad", "pad", "clip", …); it takes one value',
    );
    expect(failure(params(['UPLOAD', 'positions,param:a'], ['UPLOAD', 'positions,param:b']))).toBe(
      'MultiValuedParamNotSupported: UPLOAD is given 2 times ("positions,param:a", "positions,param:b"); it takes one value',
    );
    let caught: unknown;
    try {
      parse(['DPSUBTYPE', 'a'], ['DPSUBTYPE', 'b']);
    } catch (e) {
      caught = e;
    }
    expect(caught instanceof SodaError && caught.code).toBe('MultiValuedParamNotSupported');
    // A repeated blank value is no repeat.
    expect(parse(['SIZE', '10'], ['SIZE', '']).size.value).toBe(10);
  });
});
