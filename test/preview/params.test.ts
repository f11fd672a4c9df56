/** RESPONSEFORMAT → picture format, and the display parameters' values and errors. */
import { DaliError } from '../../shared/dali/errors';
import {
  DEFAULT_DISPLAY,
  DISPLAY_PARAMS,
  MAX_PREVIEW_SIZE,
  contentTypeOf,
  parseDisplayParams,
  previewFormatOf,
} from '../../shared/preview';

const p = (...pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));

function errorOf(params: { name: string; value: string }[]): DaliError {
  try {
    parseDisplayParams(params);
  } catch (err) {
    expect(err).toBeInstanceOf(DaliError);
    return err as DaliError;
  }
  throw new Error('parseDisplayParams did not throw');
}

describe('previewFormatOf', () => {
  test.each([
    ['image/png', 'png'],
    ['IMAGE/PNG', 'png'],
    ['png', 'png'],
    ['PNG', 'png'],
    [' image/png ', 'png'],
    ['image/png; charset=binary', 'png'],
    ['image/jpeg', 'jpeg'],
    ['Image/JPEG;q=0.9', 'jpeg'],
    ['jpeg', 'jpeg'],
    ['jpg', 'jpeg'],
    ['JPG', 'jpeg'],
  ])('%j → %s', (value, format) => {
    expect(previewFormatOf(value)).toBe(format);
  });

  test.each(['application/fits', 'image/fits', 'fits', 'votable', 'image/jpg', 'image/gif', 'image/pngx', '', 'image/', 'png jpeg'])(
    '%j is not a picture format',
    (value) => {
      expect(previewFormatOf(value)).toBeNull();
    },
  );

  test('content types', () => {
    expect(contentTypeOf('png')).toBe('image/png');
    expect(contentTypeOf('jpeg')).toBe('image/jpeg');
  });
});

