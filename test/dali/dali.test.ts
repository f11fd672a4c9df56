/**
 * The DALI layer the protocols share: one labelled error class (SODA 1.0 §5.2, SIA 2.0 §3.2),
 * DALI 1.1 §3.3.4 intervals, and the DALI 1.1 §4.4.1 VOTable error document.
 */
import { votableErrorDocument } from '../../shared/dali/error-document';
import { DaliError } from '../../shared/dali/errors';
import { INTERVAL_PARAM, isInfinity, parseInterval } from '../../shared/dali/interval';
import { SiaError } from '../../shared/sia';
import { SodaError, sodaErrorText } from '../../shared/soda';

test('a DaliError is its label, a colon and the detail; SODA and SIA errors are DaliErrors', () => {
  const err = new DaliError('NotFoundFault', 'no dataset with ID x');
  expect(err.message).toBe('NotFoundFault: no dataset with ID x');
  expect([err.label, err.detail, err.name]).toEqual(['NotFoundFault', 'no dataset with ID x', 'DaliError']);
  const soda = new SodaError('UsageError', 'missing parameter ID');
  expect(soda).toBeInstanceOf(DaliError);
  expect([soda.label, soda.code, soda.detail, soda.name]).toEqual(['UsageError', 'UsageError', 'missing parameter ID', 'SodaError']);
  expect(sodaErrorText(soda)).toBe('UsageError: missing parameter ID\n');
  expect(new SiaError('UsageFault', 'x')).toBeInstanceOf(DaliError);
});

describe('parseInterval', () => {
  const fail = (detail: string): Error => new Error(`bad: ${detail}`);

  test('two numbers, ±Inf for an open side, bounds included', () => {
    expect(parseInterval(' 1e-7  2.5e-7 ', 'BAND', fail)).toEqual({ lo: 1e-7, hi: 2.5e-7 });
    expect(parseInterval('-Inf +inf', 'TIME', fail)).toEqual({ lo: -Infinity, hi: Infinity });
    expect(parseInterval('3 3', 'FOV', fail)).toEqual({ lo: 3, hi: 3 });
  });

  test.each([
    ['1', 'BAND needs 2 values (lower upper) but got 1'],
    ['1 2 3', 'BAND needs 2 values (lower upper) but got 3'],
    ['1 x', 'expected a number but found "x" in BAND'],
    ['+Inf +Inf', 'lower bound cannot be +Inf in BAND'],
    ['-Inf -Inf', 'upper bound cannot be -Inf in BAND'],
    ['2 1', 'lower bound 2 exceeds upper bound 1 in BAND'],
  ])("%j: the caller's error with what is wrong", (text, detail) => {
    expect(() => parseInterval(text, 'BAND', fail)).toThrow(`bad: ${detail}`);
  });

  test('isInfinity reads the words, not large numbers', () => {
    expect(['Inf', '-inf', '+Infinity'].map(isInfinity)).toEqual([true, true, true]);
    expect(['1e999', 'infinite', '0'].map(isInfinity)).toEqual([false, false, false]);
  });

  test('an interval PARAM is double[2] with xtype interval', () => {
    expect(INTERVAL_PARAM).toEqual({ datatype: 'double', arraysize: '2', xtype: 'interval' });
  });
});

test('the VOTable error document: the VOTable media type, QUERY_STATUS ERROR holding the message, escaped', () => {
  const document = votableErrorDocument('UsageFault: a < b');
  expect(document.contentType).toBe('application/x-votable+xml');
  expect(document.body).toContain('<INFO name="QUERY_STATUS" value="ERROR">UsageFault: a &lt; b</INFO>');
});
