/**
 * The api side of the UWS engine, and the only way to the api's job state: reads and lists
 * jobs, creates them, dispatches them to the queues, changes, aborts and destroys them,
 * answers WAIT, and keeps the store and Redis in agreement (reaping, reconciliation,
 * execution-duration enforcement for jobs whose worker vanished). HTTP lives in api/uws.
 */
import type { Config } from '../config';
import { newJobId } from '../ids';
import type { Logger } from '../log';
import type { ApiMetrics, EndPhase, JobMetrics } from '../metrics';
import { channels } from '../redis';
import type { UwsEvents } from './events';
import { isJobId, removeJobFiles } from './files';
import type { ErrorType, Job, JobListFilter, JobParameter, JobRef, JobResult } from './model';
import { isActive, type Phase } from './phase';
import type { JobQueues } from './queue';
import type { UwsService } from './service';
import type { JobStore } from './store';
import type { WaitHub } from './wait';

export interface EngineDeps {
  config: Config;
  store: JobStore;
  queues: JobQueues;
  events: UwsEvents;
  log: Logger;
  /** The api's metrics (jobs created and ended here, WAIT requests blocked, Redis errors). */
  metrics?: ApiMetrics;
}

/**
 * A job that reached its final phase, as told by the one process whose conditional update
 * made it so (so exactly once per job): the engine for ABORTED and for the ERRORs of
 * reconciliation, a worker's runner (worker/runner.ts) for COMPLETED and the other ERRORs.
 */
export interface JobEnd {
  job: Pick<Job, 'jobId' | 'service' | 'owner' | 'startTime'>;
  phase: EndPhase;
  /** Items processed (uws:jobInfo itemsProcessed); without progress reports, the job's results. */
  items: number;
  /** Bytes of the results the job ends with (a batch: its stamps; a job in ERROR keeps none, a split one its parts'). */
  bytes: number;
  errorType: ErrorType | null;
}

/**
 * The job's one log line (`job finished`: jobId, service, owner, phase, durationMs from
 * EXECUTING to the end, null if it never ran, items, bytes, errorType) and its metrics.
 * Call it only after the update that ended the job reported a change.
 */
export function recordJobEnd(log: Logger, metrics: JobMetrics | undefined, end: JobEnd, endTime = Date.now()): void {
  const { job, phase, items, bytes, errorType } = end;
  const durationMs = job.startTime === null ? null : Math.max(0, endTime - job.startTime);
  metrics?.jobEnded(job.service, phase, durationMs);
  log.info({ jobId: job.jobId, service: job.service, owner: job.owner, phase, durationMs, items, bytes, errorType }, 'job finished');
}

export interface CreateOptions {
  service: string;
  owner: string | null;
  parameters: JobParameter[];
  runId?: string;
  /** Requested seconds; clamped to the configured maximum. */
  executionDuration?: number;
  /** Requested epoch ms; clamped to the configured maximum lifetime. */
  destruction?: number;
  run: boolean;
  jobId?: string;
  /** Base URL of links the job's results contain (see Job.baseUrl). */
  baseUrl?: string;
}

export type RunOutcome = 'queued' | 'already' | 'illegal';

/**
 * A change the job's phase may forbid: made, or refused, with the phase the job is in now
 * (undefined when it was destroyed meanwhile).
 */
export type ChangeOutcome = { ok: true } | { ok: false; phase: Phase | undefined };

/**
 * Whose jobs a caller may see: one service's, and one owner's (null: anonymous) or, with
 * `owner` undefined, every owner's (authentication off: single-user mode).
 */
export type JobScope = Pick<JobListFilter, 'service' | 'owner'>;

/**
 * A job list (UWS §2.2.2.1), or, when a list asked for without LAST is longer than
 * UWS_LIST_MAX, the LAST that bounds it (the caller redirects with it).
 */
export type JobList = { kind: 'jobs'; jobs: JobRef[] } | { kind: 'bounded'; last: number };

export interface WaitOptions {
  /** The api's hub, woken by the Redis phase events. */
  hub: WaitHub;
  /** How long to block at most, ms. */
  timeoutMs: number;
  /** The phase the client saw (the PHASE race guard): block only while the job is in it. */
  phase?: Phase;
  /** Aborted when the client has gone: waiting ends. */
  signal?: AbortSignal;
}

