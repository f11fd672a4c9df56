/**
 * SODA 1.0 §5.2 errors: a text/plain document that begins with one of six labels. Every failure
 * of this module is a SodaError carrying its label, so the HTTP layer (sync) and the job
 * processor (async result entries, SODA §6) write the same text.
 */

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

export class SodaError extends Error {
  override readonly name = 'SodaError';

  constructor(
    readonly code: SodaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The exact text/plain body of the error: `<code>: <message>` and a newline. */
export function sodaErrorText(err: SodaError): string {
  return `${err.code}: ${err.message}\n`;
}
