/**
 * The parts of split jobs (UwsService.parts, e.g. bulk cutout batches): each part is a BullMQ
 * child job of its UWS job's queue entry, in the service's parts queue, so every worker
 * process on every host takes parts as it has room; BullMQ moves the parent entry back to its
 * queue when the last part is done (worker/runner.ts then finishes the job). A part runs in a
 * thread of this runner's own pool, at the service's nice value, so that sync requests and
 * small jobs keep their CPU while a batch runs. What a part produced is recorded at once
 * (JobStore.addResults): the job lists it while EXECUTING and keeps it when aborted.
 *
 * A part is work of one attempt: a part whose attempt is no longer the job's, or whose job is
 * not EXECUTING any more, is skipped. A worker that dies costs the part it was running only:
 * BullMQ's stalled check gives the part to another worker, which does it again (a part is
 * recorded once per attempt: done twice, it is listed and counted once).
 */
import { Job as QueueJob, Queue, WaitingError, Worker as QueueWorker, type Job as QueueEntry } from 'bullmq';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/log';
import type { JobMetrics } from '../shared/metrics';
import { recordJobEnd } from '../shared/uws/engine';
import type { Redis } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';
import { attemptDir } from '../shared/uws/files';
import { NO_PROGRESS, type Job } from '../shared/uws/model';
import { isFinal } from '../shared/uws/phase';
import { partsQueueName, queueName, QUEUE_EVENTS_MAX_LEN, type PartEntryData, type QueueEntryData } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import type { JobStore } from '../shared/uws/store';
import { jobTask, storedResults, TaskRunner } from './task';

export interface PartRunnerDeps {
  config: Config;
  store: JobStore;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  log: Logger;
  connection: Redis;
  /** Jobs this runner ends (an execution duration that ran out between parts). */
  metrics?: JobMetrics;
}

/** Parts added to the queue per round trip. */
const ADD_BATCH = 500;

/**
 * Seconds a job may still run (0: unlimited), or undefined when its execution duration
 * (UWS 1.1 §2.1.4) has run out.
 */
export function secondsLeft(job: Pick<Job, 'executionDuration' | 'startTime'>, now = Date.now()): number | undefined {
  if (job.executionDuration <= 0) return 0;
  const left = (job.startTime ?? now) + job.executionDuration * 1000 - now;
  return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : undefined;
}

export class PartRunner {
  private readonly tasks: TaskRunner | undefined;
  private readonly workers: QueueWorker<PartEntryData>[] = [];
  private readonly queues = new Map<string, Queue<PartEntryData>>();
  /** The services' job queues, to reach a part's parent entry. */
  private readonly jobQueues = new Map<string, Queue<QueueEntryData>>();
  /** Jobs whose waiting parts this worker has removed (a few thousand remembered). */
  private readonly cleared = new Set<string>();
  private readonly splitting: UwsService[];

  constructor(private readonly deps: PartRunnerDeps) {
    this.splitting = [...deps.services.values()].filter((s) => s.parts !== undefined && s.asyncJobs !== false);
    const niceness = Math.max(0, ...this.splitting.map((s) => s.parts!.niceness));
    const threads = Math.max(0, ...this.splitting.map((s) => s.parts!.concurrency(deps.config)));
    this.tasks = this.splitting.length > 0 ? new TaskRunner(deps.config, deps.events, { niceness, maxIdle: threads }) : undefined;
  }

