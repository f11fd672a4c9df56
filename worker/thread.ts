/**
 * Entry of a processor thread. Processors run here, off the worker's main thread, so the
 * BullMQ lock renewal never waits behind CPU-heavy work, and a job is stopped for good by
 * terminating its thread (abort, execution duration). A pool thread only answers its
 * parent: what goes to Redis, the main thread sends. A thread line (worker/line-thread.ts)
 * answers the apis on its own port, and its parent only hears what to count.
 */
import { mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../shared/config';
import { runStatementsFor } from '../shared/db/cancel';
import { encodeSyncMessage } from '../shared/dali/sync-messages';
import { useNativeReadRows } from '../shared/fits/native';
import { takeWork, type WorkCounts } from '../shared/metrics/work';
import { outputCounter } from '../shared/uws/results';
import type { ProgressDelta, ProgressReport } from '../shared/uws/model';
import type { ProcessorInput, ProcessorOutcome, ProducedResult } from '../shared/uws/service';
import { serveLine } from './line-thread';
import type { LineThreadData } from './line-thread-state';

export interface ThreadTask {
  processorModule: string;
  input: ProcessorInput;
  /** The task's key for cancelling its SQLite statements (shared/db/cancel.ts; ThreadPool assigns it). */
  cancelKey: number;
  /**
   * Shared with the pool (shared/db/cancel.ts taskState): TASK_CANCELLED is set when the task
   * was cancelled, TASK_IN_STATEMENTS while it runs long statements.
   */
  state: Int32Array;
}

export type ThreadReply = (
  | {
      ok: true;
      results: ProducedResult[];
      parts?: number;
      total?: number;
      message?: string;
      /** A part of a split job: what it adds to the job's progress. */
      progress?: ProgressDelta;
      /** A job that reported progress (ProcessorInput.progress): its last report. */
      report?: ProgressReport;
    }
  | { ok: false; message: string; errorType: 'transient' | 'fatal'; userError: boolean }
) & {
  /** What the task produced, for the worker's metrics (shared/metrics/work.ts reportWork). */
  work?: Partial<WorkCounts>;
  /**
   * DALI-sync requests: the reply as the api reads it (shared/dali/sync-messages.ts), with the
   * inline result bytes, which are then not in `results`. Encoded here and handed over, not
   * copied, so the main thread only sends it (encoding a 1 MiB answer takes it ~0.5 ms).
   */
  syncMessage?: Uint8Array;
};

/**
 * Posted while a task runs, before its reply: its first result outgrew the inline limit and
 * is now a file that grows until the reply (ProcessorInput.onSpill).
 */
export interface ThreadSpill {
  spilled: { id: string; file: string; mimeType: string };
}

/** Posted while a task runs: how far it has come (ProcessorInput.progress), at most about once a second. */
export interface ThreadProgress {
  report: ProgressReport;
}

export type ThreadMessage = ThreadReply | ThreadSpill | ThreadProgress;

/** Reports are passed on at most this often, ms; the last one comes with the reply. */
const PROGRESS_EVERY_MS = 1000;

/** A throttled ProcessorInput.progress; `last` is the latest report, sent or not. */
function progressReporter(): { report: (r: ProgressReport) => void; last: () => ProgressReport | undefined } {
  let latest: ProgressReport | undefined;
  let sentAt = 0;
  return {
    report: (r) => {
      latest = r;
      const now = Date.now();
      if (now - sentAt < PROGRESS_EVERY_MS) return;
      sentAt = now;
      parentPort?.postMessage({ report: r } satisfies ThreadProgress);
    },
    last: () => latest,
  };
}

/**
 * The built-in processors take the worker's configuration as a second argument (a processor
 * of SERVICE_MODULES, written to shared/uws/service.ts Processor, ignores it).
 */
type ThreadProcessor = (input: ProcessorInput, config: Config) => Promise<ProducedResult[] | ProcessorOutcome>;

/** What the pool gives a thread when it makes it (ThreadPool). */
export interface ThreadData {
  /** The worker's configuration: the environment is not read again here. */
  config: Config;
  /** The thread's nice value (Linux: per thread), for work that yields to the rest. */
  niceness: number;
  /** A thread line's (worker/line-threads.ts): the thread takes its requests from the apis. */
  line?: LineThreadData;
}

const { config, niceness, line } = workerData as ThreadData;
useNativeReadRows(config.fitsNativeRows);
if (niceness !== 0) {
  try {
    setPriority(niceness);
  } catch {
    // not permitted here: the work runs at the process's priority
  }
}

const processors = new Map<string, ThreadProcessor>();

function load(modulePath: string): ThreadProcessor {
  let processor = processors.get(modulePath);
  if (!processor) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(modulePath) as { process?: unknown };
    if (typeof loaded.process !== 'function') throw new Error(`${modulePath} does not export a process function`);
    processor = loaded.process as ThreadProcessor;
    processors.set(modulePath, processor);
  }
  return processor;
}

