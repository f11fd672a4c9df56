/**
 * Phase changes and abort requests travel over Redis pub/sub, so every api process can
 * wake its blocked WAIT requests, and the worker running a job hears that it was aborted.
 * Events are transient: the job store stays the truth; a lost event only costs latency.
 */
import { channels, connectRedis, type Redis } from '../redis';
import type { Phase } from './phase';

type PhaseHandler = (jobId: string, phase: Phase) => void;
type AbortHandler = (jobId: string) => void;
type MessageHandler = (message: Buffer) => void;

export class UwsEvents {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly channels: ReturnType<typeof channels>;
  private readonly phaseHandlers = new Set<PhaseHandler>();
  private readonly abortHandlers = new Set<AbortHandler>();
  private readonly syncHandlers = new Set<MessageHandler>();

  constructor(private readonly redisUrl: string, prefix: string) {
    this.channels = channels(prefix);
    this.publisher = connectRedis(redisUrl);
  }

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
    return this.subscribe();
  }

  onAbort(handler: AbortHandler): Promise<void> {
    this.abortHandlers.add(handler);
    return this.subscribe();
  }

  /** Messages about synchronous requests (shared/dali/sync.ts). */
  onSyncMessage(handler: MessageHandler): Promise<void> {
    this.syncHandlers.add(handler);
    return this.subscribe();
  }

  /** One subscription per process, fanned out to the handlers. */
  private subscribe(): Promise<void> {
    // Every caller waits for the one subscription to be in place.
    this.subscribed ??= this.connectSubscriber();
    return this.subscribed;
  }

  private async connectSubscriber(): Promise<void> {
    const subscriber = connectRedis(this.redisUrl);
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channels.phase) {
        const space = message.indexOf(' ');
        const jobId = message.slice(0, space);
        const phase = message.slice(space + 1) as Phase;
        for (const handler of this.phaseHandlers) handler(jobId, phase);
      } else if (channel === this.channels.abort) {
        for (const handler of this.abortHandlers) handler(message);
      }
    });
    // Sync replies may carry binary result bytes: taken undecoded.
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (this.syncHandlers.size > 0 && channel.toString() === this.channels.syncReplies) {
        for (const handler of this.syncHandlers) handler(message);
      }
    });
    await subscriber.subscribe(this.channels.phase, this.channels.abort, this.channels.syncReplies);
  }

  async close(): Promise<void> {
    this.phaseHandlers.clear();
    this.abortHandlers.clear();
    this.syncHandlers.clear();
    await Promise.all([this.subscriber?.quit().catch(() => undefined), this.publisher.quit().catch(() => undefined)]);
  }
}
