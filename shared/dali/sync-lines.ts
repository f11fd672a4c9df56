/**
 * Sync lines: DALI-sync requests (sync-messages.ts) sent by an api straight to a worker over a
 * TCP connection, instead of through a Redis list and a Redis channel.
 *
 * Why: each hand-over between processes wakes an idle one, and on small VMs a wake costs
 * 0.25–0.4 ms. Through Redis a request is handed over six times (api → Redis → worker → its
 * thread → worker → Redis → api); over a line, four (api → worker → thread → worker → api),
 * none of them through a third process. The Redis list stays the path for everything a line
 * cannot take: no worker known, every known worker busy or refusing, lines turned off. The
 * messages are the same bytes either way.
 *
 * Thread lines (SYNC_THREAD_LINES): a line can also end in one of the worker's processor
 * threads, which listens on a port of its own and runs each request itself, one at a time:
 * two hand-overs (api → thread → api) instead of four. A request's abort then goes to the
 * worker's own line as well, whose main thread stops the thread's work (a thread busy in a
 * statement reads nothing).
 *
 * Who finds whom: each worker listens on a port of its own and registers `host:port` in a
 * sorted set in Redis (scored by when the entry expires; renewed while the worker runs), and
 * announces it on a channel. Each api connects to every registered worker. The connection is
 * then the truth: a line ends when its socket does (the worker died or stopped), and a line
 * works on while Redis is away.
 *
 * Frames: a 4-byte big-endian length (of what follows), a kind byte, the payload.
 *  - worker → api: HELLO (a random challenge), READY (the challenge was answered), MESSAGE
 *    (an encoded SyncMessage or SyncStreaming), REFUSED (a request id: no free slot, or the
 *    worker is stopping; the api sends it elsewhere), PING (every PING_MS), BYE (stopping:
 *    send nothing new).
 *  - api → worker: ANSWER (HMAC-SHA256 of the challenge under SIGNING_KEY: a request names
 *    its owner, so only an api may send one), REQUEST (a SyncRequest as JSON), ABORT (a
 *    request id: its client left).
 */
import crypto from 'node:crypto';
import type { Socket } from 'node:net';

export const FRAME = {
  hello: 0x48, // H
  answer: 0x41, // A
  ready: 0x4b, // K
  request: 0x52, // R
  message: 0x4d, // M
  refused: 0x4e, // N
  abort: 0x58, // X
  ping: 0x50, // P
  bye: 0x42, // B
} as const;

export type FrameKind = (typeof FRAME)[keyof typeof FRAME];

/** Largest frame either side accepts once a line is open (a reply holds at most SYNC_INLINE_BYTES ≤ 16 MiB of data). */
export const MAX_FRAME_BYTES = 64 << 20;
/** Largest frame a worker accepts before the api has answered its challenge. */
export const MAX_HANDSHAKE_BYTES = 256;
/** A worker pings each line this often; an api ends a line with requests in flight that stayed silent for LINE_SILENCE_MS. */
export const PING_MS = 1000;
export const LINE_SILENCE_MS = 3500;
/** The challenge must be answered within this time (an api answers in well under a millisecond). */
export const HANDSHAKE_MS = 1000;
/**
 * Connections a worker keeps waiting for their answer at once; more are closed at once (a
 * port anyone on the host can reach must not let them hold its file descriptors).
 */
export const MAX_HANDSHAKES = 32;
/** A worker's registration lasts this long unless renewed (every REGISTRATION_RENEW_MS). */
export const REGISTRATION_TTL_MS = 15000;
export const REGISTRATION_RENEW_MS = 5000;

/** A worker's entry in the registry (the sorted set channels().syncLines). */
export interface LineRegistration {
  /** The worker process's id (newProcessId). */
  worker: string;
  host: string;
  port: number;
  /** Sync requests the line runs at once (WORKER_CONCURRENCY; a thread line: 1). */
  slots: number;
  /**
   * A thread line (SYNC_THREAD_LINES): the listener is one of the worker's processor threads,
   * which runs the requests itself. Absent: the worker's own line, which also takes the aborts
   * of its thread lines' requests.
   */
  thread?: number;
}

export function parseRegistration(text: string): LineRegistration | undefined {
  try {
    const entry = JSON.parse(text) as Partial<LineRegistration>;
    if (
      typeof entry.worker === 'string' &&
      typeof entry.host === 'string' &&
      Number.isInteger(entry.port) &&
      entry.port! > 0 &&
      entry.port! < 65536 &&
      Number.isInteger(entry.slots) &&
      entry.slots! > 0 &&
      (entry.thread === undefined || (Number.isInteger(entry.thread) && entry.thread >= 0))
    )
      return entry as LineRegistration;
  } catch {
    // not ours
  }
  return undefined;
}

/** Writes a frame on `socket` (the payload is not copied: head and payload go out in one writev). */
export function writeFrame(socket: Socket, kind: FrameKind, payload?: Uint8Array): void {
  if (socket.destroyed || !socket.writable) return;
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE((payload?.byteLength ?? 0) + 1, 0);
  head[4] = kind;
  socket.cork();
  socket.write(head);
  if (payload && payload.byteLength > 0) socket.write(payload);
  socket.uncork();
}

/** The api's answer to a worker's challenge. */
export function answerChallenge(signingKey: string, challenge: Uint8Array): Buffer {
  return crypto.createHmac('sha256', signingKey).update('vo-sync-line\0').update(challenge).digest();
}

export function answerIsRight(signingKey: string, challenge: Uint8Array, answer: Uint8Array): boolean {
  const expected = answerChallenge(signingKey, challenge);
  return answer.byteLength === expected.byteLength && crypto.timingSafeEqual(expected, answer);
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they come and joined once per frame that
 * spans several (a 1 MiB reply arrives in 64 KiB chunks: no copy per chunk).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private maxBytes: number) {}

  /** Frames may be up to `bytes` long from now on (after the handshake). */
  allow(bytes: number): void {
    this.maxBytes = bytes;
  }

  /** The frames `chunk` completes, in order; throws FrameError on a frame over the limit or empty. */
  push(chunk: Buffer): { kind: number; payload: Buffer }[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: { kind: number; payload: Buffer }[] = [];
    for (;;) {
      if (this.buffered < 4) return frames;
      const length = this.peekLength();
      if (length < 1 || length > this.maxBytes) throw new FrameError(`frame of ${length} bytes (at most ${this.maxBytes})`);
      if (this.buffered < 4 + length) return frames;
      const bytes = this.take(4 + length);
      frames.push({ kind: bytes[4]!, payload: bytes.subarray(5) });
    }
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks, 4).readUInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let bytes: Buffer;
    if (first.length >= n) {
      bytes = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      bytes = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return bytes;
  }
}
