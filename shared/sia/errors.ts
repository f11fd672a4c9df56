/**
 * SIA 2.0 §3.2 (Errors): the message of an error document starts with one of four labels,
 * separated from any further text by a colon (`UsageFault: invalid BAND value -2`). Every
 * failure of this module is a SiaError (a DaliError with SIA's labels), so the sync endpoint
 * and the job processor write the same text.
 */
import { DaliError } from '../dali/errors';

/** SIA 2.0 §3.2, in order of specificity. */
export const SIA_ERROR_LABELS = ['UsageFault', 'TransientFault', 'FatalFault', 'DefaultFault'] as const;

export type SiaErrorLabel = (typeof SIA_ERROR_LABELS)[number];

export class SiaError extends DaliError<SiaErrorLabel> {
  override readonly name = 'SiaError';
}

/** A parameter value the service cannot use: names the parameter and echoes the value. */
export function invalidValue(parameter: string, value: string, reason: string): SiaError {
  return new SiaError('UsageFault', `invalid ${parameter} value "${value}": ${reason}`);
}