/** A sync request's reply with its answer encoded for the api (only sync results are ever inline). */
function forSync(id: string, reply: ThreadReply): ThreadReply {
  const syncMessage = encodeSyncMessage({ id, outcome: reply });
  return reply.ok ? { ...reply, results: reply.results.map((r) => ({ ...r, data: undefined })), syncMessage } : { ...reply, syncMessage };
}

/**
 * The memory of the encoded answer, handed to the main thread instead of copied (a sync
 * answer of a thousand rows is a few hundred kB). Only a buffer that owns its whole memory:
 * a small Buffer may be a slice of Node's shared pool, which must stay here.
 */
function transferable({ syncMessage: bytes }: ThreadReply): ArrayBuffer[] {
  return bytes !== undefined && bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length && bytes.buffer instanceof ArrayBuffer
    ? [bytes.buffer]
    : [];
}

/**
 * Runs one task in this thread: its processor, with its statements cancellable under the
 * task's key; `onSpill` hears its first result become a growing file (sync requests).
 */
export async function runTask(task: ThreadTask, onSpill: (spilled: ThreadSpill['spilled']) => void): Promise<ThreadReply> {
  let reply: ThreadReply;
  runStatementsFor(task.cancelKey, task.state);
  takeWork(); // nothing of an earlier task's counts (none is left unless it was cut short)
  try {
    // Made here, off the worker's main thread, before the processor writes into it (sync
    // requests with inline results make it only when a result spills to a file).
    if (task.input.inlineLimit === undefined) mkdirSync(task.input.resultsDir, { recursive: true });
    // The api starts sending a large result while it is still being written; the reply
    // follows, after this message.
    else task.input.onSpill = onSpill;
    if (task.input.maxBytes !== undefined) task.input.written = outputCounter();
    const reporter = task.input.mode === 'async' && task.input.step === undefined ? progressReporter() : undefined;
    if (reporter) task.input.progress = reporter.report;
    const outcome = await load(task.processorModule)(task.input, config);
    reply = Array.isArray(outcome) ? { ok: true, results: outcome } : { ok: true, ...outcome };
    const report = reporter?.last();
    if (report) reply.report = report;
  } catch (err) {
    const error = err as Error & { type?: unknown };
    reply = {
      ok: false,
      message: error.message || String(err),
      errorType: error.type === 'transient' ? 'transient' : 'fatal',
      // JobFailure (by name: classes do not cross the thread boundary) is the user's error.
      userError: error.name === 'JobFailure',
    };
  }
  if (task.input.mode === 'sync') reply = forSync(task.input.jobId, reply);
  const work = takeWork(); // after forSync: the counts are for the worker, not the api
  if (work) reply.work = work;
  return reply;
}

if (line) {
  // A thread line: requests come from the apis, on this thread's own port (worker/line-thread.ts).
  serveLine(config, line, runTask);
} else {
  parentPort?.on('message', (task: ThreadTask) => {
    void runTask(task, (spilled) => parentPort?.postMessage({ spilled } satisfies ThreadSpill)).then((reply) =>
      parentPort?.postMessage(reply, transferable(reply)),
    );
  });
}
