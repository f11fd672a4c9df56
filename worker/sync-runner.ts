/**
 * The worker side of DALI-sync requests (shared/dali/sync-messages.ts): takes requests from the
 * per-service Redis lists, at most WORKER_CONCURRENCY at a time, runs the service's
 * processor in the thread pool with the request's time limit, and publishes the outcome.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../shared/config';
import { encodeSyncMessage, parseSyncRequest, SYNC_TAKEN_TTL_MS, syncDir, type SyncMessage, type SyncOutcome, type SyncRequest } from '../shared/dali/sync-messages';
import type { Logger } from '../shared/log';
import { channels, connectRedis, type Redis } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';
import type { UwsService } from '../shared/uws/service';
import { TaskCancelled, type RunningTask, type ThreadPool } from './pool';

export interface SyncRunnerDeps {
  config: Config;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  pool: ThreadPool;
  log: Logger;
}

/** Seconds a BLPOP waits before the loop checks whether it should stop. */
const POLL_SECONDS = 1;

export class SyncRunner {
  private readonly blocking: Redis;
  private readonly running = new Map<string, RunningTask>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: SyncRunnerDeps) {
    this.blocking = connectRedis(deps.config.redisUrl!);
  }

  async start(): Promise<void> {
    await this.deps.events.onAbort((id) => this.running.get(id)?.cancel('abort'));
    this.loop = this.take();
  }

  private async take(): Promise<void> {
    const { config, services, log } = this.deps;
    const keys = [...services.keys()].map((name) => channels(config.queuePrefix).syncRequests(name));
    while (!this.stopping) {
      if (this.inFlight.size >= config.workerConcurrency) {
        await Promise.race(this.inFlight);
        continue;
      }
      let popped: [string, string] | null;
      try {
        popped = await this.blocking.blpop(...keys, POLL_SECONDS);
      } catch (err) {
        if (this.stopping) return;
        log.warn({ err }, 'taking a sync request failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (!popped) continue;
      const request = parseSyncRequest(popped[1]);
      if (!request || !services.has(request.service)) {
        log.warn({ key: popped[0] }, 'malformed sync request dropped');
        continue;
      }
      const handled = this.handle(request).finally(() => this.inFlight.delete(handled));
      this.inFlight.add(handled);
    }
  }

  private async publish(replyTo: string, message: SyncMessage): Promise<void> {
    await this.deps.events.redis
      .publish(channels(this.deps.config.queuePrefix).syncReplies(replyTo), encodeSyncMessage(message))
      .catch((err) => this.deps.log.warn({ err, id: message.id }, 'sync reply not published'));
  }

  /** Says "a worker runs this request" while it does (SYNC_TAKEN_TTL_MS): the api notices a worker that died. */
  private holdTaken(id: string): () => void {
    const redis = this.deps.events.redis;
    const key = channels(this.deps.config.queuePrefix).syncTaken(id);
    const renew = () => void redis.set(key, '1', 'PX', SYNC_TAKEN_TTL_MS).catch(() => undefined);
    renew();
    const timer = setInterval(renew, SYNC_TAKEN_TTL_MS / 3);
    return () => {
      clearInterval(timer);
      void redis.del(key).catch(() => undefined);
    };
  }

  private async handle(request: SyncRequest): Promise<void> {
    const release = this.holdTaken(request.id);
    try {
      await this.run(request);
    } finally {
      release();
    }
  }

  private async run(request: SyncRequest): Promise<void> {
    const { config, services, pool, log } = this.deps;
    const service = services.get(request.service)!;
    const dir = syncDir(config.resultsDir, request.id);
    const task = pool.run({
      processorModule: service.processorModule,
      input: {
        jobId: request.id,
        service: service.name,
        owner: request.owner,
        parameters: request.parameters,
        jobDir: dir,
        resultsDir: path.join(dir, 'results'),
        executionDuration: request.timeout,
        baseUrl: request.baseUrl,
        inlineLimit: request.inlineLimit,
        mode: 'sync',
        maxBytes: config.jobMaxBytes,
      },
      publish: { redisUrl: config.redisUrl!, channel: channels(config.queuePrefix).syncReplies(request.replyTo), id: request.id },
    });
    this.running.set(request.id, task);
    const timer = setTimeout(() => task.cancel('duration'), request.timeout * 1000);
    let outcome: SyncOutcome;
    try {
      const reply = await task.promise;
      if (!reply.ok && !reply.userError) log.error({ id: request.id, service: service.name, message: reply.message }, 'sync processor failed');
      if (reply.published === true) return; // the thread answered the api itself
      outcome = reply;
    } catch (err) {
      const reason = err instanceof TaskCancelled ? err.reason : undefined;
      if (reason === 'abort') {
        // The client went away: nobody reads an outcome. The slot is free once the thread is gone.
        await task.exited;
        await fs.rm(dir, { recursive: true, force: true });
        return;
      }
      outcome =
        reason === 'duration'
          ? { ok: false, userError: true, errorType: 'fatal', message: `the request ran longer than ${request.timeout} s and was stopped; use the async endpoint for long work` }
          : reason === 'shutdown'
            ? { ok: false, userError: false, errorType: 'transient', message: 'the worker is shutting down; please retry' }
            : { ok: false, userError: false, errorType: 'transient', message: `processor thread failed: ${(err as Error).message}` };
      if (reason !== 'duration') log.error({ err, id: request.id }, 'sync request failed');
    } finally {
      clearTimeout(timer);
      this.running.delete(request.id);
    }
    await this.publish(request.replyTo, { id: request.id, outcome });
    // A stopped request keeps its slot (WORKER_CONCURRENCY) until its thread has exited.
    await task.exited;
  }

  /** Take no more requests; running ones get SHUTDOWN_GRACE seconds, then fail as transient. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.blocking.disconnect();
    await this.loop;
    const grace = setTimeout(() => {
      for (const task of this.running.values()) task.cancel('shutdown');
    }, this.deps.config.uws.shutdownGrace * 1000);
    await Promise.all(this.inFlight);
    clearTimeout(grace);
  }
}
