/**
 * The worker side of DALI-sync requests (shared/dali/sync-messages.ts): takes requests from
 * the apis' sync lines (worker/sync-lines.ts) and from the per-service Redis lists, at most
 * WORKER_CONCURRENCY at a time in all, runs the service's processor (TaskRunner) with the
 * request's time limit, and sends back what it hears, on the line the request came on or
 * published on its api's channel: that the first result became a growing file, then the
 * outcome.
 */
import fs from 'node:fs/promises';
import type { Config } from '../shared/config';
import {
  encodeSyncMessage,
  parseSyncRequest,
  stoppedOutcome,
  SYNC_TAKEN_TTL_MS,
  type SyncOutcome,
  type SyncRequest,
} from '../shared/dali/sync-messages';
import type { Logger } from '../shared/log';
import { compiledModule } from '../shared/runtime';
import type { WorkerMetrics } from '../shared/metrics';
import { channels, connectRedis, type Redis } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';
import type { UwsService } from '../shared/uws/service';
import { publishBytes } from './publish';
import { LineThreads } from './line-threads';
import { SyncLineServer } from './sync-lines';
import { syncTaskInput } from './task-input';
import type { TaskEnd, TaskRunner } from './task';

export interface SyncRunnerDeps {
  config: Config;
  events: UwsEvents;
  services: ReadonlyMap<string, UwsService>;
  tasks: TaskRunner;
  log: Logger;
  metrics?: WorkerMetrics;
}

/** Seconds a BLPOP waits before the loop checks whether it should stop. */
const POLL_SECONDS = 1;

/** Sends a request's messages back to its api; `final` marks the outcome. */
type Reply = (message: Uint8Array, final: boolean) => Promise<void> | void;

export class SyncRunner {
  private readonly blocking: Redis;
  /** Ids of the requests running here. */
  private readonly running = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly lines: SyncLineServer | undefined;
  private threads: LineThreads | undefined;

  constructor(private readonly deps: SyncRunnerDeps) {
    this.blocking = connectRedis(deps.config.redisUrl);
    if (deps.config.syncLines)
      this.lines = new SyncLineServer(
        deps.config,
        deps.events.redis,
        {
          offer: (r, send) => this.offer(r, send),
          abort: (id) => deps.tasks.cancel(id, 'abort'),
          abortThreadLine: (id) => this.threads?.cancel(id, 'abort'),
        },
        deps.log,
      );
  }

  /** Takes requests from now on (aborts reach them through the TaskRunner, started by the caller). */
  async start(): Promise<void> {
    const { config, services, log, metrics } = this.deps;
    const lines = this.lines;
    if (lines && (await lines.start()) && config.syncThreadLines > 0) {
      this.threads = new LineThreads(compiledModule(require.resolve('./thread')), {
        config,
        services,
        log,
        metrics,
        worker: lines.worker,
        register: (entry) => lines.register(entry),
        unregister: (entry) => lines.unregister(entry),
      });
      await this.threads.start();
    }
    this.loop = this.take();
  }

  /** A request from a sync line: started if a slot is free (false otherwise: the api sends it elsewhere). */
  private offer(request: SyncRequest, send: Reply): boolean {
    const { config, services } = this.deps;
    if (this.stopping || !services.has(request.service) || this.inFlight.size >= config.workerConcurrency) return false;
    this.deps.metrics?.syncTaken.inc({ route: 'line' });
    this.begin(request, send);
    return true;
  }

