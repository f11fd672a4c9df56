/**
 * DALI 1.1 §3.3.4 intervals as request parameters (SODA 1.0 §3.3.4–3.3.5 BAND and TIME, SIA 2.0
 * §2.1 BAND, TIME, FOV, …): two numbers, lower then upper, bounds included, and -Inf / +Inf
 * for an open side.
 */

/** A closed interval; ±Infinity for an open side. */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** DALI 1.1 §3.3.4: how a descriptor declares an interval PARAM (STILTS votlint requires arraysize 2). */
export const INTERVAL_PARAM = { datatype: 'double', arraysize: '2', xtype: 'interval' } as const;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

/** Whether `token` is written -Inf or +Inf (an open side). */
export function isInfinity(token: string): boolean {
  return INFINITY.test(token);
}

/** One bound: a decimal number, or ±Inf for an open side; undefined when it is neither. */
function parseBound(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  const infinity = INFINITY.exec(token);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

/**
 * `lo hi`, lower ≤ upper, +Inf never the lower bound nor -Inf the upper. A value that is none
 * of these throws `invalid(<what is wrong, naming param>)`: each protocol labels it its own way
 * (SODA 1.0 §5.2 UsageError, SIA 2.0 §3.2 UsageFault with the value echoed).
 */
export function parseInterval(text: string, param: string, invalid: (detail: string) => Error): Interval {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length !== 2) throw invalid(`${param} needs 2 values (lower upper) but got ${tokens.length}`);
  const [lo, hi] = tokens.map((token) => {
    const bound = parseBound(token);
    if (bound === undefined) throw invalid(`expected a number but found "${token}" in ${param}`);
    return bound;
  }) as [number, number];
  if (lo === Infinity) throw invalid(`lower bound cannot be +Inf in ${param}`);
  if (hi === -Infinity) throw invalid(`upper bound cannot be -Inf in ${param}`);
  if (lo > hi) throw invalid(`lower bound ${tokens[0]} exceeds upper bound ${tokens[1]} in ${param}`);
  return { lo, hi };
}
