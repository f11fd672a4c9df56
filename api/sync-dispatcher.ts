/**
 * The api side of DALI-sync requests (shared/dali/sync-messages.ts): hands a request to a worker
 * through Redis and waits for its outcome. A request still in the list after
 * SYNC_QUEUE_TIMEOUT is withdrawn (503 for the caller); one a worker took but never answered
 * ends SYNC_TIMEOUT plus a grace period later; a client that hangs up aborts it. While Redis
 * is unreachable a request waits for it up to SYNC_QUEUE_TIMEOUT, then is a 503 as well; it
 * is never left inside the client library to be sent whenever Redis comes back.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response } from 'express';
import type { Config } from '../shared/config';
import { parseSyncMessage, SYNC_TAKEN_TTL_MS, syncDir, type SyncOutcome, type SyncRequest } from '../shared/dali/sync-messages';
import { newProcessId, newSyncRequestId } from '../shared/ids';
import type { ApiMetrics } from '../shared/metrics';
import type { Logger } from '../shared/log';
import { channels, whenReady, within } from '../shared/redis';
import type { UwsEvents } from '../shared/uws/events';
import { containedPath } from '../shared/storage';
import type { JobParameter } from '../shared/uws/model';
import { sendFileOr404 } from './http/errors';
import { ownerOf } from './auth';
import { keepUploads, paramLimits, readParams, type RequestParams } from './http/params';
import { baseUrl } from './http/base-url';
import { SyncLines, type LineSending } from './sync-lines';

/** Seconds a client refused with 503 is told to wait before it retries (Retry-After). */
const RETRY_AFTER_S = 5;

/** Extra seconds past SYNC_TIMEOUT before a request whose worker went silent is given up. */
const LOST_WORKER_GRACE_S = 5;
/** Lines a request is offered to before it goes through the Redis list (each refusal costs a round trip). */
const MAX_LINE_TRIES = 3;

/** The 503's reason when Redis cannot be reached (the request never reached a worker). */
export const REDIS_UNREACHABLE = 'the job queue (Redis) is unreachable; please retry later';

export class SyncUnavailable extends Error {
  override name = 'SyncUnavailable';
}

interface Pending {
  settle(outcome: SyncOutcome, data: Buffer | undefined): void;
  stream(file: string, mimeType: string): void;
}

interface Final {
  outcome: SyncOutcome;
  /** The first result's bytes, when they came inside the reply (else it is a file under dir). */
  data: Buffer | undefined;
}

export type SyncRun = (
  | ({ kind: 'final' } & Final)
  | {
      /** The first result outgrew SYNC_INLINE_BYTES: its file grows until `final` settles. */
      kind: 'streaming';
      file: string;
      mimeType: string;
      /** The outcome; rejects (SyncUnavailable) when the worker was lost or the client left. */
      final: Promise<Final>;
    }
) & {
  /** The request's directory: results are under results/; remove it with `dispose()`. */
  dir: string;
  dispose(): Promise<void>;
};

export class SyncDispatcher {
  private readonly pending = new Map<string, Pending>();
  /** This api process's id: workers publish its requests' outcomes on its own channel. */
  private readonly instance = newProcessId();
  /**
   * Settles once this process's reply channel is subscribed (at once unless Redis is down
   * at start: the subscription is then made when Redis comes; no request is sent before).
   */
  readonly subscribed: Promise<void>;
  private replyChannelReady = false;

  /** Straight connections to the workers (SYNC_LINES), tried before the Redis list. */
  private readonly lines: SyncLines | undefined;

  private constructor(
    private readonly config: Config,
    private readonly events: UwsEvents,
    log: Logger,
    /** The api's metrics: sync request durations (syncEndpoint), Redis errors. */
    readonly metrics: ApiMetrics | undefined,
  ) {
    this.subscribed = events.onSyncMessage(channels(config.queuePrefix).syncReplies(this.instance), (bytes) => this.onMessage(bytes));
    this.subscribed.then(
      () => (this.replyChannelReady = true),
      () => undefined,
    );
    if (config.syncLines) {
      this.lines = new SyncLines(config, events, (bytes) => this.onMessage(bytes), log, metrics);
      this.lines.start();
    }
  }

  /** Subscribes to this process's reply channel and finds the workers' sync lines; callers wait on `subscribed` as they see fit. */
  static create(config: Config, events: UwsEvents, log: Logger, metrics?: ApiMetrics): SyncDispatcher {
    return new SyncDispatcher(config, events, log, metrics);
  }

  /** Ends the sync lines (requests in flight on them are lost: call once the HTTP server is closed). */
  close(): void {
    this.lines?.close();
  }

