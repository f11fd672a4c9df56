/**
 * The api's end of sync lines (shared/dali/sync-lines.ts): finds the workers in the registry
 * (and hears of new ones on their announcement channel), keeps a connection to each, answers
 * its challenge, and sends a sync request on the open line with the fewest requests of this api
 * in flight. What a line cannot take (none open, all full, a refusal) goes through the Redis
 * list, as before lines existed (api/sync-dispatcher.ts).
 */
import net from 'node:net';
import type { Config } from '../shared/config';
import {
  answerChallenge,
  FRAME,
  writeFrame,
  FrameReader,
  HANDSHAKE_MS,
  LINE_SILENCE_MS,
  MAX_FRAME_BYTES,
  parseRegistration,
  PING_MS,
  REGISTRATION_RENEW_MS,
} from '../shared/dali/sync-lines';
import type { Logger } from '../shared/log';
import type { ApiMetrics } from '../shared/metrics';
import { channels } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';

/** What the caller hears of a request sent on a line, besides its messages. */
export interface LineCall {
  /** The worker had no free slot (or is stopping): send the request another way. */
  refused(): void;
  /** The line ended (or went silent) before the request's outcome came. */
  lost(): void;
}

/** A request on its way over a line. */
export interface LineSending {
  /** Its client left: the worker stops it. */
  abort(): void;
  /** Its outcome came (or it was given up): the line's slot is free again. */
  done(): void;
}

/**
 * A line that refused a request is not offered another for this long, ms: its slots are taken
 * by other apis' requests (a thread line's one slot, for a whole request).
 */
const REFUSED_MS = 100;

/** Thread lines before the workers' own lines. */
const rank = (line: Line): number => (line.thread === undefined ? 1 : 0);

/** Milliseconds before a worker whose line ended is dialled again (while its registration lasts). */
const REDIAL_MS = 3000;

interface Line {
  member: string;
  /** The worker's process id (its own line and its thread lines share it). */
  worker: string;
  /** A thread line's index (LineRegistration.thread); undefined for the worker's own line. */
  thread: number | undefined;
  socket: net.Socket;
  ready: boolean;
  /** The worker said BYE: it is stopping and takes nothing new. */
  draining: boolean;
  slots: number;
  heard: number;
  /** When it was last given a request (a count, not a time). */
  used: number;
  /** When it last refused a request (Date.now()): not offered another for REFUSED_MS. */
  refusedAt: number;
  calls: Map<string, LineCall>;
}

