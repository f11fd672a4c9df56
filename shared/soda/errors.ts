/**
 * SODA 1.0 §5.2 errors: a text/plain document that begins with one of six labels. Every failure
 * of this module is a SodaError (a DaliError with SODA's labels), so the HTTP layer (sync) and
 * the job processor (async result entries, SODA §6) write the same text.
 */
import { DaliError } from '../dali/errors';

/** SODA 1.0 §5.2, Table "error messages with their meaning". */
export const SODA_ERROR_CODES = [
  'Error',
  'AuthenticationError',
  'AuthorizationError',
  'ServiceUnavailable',
  'UsageError',
  'MultiValuedParamNotSupported',
] as const;

export type SodaErrorCode = (typeof SODA_ERROR_CODES)[number];

export class SodaError extends DaliError<SodaErrorCode> {
  override readonly name = 'SodaError';

  /** The label, by the name this module gave it first. */
  get code(): SodaErrorCode {
    return this.label;
  }
}

/** The exact text/plain body of the error: `<code>: <detail>` and a newline. */
export function sodaErrorText(err: SodaError): string {
  return `${err.message}\n`;
}
