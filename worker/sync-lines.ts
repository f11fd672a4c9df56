/**
 * The worker's end of sync lines (shared/dali/sync-lines.ts): listens for apis on
 * WORKER_SYNC_HOST:WORKER_SYNC_PORT(+WORKER_INDEX), registers itself in Redis, checks each
 * api's answer to its challenge, and hands the requests that arrive to the SyncRunner, which
 * refuses them when it has no free slot. A line that ends stops the requests that came on it:
 * nobody is left to read their outcome.
 */
import crypto from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import type { Config } from '../shared/config';
import {
  answerIsRight,
  FRAME,
  writeFrame,
  FrameReader,
  HANDSHAKE_MS,
  MAX_FRAME_BYTES,
  MAX_HANDSHAKES,
  MAX_HANDSHAKE_BYTES,
  PING_MS,
  REGISTRATION_RENEW_MS,
  REGISTRATION_TTL_MS,
  type LineRegistration,
} from '../shared/dali/sync-lines';
import { parseSyncRequest, type SyncRequest } from '../shared/dali/sync-messages';
import { newProcessId } from '../shared/ids';
import type { Logger } from '../shared/log';
import { channels, type Redis } from '../shared/redis';

/** What the worker does with the requests of its lines (worker/sync-runner.ts). */
export interface LineRequests {
  /**
   * Starts `request` and returns true, or returns false at once (no free slot, stopping): the
   * api then sends it elsewhere. `send` carries its messages back on the line it came on;
   * `final` marks the outcome (a streaming notice comes before it).
   */
  offer(request: SyncRequest, send: (message: Uint8Array, final: boolean) => void): boolean;
  /** Stops a request that came on a line (its client left, or its line ended). */
  abort(id: string): void;
}

interface Line {
  socket: net.Socket;
  /** Ids of the requests that came on this line and are still running. */
  running: Set<string>;
}

export class SyncLineServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly lines = new Set<Line>();
  /** Connections that have not answered their challenge yet. */
  private handshakes = 0;
  private registration: string | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private pings: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly redis: Redis,
    private readonly requests: LineRequests,
    private readonly log: Logger,
  ) {}

  /**
   * Listens and registers. A port that cannot be had is logged and the worker works on
   * without lines: its requests then all come through Redis.
   */
  async start(): Promise<void> {
    const { workerSyncHost: host, workerSyncPort, workerIndex } = this.config;
    const port = workerSyncPort === 0 ? 0 : workerSyncPort + workerIndex;
    const listening = await new Promise<boolean>((resolve) => {
      const failed = (err: Error) => {
        this.log.error(
          { err, host, port },
          'sync lines not started (WORKER_SYNC_HOST, WORKER_SYNC_PORT); sync requests come through Redis only',
        );
        resolve(false);
      };
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve(true);
      });
    });
    if (!listening) return;
    // A connection that cannot be accepted (EMFILE…) must not take the worker down.
    this.server.on('error', (err) => this.log.warn({ err }, 'sync line not accepted'));
    const entry: LineRegistration = {
      worker: newProcessId(),
      host: this.config.workerSyncAddress,
      port: (this.server.address() as AddressInfo).port,
      slots: this.config.workerConcurrency,
    };
    this.registration = JSON.stringify(entry);
    this.log.info({ host: entry.host, port: entry.port }, 'sync lines listening');
    await this.register(true);
    this.renewal = setInterval(() => void this.register(false), REGISTRATION_RENEW_MS);
    this.pings = setInterval(() => {
      for (const line of this.lines) writeFrame(line.socket, FRAME.ping);
    }, PING_MS);
  }

  /** Adds or renews this worker's entry (failures are harmless: lines already open work on). */
  private async register(announce: boolean): Promise<void> {
    const member = this.registration;
    if (member === undefined) return;
    const names = channels(this.config.queuePrefix);
    try {
      await this.redis.zadd(names.syncLines, Date.now() + REGISTRATION_TTL_MS, member);
      if (announce) await this.redis.publish(names.syncLinesAnnounce, member);
    } catch (err) {
      this.log.debug({ err }, 'sync line registration not renewed');
    }
  }

  private accept(socket: net.Socket): void {
    if (this.handshakes >= MAX_HANDSHAKES) {
      socket.destroy();
      return;
    }
    this.handshakes++;
    let waiting = true;
    const answered = () => {
      if (waiting) this.handshakes--;
      waiting = false;
    };
    socket.setNoDelay(true);
    const line: Line = { socket, running: new Set() };
    const challenge = crypto.randomBytes(32);
    const reader = new FrameReader(MAX_HANDSHAKE_BYTES);
    let open = false;
    const handshake = setTimeout(() => socket.destroy(), HANDSHAKE_MS);
    const end = (reason?: string) => {
      if (reason) this.log.warn({ remote: socket.remoteAddress, reason }, 'sync line closed');
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        end((err as Error).message);
        return;
      }
      for (const { kind, payload } of frames) {
        if (!open) {
          if (kind !== FRAME.answer || !answerIsRight(this.config.signingKey, challenge, payload)) {
            end('wrong answer to the challenge (is SIGNING_KEY the same for apis and workers?)');
            return;
          }
          open = true;
          answered();
          clearTimeout(handshake);
          reader.allow(MAX_FRAME_BYTES);
          this.lines.add(line);
          writeFrame(line.socket, FRAME.ready);
        } else if (kind === FRAME.request) {
          if (!this.take(line, payload)) {
            end('malformed sync request');
            return;
          }
        } else if (kind === FRAME.abort) {
          // Only a request that came on this line, and runs: not any task of this worker.
          const id = payload.toString();
          if (line.running.delete(id)) this.requests.abort(id);
        }
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      answered();
      clearTimeout(handshake);
      this.lines.delete(line);
      for (const id of line.running) this.requests.abort(id);
      line.running.clear();
    });
    writeFrame(line.socket, FRAME.hello, challenge);
  }

  /** Starts or refuses a request; false when it cannot be read (the line is then closed: its api answers 503). */
  private take(line: Line, payload: Buffer): boolean {
    const request = parseSyncRequest(payload.toString());
    if (!request) return false;
    const { id } = request;
    const taken = this.requests.offer(request, (message, final) => {
      if (final) line.running.delete(id);
      writeFrame(line.socket, FRAME.message, message);
    });
    if (taken) line.running.add(id);
    else writeFrame(line.socket, FRAME.refused, Buffer.from(id));
    return true;
  }

  /**
   * Leaves the registry and tells every api to send nothing new; running requests go on (and
   * the pings with them, or the apis would take the lines for dead after LINE_SILENCE_MS).
   */
  async drain(): Promise<void> {
    clearInterval(this.renewal);
    const member = this.registration;
    this.registration = undefined;
    this.server.close();
    for (const line of this.lines) writeFrame(line.socket, FRAME.bye);
    if (member !== undefined) await this.redis.zrem(channels(this.config.queuePrefix).syncLines, member).catch(() => undefined);
  }

  /** Ends every line (after drain() and the last outcome). */
  close(): void {
    clearInterval(this.pings);
    for (const line of this.lines) line.socket.end();
  }
}
