/**
 * What a processor produced that the worker's metrics count: cutouts, their bytes, rows of a
 * query. Processors run in pool threads, each a V8 isolate of its own, so a counter there would
 * never reach the worker's registry: a task's totals go to its pool (worker/pool.ts) with its
 * reply, and the pool adds them up in the worker's main thread. This module is all a thread
 * loads of the metrics (no prom-client there).
 */
export interface WorkCounts {
  /** Cutouts made (SODA cutouts, bulk stamps): FITS files with pixels. */
  cutouts: number;
  /** Bytes of those cutouts. */
  cutoutBytes: number;
  /** Rows of a query written into its result (TAP). */
  rows: number;
}

/** What this thread's current task has produced so far (reportWork), until its reply takes it. */
let produced: Partial<WorkCounts> | undefined;

/**
 * Counts what the running task produced. The counts travel with the task's reply
 * (worker/thread.ts takeWork), not in a message of their own: a message before the reply
 * woke the worker's main thread once more per task, about 50 µs of a sync request on a small
 * VM. Outside a worker thread (a processor called in process, as benchmarks do) nobody takes
 * them.
 */
export function reportWork(work: Partial<WorkCounts>): void {
  const sum: Partial<WorkCounts> = produced ?? {};
  for (const [name, count] of Object.entries(work) as [keyof WorkCounts, number][]) sum[name] = (sum[name] ?? 0) + count;
  produced = sum;
}

/** What the task reported (and forgets it: the next task starts from nothing). */
export function takeWork(): Partial<WorkCounts> | undefined {
  const work = produced;
  produced = undefined;
  return work;
}
