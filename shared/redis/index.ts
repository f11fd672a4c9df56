/**
 * Redis connections and the names of the keys and channels this project uses.
 *
 * Every connection made here survives a Redis outage by itself (reconnection is retried
 * forever with a capped back-off) and reports its state changes, once each: 'redis
 * connection lost' (warn, with the error code) and 'redis connection restored' (info), not
 * one line per failed retry.
 */
import { Command, Redis, type Callback, type RedisOptions } from 'ioredis';
import { closeHandler } from 'ioredis/built/redis/event_handler';
import { createLogger, type Logger } from '../log';

export { Redis };

// Defined with the configuration, which processor threads load without ioredis.
export { DEFAULT_REDIS_URL } from '../config';

/**
 * Longest wait of a command on a fail-fast connection (connectRedisCommands) whose Redis is
 * not known to be down, e.g. while a reconnection is under way or when Redis hangs, ms.
 * Generous: a busy machine must not turn slow answers into failures.
 */
export const COMMAND_TIMEOUT_MS = 2000;

export interface ConnectionOptions {
  /** Names the connection in its log lines ('commands', 'subscriber'…). */
  name?: string;
  /** Where its state changes go; by default a 'redis' logger at LOG_LEVEL. */
  log?: Logger;
}

/** Error codes of a connection that failed or could not be made (not of a command). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
]);
/** ioredis's message for a command on a closed connection. */
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * An error's code, message and name. Read as properties, not through `instanceof Error`:
 * errors of Node's own (socket errors) come from another realm under jest.
 */
function errorFields(err: unknown): { code?: unknown; message?: unknown; name?: unknown } {
  return typeof err === 'object' && err !== null ? err : {};
}

/** Whether an error is about reaching Redis at all (as opposed to a command's own error). */
export function isConnectionError(err: unknown): boolean {
  const { code, message, name } = errorFields(err);
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || message === CONNECTION_CLOSED || name === 'MaxRetriesPerRequestError';
}

/** Redis could not be reached (raised by `within`, and by callers that know Redis is down). */
export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
}

/** ioredis's rejection of a command that outlived its connection's commandTimeout. */
const UNAVAILABLE_MESSAGES = new Set(['Command timed out']);

/** Whether a command failed for want of Redis (rather than by its own error). */
export function isUnavailableError(err: unknown): boolean {
  const { message, name } = errorFields(err);
  return name === 'RedisUnavailable' || isConnectionError(err) || (typeof message === 'string' && UNAVAILABLE_MESSAGES.has(message));
}

/**
 * `work`, or a RedisUnavailable after `ms`: for waits ioredis does not bound itself (a BullMQ
 * queue waits for its connection's first 'ready' however long it takes). The work itself
 * goes on; what it does late must be harmless (all our late writes are idempotent).
 */
