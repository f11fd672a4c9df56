/**
 * Runs UWS jobs from the BullMQ queues: one BullMQ Worker per service, processors in a
 * thread pool. The store decides: a job is only worked on after a conditional
 * QUEUED→EXECUTING update, and its outcome only counts if EXECUTING→final succeeds, so
 * an abort racing a completion leaves exactly one outcome.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Worker as QueueWorker, WaitingError, type Job as QueueEntry } from 'bullmq';
import { fallbackBaseUrl, type Config } from '../shared/config';
import type { Logger } from '../shared/log';
import { channels, connectRedis, type Redis } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';
import { attemptDir, jobDir, removeAttempts, removeJobFiles } from '../shared/uws/files';
import type { JobError, JobResult } from '../shared/uws/model';
import type { Phase } from '../shared/uws/phase';
import { queueName, type QueueEntryData } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import type { JobStore } from '../shared/uws/store';
import { SyncRunner } from './sync-runner';
import { TaskRunner } from './task';

export interface RunnerDeps {
  config: Config;
  store: JobStore;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  log: Logger;
}

/** Seconds past SHUTDOWN_GRACE a stopping worker waits for its queue connections to close. */
const STOP_MARGIN_S = 3;

/** How often the store is asked whether running jobs are still this worker's to run, ms. */
const RUNNING_CHECK_MS = 2000;

export class JobRunner {
  private readonly workers: QueueWorker<QueueEntryData>[] = [];
  /** The attempt of each job running here. */
  private readonly running = new Map<string, number>();
  private watch: NodeJS.Timeout | undefined;
  private readonly tasks: TaskRunner;
  private readonly connection: Redis;
  private readonly sync: SyncRunner;
  private readonly means = new Map<string, { mean: number; writtenAt: number }>();
  private stopping = false;
  /** SHUTDOWN_GRACE has run out: running jobs are being released to the queue. */
  private graceOver = false;

  constructor(private readonly deps: RunnerDeps) {
    this.tasks = new TaskRunner(deps.config, deps.events);
    this.connection = connectRedis(deps.config.redisUrl);
    this.sync = new SyncRunner({ ...deps, tasks: this.tasks });
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
    this.sync.start();
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
    await this.deps.events.publishPhase(jobId, phase).catch((err) => this.deps.log.warn({ err, jobId }, 'phase event not published'));
  }

  private async process(service: UwsService, entry: QueueEntry<QueueEntryData>, token?: string): Promise<void> {
    const { store, config, log } = this.deps;
    const { jobId } = entry.data;
    const outcome = await store.start(jobId, config.uws.maxAttempts);
    if (outcome.kind === 'gone') return;
    if (outcome.kind === 'exhausted') {
      log.warn({ jobId }, 'job gave up after too many attempts');
      await this.publish(jobId, 'ERROR');
      await removeAttempts(config.resultsDir, jobId); // what the dead attempts wrote
      return;
    }
    const job = outcome.job;
    const attempt = job.attempts;
    await this.publish(jobId, 'EXECUTING');
    // This attempt's own directory: whatever happens, it removes only what it wrote.
    const dir = attemptDir(config.resultsDir, jobId, attempt);
    const discard = () => fs.rm(dir, { recursive: true, force: true });
    /** ERROR for this attempt; an ERROR job keeps no attempt's files (dead attempts' included). */
    const fail = async (error: JobError): Promise<boolean> => {
      const failed = await this.finish(jobId, () => store.fail(jobId, error, attempt), 'ERROR');
      if (failed) await removeAttempts(config.resultsDir, jobId);
      return failed;
    };

    const started = Date.now();
    const ended = this.tasks.runTask({
      id: jobId,
      service,
      owner: job.owner,
      parameters: job.parameters,
      baseUrl: job.baseUrl ?? fallbackBaseUrl(config),
      dir: jobDir(config.resultsDir, jobId),
      resultsDir: dir,
      seconds: job.executionDuration,
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
    let results: JobResult[];
    try {
      results = await Promise.all(
        reply.results.map(async (r) => ({
          id: r.id,
          file: path.posix.join(String(attempt), r.file),
          mimeType: r.mimeType,
          size: r.size ?? (await fs.stat(path.join(dir, r.file))).size,
          ...(r.offset === undefined ? {} : { offset: r.offset }),
        })),
      );
    } catch (err) {
      if (!(await fail({ type: 'fatal', message: `internal error: a result file is missing (${(err as Error).message})` })))
        await this.afterLoss(jobId, discard);
      return;
    }
    const completed = await this.finish(jobId, () => store.complete(jobId, attempt, results), 'COMPLETED');
    if (!completed) {
      await this.afterLoss(jobId, discard); // aborted, destroyed or taken over by another attempt meanwhile
      return;
    }
    // Attempts whose worker died left their directories: only this one's results count.
    await removeAttempts(config.resultsDir, jobId, attempt);
    this.recordDuration(service.name, Date.now() - started);
  }

  /** After this attempt's outcome did not count: its own files go; a deleted job's directory goes whole. */
  private async afterLoss(jobId: string, discard: () => Promise<void>): Promise<void> {
    await discard();
    const job = await this.deps.store.get(jobId).catch(() => null);
    if (job === undefined) await removeJobFiles(this.deps.config.resultsDir, jobId);
  }

  private async finish(jobId: string, update: () => Promise<boolean>, phase: Phase): Promise<boolean> {
    const changed = await update();
    if (changed) await this.publish(jobId, phase);
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
        .catch(() => undefined);
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
    await Promise.race([Promise.all([...this.workers.map((w) => w.close()), this.sync.stop()]), deadline]);
    clearTimeout(giveUp);
    clearTimeout(grace);
    await this.tasks.close();
    await this.connection.quit().catch(() => undefined);
  }
}
