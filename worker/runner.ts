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
import { compiledModule } from '../shared/runtime';
import type { UwsEvents } from '../shared/uws/events';
import { jobDir, resultsDir } from '../shared/uws/files';
import type { JobResult } from '../shared/uws/model';
import type { Phase } from '../shared/uws/phase';
import { queueName, type QueueEntryData } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import type { JobStore } from '../shared/uws/store';
import { TaskCancelled, ThreadPool, type RunningTask } from './pool';
import { SyncRunner } from './sync';
import type { ThreadReply } from './thread';

export interface RunnerDeps {
  config: Config;
  store: JobStore;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  log: Logger;
}

type CancelReason = 'abort' | 'duration' | 'shutdown';

/** How long an abort heard before its job's task started is remembered, ms. */
const EARLY_ABORT_MEMORY_MS = 60000;

export class JobRunner {
  private readonly workers: QueueWorker<QueueEntryData>[] = [];
  private readonly running = new Map<string, RunningTask>();
  private readonly earlyAborts = new Map<string, number>();
  private readonly pool: ThreadPool;
  private readonly connection: Redis;
  private readonly sync: SyncRunner;
  private readonly means = new Map<string, { mean: number; writtenAt: number }>();
  private stopping = false;
  /** SHUTDOWN_GRACE has run out: running jobs are being released to the queue. */
  private graceOver = false;

  constructor(private readonly deps: RunnerDeps) {
    this.pool = new ThreadPool(compiledModule(require.resolve('./thread')), deps.config.workerConcurrency);
    this.connection = connectRedis(deps.config.redisUrl!);
    this.sync = new SyncRunner({ ...deps, pool: this.pool });
  }

  async start(): Promise<void> {
    const { config, services, events } = this.deps;
    await events.onAbort((jobId) => this.onAbort(jobId));
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
      worker.on('failed', (entry, err) => this.deps.log.error({ err, jobId: entry?.data.jobId, service: service.name }, 'job processing failed'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.sync.start();
  }

  private onAbort(jobId: string): void {
    const task = this.running.get(jobId);
    if (task) {
      task.cancel('abort');
      return;
    }
    const now = Date.now();
    this.earlyAborts.set(jobId, now);
    if (this.earlyAborts.size > 1000) {
      for (const [id, at] of this.earlyAborts) if (now - at > EARLY_ABORT_MEMORY_MS) this.earlyAborts.delete(id);
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
      return;
    }
    const job = outcome.job;
    await this.publish(jobId, 'EXECUTING');
    const dir = resultsDir(config.resultsDir, jobId);

    const started = Date.now();
    const task = this.pool.run({
      processorModule: service.processorModule,
      input: {
        jobId,
        service: service.name,
        owner: job.owner,
        parameters: job.parameters,
        jobDir: jobDir(config.resultsDir, jobId),
        resultsDir: dir,
        executionDuration: job.executionDuration,
        baseUrl: job.baseUrl ?? fallbackBaseUrl(config),
        mode: 'async',
      },
    });
    this.running.set(jobId, task);
    if (this.earlyAborts.delete(jobId)) task.cancel('abort');
    // A job that got here while the worker was stopping, after the grace period had run out
    // (e.g. during the EXECUTING publish above), is released like the others, not run to its end.
    else if (this.graceOver) task.cancel('shutdown');
    const timer = job.executionDuration > 0 ? setTimeout(() => task.cancel('duration'), job.executionDuration * 1000) : undefined;
    let reply: ThreadReply;
    try {
      reply = await task.promise;
    } catch (err) {
      const reason = err instanceof TaskCancelled ? (err.reason as CancelReason) : undefined;
      if (reason === 'abort') {
        log.info({ jobId }, 'job aborted while executing: work stopped');
        await fs.rm(dir, { recursive: true, force: true });
      } else if (reason === 'duration') {
        log.info({ jobId, seconds: job.executionDuration }, 'execution duration exceeded: work stopped');
        await fs.rm(dir, { recursive: true, force: true });
        await this.finish(jobId, () => store.fail(jobId, { type: 'fatal', message: `execution duration of ${job.executionDuration} s exceeded; the job was stopped` }), 'ERROR');
      } else if (reason === 'shutdown') {
        // Release: back to QUEUED without spending an attempt; another worker takes it.
        await fs.rm(dir, { recursive: true, force: true });
        await store.release(jobId);
        await entry.moveToWait(token);
        throw new WaitingError();
      } else {
        log.error({ err, jobId }, 'processor thread failed');
        await this.finish(jobId, () => store.fail(jobId, { type: 'transient', message: `internal error: ${(err as Error).message}` }), 'ERROR');
      }
      return;
    } finally {
      if (timer) clearTimeout(timer);
      this.running.delete(jobId);
    }

    if (!reply.ok) {
      const message = reply.userError ? reply.message : `internal error: ${reply.message}`;
      if (!reply.userError) log.error({ jobId, message }, 'processor failed');
      await this.finish(jobId, () => store.fail(jobId, { type: reply.errorType, message }), 'ERROR');
      return;
    }
    let results: JobResult[];
    try {
      results = await Promise.all(
        reply.results.map(async (r) => ({
          id: r.id, file: r.file, mimeType: r.mimeType, size: r.size ?? (await fs.stat(path.join(dir, r.file))).size, ...(r.offset === undefined ? {} : { offset: r.offset }),
        })),
      );
    } catch (err) {
      await this.finish(jobId, () => store.fail(jobId, { type: 'fatal', message: `internal error: a result file is missing (${(err as Error).message})` }), 'ERROR');
      return;
    }
    const completed = await this.finish(jobId, () => store.complete(jobId, results), 'COMPLETED');
    if (!completed) await fs.rm(dir, { recursive: true, force: true }); // aborted or destroyed meanwhile
    else this.recordDuration(service.name, Date.now() - started);
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
      void this.connection.hset(channels(this.deps.config.queuePrefix).durations, service, String(Math.max(1, Math.round(mean)))).catch(() => undefined);
    }
  }

  /**
   * Graceful stop: take no new jobs, let running ones finish for SHUTDOWN_GRACE seconds,
   * then release the rest to the queue for another worker.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const grace = setTimeout(() => {
      this.graceOver = true;
      for (const task of this.running.values()) task.cancel('shutdown');
    }, this.deps.config.uws.shutdownGrace * 1000);
    await Promise.all([...this.workers.map((w) => w.close()), this.sync.stop()]);
    clearTimeout(grace);
    await this.pool.close();
    await this.connection.quit().catch(() => undefined);
  }
}