  async start(): Promise<void> {
    if (!this.tasks) return;
    await this.tasks.start();
    const { config, log, connection } = this.deps;
    for (const service of this.splitting) {
      const worker = new QueueWorker<PartEntryData>(partsQueueName(service.name), (entry, token) => this.run(service, entry, token), {
        connection,
        prefix: config.queuePrefix,
        concurrency: Math.max(1, service.parts!.concurrency(config)),
        lockDuration: config.uws.lockMs,
        stalledInterval: config.uws.stalledIntervalMs,
        maxStalledCount: config.uws.maxAttempts,
      });
      worker.on('error', (err) => log.error({ err, service: service.name }, 'parts queue worker error'));
      worker.on('failed', (entry, err) => log.error({ err, jobId: entry?.data.jobId, part: entry?.data.part }, 'job part failed'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private queue(service: string): Queue<PartEntryData> {
    let queue = this.queues.get(service);
    if (!queue) {
      queue = new Queue<PartEntryData>(partsQueueName(service), {
        connection: this.deps.connection,
        prefix: this.deps.config.queuePrefix,
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
      });
      this.queues.set(service, queue);
    }
    return queue;
  }

  /**
   * Adds parts 1…count of the attempt as children of the job's queue entry. A part that keeps
   * failing (UWS_MAX_ATTEMPTS) does not hold its job back (ignoreDependencyOnFailure): the
   * finish step sees what it lacks.
   */
  async add(service: UwsService, parent: QueueEntry<QueueEntryData>, attempt: number, count: number): Promise<void> {
    const { jobId } = parent.data;
    const queue = this.queue(service.name);
    const ref = { id: parent.id!, queue: parent.queueQualifiedName };
    for (let first = 1; first <= count; first += ADD_BATCH) {
      const parts = Array.from({ length: Math.min(ADD_BATCH, count - first + 1) }, (_, k) => first + k);
      await queue.addBulk(
        parts.map((part) => ({
          name: 'part',
          data: { jobId, attempt, part },
          opts: {
            jobId: `${jobId}-${attempt}-${part}`,
            parent: ref,
            // A part whose thread failed is tried again; after that its job goes on without it.
            attempts: this.deps.config.uws.maxAttempts,
            ignoreDependencyOnFailure: true,
            removeOnComplete: true,
            removeOnFail: { age: 86400, count: 10000 },
          },
        })),
      );
    }
  }

  private async run(service: UwsService, entry: QueueEntry<PartEntryData>, token?: string): Promise<void> {
    const { store, config, log } = this.deps;
    const { jobId, attempt, part } = entry.data;
    const job = await store.get(jobId);
    if (!job || job.phase !== 'EXECUTING' || job.attempts !== attempt) {
      // Aborted, ended or taken over: skip. A job that ended has its waiting parts removed at
      // once, rather than each taken and skipped in turn (thousands, ahead of other batches).
      if (!job || isFinal(job.phase)) await this.clearWaitingParts(service, jobId);
      return;
    }
    const seconds = secondsLeft(job);
    if (seconds === undefined) {
      await this.overran(job);
      return;
    }
    const dir = attemptDir(config.resultsDir, jobId, attempt);
    const end = await this.tasks!.runTask(jobTask(config, service, job, attempt, seconds, { kind: 'part', part }));
    if (end.kind === 'replied' && end.reply.ok) {
      const results = await storedResults(end.reply.results, attempt, dir);
      const recorded = await store.addResults(jobId, attempt, results, end.reply.progress ?? NO_PROGRESS, part);
      if (recorded === 'ended') {
        log.info({ jobId, part }, 'part done after its job ended: not recorded');
        await service.parts!.discard(dir, part);
      } else if (recorded === 'duplicate') {
        // Its files were written again with the same bytes; the first recording stands.
        log.info({ jobId, part }, 'part done again after its worker died: recorded once');
      }
      return;
    }
    await end.exited;
    if (end.kind === 'stopped') {
      if (end.reason === 'duration') await this.overran(job);
      else if (end.reason === 'shutdown') {
        // Another worker does this part.
        await entry.moveToWait(token);
        throw new WaitingError();
      }
      await service.parts!.discard(dir, part); // aborted or superseded: nothing to record
      return;
    }
    throw end.kind === 'failed' ? end.error : new Error(end.reply.ok ? 'unreachable' : end.reply.message);
  }

  /** Removes the waiting parts of a job that has ended (those running or done are left). */
  private async clearWaitingParts(service: UwsService, jobId: string): Promise<void> {
    if (this.cleared.has(jobId)) return;
    if (this.cleared.size >= 4096) this.cleared.clear();
    this.cleared.add(jobId);
    let queue = this.jobQueues.get(service.name);
    if (!queue) {
      queue = new Queue<QueueEntryData>(queueName(service.name), {
        connection: this.deps.connection,
        prefix: this.deps.config.queuePrefix,
      });
      this.jobQueues.set(service.name, queue);
    }
    try {
      const parent = await QueueJob.fromId<QueueEntryData>(queue, jobId);
      await parent?.removeUnprocessedChildren();
    } catch (err) {
      this.deps.log.warn({ err, jobId }, 'waiting parts of an ended job not removed: they are skipped one by one');
    }
  }

  /**
   * The job's execution duration ran out while its parts ran: it ends in ERROR keeping what
   * its finished parts recorded, and its other parts are stopped wherever they run.
   */
  private async overran(job: Job): Promise<void> {
    const { store, events } = this.deps;
    const failed = await store.fail(
      job.jobId,
      {
        type: 'fatal',
        message: `execution duration of ${job.executionDuration} s exceeded; the job was stopped (finished parts are kept)`,
      },
      job.attempts,
    );
    if (!failed) return;
    recordJobEnd(this.deps.log, this.deps.metrics, {
      job,
      phase: 'ERROR',
      items: job.progress?.done ?? 0,
      bytes: job.progress?.bytes ?? 0,
      errorType: 'fatal',
    });
    await events.publishPhase(job.jobId, 'ERROR').catch(() => undefined);
    await events.publishAbort(job.jobId).catch(() => undefined);
  }

  /** Cancels the parts of `jobId` running here (the job's runner saw it end). */
  cancel(jobId: string): void {
    this.tasks?.cancel(jobId, 'abort');
  }

  /**
   * Takes no new parts; parts still running when SHUTDOWN_GRACE runs out go back to the
   * queue for another worker.
   */
  async stop(): Promise<void> {
    const grace = setTimeout(() => this.tasks?.cancelAll('shutdown'), this.deps.config.uws.shutdownGrace * 1000);
    await Promise.all(this.workers.map((w) => w.close()));
    clearTimeout(grace);
    await Promise.all([...this.queues.values(), ...this.jobQueues.values()].map((q) => q.close()));
    await this.tasks?.close();
  }
}
