/**
 * One BullMQ queue per service; a queue entry's id is the UWS job id, so adding the same
 * job twice (reconciliation racing the api) is a no-op. Redis is kept small: completed
 * entries are removed at once, failed ones after a day, and event streams are capped.
 * Every operation is bounded: with Redis down it fails (the connection is a fail-fast one,
 * connectRedisCommands) instead of waiting for Redis to come back.
 */
import { Queue, type JobState } from 'bullmq';
import { Batcher } from '../batch';
import type { Logger } from '../log';
import { COMMAND_TIMEOUT_MS, isConnectionError, isUnavailableError, RedisUnavailable, redisState, within, type Redis } from '../redis';

export interface QueueEntryData {
  jobId: string;
  /**
   * A split job waiting for its parts (BullMQ's waiting-children): when they are done, the
   * entry comes back with step 'finish' for the attempt that split it.
   */
  step?: 'finish';
  attempt?: number;
}

/** A part of a split job: a BullMQ child of the job's entry, in its service's parts queue. */
export interface PartEntryData {
  jobId: string;
  attempt: number;
  /** 1-based. */
  part: number;
}

export function queueName(service: string): string {
  return `uws-${service}`;
}

export function partsQueueName(service: string): string {
  return `uws-${service}-parts`;
}

export const QUEUE_EVENTS_MAX_LEN = 1000;

export class JobQueues {
  private readonly queues = new Map<string, Queue<QueueEntryData>>();
  private readonly batchers = new Map<string, Batcher<string>>();
  private readonly depthCache = new Map<string, { at: number; waiting: number; active: number }>();
  /** The parts queues of split jobs, only read here (for the metrics): workers add and take their entries. */
  private readonly partQueues = new Map<string, Queue<PartEntryData>>();
  /** Queues whose connection was ready once (BullMQ then sends their commands at once). */
  private readonly started = new WeakSet<Queue<QueueEntryData>>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {}

  queue(service: string): Queue<QueueEntryData> {
    let queue = this.queues.get(service);
    if (!queue) {
      const created = new Queue<QueueEntryData>(queueName(service), {
        connection: this.connection,
        prefix: this.prefix,
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
        defaultJobOptions: {
          removeOnComplete: true,
          removeOnFail: { age: 86400, count: 10000 },
          attempts: 1,
        },
      });
      // Connection errors are the connection's to report (once per outage, shared/redis);
      // without a listener BullMQ would print every other error with console.error.
      created.on('error', (err) => {
        if (!isConnectionError(err)) this.log?.warn({ err, service }, 'job queue error');
      });
      this.queues.set(service, created);
      queue = created;
    }
    return queue;
  }

  /**
   * The service's queue once it is ready. A new queue waits for its connection's first
   * 'ready' however long Redis is away: bounded here. A queue whose start failed (Redis went
   * away in the middle) stays failed: it is replaced by a new one.
   */
  private async ready(service: string): Promise<Queue<QueueEntryData>> {
    const queue = this.queue(service);
    if (this.started.has(queue)) return queue;
    if (redisState(this.connection) === 'down') throw new RedisUnavailable('the job queue (Redis) is unreachable');
    const started = queue.waitUntilReady();
    try {
      await within(COMMAND_TIMEOUT_MS, started, 'the job queue (Redis) was not reachable');
      this.started.add(queue);
    } catch (err) {
      started.then(
        () => undefined,
        () => {
          if (this.queues.get(service) === queue) this.queues.delete(service);
          void queue.close().catch(() => undefined);
        },
      );
      throw err;
    }
    return queue;
  }

  /**
   * `operation` on the service's queue. A failure for want of Redis (including any failure
   * while the connection is not up) is a RedisUnavailable, so callers can tell an outage,
   * which the connection reports once, from a real error.
   */
  private async run<T>(service: string, operation: (queue: Queue<QueueEntryData>) => Promise<T>): Promise<T> {
    try {
      return await operation(await this.ready(service));
    } catch (err) {
      if (err instanceof RedisUnavailable || !(isUnavailableError(err) || redisState(this.connection) !== 'up')) throw err;
      throw new RedisUnavailable(`the job queue (Redis) is unreachable: ${String((err as { message?: unknown }).message ?? err)}`);
    }
  }

  /** Adds the job's entry; entries added together go to Redis in one round trip. */
  enqueue(service: string, jobId: string): Promise<void> {
    let batcher = this.batchers.get(service);
    if (!batcher) {
      batcher = new Batcher<string>(async (jobIds) => {
        await this.run(service, (queue) => queue.addBulk(jobIds.map((id) => ({ name: 'job', data: { jobId: id }, opts: { jobId: id } }))));
      });
      this.batchers.set(service, batcher);
    }
    return batcher.submit(jobId);
  }

  /** Removes a waiting entry; an entry a worker holds is left to the worker (it sees ABORTED). */
  async remove(service: string, jobId: string): Promise<void> {
    try {
      await this.run(service, (queue) => queue.remove(jobId));
    } catch {
      // locked by a worker: that worker finds the job aborted or gone and drops it; Redis
      // unreachable: a worker that takes the entry later finds the job ABORTED
    }
  }

  async state(service: string, jobId: string): Promise<JobState | 'unknown' | 'missing'> {
    return this.run(service, async (queue) => {
      const entry = await queue.getJob(jobId);
      return entry ? entry.getState() : 'missing';
    });
  }

  async failedReason(service: string, jobId: string): Promise<string | undefined> {
    return this.run(service, async (queue) => (await queue.getJob(jobId))?.failedReason);
  }

  /** Waiting and active counts, cached for a second (quotes are estimates). */
  async depth(service: string, now = Date.now()): Promise<{ waiting: number; active: number }> {
    const cached = this.depthCache.get(service);
    // Not while Redis is away: the quote of a job that cannot be enqueued is "don't know".
    if (cached && now - cached.at < 1000 && redisState(this.connection) === 'up') return cached;
    const counts = await this.run(service, (queue) => queue.getJobCounts('waiting', 'active', 'prioritized'));
    const depth = { at: now, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0 };
    this.depthCache.set(service, depth);
    return depth;
  }

  /**
   * Entries of the service's queue (or of its parts queue) by state, for the metrics: one
   * round trip, not cached (a scrape comes every few seconds at most). Fails at once while
   * Redis is known to be down.
   */
  async counts(service: string, parts = false): Promise<Record<'waiting' | 'active' | 'delayed' | 'waiting_children', number>> {
    const states = ['waiting', 'prioritized', 'paused', 'active', 'delayed', 'waiting-children'] as const;
    let counts: Record<string, number>;
    if (!parts) counts = await this.run(service, (queue) => queue.getJobCounts(...states));
    else {
      if (redisState(this.connection) === 'down') throw new RedisUnavailable('the job queue (Redis) is unreachable');
      let queue = this.partQueues.get(service);
      if (!queue) {
        queue = new Queue<PartEntryData>(partsQueueName(service), { connection: this.connection, prefix: this.prefix });
        queue.on('error', (err) => {
          if (!isConnectionError(err)) this.log?.warn({ err, service }, 'parts queue error');
        });
        this.partQueues.set(service, queue);
      }
      counts = await within(COMMAND_TIMEOUT_MS, queue.getJobCounts(...states), 'the job queue (Redis) did not answer');
    }
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      waiting_children: counts['waiting-children'] ?? 0,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), ...this.partQueues.values()].map((q) => q.close()));
    this.queues.clear();
    this.partQueues.clear();
  }
}