export class SyncLines {
  /** Lines by registration (connecting, open or draining). */
  private readonly lines = new Map<string, Line>();
  /** When a line to a registration ended (no redial before REDIAL_MS). */
  private readonly ended = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private uses = 0;
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly events: UwsEvents,
    /** Every MESSAGE frame's payload: an encoded SyncMessage or SyncStreaming (sync-messages.ts). */
    private readonly onMessage: (bytes: Buffer) => void,
    private readonly log: Logger,
    private readonly metrics?: ApiMetrics,
  ) {}

  /** Finds the workers from now on: their announcements, and the registry every few seconds. */
  start(): void {
    const names = channels(this.config.queuePrefix);
    this.events.onSyncMessage(names.syncLinesAnnounce, (bytes) => this.consider(bytes.toString())).catch(() => undefined);
    const poll = () => {
      const now = Date.now();
      for (const [member, at] of this.ended) if (now - at > REDIAL_MS) this.ended.delete(member);
      const redis = this.events.redis;
      redis.zrangebyscore(names.syncLines, now, '+inf').then(
        (members) => members.forEach((m) => this.consider(m)),
        () => undefined, // Redis away: open lines work on
      );
      redis.zremrangebyscore(names.syncLines, '-inf', now).catch(() => undefined);
    };
    poll();
    this.timers.push(setInterval(poll, REGISTRATION_RENEW_MS));
    this.timers.push(setInterval(() => this.checkSilence(), PING_MS));
  }

  /** Open lines (for the metrics). */
  private get open(): number {
    let n = 0;
    for (const line of this.lines.values()) if (line.ready && !line.draining) n++;
    return n;
  }

  /**
   * Sends `request` (its JSON text, id `id`) on a free thread line if there is one (two
   * hand-overs instead of four), else on the open line with the fewest requests of this api in
   * flight; undefined when no line can take it.
   */
  send(id: string, text: string, call: LineCall): LineSending | undefined {
    const now = Date.now();
    let best: Line | undefined;
    for (const line of this.lines.values()) {
      // A line not heard from for two pings may belong to a stopped (SIGSTOP) or dying worker.
      if (
        !line.ready ||
        line.draining ||
        !line.socket.writable ||
        line.calls.size >= line.slots ||
        now - line.heard > 2.5 * PING_MS ||
        now - line.refusedAt < REFUSED_MS
      )
        continue;
      // A thread line first; then the least busy; among equals the one used last: its worker
      // and thread are awake and their caches warm (a worker woken from idle runs the same
      // request ~2-3x slower).
      if (
        !best ||
        rank(line) < rank(best) ||
        (rank(line) === rank(best) && (line.calls.size < best.calls.size || (line.calls.size === best.calls.size && line.used > best.used)))
      )
        best = line;
    }
    if (!best) return undefined;
    const line = best;
    line.used = ++this.uses;
    line.calls.set(id, call);
    writeFrame(line.socket, FRAME.request, Buffer.from(text));
    return {
      abort: () => {
        if (!line.calls.delete(id)) return;
        const abort = Buffer.from(id);
        writeFrame(line.socket, FRAME.abort, abort);
        // A thread busy in a statement reads nothing: its worker's own line stops it. The
        // thread is then ended (a fresh one registers): nothing more goes to this one.
        if (line.thread !== undefined) {
          line.draining = true;
          const own = this.ownLine(line.worker);
          if (own) writeFrame(own.socket, FRAME.abort, abort);
        }
      },
      done: () => void line.calls.delete(id),
    };
  }

  /** The worker's own line (not a thread line), if open. */
  private ownLine(worker: string): Line | undefined {
    for (const line of this.lines.values()) if (line.worker === worker && line.thread === undefined && line.ready) return line;
    return undefined;
  }

  /** A registration seen in the registry or announced: dialled unless a line to it exists. */
  private consider(member: string): void {
    if (this.closed || this.lines.has(member)) return;
    const entry = parseRegistration(member);
    if (!entry) return;
    const ended = this.ended.get(member);
    if (ended !== undefined && Date.now() - ended < REDIAL_MS) return;
    this.ended.delete(member);
    const socket = net.connect({ host: entry.host, port: entry.port });
    socket.setNoDelay(true);
    const line: Line = {
      member,
      worker: entry.worker,
      thread: entry.thread,
      socket,
      ready: false,
      draining: false,
      slots: entry.slots,
      heard: Date.now(),
      used: 0,
      refusedAt: 0,
      calls: new Map(),
    };
    this.lines.set(member, line);
    const handshake = setTimeout(() => socket.destroy(), HANDSHAKE_MS);
    const reader = new FrameReader(MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      line.heard = Date.now();
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.log.warn({ err, worker: entry.worker }, 'sync line closed: unreadable frame');
        socket.destroy();
        return;
      }
      for (const { kind, payload } of frames) this.receive(line, kind, payload, handshake);
    });
    socket.on('error', (err) => {
      if (!line.ready) this.log.debug({ err, host: entry.host, port: entry.port }, 'sync line not opened');
    });
    socket.on('close', () => {
      clearTimeout(handshake);
      if (this.lines.get(member) === line) this.lines.delete(member);
      this.ended.set(member, Date.now());
      if (line.ready) {
        this.log.info({ worker: entry.worker, host: entry.host, port: entry.port, inFlight: line.calls.size }, 'sync line closed');
        this.metrics?.syncLines.set(this.open);
      }
      const calls = [...line.calls.values()];
      line.calls.clear();
      for (const call of calls) call.lost();
    });
  }

  private receive(line: Line, kind: number, payload: Buffer, handshake: NodeJS.Timeout): void {
    switch (kind) {
      case FRAME.hello:
        writeFrame(line.socket, FRAME.answer, answerChallenge(this.config.signingKey, payload));
        return;
      case FRAME.ready:
        clearTimeout(handshake);
        line.ready = true;
        this.metrics?.syncLines.set(this.open);
        this.log.debug({ worker: line.worker, thread: line.thread }, 'sync line open');
        return;
      case FRAME.message:
        this.onMessage(payload);
        return;
      case FRAME.refused: {
        line.refusedAt = Date.now();
        const id = payload.toString();
        const call = line.calls.get(id);
        line.calls.delete(id);
        call?.refused();
        return;
      }
      case FRAME.bye:
        line.draining = true;
        this.metrics?.syncLines.set(this.open);
        return;
      default: // PING: `heard` is enough
        return;
    }
  }

  /** When checkSilence last ran. */
  private checked = Date.now();

  /** Ends lines that have requests in flight but said nothing for LINE_SILENCE_MS: their worker is stuck or gone. */
  private checkSilence(): void {
    const now = Date.now();
    const late = now - this.checked > 2 * PING_MS;
    this.checked = now;
    // This process stalled (its timers run before its sockets are read): the pings may be
    // waiting unread; judge at the next check.
    if (late) return;
    for (const line of this.lines.values()) {
      // A thread line says nothing while its thread computes; its worker's own line speaks for
      // the process (the worker enforces the request's time limit itself).
      const heard = line.thread === undefined ? line.heard : Math.max(line.heard, this.ownLine(line.worker)?.heard ?? 0);
      if (line.calls.size > 0 && now - heard > LINE_SILENCE_MS) {
        this.log.warn({ worker: line.worker, thread: line.thread, silentMs: now - heard }, 'sync line silent: closed');
        line.socket.destroy();
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const line of this.lines.values()) line.socket.destroy();
    this.lines.clear();
  }
}
