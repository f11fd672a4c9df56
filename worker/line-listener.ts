/**
 * The listening end of sync lines (shared/dali/sync-lines.ts), wherever it runs: in a
 * worker's main thread (worker/sync-lines.ts) or in a thread line's processor thread
 * (worker/line-thread.ts). Checks each api's answer to its challenge, pings the open lines,
 * and hands the requests that arrive to `requests`, which refuses them when it has no free
 * slot. A line that ends stops the requests that came on it: nobody is left to read their
 * outcome. Nothing here loads Redis or the logger (a processor thread has neither).
 */
import crypto from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
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
} from '../shared/dali/sync-lines';
import { parseSyncRequest, type SyncRequest } from '../shared/dali/sync-messages';

/** What the listener does with the requests of its lines. */
export interface LineRequests {
  /**
   * Starts `request` and returns true, or returns false at once (no free slot, stopping): the
   * api then sends it elsewhere. `send` carries its messages back on the line it came on;
   * `final` marks the outcome (a streaming notice comes before it).
   */
  offer(request: SyncRequest, send: (message: Uint8Array, final: boolean) => void): boolean;
  /** Stops a request that came on a line (its client left, or its line ended). */
  abort(id: string): void;
  /**
   * An abort of a request that did not come on this line: the worker's own line hears those of
   * its thread lines' requests (a thread busy in a statement reads nothing). Thread lines run
   * sync requests only: this can stop nothing else of the worker.
   */
  abortThreadLine?(id: string): void;
}

/** Where the listener reports lines it closed on a peer's fault. */
export interface LineLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

interface Line {
  socket: net.Socket;
  /** Ids of the requests that came on this line and are still running. */
  running: Set<string>;
}

export class LineListener {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly lines = new Set<Line>();
  /** Connections that have not answered their challenge yet. */
  private handshakes = 0;
  private pings: NodeJS.Timeout | undefined;

  /**
   * `exclusive`: one line at a time (a thread line). A thread inside a statement reads nothing,
   * so it could not refuse a second api's request, which would wait behind the first; with
   * one api per thread line, that api knows when the line is busy (its own request is on it).
   * Another api's connection is closed at once (it dials again after a while, and takes the
   * line once the first api has gone).
   */
  constructor(
    private readonly signingKey: string,
    private readonly requests: LineRequests,
    private readonly log: LineLog,
    private readonly exclusive = false,
  ) {}

  /** Listens on `host:port` (0: any free port); resolves with the port, or the error that kept it from listening. */
  listen(host: string, port: number): Promise<{ port: number } | { error: Error }> {
    return new Promise((resolve) => {
      const failed = (error: Error) => resolve({ error });
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        // A connection that cannot be accepted (EMFILE…) must not take the process down.
        this.server.on('error', (err) => this.log.warn({ err }, 'sync line not accepted'));
        this.pings = setInterval(() => {
          for (const line of this.lines) writeFrame(line.socket, FRAME.ping);
        }, PING_MS);
        resolve({ port: (this.server.address() as AddressInfo).port });
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.handshakes >= MAX_HANDSHAKES || (this.exclusive && this.lines.size > 0)) {
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
          if (kind !== FRAME.answer || !answerIsRight(this.signingKey, challenge, payload)) {
            end('wrong answer to the challenge (is SIGNING_KEY the same for apis and workers?)');
            return;
          }
          if (this.exclusive && this.lines.size > 0) {
            end(); // another api answered first
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
          else this.requests.abortThreadLine?.(id);
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
   * Takes no new connections and tells every api to send nothing new; running requests go on
   * (and the pings with them, or the apis would take the lines for dead).
   */
  bye(): void {
    this.server.close();
    for (const line of this.lines) writeFrame(line.socket, FRAME.bye);
  }

  /** Ends every line (after bye() and the last outcome). */
  close(): void {
    clearInterval(this.pings);
    this.server.close();
    for (const line of this.lines) line.socket.end();
  }
}