  /** Runs a request in one of the slots; `release` (if any) is called when it is over. */
  private begin(request: SyncRequest, reply: Reply, release?: () => void): void {
    const handled = this.runTask(request, reply)
      .finally(() => release?.())
      .finally(() => this.inFlight.delete(handled));
    this.inFlight.add(handled);
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
        this.deps.metrics?.redisErrors.inc({ operation: 'sync' });
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
      // Lines may have taken the free slots while the BLPOP waited: back to the head of the
      // list for any worker with a free slot (this one takes it again when it has one). Only if
      // Redis refuses does it wait here, for this worker's next free slot.
      if (this.inFlight.size >= config.workerConcurrency) {
        const returned = await this.deps.events.redis.lpush(popped[0], popped[1]).then(
          () => true,
          () => false,
        );
        if (returned) continue;
        while (this.inFlight.size >= config.workerConcurrency) await Promise.race(this.inFlight);
      }
      // Its api watches the "taken" key (a line's end tells its api the same).
      const release = this.holdTaken(request.id);
      this.deps.metrics?.syncTaken.inc({ route: 'queue' });
      this.begin(request, (message) => this.publish(request.replyTo, request.id, message), release);
    }
  }

  /**
   * `message` encoded (shared/dali/sync-messages.ts), on the one connection of the worker's
   * commands: a streaming notice goes out before its outcome.
   */
  private async publish(replyTo: string, id: string, message: Uint8Array): Promise<void> {
    const channel = channels(this.deps.config.queuePrefix).syncReplies(replyTo);
    await publishBytes(this.deps.events.redis, channel, Buffer.from(message.buffer, message.byteOffset, message.byteLength)).catch(
      (err: unknown) => {
        this.deps.metrics?.redisErrors.inc({ operation: 'sync' });
        this.deps.log.warn({ err, id }, 'sync reply not published');
      },
    );
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

  private async runTask(request: SyncRequest, reply: Reply): Promise<void> {
    const { config, services, tasks } = this.deps;
    const { id } = request;
    const service = services.get(request.service)!;
    const input = syncTaskInput(config, request);
    const ended = tasks.runTask({
      ...input,
      service,
      sync: {
        inlineLimit: request.inlineLimit,
        // The api starts sending the file while it grows; the outcome follows on the same connection.
        onSpill: ({ file, mimeType }) => void reply(encodeSyncMessage({ id, streaming: { file, mimeType } }), false),
      },
    });
    this.running.add(id);
    const end = await ended;
    this.running.delete(id);
    if (end.kind === 'stopped' && end.reason === 'abort') {
      // The client went away: nobody reads an outcome. The slot is free once the thread is gone.
      await end.exited;
      await fs.rm(input.dir, { recursive: true, force: true });
      return;
    }
    const outcome = this.outcome(request, end);
    // A processor's reply comes encoded by its thread (ThreadReply.syncMessage).
    const encoded = end.kind === 'replied' ? end.reply.syncMessage : undefined;
    await reply(encoded ?? encodeSyncMessage({ id, outcome }), true);
    // A stopped request keeps its slot (WORKER_CONCURRENCY) until its thread has exited.
    await end.exited;
  }

  /** What the api is told when a request's task ended other than by the client leaving. */
  private outcome(request: SyncRequest, end: TaskEnd): SyncOutcome {
    const { log } = this.deps;
    if (end.kind === 'replied') {
      const { reply } = end;
      if (!reply.ok && !reply.userError)
        log.error({ id: request.id, service: request.service, message: reply.message }, 'sync processor failed');
      return reply;
    }
    if (end.kind === 'stopped' && end.reason === 'duration') return stoppedOutcome('duration', request.timeout);
    if (end.kind === 'failed') {
      log.error({ err: end.error, id: request.id }, 'sync request failed');
      return { ok: false, userError: false, errorType: 'transient', message: `processor thread failed: ${end.error.message}` };
    }
    log.error({ id: request.id, reason: end.reason }, 'sync request failed');
    return stoppedOutcome('shutdown', request.timeout);
  }

  /** Take no more requests; running ones get SHUTDOWN_GRACE seconds, then fail as transient. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.blocking.disconnect();
    // From now: the loop may still be waiting for a slot that only the grace period frees.
    const grace = setTimeout(() => {
      for (const id of this.running) this.deps.tasks.cancel(id, 'shutdown');
    }, this.deps.config.uws.shutdownGrace * 1000);
    await Promise.all([this.loop, this.lines?.drain(), this.threads?.drain(this.deps.config.uws.shutdownGrace * 1000)]);
    await Promise.all(this.inFlight);
    clearTimeout(grace);
    await this.threads?.close();
    this.lines?.close();
  }
}
