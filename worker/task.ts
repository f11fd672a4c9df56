/**
 * How work runs in a worker, for UWS jobs (runner.ts) and DALI-sync requests (sync-runner.ts)
 * alike: one processor input, one time limit (execution duration, UWS 1.1 §2.2.3.4; the sync
 * request's SYNC_TIMEOUT), one abort subscription, one account of how a task ended. The
 * callers decide what an end means (the store and the queue; the reply to the api).
 */
import type { Config } from '../shared/config';
import { compiledModule } from '../shared/runtime';
import type { UwsEvents } from '../shared/uws/events';
import type { JobParameter } from '../shared/uws/model';
import type { UwsService } from '../shared/uws/service';
import { TaskCancelled, ThreadPool, type CancelReason, type RunningTask } from './pool';
import type { ThreadReply, ThreadSpill } from './thread';

/** How long an abort heard before its task started is remembered, ms. */
const EARLY_ABORT_MEMORY_MS = 60000;

export interface TaskSpec {
  /** The job's id or the sync request's: aborts name it. */
  id: string;
  service: UwsService;
  owner: string | null;
  parameters: JobParameter[];
  /** Base URL for links written into results. */
  baseUrl: string;
  /** The task's directory (uploads/ under it) and where its results go. */
  dir: string;
  resultsDir: string;
  /** Seconds the work may run before it is stopped ('duration'); 0 = unlimited. */
  seconds: number;
  /**
   * DALI-sync requests: results up to `inlineLimit` bytes come back in memory; `onSpill`
   * hears when the first one became a file instead (it grows until the task ends).
   */
  sync?: { inlineLimit: number; onSpill: (spilled: ThreadSpill['spilled']) => void };
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

export class TaskRunner {
  private readonly pool: ThreadPool;
  private readonly running = new Map<string, RunningTask>();
  private readonly earlyAborts = new Map<string, number>();

  constructor(
    private readonly config: Config,
    private readonly events: UwsEvents,
  ) {
    this.pool = new ThreadPool(compiledModule(require.resolve('./thread')), config);
  }

  /** Listens for aborts (one subscription for every task of this worker). */
  start(): Promise<void> {
    return this.events.onAbort((id) => this.onAbort(id));
  }

  private onAbort(id: string): void {
    const task = this.running.get(id);
    if (task) {
      task.cancel('abort');
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
        input: {
          jobId: id,
          service: service.name,
          owner: spec.owner,
          parameters: spec.parameters,
          jobDir: spec.dir,
          resultsDir: spec.resultsDir,
          executionDuration: spec.seconds,
          baseUrl: spec.baseUrl,
          mode: sync ? 'sync' : 'async',
          ...(sync ? { inlineLimit: sync.inlineLimit } : {}),
          maxBytes: this.config.jobMaxBytes,
        },
      },
      sync?.onSpill,
    );
    this.running.set(id, task);
    if (this.earlyAborts.delete(id)) task.cancel('abort');
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
        // Another task of the same id (a job's next attempt) may have started meanwhile.
        if (this.running.get(id) === task) this.running.delete(id);
      });
  }

  /** Stops the task of `id`, if it runs here. */
  cancel(id: string, reason: CancelReason): void {
    this.running.get(id)?.cancel(reason);
  }

  /** Ends every thread; running tasks are stopped (their statements interrupted first). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
