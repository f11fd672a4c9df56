/**
 * A worker's thread lines (SYNC_THREAD_LINES; worker/line-thread.ts), from its main thread:
 * starts them, registers each in the sync-line registry beside the worker's own line, and
 * keeps the guarantees a request has on any other path, without being on its way:
 *  - its time limit: a watchdog reads what each thread runs (LineThreadState) and stops a
 *    request past its limit (the thread answers that it ran too long);
 *  - an abort (its client left): the api sends it on the worker's own line too, since a
 *    thread busy in a statement reads nothing; its statements are interrupted;
 *  - a stopped request's thread is ended and a fresh one takes its place, as in the pool;
 *    a thread that died is replaced the same way (its api answers 503 when its line ends).
 * Each thread line runs one request at a time, besides the WORKER_CONCURRENCY of the pool.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../shared/config';
import { StatementCanceller, TASK_IN_STATEMENTS } from '../shared/db/cancel';
import type { LineRegistration } from '../shared/dali/sync-lines';
import type { Logger } from '../shared/log';
import type { ThreadCount, WorkerMetrics } from '../shared/metrics';
import type { UwsService } from '../shared/uws/service';
import { LineTally, LineThreadState, type LineThreadData } from './line-thread-state';
import type { LineThreadCommand, LineThreadMessage } from './line-thread';
import { INTERRUPT_GRACE_MS, newCancelKey, type CancelReason } from './pool';
import type { ThreadData } from './thread';

/** How often the watchdog looks for requests past their time limit, ms. */
const WATCHDOG_MS = 200;
/** A thread that died within this long of its start is replaced after RESTART_BACKOFF_MS, not at once. */
const QUICK_DEATH_MS = 1000;
const RESTART_BACKOFF_MS = 1000;

interface LineThread {
  index: number;
  thread: Worker;
  state: LineThreadState;
  tally: LineTally;
  cancelKey: number;
  startedAt: number;
  entry?: LineRegistration;
  /** Being ended (stopped request, or closing). */
  ending: boolean;
  /** Settles when the thread has exited. */
  exited: Promise<void>;
}

export interface LineThreadDeps {
  config: Config;
  services: ReadonlyMap<string, UwsService>;
  log: Logger;
  metrics?: WorkerMetrics;
  /** The worker's process id in the registry (SyncLineServer.worker). */
  worker: string;
  register(entry: LineRegistration): Promise<void>;
  unregister(entry: LineRegistration): Promise<void>;
}

/** The thread lines of this process, for the metrics (vo_worker_threads_busy/live, pool="line"). */
const sets = new Set<LineThreads>();

export function lineThreadCounts(): ThreadCount[] {
  return [...sets].map((set) => set.threadCount());
}

/** Brings what the thread lines of this process served into the metrics (before a scrape reads them). */
export function settleLineThreads(): void {
  for (const set of sets) set.settle();
}

