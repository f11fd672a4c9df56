/**
 * A pool of processor threads. A thread runs one task at a time and is reused; a task that
 * is cancelled (abort, execution duration, shutdown) has its SQLite statements interrupted
 * (shared/db/cancel.ts) and its thread terminated, which stops synchronous and asynchronous
 * work alike, and a fresh thread takes its place on demand. A cancelled task's thread keeps
 * counting until it has really exited (`exited`), so aborting work cannot stack up threads
 * that still burn CPU. Every thread is given the worker's configuration when it is made.
 *
 * Threads are started on demand and ended after WORKER_THREAD_IDLE seconds without a task
 * (IdleThreads; each holds ~17 MiB: its own V8 heap, compiled code, open files and SQLite
 * caches), so a worker that has gone quiet gives its memory back, but for `keepWarm` of them
 * (WORKER_THREADS_WARM for the pool of jobs and sync requests), which stay ready.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../shared/config';
import { IdleThreads } from './idle-threads';
import { StatementCanceller, TASK_CANCELLED, TASK_IN_STATEMENTS, taskState } from '../shared/db/cancel';
import type { TaskLabels, ThreadCount } from '../shared/metrics';
import type { WorkCounts } from '../shared/metrics/work';
import type { ThreadData, ThreadMessage, ThreadProgress, ThreadReply, ThreadSpill, ThreadTask } from './thread';

/**
 * How long a cancelled task's thread may take to come out of an interrupted statement before
 * it is terminated anyway (work in JavaScript runs on at most this long).
 */
export const INTERRUPT_GRACE_MS = 200;

/**
 * Why a task's work is stopped: the client aborted it, its time limit ran out, the worker is
 * stopping, or ('superseded') another attempt took its job over (this one stalled past its lock).
 */
export type CancelReason = 'abort' | 'duration' | 'shutdown' | 'superseded';

/**
 * The pools of this process and who hears what their tasks produced, for the worker's metrics.
 * Process-wide on purpose: pools are made by the TaskRunners of jobs and of parts, which are
 * made by the runners; threads and work are the process's to count, however many pools.
 */
const pools = new Set<ThreadPool>();
let workObserver: ((task: TaskLabels, work: Partial<WorkCounts>) => void) | undefined;

/** Hears every task's WorkMessage (shared/metrics/work.ts), in the main thread. */
export function observeWork(observer: ((task: TaskLabels, work: Partial<WorkCounts>) => void) | undefined): void {
  workObserver = observer;
}

/** Busy and live threads of every open pool of this process. */
export function threadCounts(): ThreadCount[] {
  return [...pools].map((pool) => pool.threadCount());
}

/**
 * Cancel keys name a task's statements process-wide (StatementCanceller interrupts every
 * connection running for a key, in any thread): one counter for all the pools of the process,
 * or cancelling a task of one pool would interrupt the task of another that had the same key.
 */
let nextCancelKey = 1;

/** A cancel key no other task of this process has. */
export function newCancelKey(): number {
  return nextCancelKey++;
}

export class TaskCancelled extends Error {
  override name = 'TaskCancelled';
  constructor(readonly reason: CancelReason) {
    super(`task cancelled: ${reason}`);
  }
}

export interface RunningTask {
  promise: Promise<ThreadReply>;
  cancel(reason: CancelReason): void;
  /**
   * Settles once the task no longer occupies a thread: at once when it finished normally,
   * when its thread has exited after a cancel. Callers hold the task's concurrency slot until then.
   */
  exited: Promise<void>;
}

export class ThreadPool {
  /** Finished threads kept for reuse until idle WORKER_THREAD_IDLE seconds. */
  private readonly idle: IdleThreads;
  /** Running threads, with the cancel key of their task. */
  private readonly busy = new Map<Worker, number>();
  /** Cancelled threads that have not exited yet. */
  private readonly terminating = new Set<Worker>();
  private readonly canceller = new StatementCanceller();
  private readonly live = new Set<Worker>();
  private started = 0;
  private closed = false;

  /**
   * At most `maxIdle` (default WORKER_CONCURRENCY) idle threads are kept, `keepWarm` (default
   * none) of them however long they are idle; `niceness` is their nice value.
   */
  constructor(
    private readonly entry: string,
    private readonly config: Config,
    private readonly options: { niceness?: number; maxIdle?: number; keepWarm?: number } = {},
  ) {
    this.idle = new IdleThreads(config.threadIdleSeconds * 1000, options.keepWarm ?? 0);
    pools.add(this);
  }

  /** For the metrics: parts of split jobs run in the pools whose threads yield (nice > 0). */
  threadCount(): ThreadCount {
    return { pool: (this.options.niceness ?? 0) > 0 ? 'low-priority' : 'main', busy: this.busy.size, live: this.live.size };
  }