export function within<T>(ms: number, work: Promise<T>, what = 'redis did not answer'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailable(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

let defaultLog: Logger | undefined;

type LinkState = 'connecting' | 'up' | 'dropped' | 'down';
type Stream = Parameters<Redis['sendCommand']>[1];

/** A command held back while the connection is not up (see WatchedRedis.sendCommand). */
interface Held {
  command: Command;
  stream: Stream;
  timer: NodeJS.Timeout;
}

/**
 * An ioredis connection that survives outages and can always be closed:
 * - its state changes are logged once each, and its connection errors stay with it: ioredis
 *   emits one 'error' per failed reconnection, and BullMQ forwards each to every Queue and
 *   Worker on the connection (a worker process has one per service), whose listeners would
 *   log them all; other errors pass on as usual;
 * - QUIT and disconnect() close it at once when Redis is away (ioredis would queue the QUIT
 *   behind the commands waiting for Redis, or leave them waiting forever);
 * - fail-fast connections (connectRedisCommands) hold a plain command issued while they are
 *   not up for a bounded time, or none while Redis is known to be down, then fail it: it is
 *   never sent later. Blocking commands and pub/sub are never held: they are waits.
 */
class WatchedRedis extends Redis {
  declare private link: LinkState;
  declare private linkSince: number;
  declare private linkName: string;
  declare private linkLog: Logger;
  /** Fail-fast: plain commands are held a bounded time while the connection is not up (see above). */
  declare private failFast: boolean;
  declare private held: Set<Held>;

  constructor(url: string | undefined, options: RedisOptions, connection: ConnectionOptions, failFast: boolean) {
    if (url === undefined) super(options);
    else super(url, options);
    this.link = 'connecting';
    this.linkSince = Date.now();
    this.linkName = connection.name ?? 'redis';
    this.linkLog = connection.log ?? (defaultLog ??= createLogger('redis'));
    this.failFast = failFast;
    this.held = new Set();
    // ioredis emits its events on the next tick at the earliest: none is missed. It prints an
    // 'error' that has no listener ("Unhandled error event"); `emit` below handles them all.
    this.on('error', () => undefined);
    this.on('ready', () => this.onReady());
    this.on('close', () => {
      if (this.link === 'up') {
        this.link = 'dropped';
        this.linkSince = Date.now();
      }
    });
    this.on('end', () => this.failHeld());
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.linkName !== undefined) {
      const err = args[0];
      if (isConnectionError(err)) {
        this.onConnectionError(err);
        return true;
      }
      this.linkLog.warn({ err, connection: this.linkName }, 'redis connection error');
    }
    return super.emit(event, ...args);
  }

  private onConnectionError(err: unknown): void {
    if (this.link === 'down') return; // reported when it went down; retries say nothing new
    if (this.link === 'up') this.linkSince = Date.now();
    this.link = 'down';
    const { code, message } = errorFields(err);
    this.linkLog.warn({ connection: this.linkName, code: typeof code === 'string' ? code : message }, 'redis connection lost');
    if (this.failFast) this.failHeld();
  }

  private onReady(): void {
    const previous = this.link;
    this.link = 'up';
    const downMs = Date.now() - this.linkSince;
    if (previous === 'down') this.linkLog.info({ connection: this.linkName, downMs }, 'redis connection restored');
    // Reconnected before a single retry failed: one line for the whole blip.
    else if (previous === 'dropped') this.linkLog.info({ connection: this.linkName, downMs }, 'redis connection dropped and restored');
    const held = [...this.held];
    this.held.clear();
    for (const { command, stream, timer } of held) {
      clearTimeout(timer);
      super.sendCommand(command, stream);
    }
  }

  private failHeld(): void {
    const held = [...this.held];
    this.held.clear();
    for (const { command, timer } of held) {
      clearTimeout(timer);
      command.reject(new Error(CONNECTION_CLOSED));
    }
  }

  override sendCommand(command: Command, stream?: Stream): unknown {
    // Held: plain commands while there is no connection. Not: commands ioredis sends itself
    // while connecting (status 'connect'), blocking commands and pub/sub (waits by nature,
    // sent again by ioredis after a reconnection).
    const away = this.status === 'connecting' || this.status === 'reconnecting' || this.status === 'close';
    if (
      !this.failFast ||
      !away ||
      this.condition?.subscriber ||
      Command.checkFlag('BLOCKING_COMMANDS', command.name) ||
      Command.checkFlag('VALID_IN_SUBSCRIBER_MODE', command.name)
    ) {
      return super.sendCommand(command, stream);
    }
    if (this.link === 'down') {
      command.reject(new Error(CONNECTION_CLOSED));
      return command.promise;
    }
    const held: Held = {
      command,
      stream,
      timer: setTimeout(() => {
        if (this.held.delete(held)) command.reject(new Error(CONNECTION_CLOSED));
      }, COMMAND_TIMEOUT_MS),
    };
    this.held.add(held);
    return command.promise;
  }

  /**
   * Between two reconnection attempts ioredis has no socket to close: its disconnect() only
   * cancels the timer, and the connection stays 'reconnecting' with its queued commands (a
   * BLPOP, a QUIT) waiting forever. It is then closed as the end of a socket would close it.
   */
  override disconnect(reconnect = false): void {
    const socketless = !reconnect && this.status === 'reconnecting';
    super.disconnect(reconnect);
    if (socketless) closeHandler(this)();
    if (!reconnect) this.failHeld();
  }

  /** QUIT when Redis is away would wait behind the commands waiting for it: closes at once. */
  override quit(callback?: Callback<'OK'>): Promise<'OK'> {
    if (this.status === 'ready' || this.status === 'end') return super.quit(callback);
    this.disconnect();
    callback?.(null, 'OK');
    return Promise.resolve('OK');
  }

  /** Whether Redis is known to be unreachable (a connection attempt failed since it was last up). */
  get known(): 'up' | 'down' | 'unknown' {
    return this.link === 'up' ? 'up' : this.link === 'down' ? 'down' : 'unknown';
  }

  /**
   * BullMQ makes a Worker's blocking connection this way. The copy is watched too and, as
   * BullMQ requires of a blocking connection, has `maxRetriesPerRequest: null` and no
   * command timeout.
   */
  override duplicate(override: Partial<RedisOptions> = {}): Redis {
    const options: RedisOptions = { ...this.options, maxRetriesPerRequest: null, ...override };
    delete options.commandTimeout;
    return new WatchedRedis(undefined, options, { name: `${this.linkName}-copy`, log: this.linkLog }, false);
  }
}

const retryStrategy = (times: number) => Math.min(times * 100, 2000);

/**
 * A connection for BullMQ workers, blocking commands (BLPOP) and pub/sub: commands wait for
 * Redis however long it is away (BullMQ relies on it: a job's outcome is written when Redis
 * is back, not dropped). `maxRetriesPerRequest: null` is what BullMQ requires for blocking
 * connections. (Auto-pipelining was measured: it costs more CPU per job here.)
 */
export function connectRedis(url: string, options: RedisOptions = {}, connection: ConnectionOptions = {}): Redis {
  return new WatchedRedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy, ...options }, connection, false);
}

