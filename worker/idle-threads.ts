/**
 * Threads kept for reuse while idle: the most recently parked is taken first, so a steady
 * stream of work keeps reusing the same warm threads (a new thread runs at about half speed
 * until its code is compiled), and each thread unused for `idleMs` is terminated, so a worker
 * that has gone quiet gives its memory back, but for the last `keep` (WORKER_THREADS_WARM for
 * the processor pool), kept however long they are idle: a request after a pause then finds a
 * thread with its modules loaded (a new one took 120–170 ms before its first line of work).
 * Used by the processor thread pool and by large SODA jobs' cutting threads.
 */
import type { Worker } from 'node:worker_threads';

export class IdleThreads {
  /** Idle threads, the most recently parked last, each with the timer that ends it. */
  private readonly entries: { thread: Worker; timer: NodeJS.Timeout | undefined }[] = [];

  constructor(
    private readonly idleMs: number,
    private readonly keep = 0,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** Keeps `thread` until it is taken or has been idle `idleMs`. */
  park(thread: Worker): void {
    const entry: { thread: Worker; timer: NodeJS.Timeout | undefined } = { thread, timer: undefined };
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      // The last `keep` idle threads stay, untimed (parked again, they are timed again).
      if (this.entries.length <= this.keep) return;
      this.entries.splice(this.entries.indexOf(entry), 1);
      void thread.terminate();
    }, this.idleMs);
    entry.timer.unref(); // an idle thread never keeps its process alive
    this.entries.push(entry);
  }

  /** The most recently parked thread, if any; it is no longer timed. */
  take(): Worker | undefined {
    const entry = this.entries.pop();
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    return entry.thread;
  }

  /** Every idle thread, handed over (not terminated): the keeper is empty afterwards. */
  drain(): Worker[] {
    for (const { timer } of this.entries) clearTimeout(timer);
    return this.entries.splice(0).map(({ thread }) => thread);
  }
}
