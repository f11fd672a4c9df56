/**
 * Phase changes and abort requests travel over Redis pub/sub, so every api process can
 * wake its blocked WAIT requests, and the worker running a job hears that it was aborted.
 * Events are transient: the job store stays the truth; a lost event only costs latency.
 */
import type { Logger } from '../log';
import { channels, closeRedis, connectRedis, connectRedisCommands, type Redis } from '../redis';
import type { Phase } from './phase';

type PhaseHandler = (jobId: string, phase: Phase) => void;
type AbortHandler = (jobId: string) => void;
type MessageHandler = (message: Buffer) => void;

export class UwsEvents {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;
  private connected: Promise<Redis> | undefined;
  private readonly subscriptions = new Map<string, Promise<void>>();
  private readonly channels: ReturnType<typeof channels>;
  private readonly phaseHandlers = new Set<PhaseHandler>();
  private readonly abortHandlers = new Set<AbortHandler>();
  private readonly syncHandlers = new Map<string, Set<MessageHandler>>();

  /** `log` receives the connections' state changes (lost, restored). */
  constructor(
    private readonly redisUrl: string,
    prefix: string,
    private readonly log?: Logger,
  ) {
    this.channels = channels(prefix);
    // Fail-fast: an event publisher, a quote or an enqueue must not wait for a Redis that is
    // down (events are transient; what is not enqueued the api's reconciliation enqueues).
    this.publisher = connectRedisCommands(redisUrl, {}, { name: 'commands', log });
  }

  /** The process's connection for plain (non-blocking) commands; fails fast while Redis is down. */
  get redis(): Redis {
    return this.publisher;
  }

  async publishPhase(jobId: string, phase: Phase): Promise<void> {
    await this.publisher.publish(this.channels.phase, `${jobId} ${phase}`);
  }

  async publishAbort(jobId: string): Promise<void> {
    await this.publisher.publish(this.channels.abort, jobId);
  }

  onPhase(handler: PhaseHandler): Promise<void> {
    this.phaseHandlers.add(handler);
    return this.listen(this.channels.phase);
  }

  onAbort(handler: AbortHandler): Promise<void> {
    this.abortHandlers.add(handler);
    return this.listen(this.channels.abort);
  }

  /** Messages on `channel` about synchronous requests (shared/dali/sync-messages.ts), undecoded. */
  onSyncMessage(channel: string, handler: MessageHandler): Promise<void> {
    const handlers = this.syncHandlers.get(channel) ?? new Set<MessageHandler>();
    handlers.add(handler);
    this.syncHandlers.set(channel, handlers);
    return this.listen(channel);
  }

  /**
   * One subscriber connection per process, subscribed only to the channels this process has
   * handlers for: a worker must not receive (and decode) every sync reply meant for an api.
   * Every caller waits until its channel's subscription is in place.
   */
  private listen(channel: string): Promise<void> {
    let subscribed = this.subscriptions.get(channel);
    if (subscribed === undefined) {
      this.connected ??= this.connectSubscriber();
      subscribed = this.connected.then((subscriber) => subscriber.subscribe(channel)).then(() => undefined);
      this.subscriptions.set(channel, subscribed);
    }
    return subscribed;
  }

  private async connectSubscriber(): Promise<Redis> {
    // Waits for Redis however long it is away: ioredis subscribes again after reconnecting.
    const subscriber = connectRedis(this.redisUrl, {}, { name: 'subscriber', log: this.log });
    this.subscriber = subscriber;
    // Only the Buffer event: with a 'message' listener ioredis would also decode every
    // message (sync replies carry result bytes) into a string.
    subscriber.on('messageBuffer', (channelBytes: Buffer, message: Buffer) => {
      const channel = channelBytes.toString();
      if (channel === this.channels.phase) {
        const text = message.toString();
        const space = text.indexOf(' ');
        const jobId = text.slice(0, space);
        const phase = text.slice(space + 1) as Phase;
        for (const handler of this.phaseHandlers) handler(jobId, phase);
      } else if (channel === this.channels.abort) {
        const jobId = message.toString();
        for (const handler of this.abortHandlers) handler(jobId);
      } else {
        for (const handler of this.syncHandlers.get(channel) ?? []) handler(message);
      }
    });
    return subscriber;
  }

  async close(): Promise<void> {
    this.phaseHandlers.clear();
    this.abortHandlers.clear();
    this.syncHandlers.clear();
    // Bounded: QUIT on a connection waiting for Redis would wait as long as the outage.
    await Promise.all([this.subscriber ? closeRedis(this.subscriber) : undefined, closeRedis(this.publisher)]);
  }
}