describe('parseDisplayParams', () => {
  test('the names it recognises', () => {
    expect(DISPLAY_PARAMS).toEqual(['STRETCH', 'CUTS', 'CMAP', 'PREVIEW_SIZE']);
  });

  test('no parameters: the defaults (asinh, percentiles 0.5 and 99.5, gray, no size)', () => {
    expect(parseDisplayParams([])).toEqual({ stretch: 'asinh', cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 }, cmap: 'gray' });
    expect(DEFAULT_DISPLAY).toEqual({ stretch: 'asinh', cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 }, cmap: 'gray' });
    expect(Object.isFrozen(DEFAULT_DISPLAY) && Object.isFrozen(DEFAULT_DISPLAY.cuts)).toBe(true);
    // The result is a fresh object: changing it leaves the defaults alone.
    const o = parseDisplayParams([]);
    o.cuts = { kind: 'minmax' };
    expect(DEFAULT_DISPLAY.cuts).toEqual({ kind: 'percentile', lo: 0.5, hi: 99.5 });
  });

  test('all four, names and values in any case, blanks around values, other parameters ignored', () => {
    expect(
      parseDisplayParams(
        p(['stretch', ' LOG '], ['Cuts', 'ZScale'], ['cMap', 'Viridis'], ['preview_size', '256'], ['ID', 'x'], ['POS', 'CIRCLE 1 2 3']),
      ),
    ).toEqual({ stretch: 'log', cuts: { kind: 'zscale' }, cmap: 'viridis', maxSide: 256 });
  });

  test.each([
    ['linear', 'linear'],
    ['asinh', 'asinh'],
    ['log', 'log'],
    ['sqrt', 'sqrt'],
    ['SQRT', 'sqrt'],
  ])('STRETCH=%s', (value, stretch) => {
    expect(parseDisplayParams(p(['STRETCH', value])).stretch).toBe(stretch);
  });

  test.each([
    ['zscale', { kind: 'zscale' }],
    ['minmax', { kind: 'minmax' }],
    ['MINMAX', { kind: 'minmax' }],
    ['p0.5,99.5', { kind: 'percentile', lo: 0.5, hi: 99.5 }],
    ['p1,99', { kind: 'percentile', lo: 1, hi: 99 }],
    ['P0,100', { kind: 'percentile', lo: 0, hi: 100 }],
    ['p.5,99.', { kind: 'percentile', lo: 0.5, hi: 99 }],
    ['p5,5.001', { kind: 'percentile', lo: 5, hi: 5.001 }],
  ])('CUTS=%s', (value, cuts) => {
    expect(parseDisplayParams(p(['CUTS', value])).cuts).toEqual(cuts);
  });

  test.each([
    ['gray', 'gray'],
    ['viridis', 'viridis'],
    ['INFERNO', 'inferno'],
  ])('CMAP=%s', (value, cmap) => {
    expect(parseDisplayParams(p(['CMAP', value])).cmap).toBe(cmap);
  });

  test.each([
    ['1', 1],
    ['64', 64],
    ['0064', 64],
    [String(MAX_PREVIEW_SIZE), 4096],
  ])('PREVIEW_SIZE=%s', (value, size) => {
    expect(parseDisplayParams(p(['PREVIEW_SIZE', value])).maxSide).toBe(size);
  });

  const CUTS_ERROR = 'CUTS must be zscale, minmax or p<lo>,<hi> (percentiles, 0 <= lo < hi <= 100, e.g. p0.5,99.5), not';
  test.each([
    ['STRETCH', 'gamma', 'UsageError: STRETCH must be one of linear, asinh, log, sqrt, not "gamma"'],
    ['STRETCH', '', 'UsageError: STRETCH must be one of linear, asinh, log, sqrt, not ""'],
    ['CMAP', 'jet', 'UsageError: CMAP must be one of gray, viridis, inferno, not "jet"'],
    ['CMAP', 'grey', 'UsageError: CMAP must be one of gray, viridis, inferno, not "grey"'],
    ['CUTS', 'p99.5,0.5', `UsageError: ${CUTS_ERROR} "p99.5,0.5"`],
    ['CUTS', 'p5,5', `UsageError: ${CUTS_ERROR} "p5,5"`],
    ['CUTS', 'p0,101', `UsageError: ${CUTS_ERROR} "p0,101"`],
    ['CUTS', 'p-1,50', `UsageError: ${CUTS_ERROR} "p-1,50"`],
    ['CUTS', 'p 1,99', `UsageError: ${CUTS_ERROR} "p 1,99"`],
    ['CUTS', 'p1, 99', `UsageError: ${CUTS_ERROR} "p1, 99"`],
    ['CUTS', 'p1e0,99', `UsageError: ${CUTS_ERROR} "p1e0,99"`],
    ['CUTS', '0.5,99.5', `UsageError: ${CUTS_ERROR} "0.5,99.5"`],
    ['CUTS', 'p1', `UsageError: ${CUTS_ERROR} "p1"`],
    ['CUTS', 'percentile', `UsageError: ${CUTS_ERROR} "percentile"`],
    ['PREVIEW_SIZE', '0', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "0"'],
    ['PREVIEW_SIZE', '4097', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "4097"'],
    ['PREVIEW_SIZE', '12.5', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "12.5"'],
    ['PREVIEW_SIZE', '-5', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "-5"'],
    ['PREVIEW_SIZE', '1e3', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "1e3"'],
    ['PREVIEW_SIZE', '', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not ""'],
    ['PREVIEW_SIZE', '99999999999', 'UsageError: PREVIEW_SIZE must be an integer from 1 to 4096, not "99999999999"'],
  ])('%s=%j is a UsageError', (name, value, message) => {
    const err = errorOf(p([name, value]));
    expect(err.message).toBe(message);
    expect(err.label).toBe('UsageError');
  });

  test('a parameter given twice is an error, even with equal values or names in different case', () => {
    expect(errorOf(p(['STRETCH', 'log'], ['stretch', 'log'])).message).toBe('UsageError: STRETCH has 2 values; give one');
    expect(errorOf(p(['CUTS', 'zscale'], ['CMAP', 'gray'], ['Cuts', 'minmax'], ['CUTS', 'p1,2'])).message).toBe(
      'UsageError: CUTS has 3 values; give one',
    );
  });
});