export class LineThreads {
  private readonly threads = new Map<number, LineThread>();
  private readonly canceller = new StatementCanceller();
  private readonly processors: Record<string, string>;
  private watchdog: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly entry: string,
    private readonly deps: LineThreadDeps,
  ) {
    this.processors = Object.fromEntries([...deps.services].map(([name, service]) => [name, service.processorModule]));
    sets.add(this);
  }

  threadCount(): ThreadCount {
    let busy = 0;
    for (const line of this.threads.values()) if (line.state.running()) busy++;
    return { pool: 'line', busy, live: this.threads.size };
  }

  /** Adds what each thread line served since the last call to the metrics (LineTally). */
  settle(): void {
    for (const line of this.threads.values()) this.settleLine(line);
  }

  private settleLine(line: LineThread): void {
    const { metrics } = this.deps;
    if (!metrics) return;
    for (const served of line.tally.take()) {
      metrics.syncTaken.inc({ route: 'thread' }, served.requests);
      metrics.work({ service: served.service, mode: 'sync' }, served.work);
    }
  }

  /** Starts SYNC_THREAD_LINES threads and waits until each listens (or could not). */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.deps.config.syncThreadLines }, (_, index) => this.startThread(index)));
    this.watchdog = setInterval(() => this.checkLimits(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  private startThread(index: number): Promise<void> {
    const { config } = this.deps;
    const state = new LineThreadState();
    const cancelKey = newCancelKey();
    const tally = new LineTally(Object.keys(this.processors));
    const line: LineThreadData = {
      state: state.buffer,
      tally: tally.buffer,
      cancelKey,
      processors: this.processors,
      host: config.workerSyncHost,
    };
    const thread = new Worker(this.entry, { workerData: { config, niceness: 0, line } satisfies ThreadData });
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    const self: LineThread = { index, thread, state, tally, cancelKey, startedAt: Date.now(), ending: false, exited };
    this.threads.set(index, self);
    return new Promise<void>((resolve) => {
      thread.on('message', (message: LineThreadMessage) => {
        if ('listening' in message) {
          resolve();
          if ('error' in message.listening) {
            this.deps.log.error({ err: message.listening.error, thread: index }, 'thread line not started; sync requests go to the worker');
            return;
          }
          self.entry = { worker: this.deps.worker, host: config.workerSyncAddress, port: message.listening.port, slots: 1, thread: index };
          if (!this.closing) void this.deps.register(self.entry);
        } else if ('served' in message) this.served(self, message.served);
        else if ('abort' in message) this.cancel(message.abort, 'abort');
        else if ('warn' in message) this.deps.log.warn({ ...message.warn.fields, thread: index }, message.warn.message);
      });
      thread.on('error', (err) => this.deps.log.error({ err, thread: index }, 'thread line failed'));
      thread.on('exit', () => {
        resolve();
        this.settleLine(self); // what it served before it ended still counts
        if (self.entry) void this.deps.unregister(self.entry);
        if (this.threads.get(index) !== self || this.closing) return;
        this.threads.delete(index);
        const quick = Date.now() - self.startedAt < QUICK_DEATH_MS;
        if (!self.ending) this.deps.log.warn({ thread: index }, 'thread line ended; starting another');
        setTimeout(() => void (this.closing ? undefined : this.startThread(index)), quick && !self.ending ? RESTART_BACKOFF_MS : 0);
      });
    });
  }

  private served(line: LineThread, served: Extract<LineThreadMessage, { served: unknown }>['served']): void {
    if (served.failure) this.deps.log.error({ id: served.id, service: served.service, message: served.failure }, 'sync processor failed');
    // A stopped request's thread has answered: end it now (a fresh one takes its place).
    if (line.ending) void line.thread.terminate();
  }

  /** Stops the request `id` if a thread line runs it. */
  cancel(id: string, reason: CancelReason): void {
    for (const line of this.threads.values()) if (line.state.running()?.id === id) this.stop(line, reason);
  }

  private checkLimits(): void {
    const now = Date.now();
    for (const line of this.threads.values()) {
      const running = line.state.running();
      if (running && running.seconds > 0 && now - running.started > running.seconds * 1000) this.stop(line, 'duration');
    }
  }

  /**
   * Stops a thread's request, as the pool stops a task (worker/pool.ts): a thread inside a
   * statement has it interrupted, answers (but for an abort: nobody listens) and is ended
   * after its answer or INTERRUPT_GRACE_MS; a thread in JavaScript is ended at once (it cannot
   * start a statement meanwhile: querying() checks the cancel first). A fresh thread takes
   * its place either way; a request ended without an answer is a 503 for its client.
   */
  private stop(line: LineThread, reason: CancelReason): void {
    if (line.ending) return;
    line.ending = true;
    line.state.cancel(reason);
    if (Atomics.load(line.state.task, TASK_IN_STATEMENTS) === 1 && this.canceller.available) {
      this.canceller.cancel(line.cancelKey);
      setTimeout(() => void line.thread.terminate(), INTERRUPT_GRACE_MS);
    } else void line.thread.terminate();
  }

  /** Every thread takes nothing new; resolves when none runs a request, or after `graceMs` (they are then stopped). */
  async drain(graceMs: number): Promise<void> {
    for (const line of this.threads.values()) line.thread.postMessage({ drain: true } satisfies LineThreadCommand);
    const deadline = Date.now() + graceMs;
    while ([...this.threads.values()].some((line) => line.state.running()) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    for (const line of this.threads.values()) if (line.state.running()) this.stop(line, 'shutdown');
  }

  /**
   * Ends every thread. One being stopped ends by itself (after its answer or
   * INTERRUPT_GRACE_MS): terminated now, while its interrupted statement fails, it would take
   * the whole process down (better-sqlite3 cannot build the error in a dying thread).
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    await Promise.all([...this.threads.values()].map((line) => (line.ending ? line.exited : line.thread.terminate())));
    this.threads.clear();
    this.canceller.close();
    sets.delete(this);
  }
}
