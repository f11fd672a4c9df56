/**
 * Labelled protocol errors. SODA 1.0 §5.2 and SIA 2.0 §3.2 (like DataLink 1.1 §3.4) begin an
 * error message with a label from the standard's fixed list, a colon and the detail:
 * `UsageError: …` (SODA, text/plain), `UsageFault: …` (SIA, inside the DALI 1.1 §4.4.1 VOTable
 * error document). One class carries label and detail, and its message is that text, so the
 * api (sync) and the job processors (async) write the same bytes.
 */
export class DaliError<L extends string = string> extends Error {
  override readonly name: string = 'DaliError';

  /** `detail` is what went wrong; the message is `<label>: <detail>`. */
  constructor(
    readonly label: L,
    readonly detail: string,
  ) {
    super(`${label}: ${detail}`);
  }
}
