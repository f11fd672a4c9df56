/** Redis connections and the names of the keys and channels this project uses. */
import { Redis, type RedisOptions } from 'ioredis';

export { Redis };

/** Where `npm run api` / `npm run worker` look for Redis when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A connection for BullMQ and pub/sub. `maxRetriesPerRequest: null` is what BullMQ requires
 * for blocking connections; reconnection is retried forever with a capped back-off so a Redis
 * restart is survived. (Auto-pipelining was measured: it costs more CPU per job here.)
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...options,
  });
}

export function channels(prefix: string) {
  return {
    /** `<jobId> <PHASE>` on every phase change (UWS WAIT wakes on these). */
    phase: `${prefix}:uws:phase`,
    /** `<jobId>`: stop the work of this job wherever it runs. */
    abort: `${prefix}:uws:abort`,
    /** Hash service → mean job duration (ms), for quotes. */
    durations: `${prefix}:uws:durations`,
    /** List per service of pending synchronous requests (DALI sync), taken by workers. */
    syncRequests: (service: string) => `${prefix}:sync:${service}`,
    /** SyncMessage: the outcome of a synchronous request, to the api process that sent it. */
    syncReplies: (api: string) => `${prefix}:sync:replies:${api}`,
  };
}
