/**
 * Errors of the bulk (multi-position cutout) service. It is a SODA-family service, so every
 * rejection is a SodaError with a SODA 1.0 §5.2 label (`UsageError: …`, text/plain, 400), its
 * detail naming the parameter or column and echoing the offending value.
 */
import { SodaError } from '../soda/errors';

export { quoted } from '../votable/read-errors';

/** A SODA 1.0 §5.2 UsageError: a malformed, missing or unsupported parameter or upload. */
export function usage(detail: string): SodaError {
  return new SodaError('UsageError', detail);
}

/**
 * The positions table has more rows than BULK_MAX_ROWS. Still a `UsageError:` text (SODA 1.0
 * §5.2 has no label for size limits), but a class of its own so the api can tell it apart by
 * `instanceof` and answer it with HTTP 413 (`httpStatus`) rather than 400.
 */
export class TooManyRows extends SodaError {
  /** The HTTP status the api answers this error with. */
  readonly httpStatus = 413;

  constructor(
    /** The limit that was exceeded (rows). */
    readonly limit: number,
  ) {
    super('UsageError', `the positions table has more than ${limit} rows, the limit of one job; split it into several jobs`);
  }
}
