/**
 * What a processor produced that the worker's metrics count: cutouts, their bytes, rows of a
 * query. Processors run in pool threads, each a V8 isolate of its own, so a counter there would
 * never reach the worker's registry: a task posts its totals to its pool (worker/pool.ts) in one
 * message, and the pool adds them up in the worker's main thread. This module is all a thread
 * loads of the metrics (no prom-client there).
 */
import { parentPort } from 'node:worker_threads';

export interface WorkCounts {
  /** Cutouts made (SODA cutouts, bulk stamps): FITS files with pixels. */
  cutouts: number;
  /** Bytes of those cutouts. */
  cutoutBytes: number;
  /** Rows of a query written into its result (TAP). */
  rows: number;
}

/** The message a task posts to its pool, before its reply. */
export interface WorkMessage {
  work: Partial<WorkCounts>;
}

export function isWorkMessage(message: object): message is WorkMessage {
  return 'work' in message && !('ok' in message);
}

/**
 * Tells the pool what this task produced (once, at its end: one message per task). Only from
 * the processor's own thread, the one the pool started: a helper thread's parent would take
 * the message for one of its own. Outside a worker thread (a processor called in process, as
 * benchmarks do) it does nothing.
 */
export function reportWork(work: Partial<WorkCounts>): void {
  parentPort?.postMessage({ work } satisfies WorkMessage);
}
