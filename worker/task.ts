/**
 * How work runs in a worker, for UWS jobs (runner.ts) and DALI-sync requests (sync-runner.ts)
 * alike: one processor input, one time limit (execution duration, UWS 1.1 §2.2.3.4; the sync
 * request's SYNC_TIMEOUT), one abort subscription, one account of how a task ended. The
 * callers decide what an end means (the store and the queue; the reply to the api).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fallbackBaseUrl, type Config } from '../shared/config';
import { compiledModule } from '../shared/runtime';
import type { UwsEvents } from '../shared/uws/events';
import { attemptDir, jobDir } from '../shared/uws/files';
import type { Job, PlacedResult, ProgressReport } from '../shared/uws/model';
import type { ProcessorInput, ProducedResult, UwsService } from '../shared/uws/service';
import { processorInput, type TaskInput } from './task-input';
import { TaskCancelled, ThreadPool, type CancelReason, type RunningTask } from './pool';
import type { ThreadReply, ThreadSpill } from './thread';

/** How long an abort heard before its task started is remembered, ms. */
const EARLY_ABORT_MEMORY_MS = 60000;

/** A task: its input (TaskInput, with the service itself), and what the caller hears while it runs. */
export interface TaskSpec extends Omit<TaskInput, 'service' | 'inlineLimit'> {
  service: UwsService;
  /**
   * DALI-sync requests: results up to `inlineLimit` bytes come back in memory; `onSpill`
   * hears when the first one became a file instead (it grows until the task ends).
   */
  sync?: { inlineLimit: number; onSpill: (spilled: ThreadSpill['spilled']) => void };
  /** Async jobs: the processor's progress reports (ProcessorInput.progress), about once a second at most. */
  onProgress?: (report: ProgressReport) => void;
}

export type TaskEnd = (
  | { kind: 'replied'; reply: ThreadReply }
  | { kind: 'stopped'; reason: CancelReason }
  /** The processor's thread died (not the processor's own error: that is a reply). */
  | { kind: 'failed'; error: Error }
) & {
  /**
   * Settles once the task's thread is gone or idle again: the caller holds the task's
   * WORKER_CONCURRENCY slot until then (a stopped thread may take a moment to exit).
   */
  exited: Promise<void>;
};

/** The task of one attempt at a UWS job: its parameters, its directories and base URL, `seconds` to run. */
export function jobTask(
  config: Config,
  service: UwsService,
  job: Pick<Job, 'jobId' | 'owner' | 'parameters' | 'baseUrl'>,
  attempt: number,
  seconds: number,
  step?: ProcessorInput['step'],
): TaskSpec {
  return {
    id: job.jobId,
    service,
    owner: job.owner,
    parameters: job.parameters,
    baseUrl: job.baseUrl ?? fallbackBaseUrl(config),
    dir: jobDir(config.resultsDir, job.jobId),
    resultsDir: attemptDir(config.resultsDir, job.jobId, attempt),
    seconds,
    ...(step ? { step } : {}),
  };
}

/**
 * The results a task produced, as the store keeps them: files relative to the job's results
 * directory (under the attempt's), sizes read where the processor did not give them, and each
 * at its place (the processor's `seq`, else `firstSeq` onwards in order).
 */
export async function storedResults(
  produced: readonly ProducedResult[],
  attempt: number,
  attemptDir: string,
  firstSeq = 0,
): Promise<PlacedResult[]> {
  let next = firstSeq;
  return Promise.all(
    produced.map(async (r) => ({
      id: r.id,
      file: path.posix.join(String(attempt), r.file),
      mimeType: r.mimeType,
      size: r.size ?? (await fs.stat(path.join(attemptDir, r.file))).size,
      ...(r.offset === undefined ? {} : { offset: r.offset }),
      seq: r.seq ?? next++,
    })),
  );
}

export class TaskRunner {
  private readonly pool: ThreadPool;
  /** Running tasks by id: the parts of one job may run side by side. */
  private readonly running = new Map<string, Set<RunningTask>>();
  private readonly earlyAborts = new Map<string, number>();

  /** `threads`: the pool's nice value, idle threads kept and kept warm (ThreadPool). */
  constructor(
    private readonly config: Config,
    private readonly events: UwsEvents,
    threads: { niceness?: number; maxIdle?: number; keepWarm?: number } = {},
  ) {
    this.pool = new ThreadPool(compiledModule(require.resolve('./thread')), config, threads);
  }

  /** Listens for aborts (one subscription for every task of this worker). */
  start(): Promise<void> {
    return this.events.onAbort((id) => this.onAbort(id));
  }

  private onAbort(id: string): void {
    const tasks = this.running.get(id);
    if (tasks) {
      for (const task of tasks) task.cancel('abort');
      return;
    }
    const now = Date.now();
    this.earlyAborts.set(id, now);
    if (this.earlyAborts.size > 1000) {
      for (const [early, at] of this.earlyAborts) if (now - at > EARLY_ABORT_MEMORY_MS) this.earlyAborts.delete(early);
    }
  }

  /** Runs the service's processor in a thread; never rejects. The task can be cancelled by its id at once. */
  runTask(spec: TaskSpec): Promise<TaskEnd> {
    const { id, service, sync } = spec;
    const task = this.pool.run(
      {
        processorModule: service.processorModule,
        input: processorInput(this.config, { ...spec, service: service.name, inlineLimit: sync?.inlineLimit }),
      },
      { onSpill: sync?.onSpill, onProgress: spec.onProgress },
    );
    let tasks = this.running.get(id);
    if (!tasks) this.running.set(id, (tasks = new Set()));
    tasks.add(task);
    if (this.earlyAborts.has(id)) task.cancel('abort');
    const timer = spec.seconds > 0 ? setTimeout(() => task.cancel('duration'), spec.seconds * 1000) : undefined;
    const { exited } = task;
    return task.promise
      .then(
        (reply): TaskEnd => ({ kind: 'replied', reply, exited }),
        (err: Error): TaskEnd =>
          err instanceof TaskCancelled ? { kind: 'stopped', reason: err.reason, exited } : { kind: 'failed', error: err, exited },
      )
      .finally(() => {
        clearTimeout(timer);
        // Other tasks of the same id (a job's next attempt, its other parts) may run on.
        tasks.delete(task);
        if (tasks.size === 0 && this.running.get(id) === tasks) this.running.delete(id);
      });
  }

  /** Stops the task of `id`, if it runs here. */
  cancel(id: string, reason: CancelReason): void {
    for (const task of this.running.get(id) ?? []) task.cancel(reason);
  }

  /** Stops every task running here. */
  cancelAll(reason: CancelReason): void {
    for (const tasks of this.running.values()) for (const task of tasks) task.cancel(reason);
  }

  /** Ends every thread; running tasks are stopped (their statements interrupted first). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