  private redisFailed(): void {
    this.metrics?.redisErrors.inc({ operation: 'sync' });
  }

  /** Waits until a request can be sent and its reply received, at most until `deadline`. */
  private async reachable(deadline: number): Promise<boolean> {
    if (
      !this.replyChannelReady &&
      !(await within(Math.max(0, deadline - Date.now()), this.subscribed).then(
        () => true,
        () => false,
      ))
    )
      return false;
    return whenReady(this.events.redis, deadline - Date.now());
  }

  private onMessage(bytes: Buffer): void {
    const message = parseSyncMessage(bytes);
    const pending = message && this.pending.get(message.id);
    if (!message || !pending) return;
    if ('streaming' in message) pending.stream(message.streaming.file, message.streaming.mimeType);
    else pending.settle(message.outcome, message.data);
  }

  /**
   * Runs a request of `service` in a worker; resolves with its outcome, or earlier, when its
   * result started to go to a file, with that file to stream. `onClose` registers what to do
   * when the client hangs up. Throws SyncUnavailable when no worker took it in time, or its
   * worker was lost before either.
   */
  async run(
    service: string,
    params: RequestParams,
    context: { owner: string | null; baseUrl: string; onClose(listener: () => void): void },
  ): Promise<SyncRun> {
    // SYNC_QUEUE_TIMEOUT counts from here, whether the wait is for Redis or for a worker.
    const deadline = Date.now() + this.config.syncQueueTimeout * 1000;
    const id = newSyncRequestId();
    const dir = syncDir(this.config.resultsDir, id);
    const dispose = () => fs.rm(dir, { recursive: true, force: true });
    const uploads = await keepUploads(params.files, path.join(dir, 'uploads'));
    const parameters: JobParameter[] = [...params.list.map((p) => ({ name: p.name, value: p.value })), ...uploads];
    const request: SyncRequest = {
      id,
      service,
      owner: context.owner,
      parameters,
      baseUrl: context.baseUrl,
      timeout: this.config.syncTimeout,
      inlineLimit: this.config.syncInlineBytes,
      replyTo: this.instance,
    };
    const text = JSON.stringify(request);
    const key = channels(this.config.queuePrefix).syncRequests(service);
    const redis = this.events.redis;
    let clientGone: (() => void) | undefined;
    let closedEarly = false;
    context.onClose(() => (clientGone ? clientGone() : (closedEarly = true)));

    let timer: NodeJS.Timeout | undefined;
    let watch: NodeJS.Timeout | undefined;
    let line: LineSending | undefined;
    let settled = false;
    /**
     * Once a worker holds the request's "taken" key, its disappearance with no outcome means
     * the worker died: answered within seconds, not after SYNC_TIMEOUT. Two misses in a row,
     * so an outcome published just before the key is deleted still wins.
     */
    const watchWorker = (lost: () => void) => {
      const takenKey = channels(this.config.queuePrefix).syncTaken(id);
      let seen = false;
      let misses = 0;
      watch = setInterval(() => {
        redis.exists(takenKey).then(
          (exists) => {
            if (exists) [seen, misses] = [true, 0];
            else if (seen && ++misses >= 2) lost();
          },
          () => undefined, // Redis away: the other timers decide
        );
      }, SYNC_TAKEN_TTL_MS / 3);
    };
    let streamed: ((file: string, mimeType: string) => void) | undefined;
    const final = new Promise<Final>((resolve, reject) => {
      const fail = (message: string) => {
        settled = true;
        reject(new SyncUnavailable(message));
      };
      /** A worker took the request `seconds` ago and has said nothing since. */
      const silentFor = (seconds: number) => () => fail(`the worker running the request did not answer within ${seconds} s`);
      const workerLost = () => fail('the worker running the request stopped before it answered; please retry');
      this.pending.set(id, {
        settle: (outcome, data) => {
          settled = true;
          resolve({ outcome, data });
        },
        stream: (file, mimeType) => streamed?.(file, mimeType),
      });
      /** Through the Redis list: any worker takes it when it has a free slot. */
      const queue = async () => {
        clientGone = () => {
          // Best effort: with Redis away the request may stay in the list (a worker's outcome
          // then goes to nobody).
          redis.lrem(key, 1, text).catch(() => undefined);
          this.events.publishAbort(id).catch(() => undefined);
          fail('the client closed the connection');
        };
        // Not pushed while Redis is away: a command left waiting in ioredis would reach the list
        // whenever Redis returns, long after this request was answered.
        if (!(await this.reachable(deadline))) {
          if (!settled) {
            this.redisFailed();
            fail(REDIS_UNREACHABLE);
          }
          return;
        }
        if (settled) return;
        watchWorker(workerLost);
        timer = setTimeout(
          () => {
            // Withdraw the request if it is still waiting; if a worker took it (it is no longer in
            // the list), give that worker the request's time limit. If Redis is unreachable now,
            // nobody can tell: the caller gets its 503 at once rather than a wait for Redis.
            redis.lrem(key, 1, text).then(
              (removed) => {
                if (removed > 0)
                  fail(`no worker took the request within ${this.config.syncQueueTimeout} s; the service is busy or has no worker running`);
                else
                  timer = setTimeout(
                    silentFor(this.config.syncQueueTimeout + this.config.syncTimeout + LOST_WORKER_GRACE_S),
                    (this.config.syncTimeout + LOST_WORKER_GRACE_S) * 1000,
                  );
              },
              () => {
                this.redisFailed();
                fail(REDIS_UNREACHABLE);
              },
            );
          },
          Math.max(0, deadline - Date.now()),
        );
        // Bounded: the connection fails fast, or after COMMAND_TIMEOUT_MS (shared/redis).
        redis.rpush(key, text).catch(() => {
          this.redisFailed();
          fail(REDIS_UNREACHABLE);
        });
      };
      if (closedEarly) {
        fail('the client closed the connection');
        return;
      }
      // Straight to a worker with a free slot when a sync line has one; else (or when the
      // lines refuse it after all) through the queue.
      let tries = 0;
      const viaLine = (): boolean => {
        line = this.lines?.send(id, text, {
          refused: () => {
            line = undefined;
            clearTimeout(timer);
            // Another line may take it: a thread line refuses while it runs another api's request.
            if (++tries >= MAX_LINE_TRIES || settled || !viaLine()) void queue();
          },
          lost: workerLost,
        });
        if (!line) return false;
        const sent = line;
        clientGone = () => {
          sent.abort();
          fail('the client closed the connection');
        };
        // The worker stops the request after SYNC_TIMEOUT itself; this is for one that hangs.
        const seconds = this.config.syncTimeout + LOST_WORKER_GRACE_S;
        timer = setTimeout(silentFor(seconds), seconds * 1000);
        return true;
      };
      if (!viaLine()) void queue();
    }).finally(() => {
      clearTimeout(timer);
      clearInterval(watch);
      line?.done();
      this.pending.delete(id);
    });
    const started = new Promise<{ file: string; mimeType: string }>((resolve) => {
      streamed = (file, mimeType) => resolve({ file, mimeType });
    });
    try {
      const first = await Promise.race([final, started]);
      if ('file' in first) {
        final.catch(() => undefined); // the streaming side awaits it
        return { kind: 'streaming', ...first, final, dir, dispose };
      }
      // The directory exists only for uploads and results that did not fit in the reply
      // (or a request that failed on the way): nothing to remove otherwise.
      const { outcome, data } = first;
      const inline = outcome.ok && outcome.results.length <= 1 && (outcome.results.length === 0 || data !== undefined);
      return { kind: 'final', outcome, data, dir, dispose: uploads.length === 0 && inline ? () => Promise.resolve() : dispose };
    } catch (err) {
      await dispose();
      throw err;
    }
  }
}

