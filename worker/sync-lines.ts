/**
 * The worker's end of sync lines (shared/dali/sync-lines.ts): listens for apis on
 * WORKER_SYNC_HOST:WORKER_SYNC_PORT(+WORKER_INDEX) (worker/line-listener.ts), and registers
 * itself in Redis, with its thread lines (worker/line-threads.ts) beside it: every api
 * connects to each.
 */
import type { Config } from '../shared/config';
import { REGISTRATION_RENEW_MS, REGISTRATION_TTL_MS, type LineRegistration } from '../shared/dali/sync-lines';
import { newProcessId } from '../shared/ids';
import type { Logger } from '../shared/log';
import { channels, type Redis } from '../shared/redis';
import { LineListener, type LineRequests } from './line-listener';

export type { LineRequests } from './line-listener';

export class SyncLineServer {
  private readonly listener: LineListener;
  /** This worker's process id in the registry; its thread lines register under it too. */
  readonly worker = newProcessId();
  /** Registry entries (JSON) this worker renews: its own line's, then its thread lines'. */
  private readonly members = new Set<string>();
  private renewal: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    private readonly config: Config,
    private readonly redis: Redis,
    requests: LineRequests,
    private readonly log: Logger,
  ) {
    this.listener = new LineListener(config.signingKey, requests, log);
  }

  /**
   * Listens and registers; false when the port cannot be had (logged): the worker then works
   * on without lines, and its requests all come through Redis.
   */
  async start(): Promise<boolean> {
    const { workerSyncHost: host, workerSyncPort, workerIndex } = this.config;
    const port = workerSyncPort === 0 ? 0 : workerSyncPort + workerIndex;
    const listening = await this.listener.listen(host, port);
    if ('error' in listening) {
      this.log.error(
        { err: listening.error, host, port },
        'sync lines not started (WORKER_SYNC_HOST, WORKER_SYNC_PORT); sync requests come through Redis only',
      );
      return false;
    }
    this.log.info({ host: this.config.workerSyncAddress, port: listening.port }, 'sync lines listening');
    await this.register({
      worker: this.worker,
      host: this.config.workerSyncAddress,
      port: listening.port,
      slots: this.config.workerConcurrency,
    });
    this.renewal = setInterval(() => void this.renew(), REGISTRATION_RENEW_MS);
    return true;
  }

  /** Adds an entry to the registry (renewed with the others from now on) and announces it. */
  async register(entry: LineRegistration): Promise<void> {
    if (this.draining) return;
    const member = JSON.stringify(entry);
    this.members.add(member);
    const names = channels(this.config.queuePrefix);
    try {
      await this.redis.zadd(names.syncLines, Date.now() + REGISTRATION_TTL_MS, member);
      await this.redis.publish(names.syncLinesAnnounce, member);
    } catch (err) {
      this.log.debug({ err }, 'sync line not registered yet; renewed in a moment');
    }
  }

  /** Takes an entry out of the registry (a thread line that ended). */
  async unregister(entry: LineRegistration): Promise<void> {
    const member = JSON.stringify(entry);
    this.members.delete(member);
    await this.redis.zrem(channels(this.config.queuePrefix).syncLines, member).catch(() => undefined);
  }

  /** Renews every entry (failures are harmless: lines already open work on). */
  private async renew(): Promise<void> {
    const expires = Date.now() + REGISTRATION_TTL_MS;
    const members = [...this.members];
    if (members.length === 0) return;
    try {
      await this.redis.zadd(channels(this.config.queuePrefix).syncLines, ...members.flatMap((m) => [expires, m]));
    } catch (err) {
      this.log.debug({ err }, 'sync line registration not renewed');
    }
  }

  /**
   * Leaves the registry and tells every api to send nothing new; running requests go on (and
   * the pings with them, or the apis would take the lines for dead after LINE_SILENCE_MS).
   */
  async drain(): Promise<void> {
    this.draining = true;
    clearInterval(this.renewal);
    const members = [...this.members];
    this.members.clear();
    this.listener.bye();
    if (members.length > 0) await this.redis.zrem(channels(this.config.queuePrefix).syncLines, ...members).catch(() => undefined);
  }

  /** Ends every line (after drain() and the last outcome). */
  close(): void {
    this.listener.close();
  }
}
