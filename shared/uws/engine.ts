/**
 * The api side of the UWS engine: creates jobs, dispatches them to the queues, aborts and
 * destroys them, and keeps the store and Redis in agreement (reaping, reconciliation,
 * execution-duration enforcement for jobs whose worker vanished). HTTP lives in api/uws.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import type { Logger } from '../log';
import { channels } from '../redis';
import type { UwsEvents } from './events';
import { removeJobFiles } from './files';
import type { Job, JobParameter } from './model';
import { isActive, type Phase } from './phase';
import type { JobQueues } from './queue';
import type { UwsService } from './service';
import type { JobStore } from './store';

export interface EngineDeps {
  config: Config;
  store: JobStore;
  queues: JobQueues;
  events: UwsEvents;
  log: Logger;
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

/** Mean job duration assumed before any job of a service has finished, ms. */
const DEFAULT_MEAN_DURATION_MS = 1000;
/** Extra time a job gets past its execution duration before the api declares its worker lost, ms. */
const DURATION_GRACE_MS = 5000;

/** Random bytes drawn in bulk: one system call per 4 KiB instead of one per job id. */
let entropy = Buffer.alloc(0);
let entropyOffset = 0;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 characters of base32 (80 random bits), lower-case, safe in URLs and file names. */
export function newJobId(): string {
  if (entropyOffset + 16 > entropy.length) {
    entropy = randomBytes(4096);
    entropyOffset = 0;
  }
  let id = '';
  for (let i = 0; i < 16; i++) id += ID_ALPHABET[entropy[entropyOffset + i]! & 31];
  entropyOffset += 16;
  return id;
}

export class UwsEngine {
  readonly config: Config;
  readonly store: JobStore;
  readonly queues: JobQueues;
  readonly events: UwsEvents;
  private readonly log: Logger;
  private meanDurations: { at: number; values: Record<string, string> } = { at: 0, values: {} };
  /** Jobs this process is queueing right now (store row written, queue entry on its way). */
  private readonly dispatching = new Set<string>();

  constructor(deps: EngineDeps, readonly services: ReadonlyMap<string, UwsService>) {
    this.config = deps.config;
    this.store = deps.store;
    this.queues = deps.queues;
    this.events = deps.events;
    this.log = deps.log;
  }

  /** UWS §2.1.7: 0 means unlimited, allowed only when no maximum is configured. */
  clampExecutionDuration(requested: number | undefined): number {
    const { executionDurationDefault, executionDurationMax } = this.config.uws;
    if (requested === undefined) return executionDurationDefault;
    if (executionDurationMax === 0) return requested;
    return requested === 0 ? executionDurationMax : Math.min(requested, executionDurationMax);
  }

  clampDestruction(requested: number | undefined, now = Date.now()): number {
    const { destructionDefault, destructionMax } = this.config.uws;
    if (requested === undefined) return now + destructionDefault * 1000;
    return Math.min(requested, now + destructionMax * 1000);
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
    };
    // Marked before the row exists: reconciliation must not take a job on its way to the
    // queue for a lost one.
    if (options.run) this.dispatching.add(job.jobId);
    try {
      await this.store.create(job);
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
    await this.events.publishPhase(job.jobId, 'QUEUED').catch(() => undefined);
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
      // An outage is logged once by the connection, not once per job created during it.
      if (err instanceof Error && err.name === 'RedisUnavailable') this.log.debug({ jobId, service, reason: err.message }, 'enqueue deferred: Redis unreachable');
      else this.log.warn({ err, jobId, service }, 'enqueue failed; reconciliation will retry');
    }
  }

  /** PHASE=ABORT: returns false when the job is already in a final phase. */
  async abort(job: Job): Promise<boolean> {
    if (!(await this.store.transition(job.jobId, 'ABORTED'))) return false;
    await this.afterAbort(job.service, job.jobId, job.phase);
    return true;
  }

  private async afterAbort(service: string, jobId: string, previous: Phase): Promise<void> {
    await Promise.all([
      this.events.publishPhase(jobId, 'ABORTED').catch(() => undefined),
      previous === 'EXECUTING' ? this.events.publishAbort(jobId).catch(() => undefined) : undefined,
      previous === 'QUEUED' ? this.queues.remove(service, jobId) : undefined,
    ]);
  }

  /** Destruction: stop any work, then delete the results and forget the job (UWS §2.1.6). */
  async destroy(job: Pick<Job, 'jobId' | 'service' | 'phase'>): Promise<void> {
    if (isActive(job.phase) && (await this.store.transition(job.jobId, 'ABORTED'))) {
      await this.afterAbort(job.service, job.jobId, job.phase);
    }
    await removeJobFiles(this.config.resultsDir, job.jobId);
    await this.store.delete(job.jobId);
  }

  /** Quote (UWS §2.1.8): now + mean duration × (1 + jobs waiting per job running). */
  async quote(service: string, now = Date.now()): Promise<number | null> {
    try {
      // Bounded like every command of the api: with Redis down this fails at once.
      const [depth, mean] = await Promise.all([this.queues.depth(service, now), this.meanDuration(service, now)]);
      return Math.round(now + mean * (1 + depth.waiting / Math.max(1, depth.active)));
    } catch {
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
      const batch = await this.store.unfinished(after);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.jobId;
      for (const job of batch) {
        if (!this.services.has(job.service)) continue;
        const state = await this.queues.state(job.service, job.jobId);
        if (state === 'missing') {
          // Read again: a job that finished (its entry removed) or was just queued (its entry
          // on the way) between the two reads is in flight, not lost.
          const current = this.dispatching.has(job.jobId) ? undefined : await this.store.get(job.jobId);
          if (!current || !isActive(current.phase) || current.phase === 'PENDING' || (await this.queues.state(job.service, job.jobId)) !== 'missing') continue;
          await this.dispatch(job.service, job.jobId);
          requeued++;
          this.log.warn({ jobId: job.jobId, phase: job.phase }, 'job had no queue entry: enqueued again');
        } else if (state === 'failed' || state === 'completed') {
          const reason = (await this.queues.failedReason(job.service, job.jobId)) ?? 'the worker stopped';
          if (await this.store.fail(job.jobId, { type: 'transient', message: `job lost by its worker: ${reason}` })) {
            failed++;
            await this.events.publishPhase(job.jobId, 'ERROR').catch(() => undefined);
          }
        } else if (
          job.phase === 'EXECUTING' && job.executionDuration > 0 && job.startTime !== null &&
          now > job.startTime + job.executionDuration * 1000 + DURATION_GRACE_MS
        ) {
          if (await this.store.fail(job.jobId, { type: 'fatal', message: `execution duration of ${job.executionDuration} s exceeded` })) {
            failed++;
            await this.events.publishPhase(job.jobId, 'ERROR').catch(() => undefined);
            await this.events.publishAbort(job.jobId).catch(() => undefined);
          }
        }
      }
    }
    return { requeued, failed };
  }
}
