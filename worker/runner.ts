/**
 * Runs UWS jobs from the BullMQ queues: one BullMQ Worker per service, processors in a
 * thread pool. The store decides: a job is only worked on after a conditional
 * QUEUED→EXECUTING update, and its outcome only counts if EXECUTING→final succeeds, so
 * an abort racing a completion leaves exactly one outcome.
 */
import fs from 'node:fs/promises';
import { DelayedError, Worker as QueueWorker, WaitingChildrenError, WaitingError, type Job as QueueEntry } from 'bullmq';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/log';
import { countConnectionLosses, type WorkerMetrics } from '../shared/metrics';
import { channels, connectRedis, type Redis } from '../shared/redis';
import { recordJobEnd, type JobEnd } from '../shared/uws/engine';
import type { UwsEvents } from '../shared/uws/events';
import { attemptDir, removeAttempts, removeJobFiles } from '../shared/uws/files';
import { NO_PROGRESS, type Job, type JobError, type JobProgress, type JobResult, type ProgressReport } from '../shared/uws/model';
import type { Phase } from '../shared/uws/phase';
import { queueName, type QueueEntryData } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import type { JobStore } from '../shared/uws/store';
import { PartRunner, secondsLeft } from './parts';
import { SyncRunner } from './sync-runner';
import { jobTask, storedResults, TaskRunner, type TaskEnd } from './task';

export interface RunnerDeps {
  config: Config;
  store: JobStore;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  log: Logger;
  /** The worker's metrics: jobs ended here, their time in the queue, Redis errors. */
  metrics?: WorkerMetrics;
}

/** Seconds past SHUTDOWN_GRACE a stopping worker waits for its queue connections to close. */
const STOP_MARGIN_S = 3;

/** How often the store is asked whether running jobs are still this worker's to run, ms. */
const RUNNING_CHECK_MS = 2000;

/** How long a job held back by its owner's limit of running jobs waits before it is tried again, ms. */
const OWNER_LIMIT_RETRY_MS = 1000;

/** A processor's report as the store keeps it: what it left out is 0, or unknown. */
function fullProgress(report: ProgressReport): JobProgress {
  return { total: null, message: null, ...NO_PROGRESS, ...report };
}

type OkReply = Extract<Extract<TaskEnd, { kind: 'replied' }>['reply'], { ok: true }>;

/** What a job ending here did (JobEnd without the job and phase, which `finish` is given). */
type Outcome = Pick<JobEnd, 'items' | 'bytes' | 'errorType'>;

/** A job in ERROR that keeps no output: the items it got through. */
function failedOutcome(error: JobError, items: number): Outcome {
  return { items, bytes: 0, errorType: error.type };
}

/** A split job's end: what its parts did, as its progress counts it. */
function splitOutcome(job: Pick<Job, 'progress'>, errorType: JobError['type'] | null): Outcome {
  return { items: job.progress?.done ?? 0, bytes: job.progress?.bytes ?? 0, errorType };
}

export class JobRunner {
  private readonly workers: QueueWorker<QueueEntryData>[] = [];
  /** The attempt of each job running here. */
  private readonly running = new Map<string, number>();
  private watch: NodeJS.Timeout | undefined;
  private readonly tasks: TaskRunner;
  private readonly connection: Redis;
  private readonly sync: SyncRunner;
  private readonly parts: PartRunner;
  private readonly means = new Map<string, { mean: number; writtenAt: number }>();
  private stopping = false;
  /** SHUTDOWN_GRACE has run out: running jobs are being released to the queue. */
  private graceOver = false;