export interface SyncErrorWriter {
  /** Writes an error response in the service's own format (VOTable, SODA text/plain…). */
  (res: Response, status: number, message: string, kind: 'usage' | 'internal' | 'unavailable'): void;
}

/**
 * Runs a DALI-sync request in a worker and answers with its first result: 200 and the file
 * with the result's media type, 204 when the processor produced none (SODA: no overlap),
 * 400 for the user's errors, 503 (with Retry-After) when no worker could take or finish it, 500 otherwise.
 */
export async function serveSync(
  dispatcher: SyncDispatcher,
  service: string,
  res: Response,
  params: RequestParams,
  context: { owner: string | null; baseUrl: string },
  writeError: SyncErrorWriter,
): Promise<void> {
  let run: SyncRun;
  try {
    run = await dispatcher.run(service, params, {
      ...context,
      onClose: (listener) => res.on('close', () => !res.writableFinished && listener()),
    });
  } catch (err) {
    if (!(err instanceof SyncUnavailable)) throw err;
    if (!res.headersSent && !res.destroyed) {
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      writeError(res, 503, err.message, 'unavailable');
    }
    return;
  }
  try {
    if (run.kind === 'streaming') {
      const file = containedPath(path.join(run.dir, 'results'), run.file);
      if (!file) throw new Error(`sync result file name ${run.file} escapes its directory`);
      await streamGrowingFile(res, file, run.mimeType, run.final);
      return;
    }
    const { outcome } = run;
    if (!outcome.ok) {
      if (outcome.userError) writeError(res, 400, outcome.message, 'usage');
      else if (outcome.errorType === 'transient') {
        // The worker could not finish it (stopping, its thread failed): worth a retry.
        res.setHeader('Retry-After', String(RETRY_AFTER_S));
        writeError(res, 503, outcome.message, 'unavailable');
      } else writeError(res, 500, outcome.message, 'internal');
      return;
    }
    const [result] = outcome.results;
    if (!result) {
      res.status(204).end();
      return;
    }
    if (run.data) {
      res.status(200).setHeader('Content-Type', result.mimeType);
      res.end(run.data);
      return;
    }
    const file = containedPath(path.join(run.dir, 'results'), result.file);
    if (!file) throw new Error(`sync result file name ${result.file} escapes its directory`);
    await sendFileOr404(res, file, result.mimeType, 'result file not found');
  } finally {
    await run.dispose();
  }
}

