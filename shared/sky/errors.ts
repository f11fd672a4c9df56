/**
 * Raised for invalid shapes and unparsable shape strings. The message says what was wrong and,
 * when known, where (e.g. `latitude 91 out of range [-90, 90] in POS`); it is meant to reach users
 * through SODA/SIA/ADQL error documents unchanged.
 */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  /** What was wrong, without the location suffix. */
  readonly detail: string;
  /** Where the problem was found, e.g. a parameter name (`POS`, `CIRCLE`) or a syntax name. */
  readonly context: string | undefined;

  constructor(detail: string, context?: string) {
    super(context === undefined ? detail : `${detail} in ${context}`);
    this.detail = detail;
    this.context = context;
  }
}
