/**
 * UWS 1.1 execution phases (§2.1.3, schema ExecutionPhase) and the transitions this
 * engine allows. Every transition in the job store is a conditional update from one of
 * `sourcesOf(target)`, so concurrent requests (abort racing completion, two workers) end in
 * exactly one outcome.
 */
export const PHASES = [
  'PENDING',
  'QUEUED',
  'EXECUTING',
  'COMPLETED',
  'ERROR',
  'ABORTED',
  'UNKNOWN',
  'HELD',
  'SUSPENDED',
  'ARCHIVED',
] as const;

export type Phase = (typeof PHASES)[number];

export function isPhase(value: string): value is Phase {
  return (PHASES as readonly string[]).includes(value);
}

/** Phases in which work may still happen: WAIT blocks only in these (§2.2.1.2). */
export const ACTIVE_PHASES: readonly Phase[] = ['PENDING', 'QUEUED', 'EXECUTING'];

/** Phases a job never leaves (except by destruction). */
export const FINAL_PHASES: readonly Phase[] = ['COMPLETED', 'ERROR', 'ABORTED', 'ARCHIVED'];

export function isActive(phase: Phase): boolean {
  return ACTIVE_PHASES.includes(phase);
}

export function isFinal(phase: Phase): boolean {
  return FINAL_PHASES.includes(phase);
}

/** For each target phase, the phases a job may enter it from. */
const SOURCES: Readonly<Record<Phase, readonly Phase[]>> = {
  PENDING: [],
  // PHASE=RUN; HELD jobs may be run again (§2.1.3).
  QUEUED: ['PENDING', 'HELD', 'EXECUTING'],
  // A worker takes a queued job; EXECUTING→EXECUTING is a retry after a worker died.
  EXECUTING: ['QUEUED', 'EXECUTING'],
  COMPLETED: ['EXECUTING'],
  // ERROR may also come from QUEUED (a job that cannot be dispatched, or was lost).
  ERROR: ['QUEUED', 'EXECUTING'],
  ABORTED: ['PENDING', 'QUEUED', 'EXECUTING', 'HELD', 'SUSPENDED'],
  UNKNOWN: [],
  HELD: [],
  SUSPENDED: [],
  ARCHIVED: ['COMPLETED', 'ERROR', 'ABORTED'],
};

export function sourcesOf(target: Phase): readonly Phase[] {
  return SOURCES[target];
}

export function canTransition(from: Phase, to: Phase): boolean {
  return SOURCES[to].includes(from);
}