/** Parameters (and RUNID) change only while PENDING (UWS §2.1.11, DALI 1.1 §2.1). */
export function acceptsParameters(job: Pick<Job, 'phase'>): boolean {
  return job.phase === 'PENDING';
}

/** Parameters replace earlier values of the same name (UWS §2.1.11), others are kept. */
export function mergeParameters(existing: readonly JobParameter[], update: readonly JobParameter[]): JobParameter[] {
  const replaced = new Set(update.map((p) => p.name));
  return [...existing.filter((p) => !replaced.has(p.name)), ...update];
}

const DONE: ChangeOutcome = { ok: true };

/** Mean job duration assumed before any job of a service has finished, ms. */
const DEFAULT_MEAN_DURATION_MS = 1000;
/** Extra time a job gets past its execution duration before the api declares its worker lost, ms. */
const DURATION_GRACE_MS = 5000;

export class UwsEngine {
  private readonly config: Config;
  private readonly store: JobStore;
  private readonly queues: JobQueues;
  private readonly events: UwsEvents;
  private readonly log: Logger;
  private readonly metrics: ApiMetrics | undefined;
  private meanDurations: { at: number; values: Record<string, string> } = { at: 0, values: {} };
  /** Jobs this process is queueing right now (store row written, queue entry on its way). */
  private readonly dispatching = new Set<string>();

  constructor(
    deps: EngineDeps,
    readonly services: ReadonlyMap<string, UwsService>,
  ) {
    this.config = deps.config;
    this.store = deps.store;
    this.queues = deps.queues;
    this.events = deps.events;
    this.log = deps.log;
    this.metrics = deps.metrics;
  }

  /** UWS §2.1.4: 0 means unlimited, allowed only when no maximum is configured. */
  private clampExecutionDuration(requested: number | undefined): number {
    const { executionDurationDefault, executionDurationMax } = this.config.uws;
    if (requested === undefined) return executionDurationDefault;
    if (executionDurationMax === 0) return requested;
    return requested === 0 ? executionDurationMax : Math.min(requested, executionDurationMax);
  }

  private clampDestruction(requested: number | undefined, now = Date.now()): number {
    const { destructionDefault, destructionMax } = this.config.uws;
    if (requested === undefined) return now + destructionDefault * 1000;
    return Math.min(requested, now + destructionMax * 1000);
  }

  /** The job, if it exists and is in `scope`; else undefined (a job out of scope is not revealed). */
  async job(jobId: string, scope: JobScope): Promise<Job | undefined> {
    const job = isJobId(jobId) ? await this.store.get(jobId) : undefined;
    if (!job || job.service !== scope.service || (scope.owner !== undefined && job.owner !== scope.owner)) return undefined;
    return job;
  }

  async list(filter: Omit<JobListFilter, 'limit'>): Promise<JobList> {
    const max = this.config.uws.listMax;
    if (filter.last !== undefined) return { kind: 'jobs', jobs: await this.store.list({ ...filter, last: Math.min(filter.last, max) }) };
    const jobs = await this.store.list({ ...filter, limit: max + 1 });
    // The server may bound a list by redirecting with LAST (UWS §2.2.2.1).
    return jobs.length > max ? { kind: 'bounded', last: max } : { kind: 'jobs', jobs };
  }

  /** The job's results in order (empty unless COMPLETED). */
  results(job: Pick<Job, 'jobId'>): Promise<JobResult[]> {
    return this.store.results(job.jobId);
  }

  /** A page of the job's results: at most `limit` in order, from the `offset`-th (0-based). */
  resultsSlice(job: Pick<Job, 'jobId'>, offset: number, limit: number): Promise<JobResult[]> {
    return this.store.resultsSlice(job.jobId, offset, limit);
  }

  /** How many results the job lists. */
  resultCount(job: Pick<Job, 'jobId'>): Promise<number> {
    return this.store.resultCount(job.jobId);
  }