/**
 * A connection for plain commands of a process that must keep answering while Redis is away
 * (the api creating jobs, a worker publishing events): while Redis is known to be down a
 * command fails at once; otherwise (the first moments of a drop, a hung Redis) after at most
 * COMMAND_TIMEOUT_MS, or when the reconnection attempt fails. Never for blocking commands.
 */
export function connectRedisCommands(url: string, options: RedisOptions = {}, connection: ConnectionOptions = {}): Redis {
  return new WatchedRedis(
    url,
    { maxRetriesPerRequest: 0, enableReadyCheck: true, commandTimeout: COMMAND_TIMEOUT_MS, retryStrategy, ...options },
    connection,
    true,
  );
}

/** 'down' while a connection made here is known to be unable to reach Redis. */
export function redisState(redis: Redis): 'up' | 'down' | 'unknown' {
  return redis instanceof WatchedRedis ? redis.known : redis.status === 'ready' ? 'up' : 'unknown';
}

/**
 * Resolves true once the connection is ready (at once if it is), false after `ms`: for work
 * that must not be queued inside ioredis to run whenever Redis comes back.
 */
export function whenReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), Math.max(0, ms));
    redis.on('ready', onReady);
  });
}

/**
 * Closes a connection without waiting on Redis: QUIT when it is up (pending replies arrive
 * first), else, or if QUIT takes longer than `ms`, a plain disconnect (queued commands fail).
 */
export async function closeRedis(redis: Redis, ms = 1000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await within(ms, redis.quit());
      return;
    } catch {
      // not answered in time: disconnect below
    }
  }
  redis.disconnect();
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
    /** Exists (with a short TTL the worker keeps renewing) while a worker runs this sync request. */
    syncTaken: (id: string) => `${prefix}:sync:taken:${id}`,
    /** Sorted set of the workers' sync-line registrations (LineRegistration JSON), scored by expiry (ms). */
    syncLines: `${prefix}:sync-lines`,
    /** A worker's registration, published when it starts listening, so apis connect at once. */
    syncLinesAnnounce: `${prefix}:sync-lines:new`,
  };
}