/** Bytes read from a growing result file at a time, and the pause when none are new yet. */
const STREAM_CHUNK_BYTES = 1 << 20;
const STREAM_POLL_MS = 5;

/**
 * Sends a result file that a worker is still writing (DALI-sync output streamed as it is
 * produced: the client gets bytes from the first SYNC_INLINE_BYTES on, and no proxy times
 * out on a long query), until the outcome arrives and the file has been sent to its end.
 * An outcome that is an error after the 200 went out can only cut the response short: the
 * connection is closed before the end of the body, which clients report as an incomplete
 * transfer.
 */
async function streamGrowingFile(res: Response, file: string, mimeType: string, final: Promise<Final>): Promise<void> {
  let settled: { ok: boolean } | undefined;
  final.then(
    ({ outcome }) => (settled = { ok: outcome.ok }),
    () => (settled = { ok: false }),
  );
  const handle = await fs.open(file, 'r');
  try {
    res.status(200).setHeader('Content-Type', mimeType);
    // Two buffers in turn, each reused once the socket has taken its last chunk: reading the
    // next chunk overlaps sending this one, and no chunk is allocated (a megabyte per chunk
    // kept the api's garbage collector busy: 87 MiB per 100k-row result).
    const buffers = [Buffer.allocUnsafe(STREAM_CHUNK_BYTES), Buffer.allocUnsafe(STREAM_CHUNK_BYTES)] as const;
    const sent: (Promise<void> | undefined)[] = [undefined, undefined];
    let turn = 0;
    let position = 0;
    for (;;) {
      if (res.destroyed) return;
      await sent[turn];
      const buffer = buffers[turn]!;
      const done = settled; // read before the file: everything written before the outcome is then in it
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        sent[turn] = writeChunk(res, buffer.subarray(0, bytesRead));
        turn = 1 - turn;
        continue;
      }
      if (done === undefined) {
        await Promise.race([final.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, STREAM_POLL_MS))]);
        continue;
      }
      if (done.ok) res.end();
      else res.destroy(); // the body ends before its last chunk: the client sees the failure
      return;
    }
  } finally {
    await handle.close();
  }
}

/** Writes a chunk; resolves once the socket has taken it (or the response is gone). */
function writeChunk(res: Response, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const onClose = (): void => resolve();
    res.once('close', onClose);
    res.write(chunk, () => {
      res.off('close', onClose);
      resolve();
    });
  });
}

/** The GET/POST handler of a DALI-sync endpoint of `service` (TAP /sync, SODA /sync, SIA /query). */
export function syncEndpoint(
  config: Config,
  dispatcher: SyncDispatcher,
  service: string,
  writeError: SyncErrorWriter,
): (req: Request, res: Response) => Promise<void> {
  const limits = paramLimits(config);
  const durations = dispatcher.metrics?.syncDuration;
  return async (req, res) => {
    if (durations) {
      // From arrival to the end of the answer (a streamed one included); "closed" when the
      // connection ended before the answer did (the client left, or a stream was cut).
      const started = performance.now();
      res.once('close', () =>
        durations.observe(
          { service, status: res.writableFinished ? String(res.statusCode) : 'closed' },
          (performance.now() - started) / 1000,
        ),
      );
    }
    const params = await readParams(req, limits);
    try {
      await serveSync(dispatcher, service, res, params, { owner: ownerOf(res), baseUrl: baseUrl(config, req) }, writeError);
    } finally {
      await params.discardFiles();
    }
  };
}