  /** One result of the job: only that one is read (a job may have 100,000 of them). */
  result(job: Pick<Job, 'jobId'>, resultId: string): Promise<JobResult | undefined> {
    return this.store.result(job.jobId, resultId);
  }

  /**
   * Replaces a PENDING job's parameters (see acceptsParameters, mergeParameters), and its
   * RUNID when given; refused once the job has left PENDING.
   */
  async setParameters(job: Pick<Job, 'jobId'>, parameters: readonly JobParameter[], runId?: string): Promise<ChangeOutcome> {
    return (await this.store.setParameters(job.jobId, parameters, runId)) ? DONE : this.refused(job);
  }

  /** Only while PENDING; the request is clamped as at creation (UWS §2.1.4). */
  async setExecutionDuration(job: Pick<Job, 'jobId'>, requestedSeconds: number): Promise<ChangeOutcome> {
    return (await this.store.setExecutionDuration(job.jobId, this.clampExecutionDuration(requestedSeconds))) ? DONE : this.refused(job);
  }

  /** In any phase; the request is clamped to the longest lifetime allowed (UWS §2.1.5). */
  async setDestruction(job: Pick<Job, 'jobId'>, requestedMs: number): Promise<void> {
    await this.store.setDestruction(job.jobId, this.clampDestruction(requestedMs));
  }

  private async refused(job: Pick<Job, 'jobId'>): Promise<ChangeOutcome> {
    return { ok: false, phase: (await this.store.get(job.jobId))?.phase };
  }

  /**
   * WAIT (UWS §2.2.1.2): the job (found as by `job`) once its phase has changed, or when the
   * time is up or the client has gone. Blocks only in an active phase, and only if the job is
   * still in the phase the client saw (the PHASE race guard).
   */
  async waitForChange(jobId: string, scope: JobScope, options: WaitOptions): Promise<Job | undefined> {
    const { hub, timeoutMs, phase: guard, signal } = options;
    const deadline = Date.now() + timeoutMs;
    // Registered before the job is read, so that a change in between is not missed.
    let waiter = hub.subscribe(jobId, timeoutMs);
    try {
      let job = await this.job(jobId, scope);
      if (!job) return undefined;
      const waited = job.phase;
      if (timeoutMs <= 0 || !isActive(waited) || (guard !== undefined && guard !== waited)) return job;
      const stop = () => waiter.close();
      signal?.addEventListener('abort', stop);
      this.metrics?.waitBlocked.inc();
      try {
        // Answer when the phase has changed. A notification can be stale (the event of the
        // phase this request already read, arriving late): then wait on, registered again
        // before reading the job so that no change is missed in between.
        for (;;) {
          const changed = await waiter.changed;
          if (signal?.aborted || !changed) break;
          const left = deadline - Date.now();
          const next = left > 0 ? hub.subscribe(jobId, left) : undefined;
          job = (await this.store.get(jobId)) ?? job;
          if (job.phase !== waited || next === undefined) {
            next?.close();
            break;
          }
          waiter = next;
        }
      } finally {
        this.metrics?.waitBlocked.dec();
        signal?.removeEventListener('abort', stop);
      }
      return job;
    } finally {
      waiter.close();
    }
  }

  async create(options: CreateOptions): Promise<Job> {
    const now = Date.now();
    const job: Job = {
      jobId: options.jobId ?? newJobId(),
      service: options.service,
      owner: options.owner,
      runId: options.runId ?? null,
      phase: options.run ? 'QUEUED' : 'PENDING',
      creationTime: now,
      startTime: null,
      endTime: null,
      executionDuration: this.clampExecutionDuration(options.executionDuration),
      destruction: this.clampDestruction(options.destruction, now),
      quote: await this.quote(options.service, now),
      attempts: 0,
      error: null,
      parameters: options.parameters,
      baseUrl: options.baseUrl ?? null,
      progress: null,
    };
    // Marked before the row exists: reconciliation must not take a job on its way to the
    // queue for a lost one.
    if (options.run) this.dispatching.add(job.jobId);
    try {
      await this.store.create(job);
      this.metrics?.created.inc({ service: job.service, phase: job.phase });
      if (options.run) await this.dispatch(job.service, job.jobId);
    } finally {
      this.dispatching.delete(job.jobId);
    }
    return job;
  }

