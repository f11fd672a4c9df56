/**
 * One BullMQ queue per service; a queue entry's id is the UWS job id, so adding the same
 * job twice (reconciliation racing the api) is a no-op. Redis is kept small: completed
 * entries are removed at once, failed ones after a day, and event streams are capped.
 */
import { Queue, type JobState } from 'bullmq';
import { Batcher } from '../batch';
import type { Redis } from '../redis';

export interface QueueEntryData {
  jobId: string;
}

export function queueName(service: string): string {
  return `uws-${service}`;
}

export const QUEUE_EVENTS_MAX_LEN = 1000;

export class JobQueues {
  private readonly queues = new Map<string, Queue<QueueEntryData>>();
  private readonly batchers = new Map<string, Batcher<string>>();
  private readonly depthCache = new Map<string, { at: number; waiting: number; active: number }>();

  constructor(private readonly connection: Redis, private readonly prefix: string) {}

  queue(service: string): Queue<QueueEntryData> {
    let queue = this.queues.get(service);
    if (!queue) {
      queue = new Queue<QueueEntryData>(queueName(service), {
        connection: this.connection,
        prefix: this.prefix,
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
        defaultJobOptions: {
          removeOnComplete: true,
          removeOnFail: { age: 86400, count: 10000 },
          attempts: 1,
        },
      });
      this.queues.set(service, queue);
    }
    return queue;
  }

  /** Adds the job's entry; entries added together go to Redis in one round trip. */
  enqueue(service: string, jobId: string): Promise<void> {
    let batcher = this.batchers.get(service);
    if (!batcher) {
      const queue = this.queue(service);
      batcher = new Batcher<string>(async (jobIds) => {
        await queue.addBulk(jobIds.map((id) => ({ name: 'job', data: { jobId: id }, opts: { jobId: id } })));
      });
      this.batchers.set(service, batcher);
    }
    return batcher.submit(jobId);
  }

  /** Removes a waiting entry; an entry a worker holds is left to the worker (it sees ABORTED). */
  async remove(service: string, jobId: string): Promise<void> {
    try {
      await this.queue(service).remove(jobId);
    } catch {
      // locked by a worker: that worker finds the job aborted or gone and drops it
    }
  }

  async state(service: string, jobId: string): Promise<JobState | 'unknown' | 'missing'> {
    const entry = await this.queue(service).getJob(jobId);
    if (!entry) return 'missing';
    return entry.getState();
  }

  async failedReason(service: string, jobId: string): Promise<string | undefined> {
    return (await this.queue(service).getJob(jobId))?.failedReason;
  }

  /** Waiting and active counts, cached for a second (quotes are estimates). */
  async depth(service: string, now = Date.now()): Promise<{ waiting: number; active: number }> {
    const cached = this.depthCache.get(service);
    if (cached && now - cached.at < 1000) return cached;
    const counts = await this.queue(service).getJobCounts('waiting', 'active', 'prioritized');
    const depth = { at: now, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0 };
    this.depthCache.set(service, depth);
    return depth;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