  /**
   * Runs `task` in a thread; `onSpill` hears its first result become a growing file
   * (ThreadSpill), `onProgress` its progress reports (ThreadProgress).
   */
  run(task: Omit<ThreadTask, 'cancelKey' | 'state'>, listeners: TaskListeners = {}): RunningTask {
    const { onSpill, onProgress } = listeners;
    if (this.closed) throw new Error('thread pool closed');
    // The configuration travels once per thread, not with every task.
    const thread = this.idle.take() ?? this.startThread();
    const cancelKey = newCancelKey();
    const state = taskState();
    this.busy.set(thread, cancelKey);
    let settle: { resolve(reply: ThreadReply): void; reject(err: Error): void } | undefined;
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const cleanup = () => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      this.busy.delete(thread);
    };
    /**
     * Terminates the thread, after `graceMs` or its reply, whichever comes first (a spill
     * posted before the cancel may still arrive while the thread is inside SQLite);
     * `exited` settles when it is gone.
     */
    const stop = (graceMs = 0) => {
      this.terminating.add(thread);
      const onReply = (message: ThreadMessage) => {
        if (isReply(message)) terminate();
      };
      const terminate = () => {
        clearTimeout(timer);
        thread.off('message', onReply);
        void thread.terminate();
      };
      const timer = graceMs > 0 ? setTimeout(terminate, graceMs) : undefined;
      thread.on('error', () => undefined); // whatever it throws now, nobody waits for it
      thread.once('exit', () => {
        clearTimeout(timer);
        this.terminating.delete(thread);
        markExited();
      });
      if (timer === undefined) terminate();
      else thread.on('message', onReply);
    };
    const onMessage = (reply: ThreadMessage) => {
      if (isSpill(reply)) {
        onSpill?.(reply.spilled);
        return;
      }
      if (isProgress(reply)) {
        onProgress?.(reply.report);
        return;
      }
      cleanup();
      if (reply.work) workObserver?.({ service: task.input.service, mode: task.input.mode }, reply.work);
      if (!this.closed && this.idle.size < (this.options.maxIdle ?? this.config.workerConcurrency)) {
        this.idle.park(thread);
        markExited();
      } else stop();
      settle?.resolve(reply);
    };
    const onError = (err: Error) => {
      cleanup();
      stop();
      settle?.reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      markExited();
      settle?.reject(new Error(`processor thread exited with code ${code}`));
    };
    const promise = new Promise<ThreadReply>((resolve, reject) => {
      settle = { resolve, reject };
    });
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
    thread.postMessage({ ...task, cancelKey, state } satisfies ThreadTask);
    return {
      promise,
      exited,
      cancel: (reason) => {
        if (!this.busy.has(thread)) return;
        cleanup();
        Atomics.store(state, TASK_CANCELLED, 1);
        if (Atomics.load(state, TASK_IN_STATEMENTS) === 1 && this.canceller.available) {
          // First out of SQLite (a statement ignores termination): the interrupted statement
          // throws into the thread's JavaScript, which answers at once; then the thread ends.
          // Not both at once: a statement failing while its thread terminates aborts the
          // whole process (better-sqlite3 cannot build the error).
          this.canceller.cancel(cancelKey);
          stop(INTERRUPT_GRACE_MS);
        } else {
          stop();
        }
        settle?.reject(new TaskCancelled(reason));
      },
    };
  }

  /** Threads idle now. */
  get idleThreads(): number {
    return this.idle.size;
  }

  /** Threads that exist now, whatever they do (idle, busy, being ended). */
  get liveThreads(): number {
    return this.live.size;
  }

  /** Threads started since the pool was made. */
  get threadsStarted(): number {
    return this.started;
  }

  private startThread(): Worker {
    const thread = new Worker(this.entry, {
      workerData: { config: this.config, niceness: this.options.niceness ?? 0 } satisfies ThreadData,
    });
    this.started++;
    this.live.add(thread);
    thread.once('exit', () => {
      this.live.delete(thread);
      // Down to the threads kept warm, idle: what the ended threads' malloc arenas kept goes
      // back to the system.
      if (this.live.size <= (this.options.keepWarm ?? 0) && this.busy.size === 0 && !this.closed) this.canceller.releaseMemory();
    });
    return thread;
  }

  async close(): Promise<void> {
    this.closed = true;
    pools.delete(this);
    // Threads inside long statements are interrupted first, and given a moment to come out.
    for (const key of this.busy.values()) this.canceller.cancel(key);
    if (this.busy.size > 0 && this.canceller.available) await new Promise((resolve) => setTimeout(resolve, INTERRUPT_GRACE_MS));
    const threads = [...this.idle.drain(), ...this.busy.keys(), ...this.terminating];
    await Promise.all(threads.map((t) => t.terminate()));
    this.canceller.close();
  }
}

/** What a task's thread tells while it runs. */
export interface TaskListeners {
  onSpill?: (spilled: ThreadSpill['spilled']) => void;
  onProgress?: (report: ThreadProgress['report']) => void;
}

function isSpill(message: ThreadMessage): message is ThreadSpill {
  return 'spilled' in message;
}

function isProgress(message: ThreadMessage): message is ThreadProgress {
  return 'report' in message && !('ok' in message);
}

function isReply(message: ThreadMessage): message is ThreadReply {
  return 'ok' in message;
}
