/**
 * The one error type of the VOTable reader. Its message says what is wrong and where (row and
 * column when it is about a cell) in words a TAP client can show its user unchanged, e.g.
 * `upload "foo": row 3, column "ra": "abc" is not a double`.
 */
export class VotableReadError extends Error {
  override readonly name = 'VotableReadError';

  /** The same error, its message prefixed by where it happened (`row 3, column "ra"`). */
  at(where: string): VotableReadError {
    return new VotableReadError(`${where}: ${this.message}`);
  }
}

/** A value quoted for a message: JSON string syntax (control characters visible), shortened. */
export function quoted(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