  constructor(private readonly deps: RunnerDeps) {
    // Jobs and sync requests share this pool: keep threads warm for requests after a pause.
    this.tasks = new TaskRunner(deps.config, deps.events, { keepWarm: deps.config.threadsWarm });
    this.connection = connectRedis(deps.config.redisUrl);
    const { metrics } = deps;
    if (metrics) {
      for (const redis of [this.connection, deps.events.redis])
        countConnectionLosses(redis, () => metrics.redisErrors.inc({ operation: 'connection' }));
    }
    this.sync = new SyncRunner({ ...deps, tasks: this.tasks });
    this.parts = new PartRunner({ ...deps, connection: this.connection });
  }

  async start(): Promise<void> {
    const { config, services } = this.deps;
    await this.tasks.start();
    for (const service of services.values()) {
      if (service.asyncJobs === false) continue;
      const worker = new QueueWorker<QueueEntryData>(queueName(service.name), (entry, token) => this.process(service, entry, token), {
        connection: this.connection,
        prefix: config.queuePrefix,
        concurrency: config.workerConcurrency,
        lockDuration: config.uws.lockMs,
        stalledInterval: config.uws.stalledIntervalMs,
        // Our own attempt counter in the store decides when a job is given up on.
        maxStalledCount: config.uws.maxAttempts + 1,
        autorun: true,
      });
      worker.on('error', (err) => this.deps.log.error({ err, service: service.name }, 'queue worker error'));
      worker.on('failed', (entry, err) =>
        this.deps.log.error({ err, jobId: entry?.data.jobId, service: service.name }, 'job processing failed'),
      );
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.parts.start();
    await this.sync.start();
    this.watch = setInterval(() => void this.checkRunning(), RUNNING_CHECK_MS);
    this.watch.unref();
  }

  /**
   * The store decides, also while Redis is away: a running job that is no longer EXECUTING
   * (aborted or deleted while the abort event could not travel) or whose attempt count moved
   * on (this worker stalled past its lock and another attempt took the job over) is stopped.
   */
  private async checkRunning(): Promise<void> {
    if (this.running.size === 0) return;
    let current: Map<string, { phase: Phase; attempts: number }>;
    try {
      current = await this.deps.store.attemptsOf([...this.running.keys()]);
    } catch (err) {
      this.deps.log.warn({ err }, 'checking running jobs in the store failed');
      return;
    }
    for (const [jobId, attempt] of this.running) {
      const now = current.get(jobId);
      if (now === undefined || now.phase !== 'EXECUTING') this.tasks.cancel(jobId, 'abort');
      else if (now.attempts !== attempt) this.tasks.cancel(jobId, 'superseded');
    }
  }

  private async publish(jobId: string, phase: Phase): Promise<void> {
    await this.deps.events.publishPhase(jobId, phase).catch((err) => {
      this.deps.metrics?.redisErrors.inc({ operation: 'publish' });
      this.deps.log.warn({ err, jobId }, 'phase event not published');
    });
  }

  private async process(service: UwsService, entry: QueueEntry<QueueEntryData>, token?: string): Promise<void> {
    const { store, config, log } = this.deps;
    const { jobId } = entry.data;
    if (entry.data.step === 'finish') return this.finishSplit(service, entry, token);
    const startedAt = Date.now();
    const outcome = await store.start(jobId, config.uws.maxAttempts, startedAt, service.maxRunningPerOwner?.(config) ?? 0);
    if (outcome.kind === 'gone') return;
    if (outcome.kind === 'held') {
      // Its owner runs as many jobs of the service as allowed: tried again in a moment.
      await entry.moveToDelayed(Date.now() + OWNER_LIMIT_RETRY_MS, token);
      throw new DelayedError();
    }
    if (outcome.kind === 'exhausted') {
      log.warn({ jobId }, 'job gave up after too many attempts');
      // Its attempts' files go (below): it keeps nothing.
      const ended = outcome.job;
      recordJobEnd(log, this.deps.metrics, {
        job: ended,
        phase: 'ERROR',
        items: ended.progress?.done ?? 0,
        bytes: 0,
        errorType: 'transient',
      });
      await this.publish(jobId, 'ERROR');
      await removeAttempts(config.resultsDir, jobId); // what the dead attempts wrote
      return;
    }
    const job = outcome.job;
    const attempt = job.attempts;
    // QUEUED → EXECUTING: the entry was added when the job was queued (a retry's entry is the
    // first attempt's, so only first attempts count). Clocks of two hosts may differ a little.
    if (attempt === 1) this.deps.metrics?.queueWait.observe({ service: service.name }, Math.max(0, startedAt - entry.timestamp) / 1000);
    await this.publish(jobId, 'EXECUTING');
    // This attempt's own directory: whatever happens, it removes only what it wrote.
    const dir = attemptDir(config.resultsDir, jobId, attempt);
    const discard = () => fs.rm(dir, { recursive: true, force: true });
    /** The processor's latest progress report: how far a job that fails got. */
    let lastReport: ProgressReport | undefined;
    /**
     * ERROR for this attempt; an ERROR job keeps no attempt's files (dead attempts' included).
     * This attempt's own files go first, so that no client sees ERROR beside a partial result.
     */
    const fail = async (error: JobError): Promise<boolean> => {
      await discard();
      const failed = await this.finish(job, () => store.fail(jobId, error, attempt), 'ERROR', failedOutcome(error, lastReport?.done ?? 0));
      // A first attempt has no dead predecessors, and its own directory is gone already.
      if (failed && attempt > 1) await removeAttempts(config.resultsDir, jobId);
      return failed;
    };

    const started = Date.now();
    const record = (report: ProgressReport) => {
      lastReport = report;
      return store.setProgress(jobId, attempt, fullProgress(report));
    };
    const ended = this.tasks.runTask({
      ...jobTask(config, service, job, attempt, job.executionDuration, service.parts ? { kind: 'start' } : undefined),
      onProgress: (report) => void record(report).catch((err: unknown) => log.warn({ err, jobId }, 'progress not recorded')),
    });
    this.running.set(jobId, attempt);
    // A job that got here while the worker was stopping, after the grace period had run out
    // (e.g. during the EXECUTING publish above), is released like the others, not run to its end.
    if (this.graceOver) this.tasks.cancel(jobId, 'shutdown');
    const end = await ended;
    try {
      if (end.kind !== 'replied') {
        const reason = end.kind === 'stopped' ? end.reason : undefined;
        if (reason === 'abort') {
          log.info({ jobId }, 'job aborted while executing: work stopped');
        } else if (reason === 'superseded') {
          log.warn({ jobId, attempt }, 'another attempt took this job over (this worker stalled past its lock): work stopped');
        } else if (reason === 'duration') {
          log.info({ jobId, seconds: job.executionDuration }, 'execution duration exceeded: work stopped');
          await fail({ type: 'fatal', message: `execution duration of ${job.executionDuration} s exceeded; the job was stopped` });
        } else if (end.kind === 'failed') {
          log.error({ err: end.error, jobId }, 'processor thread failed');
          await fail({ type: 'transient', message: `internal error: ${end.error.message}` });
        }
        // The slot stays taken until the thread is really gone (a statement inside SQLite
        // stops at its next check, a thread in JavaScript at once).
        await end.exited;
        await this.afterLoss(jobId, discard);
        if (reason === 'shutdown') {
          // Release: back to QUEUED without spending an attempt; another worker takes it.
          await store.release(jobId, attempt);
          await entry.moveToWait(token);
          throw new WaitingError();
        }
        return;
      }
    } finally {
      this.running.delete(jobId);
    }
    const { reply } = end;
    if (!reply.ok) {
      const message = reply.userError ? reply.message : `internal error: ${reply.message}`;
      // A failed job keeps no partial output (fail removes every attempt's files): its error
      // is in the store (UWS /error).
      const counted = await fail({ type: reply.errorType, message });
      // A job deleted or aborted under its processor's feet fails for that reason: no alarm.
      if (!reply.userError) log[counted ? 'error' : 'info']({ jobId, message }, 'processor failed');
      if (!counted) await this.afterLoss(jobId, discard);
      return;
    }
    if (service.parts && (reply.parts ?? 0) > 0) return this.split(service, entry, token, job, reply);
    let results: JobResult[];
    try {
      results = await storedResults(reply.results, attempt, dir);
    } catch (err) {
      if (!(await fail({ type: 'fatal', message: `internal error: a result file is missing (${(err as Error).message})` })))
        await this.afterLoss(jobId, discard);
      return;
    }
    // The last report: a job that reported progress ends showing where it ended.
    if (reply.report) await record(reply.report);
    const completed = await this.finish(job, () => store.complete(jobId, attempt, results), 'COMPLETED', {
      items: reply.report?.done ?? results.length,
      bytes: results.reduce((sum, r) => sum + r.size, 0),
      errorType: null,
    });
    if (!completed) {
      await this.afterLoss(jobId, discard); // aborted, destroyed or taken over by another attempt meanwhile
      return;
    }
    // Attempts whose worker died left their directories: only this one's results count. (A
    // first attempt that completed has neither predecessors nor successors: no directory
    // listing per job, ~50 µs of a worker's main thread.)
    if (attempt > 1) await removeAttempts(config.resultsDir, jobId, attempt);
    this.recordDuration(service.name, Date.now() - started);
  }

  /**
   * The start step of a split job planned `reply.parts` parts: its results so far and its
   * progress are recorded, the parts go to the parts queue as children of the job's entry,
   * and the entry waits for them (BullMQ waiting-children), freeing this worker's slot.
   */
  private async split(
    service: UwsService,
    entry: QueueEntry<QueueEntryData>,
    token: string | undefined,
    job: Job,
    reply: OkReply,
  ): Promise<void> {
    const { store, config } = this.deps;
    const { jobId } = job;
    const attempt = job.attempts;
    const dir = attemptDir(config.resultsDir, jobId, attempt);
    const results = await storedResults(reply.results, attempt, dir);
    const recorded =
      (await store.setProgress(jobId, attempt, fullProgress({ done: 0, total: reply.total ?? null, message: reply.message ?? null }))) &&
      (await store.addResults(jobId, attempt, results, NO_PROGRESS)) === 'recorded';
    if (!recorded) {
      await this.afterLoss(jobId, () => fs.rm(dir, { recursive: true, force: true }));
      return;
    }
    await this.parts.add(service, entry, attempt, reply.parts!);
    await entry.updateData({ jobId, attempt, step: 'finish' });
    await this.finishSplit(service, entry, token);
  }

  /**
   * Every part of a split job is done: the finish step makes the job's last results (e.g. a
   * manifest) and the job is COMPLETED keeping what its parts recorded. A job that was
   * aborted or failed meanwhile keeps its results as they are.
   */
  private async finishSplit(service: UwsService, entry: QueueEntry<QueueEntryData>, token: string | undefined): Promise<void> {
    const { store, config, log } = this.deps;
    const { jobId, attempt } = entry.data;
    // Only once every part is done: a worker that died between marking the entry for the
    // finish and moving it to wait for its parts leaves it back in the queue early.
    if (await entry.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    const job = await store.get(jobId);
    if (attempt === undefined || !job || job.phase !== 'EXECUTING' || job.attempts !== attempt) return;
    // A split job in ERROR keeps what its parts recorded.
    const keepAndFail = (error: JobError) =>
      this.finish(job, () => store.fail(jobId, error, attempt), 'ERROR', splitOutcome(job, error.type));
    const overrun = { type: 'fatal', message: `execution duration of ${job.executionDuration} s exceeded; the job was stopped` } as const;
    const seconds = secondsLeft(job);
    if (seconds === undefined) {
      await keepAndFail(overrun);
      return;
    }
    const dir = attemptDir(config.resultsDir, jobId, attempt);
    const ended = this.tasks.runTask(jobTask(config, service, job, attempt, seconds, { kind: 'finish' }));
    this.running.set(jobId, attempt);
    let end: TaskEnd;
    try {
      end = await ended;
      if (end.kind !== 'replied') await end.exited;
    } finally {
      this.running.delete(jobId);
    }
    if (end.kind === 'stopped') {
      if (end.reason === 'duration') await keepAndFail(overrun);
      if (end.reason === 'shutdown') {
        await entry.moveToWait(token);
        throw new WaitingError();
      }
      return;
    }
    const reply = end.kind === 'replied' ? end.reply : { ok: false as const, message: `internal error: ${end.error.message}` };
    if (!reply.ok) {
      log.error({ jobId, message: reply.message }, 'finishing a split job failed');
      await keepAndFail({ type: 'fatal', message: reply.message });
      return;
    }
    const results = await storedResults(reply.results, attempt, dir);
    if (await this.finish(job, () => store.completePlaced(jobId, attempt, results), 'COMPLETED', splitOutcome(job, null)))
      await removeAttempts(config.resultsDir, jobId, attempt);
  }

  /** After this attempt's outcome did not count: its own files go; a deleted job's directory goes whole. */
  private async afterLoss(jobId: string, discard: () => Promise<void>): Promise<void> {
    await discard();
    const job = await this.deps.store.get(jobId).catch(() => null);
    if (job === undefined) await removeJobFiles(this.deps.config.resultsDir, jobId);
  }

  /**
   * Ends the job with `update` (conditional: on its phase and attempt); when it made the
   * change, this process records the job's end (its one log line and metrics) and tells.
   */
  private async finish(job: Job, update: () => Promise<boolean>, phase: 'COMPLETED' | 'ERROR', outcome: Outcome): Promise<boolean> {
    const changed = await update();
    if (changed) {
      recordJobEnd(this.deps.log, this.deps.metrics, { job, phase, ...outcome });
      await this.publish(job.jobId, phase);
    }
    return changed;
  }

  /** Mean duration per service (exponentially weighted), shared through Redis for quotes. */
  private recordDuration(service: string, ms: number): void {
    const now = Date.now();
    const current = this.means.get(service);
    const mean = current ? current.mean * 0.9 + ms * 0.1 : ms;
    const writtenAt = current?.writtenAt ?? 0;
    const write = now - writtenAt > 1000;
    this.means.set(service, { mean, writtenAt: write ? now : writtenAt });
    if (write) {
      void this.connection
        .hset(channels(this.deps.config.queuePrefix).durations, service, String(Math.max(1, Math.round(mean))))
        .catch(() => this.deps.metrics?.redisErrors.inc({ operation: 'durations' }));
    }
  }

  /**
   * Graceful stop: take no new jobs, let running ones finish for SHUTDOWN_GRACE seconds,
   * then release the rest to the queue for another worker.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.watch);
    const grace = setTimeout(() => {
      this.graceOver = true;
      for (const jobId of this.running.keys()) this.tasks.cancel(jobId, 'shutdown');
    }, this.deps.config.uws.shutdownGrace * 1000);
    // BullMQ's close waits for the released jobs' moves to reach Redis; with Redis away it
    // would wait for Redis. The store already has them QUEUED again (release above), and
    // their queue entries come back through the stalled check, so the stop does not wait.
    let giveUp: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>(
      (resolve) => (giveUp = setTimeout(resolve, (this.deps.config.uws.shutdownGrace + STOP_MARGIN_S) * 1000)),
    );
    await Promise.race([Promise.all([...this.workers.map((w) => w.close()), this.sync.stop(), this.parts.stop()]), deadline]);
    clearTimeout(giveUp);
    clearTimeout(grace);
    await this.tasks.close();
    await this.connection.quit().catch(() => undefined);
  }
}