  /** PHASE=RUN: the job reads QUEUED before this returns (pyvo's wait() relies on it). */
  async run(job: Job): Promise<RunOutcome> {
    if (job.phase === 'QUEUED' || job.phase === 'EXECUTING') return 'already';
    const quote = await this.quote(job.service);
    this.dispatching.add(job.jobId);
    try {
      return await this.queue(job, quote);
    } finally {
      this.dispatching.delete(job.jobId);
    }
  }

  /** PENDING (or HELD) → QUEUED in the store, then the queue entry. */
  private async queue(job: Job, quote: number | null): Promise<RunOutcome> {
    if (!(await this.store.transition(job.jobId, 'QUEUED', { quote }, ['PENDING', 'HELD']))) {
      const now = await this.store.get(job.jobId);
      return now && (now.phase === 'QUEUED' || now.phase === 'EXECUTING') ? 'already' : 'illegal';
    }
    await this.publishing(this.events.publishPhase(job.jobId, 'QUEUED'));
    await this.dispatch(job.service, job.jobId);
    return 'queued';
  }

  /**
   * Adds the queue entry; if Redis is unreachable the job stays QUEUED for reconciliation
   * (which also runs as soon as Redis is back). Bounded: the connection fails fast while
   * Redis is known to be down, and waits at most COMMAND_TIMEOUT_MS otherwise.
   */
  private async dispatch(service: string, jobId: string): Promise<void> {
    try {
      await this.queues.enqueue(service, jobId);
    } catch (err) {
      this.metrics?.redisErrors.inc({ operation: 'enqueue' });
      // An outage is logged once by the connection, not once per job created during it.
      if (err instanceof Error && err.name === 'RedisUnavailable')
        this.log.debug({ jobId, service, reason: err.message }, 'enqueue deferred: Redis unreachable');
      else this.log.warn({ err, jobId, service }, 'enqueue failed; reconciliation will retry');
    }
  }

  /** PHASE=ABORT: refused when the job is already in a final phase. */
  async abort(job: Job): Promise<ChangeOutcome> {
    if (!(await this.store.transition(job.jobId, 'ABORTED'))) return this.refused(job);
    await this.afterAbort(job, job.phase);
    return DONE;
  }

  /** The job was moved to ABORTED here: its end is recorded, and its work stopped wherever it is. */
  private async afterAbort(job: Pick<Job, 'jobId' | 'service'>, previous: Phase): Promise<void> {
    const { jobId, service } = job;
    await Promise.all([
      this.publishing(this.events.publishPhase(jobId, 'ABORTED')),
      previous === 'EXECUTING' ? this.publishing(this.events.publishAbort(jobId)) : undefined,
      previous === 'QUEUED' ? this.queues.remove(service, jobId) : undefined,
    ]);
    await this.recordEnd(job, 'ABORTED', null);
  }

  /** An event sent for what it is worth (events are transient): a failure is only counted. */
  private publishing(sent: Promise<void>): Promise<void> {
    return sent.catch(() => this.metrics?.redisErrors.inc({ operation: 'publish' }));
  }

  /**
   * The end of a job this engine just moved to a final phase (not the hot path: aborts and
   * reconciliation's failures), read back from the store for its start, end and progress as
   * recorded. Work stopped this way keeps only what a split job's parts recorded, which is
   * what its progress counts (other jobs' reports count no bytes).
   */
  private async recordEnd(job: Pick<Job, 'jobId' | 'service'>, phase: EndPhase, errorType: ErrorType | null): Promise<void> {
    const ended = await this.store.get(job.jobId).catch(() => undefined);
    const items = ended?.progress?.done ?? 0;
    const bytes = ended?.progress?.bytes ?? 0;
    recordJobEnd(
      this.log,
      this.metrics,
      { job: ended ?? { ...job, owner: null, startTime: null }, phase, items, bytes, errorType },
      ended?.endTime ?? Date.now(),
    );
  }

  /** Destruction: stop any work, then delete the results and forget the job (UWS §2.1.5). */
  async destroy(job: Pick<Job, 'jobId' | 'service' | 'phase'>): Promise<void> {
    if (isActive(job.phase) && (await this.store.transition(job.jobId, 'ABORTED'))) {
      await this.afterAbort(job, job.phase);
    }
    await removeJobFiles(this.config.resultsDir, job.jobId);
    await this.store.delete(job.jobId);
  }

  /** Quote (UWS §2.1.6): now + mean duration × (1 + jobs waiting per job running). */
  async quote(service: string, now = Date.now()): Promise<number | null> {
    try {
      // Bounded like every command of the api: with Redis down this fails at once.
      const [depth, mean] = await Promise.all([this.queues.depth(service, now), this.meanDuration(service, now)]);
      return Math.round(now + mean * (1 + depth.waiting / Math.max(1, depth.active)));
    } catch {
      this.metrics?.redisErrors.inc({ operation: 'quote' });
      return null; // Redis unreachable: "don't know" (xsi:nil)
    }
  }

  private async meanDuration(service: string, now: number): Promise<number> {
    if (now - this.meanDurations.at > 1000) {
      this.meanDurations = { at: now, values: await this.events.redis.hgetall(channels(this.config.queuePrefix).durations) };
    }
    const value = Number(this.meanDurations.values[service]);
    return Number.isFinite(value) && value > 0 ? value : DEFAULT_MEAN_DURATION_MS;
  }

  /** Deletes every job past its destruction time; returns how many. */
  async reap(now = Date.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.store.expired(now);
      for (const job of expired) {
        await this.destroy(job);
        this.log.info({ jobId: job.jobId, service: job.service }, 'job destroyed at its destruction time');
      }
      total += expired.length;
      if (expired.length === 0) return total;
    }
  }

  /**
   * Makes Redis agree with the store after a Redis loss, an api restart or a dead worker:
   * QUEUED or EXECUTING jobs with no queue entry are enqueued again (a worker retries them,
   * counting attempts); jobs whose entry failed, or that overran their execution duration
   * with no worker to stop them, end in ERROR.
   */
  async reconcile(now = Date.now()): Promise<{ requeued: number; failed: number }> {
    let requeued = 0;
    let failed = 0;
    let after = '';
    for (;;) {
      const batch = await this.store.unfinished([...this.services.keys()], after);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.jobId;
      for (const job of batch) {
        const state = await this.queues.state(job.service, job.jobId);
        if (state === 'missing') {
          // Read again: a job that finished (its entry removed) or was just queued (its entry
          // on the way) between the two reads is in flight, not lost.
          const current = this.dispatching.has(job.jobId) ? undefined : await this.store.get(job.jobId);
          if (
            !current ||
            !isActive(current.phase) ||
            current.phase === 'PENDING' ||
            (await this.queues.state(job.service, job.jobId)) !== 'missing'
          )
            continue;
          await this.dispatch(job.service, job.jobId);
          requeued++;
          this.log.warn({ jobId: job.jobId, phase: job.phase }, 'job had no queue entry: enqueued again');
        } else if (state === 'failed' || state === 'completed') {
          const reason = (await this.queues.failedReason(job.service, job.jobId)) ?? 'the worker stopped';
          if (await this.store.fail(job.jobId, { type: 'transient', message: `job lost by its worker: ${reason}` })) {
            failed++;
            await this.recordEnd(job, 'ERROR', 'transient');
            await this.publishing(this.events.publishPhase(job.jobId, 'ERROR'));
          }
        } else if (
          job.phase === 'EXECUTING' &&
          job.executionDuration > 0 &&
          job.startTime !== null &&
          now > job.startTime + job.executionDuration * 1000 + DURATION_GRACE_MS
        ) {
          if (await this.store.fail(job.jobId, { type: 'fatal', message: `execution duration of ${job.executionDuration} s exceeded` })) {
            failed++;
            await this.recordEnd(job, 'ERROR', 'fatal');
            await this.publishing(this.events.publishPhase(job.jobId, 'ERROR'));
            await this.publishing(this.events.publishAbort(job.jobId));
          }
        }
      }
    }
    return { requeued, failed };
  }
}
