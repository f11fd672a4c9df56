/**
 * Sync lines (shared/dali/sync-lines.ts): DALI-sync requests sent by the api straight to a
 * worker over a TCP connection, with the Redis list for what a line cannot take; and thread
 * lines, which end in one of the worker's processor threads. A real
 * system: its own redis-server, the api in this process (and a second api where a test needs
 * one), a worker process with its metrics endpoint, a small demo repository.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApiServer } from '../../api/server';
import type { Config } from '../../shared/config';
import {
  answerChallenge,
  answerIsRight,
  FRAME,
  FrameError,
  FrameReader,
  MAX_HANDSHAKES,
  parseRegistration,
  writeFrame,
} from '../../shared/dali/sync-lines';
import { createLogger } from '../../shared/log';
import { channels, connectRedis } from '../../shared/redis';
import { freePort, startRedisServer, type RedisServer } from '../../shared/redis/server';
import { loadServices } from '../../shared/services';
import { services as fixtureServices } from '../fixtures/services';
import { Client, sleep } from '../helpers/http';
import { scrape, valueOf } from '../operators/prometheus';
import { startTapStack, tableRows, type TapFixture } from './fixture';

const ONE_ROW = { LANG: 'ADQL', QUERY: 'SELECT TOP 1 obs_id FROM ivoa.ObsCore ORDER BY obs_id' };
/** Eight copies of the table: minutes of SQLite (stopped by SYNC_TIMEOUT, an abort, or a hang-up). */
const ALIASES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const CARTESIAN = `SELECT COUNT(*) FROM ${ALIASES.map((a) => `ivoa.ObsCore AS ${a}`).join(', ')} WHERE ${ALIASES.map((a) => `${a}.s_ra`).join(' + ')} > -1`;

/** CPU seconds (user + system) process `pid` has used: /proc/<pid>/stat fields 14 and 15. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Sends CARTESIAN to `url`, checks that the worker computes it, hangs up after 1.5 s, and
 * returns the worker's CPU seconds over 1.5 s from 0.8 s after (a stopped query: next to none).
 */
async function cpuAfterHangUp(url: string, workerCpuSeconds: () => number): Promise<number> {
  const controller = new AbortController();
  const answer = fetch(`${url}/api/tap/sync?${new URLSearchParams({ LANG: 'ADQL', QUERY: CARTESIAN }).toString()}`, {
    signal: controller.signal,
  }).catch((err: unknown) => err);
  await sleep(1000);
  const busy = workerCpuSeconds();
  await sleep(500);
  expect(workerCpuSeconds() - busy).toBeGreaterThan(0.1);
  controller.abort();
  expect(await answer).toMatchObject({ name: 'AbortError' });
  await sleep(800);
  const before = workerCpuSeconds();
  await sleep(1500);
  return workerCpuSeconds() - before;
}

/** Another api process's worth: the same Redis, store and workers as `fx`, with `config` over the stack's (closed with `apis`). */
async function startApi(fx: TapFixture, config: Partial<Config>, apis: ApiServer[]): Promise<Client> {
  const api = await ApiServer.start({
    config: { ...fx.stack.config, serviceModules: [], ...config },
    services: loadServices({ serviceModules: [] }, fixtureServices),
    log: createLogger('api', fx.stack.config.logLevel),
  });
  apis.push(api);
  return new Client(api.url);
}

/** Waits until the api at `url` has `n` open sync lines (its vo_sync_lines_open gauge). */
async function linesOpen(url: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (valueOf(await scrape(`${url}/metrics`), 'vo_sync_lines_open') === n) return;
    await sleep(50);
  }
  throw new Error(`${url} never had ${n} sync lines open`);
}

/** A system of its own: a redis-server, the TAP stack with `env` and one worker process with its metrics endpoint. */
async function startSystem(name: string, env: Record<string, string>) {
  const redisDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-redis-`));
  const redis = await startRedisServer({ dir: redisDir });
  const metricsPort = await freePort();
  const fx = await startTapStack({ workers: 0, redis, env });
  await fx.stack.startWorker({ METRICS_PORT: String(metricsPort) });
  return { redisDir, redis, metricsPort, fx, http: new Client(fx.stack.url) };
}

async function stopSystem(system: { apis: ApiServer[]; fx?: TapFixture; redis?: RedisServer; redisDir?: string }): Promise<void> {
  await Promise.all(system.apis.map((api) => api.close()));
  await system.fx?.close();
  await system.redis?.stop();
  if (system.redisDir) fs.rmSync(system.redisDir, { recursive: true, force: true });
}

describe('frames', () => {
  const bytes = (kind: number, payload: string) => {
    const body = Buffer.from(payload);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length + 1, 0);
    head[4] = kind;
    return Buffer.concat([head, body]);
  };

  test('frames cut anywhere, or several in one chunk, come out whole and in order', () => {
    const stream = Buffer.concat([bytes(FRAME.request, '{"id":"x"}'), bytes(FRAME.ping, ''), bytes(FRAME.message, 'é'.repeat(3000))]);
    for (const step of [1, 2, 3, 5, 7, 4096, stream.length]) {
      const reader = new FrameReader(1 << 20);
      const frames: [number, string][] = [];
      for (let at = 0; at < stream.length; at += step)
        for (const f of reader.push(stream.subarray(at, at + step))) frames.push([f.kind, f.payload.toString()]);
      expect(frames).toEqual([
        [FRAME.request, '{"id":"x"}'],
        [FRAME.ping, ''],
        [FRAME.message, 'é'.repeat(3000)],
      ]);
    }
  });

  test('a frame over the limit, or an empty one, is refused before its bytes arrive', () => {
    expect(() => new FrameReader(100).push(bytes(FRAME.request, 'x'.repeat(100)).subarray(0, 4))).toThrow(
      new FrameError('frame of 101 bytes (at most 100)'),
    );
    expect(() => new FrameReader(100).push(Buffer.from([0, 0, 0, 0]))).toThrow(FrameError);
    const reader = new FrameReader(100);
    expect(reader.push(bytes(FRAME.request, 'x'.repeat(99)))).toHaveLength(1);
    reader.allow(10);
    expect(() => reader.push(bytes(FRAME.request, 'x'.repeat(10)))).toThrow('frame of 11 bytes (at most 10)');
  });

  test('the challenge is answered with SIGNING_KEY: another key, or a cut answer, is wrong', () => {
    const challenge = Buffer.from('0123456789abcdef0123456789abcdef');
    const answer = answerChallenge('key-a', challenge);
    expect(answer).toHaveLength(32);
    expect(answerIsRight('key-a', challenge, answer)).toBe(true);
    expect(answerIsRight('key-b', challenge, answer)).toBe(false);
    expect(answerIsRight('key-a', challenge, answer.subarray(0, 31))).toBe(false);
    expect(answerIsRight('key-a', Buffer.from('another challenge'), answer)).toBe(false);
  });
});

describe('a system with sync lines', () => {
  let redis: RedisServer;
  let redisDir: string;
  let fx: TapFixture;
  let http: Client;
  let metricsPort: number;
  const apis: ApiServer[] = [];

  beforeAll(async () => {
    // One slot: a second request finds the worker busy. The worker's own line only (thread lines: below).
    ({ redisDir, redis, metricsPort, fx, http } = await startSystem('sync-lines', {
      WORKER_CONCURRENCY: '1',
      SYNC_TIMEOUT: '3',
      SYNC_QUEUE_TIMEOUT: '20',
      SYNC_THREAD_LINES: '0',
    }));
    await linesOpen(fx.stack.url, 1);
  }, 90000);
  afterAll(() => stopSystem({ apis, fx, redis, redisDir }));

  const anotherApi = (config: Partial<Config>) => startApi(fx, config, apis);

  const taken = async () => {
    const families = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    return {
      line: valueOf(families, 'vo_sync_requests_taken_total', { route: 'line' }),
      queue: valueOf(families, 'vo_sync_requests_taken_total', { route: 'queue' }),
    };
  };
  const moved = async (work: () => Promise<void>) => {
    const before = await taken();
    await work();
    const after = await taken();
    return { line: after.line - before.line, queue: after.queue - before.queue };
  };

  /** The worker's sync-line port, from its registration. */
  const workerLinePort = async () => {
    const client = connectRedis(redis.url);
    try {
      const [member] = await client.zrangebyscore(channels(fx.stack.config.queuePrefix).syncLines, Date.now(), '+inf');
      return parseRegistration(member!)!.port;
    } finally {
      client.disconnect();
    }
  };
  /** A request's status, and how it reached the worker. */
  const taken1 = async (send: () => Promise<{ status: number }>) => {
    let status = 0;
    const counts = await moved(async () => {
      status = (await send()).status;
    });
    return { status, ...counts };
  };

  /** CPU seconds (user + system) the worker process has used: /proc/<pid>/stat fields 14 and 15. */
  const workerCpuSeconds = () => cpuSeconds(fx.stack.workers[0]!.child.pid!);

  test('a sync request goes straight to the worker over its line, and nothing waits in the Redis list', async () => {
    let reply;
    expect(
      await moved(async () => {
        reply = await http.get('/api/tap/sync', ONE_ROW);
      }),
    ).toEqual({ line: 1, queue: 0 });
    expect(reply!.status).toBe(200);
    expect(tableRows(reply!.text)).toHaveLength(1);
    const client = connectRedis(redis.url);
    try {
      expect(await client.llen(channels(fx.stack.config.queuePrefix).syncRequests('tap'))).toBe(0);
      // The worker's registration, as apis find it.
      const [member] = await client.zrangebyscore(channels(fx.stack.config.queuePrefix).syncLines, Date.now(), '+inf');
      expect(parseRegistration(member!)).toMatchObject({ host: '127.0.0.1', slots: 1 });
    } finally {
      client.disconnect();
    }
  });

  test('an api with SYNC_LINES=0 sends the same request through the Redis list and gets the same answer', async () => {
    const queued = await anotherApi({ syncLines: false });
    const direct = await http.get('/api/tap/sync', ONE_ROW);
    let reply;
    expect(
      await moved(async () => {
        reply = await queued.get('/api/tap/sync', ONE_ROW);
      }),
    ).toEqual({ line: 0, queue: 1 });
    expect(reply!.status).toBe(200);
    expect(tableRows(reply!.text)).toEqual(tableRows(direct.text));
    expect(valueOf(await scrape(`${queued.base}/metrics`), 'vo_sync_lines_open')).toBe(0);
  });

  test('a worker with no free slot refuses a line’s request: it goes through the queue and is answered once the slot frees', async () => {
    // A second api has a line of its own to the same worker; this api's long request holds the worker's one slot.
    const other = await anotherApi({});
    await linesOpen(other.base, 1);
    const counts = await moved(async () => {
      const long = http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN });
      await sleep(700);
      const started = Date.now();
      const short = await other.get('/api/tap/sync', ONE_ROW);
      const waited = Date.now() - started;
      expect(short.status).toBe(200);
      expect(tableRows(short.text)).toHaveLength(1);
      // Answered after SYNC_TIMEOUT (3 s) stopped the long request, not before.
      expect(waited).toBeGreaterThan(1500);
      const stopped = await long;
      expect(stopped.status).toBe(400);
      expect(stopped.text).toContain('the request ran longer than 3 s and was stopped');
    });
    expect(counts).toEqual({ line: 1, queue: 1 });
  }, 30000);

  test('a client that hangs up stops its request in the worker (an abort frame on the line)', async () => {
    // SYNC_TIMEOUT (3 s) would have stopped it 1.5 s later.
    expect(await cpuAfterHangUp(fx.stack.url, workerCpuSeconds)).toBeLessThan(0.3);
    // The slot is free again: the next request does not wait.
    expect((await http.get('/api/tap/sync', ONE_ROW)).status).toBe(200);
  }, 20000);

  test('a connection that does not answer the challenge is closed, and what it sent is never run', async () => {
    const port = await workerLinePort();
    const request = JSON.stringify({
      id: 'aaaaaaaaaaaaaaaa',
      service: 'tap',
      owner: null,
      parameters: [
        { name: 'LANG', value: 'ADQL' },
        { name: 'QUERY', value: CARTESIAN },
      ],
      baseUrl: 'http://x',
      timeout: 60,
      inlineLimit: 1000,
      replyTo: 'bbbbbbbbbbbbbbbb',
    });
    const attempt = (answer: (challenge: Buffer) => Buffer | undefined) =>
      new Promise<number[]>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        const reader = new FrameReader(1 << 20);
        const kinds: number[] = [];
        socket.on('data', (chunk: Buffer) => {
          for (const f of reader.push(chunk)) {
            kinds.push(f.kind);
            if (f.kind !== FRAME.hello) continue;
            const a = answer(f.payload);
            if (a) writeFrame(socket, FRAME.answer, a);
            writeFrame(socket, FRAME.request, Buffer.from(request));
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(kinds));
      });
    const counts = await moved(async () => {
      // No answer: the request frame is taken for one, and is wrong.
      expect(await attempt(() => undefined)).toEqual([FRAME.hello]);
      // An answer made with another key.
      expect(await attempt((challenge) => answerChallenge('not the signing key', challenge))).toEqual([FRAME.hello]);
    });
    expect(counts).toEqual({ line: 0, queue: 0 });
  });

  test('at most MAX_HANDSHAKES connections wait for their answer: one more is closed at once; lines that answered work on', async () => {
    const port = await workerLinePort();
    /** A raw connection and what it has seen so far (frame kinds, closed or not), kept up to date. */
    const open = () => {
      const socket = net.connect(port, '127.0.0.1');
      const seen = { closed: false, kinds: [] as number[] };
      const reader = new FrameReader(1 << 20);
      socket.on('data', (chunk: Buffer) => reader.push(chunk).forEach((f) => seen.kinds.push(f.kind)));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) =>
        socket.on('close', () => {
          seen.closed = true;
          resolve();
        }),
      );
      return { socket, seen, closed };
    };
    const waiting = Array.from({ length: MAX_HANDSHAKES }, open);
    // Each got its challenge; none has answered (the worker closes them after HANDSHAKE_MS).
    for (let i = 0; i < 100 && !waiting.every((w) => w.seen.kinds.length === 1); i++) await sleep(10);
    const extra = open();
    await extra.closed;
    // Judged the moment the extra one is closed, well within HANDSHAKE_MS of the others.
    expect(extra.seen).toEqual({ closed: true, kinds: [] });
    expect(waiting.map((w) => w.seen)).toEqual(waiting.map(() => ({ closed: false, kinds: [FRAME.hello] })));
    for (const w of waiting) w.socket.destroy();
    expect(await taken1(() => http.get('/api/tap/sync', ONE_ROW))).toEqual({ status: 200, line: 1, queue: 0 });
  });

  test('an api with another SIGNING_KEY opens no line; its requests go through the Redis list', async () => {
    const stranger = await anotherApi({ signingKey: 'another key entirely' });
    await sleep(1500);
    expect(valueOf(await scrape(`${stranger.base}/metrics`), 'vo_sync_lines_open')).toBe(0);
    let reply;
    expect(
      await moved(async () => {
        reply = await stranger.get('/api/tap/sync', ONE_ROW);
      }),
    ).toEqual({ line: 0, queue: 1 });
    expect(reply!.status).toBe(200);
  });

  test('with Redis away, a sync request still reaches the worker over its line', async () => {
    await redis.stop();
    try {
      const started = Date.now();
      const reply = await http.get('/api/tap/sync', ONE_ROW);
      expect(reply.status).toBe(200);
      expect(tableRows(reply.text)).toHaveLength(1);
      // Not the Redis route's wait (SYNC_QUEUE_TIMEOUT, then a 503).
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      redis = await startRedisServer({ dir: redisDir, port: redis.port });
    }
  }, 20000);
  test('a worker stopped gracefully (SIGTERM) answers the line requests it runs, however long past the silence limit (pings go on)', async () => {
    await fx.stack.workers[0]!.stop('SIGKILL');
    const stopping = await fx.stack.startWorker({ SHUTDOWN_GRACE: '20' });
    const patient = await anotherApi({ syncTimeout: 6 });
    await linesOpen(patient.base, 1);
    const started = Date.now();
    const answer = patient.get('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN });
    await sleep(1000);
    const exited = stopping.stop('SIGTERM');
    const reply = await answer;
    // Its own time limit ended it, 5 s after the worker began to stop (LINE_SILENCE_MS is 3.5 s).
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('the request ran longer than 6 s and was stopped');
    expect(Date.now() - started).toBeGreaterThan(5500);
    expect(await exited).toBe(0);
  }, 30000);
});

describe('thread lines (SYNC_THREAD_LINES)', () => {
  let redis: RedisServer;
  let redisDir: string;
  let fx: TapFixture;
  let http: Client;
  let metricsPort: number;
  const apis: ApiServer[] = [];

  beforeAll(async () => {
    ({ redisDir, redis, metricsPort, fx, http } = await startSystem('thread-lines', {
      WORKER_CONCURRENCY: '1',
      SYNC_TIMEOUT: '3',
      SYNC_THREAD_LINES: '1',
    }));
    await linesOpen(fx.stack.url, 2);
  }, 90000);
  afterAll(() => stopSystem({ apis, fx, redis, redisDir }));

  const routes = async () => {
    const families = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    const count = (route: string) => valueOf(families, 'vo_sync_requests_taken_total', { route }) ?? 0;
    return { thread: count('thread'), line: count('line'), queue: count('queue') };
  };
  /**
   * What `work`, which makes `requests` requests, sent over each route. A thread line's
   * request is counted by the worker's main thread just after its answer has gone: waited for.
   */
  const moved = async (requests: number, work: () => Promise<void>) => {
    const before = await routes();
    await work();
    for (let i = 0; ; i++) {
      const after = await routes();
      const counts = { thread: after.thread - before.thread, line: after.line - before.line, queue: after.queue - before.queue };
      if (counts.thread + counts.line + counts.queue >= requests || i === 40) return counts;
      await sleep(50);
    }
  };

  const workerCpuSeconds = () => cpuSeconds(fx.stack.workers[0]!.child.pid!);

  test('the worker registers its own line and a thread line; a sync request goes to the thread line, which answers it', async () => {
    const client = connectRedis(redis.url);
    try {
      const members = await client.zrangebyscore(channels(fx.stack.config.queuePrefix).syncLines, Date.now(), '+inf');
      const entries = members.map((m) => parseRegistration(m)!).sort((a, b) => (a.thread ?? -1) - (b.thread ?? -1));
      expect(entries).toEqual([
        { worker: entries[0]!.worker, host: '127.0.0.1', port: entries[0]!.port, slots: 1 },
        { worker: entries[0]!.worker, host: '127.0.0.1', port: entries[1]!.port, slots: 1, thread: 0 },
      ]);
      expect(entries[1]!.port).not.toBe(entries[0]!.port);
    } finally {
      client.disconnect();
    }
    let reply;
    expect(
      await moved(1, async () => {
        reply = await http.get('/api/tap/sync', ONE_ROW);
      }),
    ).toEqual({ thread: 1, line: 0, queue: 0 });
    expect(reply!.status).toBe(200);
    expect(tableRows(reply!.text)).toHaveLength(1);
    // The worker's main thread still counts what the thread produced (one row).
    const families = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(valueOf(families, 'vo_rows_streamed_total', { service: 'tap', mode: 'sync' })).toBeGreaterThanOrEqual(1);
  });

  /**
   * CARTESIAN from this test's api (on its thread line, until SYNC_TIMEOUT stops it), and 0.7 s
   * later ONE_ROW from `client`: the routes they took, how long the short one waited, the long
   * one's answer and how long it took.
   */
  const longThenShort = async (client: Client) => {
    let long: { status: number; text: string } | undefined;
    let waited = 0;
    let longTook = 0;
    const counts = await moved(2, async () => {
      const started = Date.now();
      const answer = http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN }).then((r) => {
        longTook = Date.now() - started;
        return r;
      });
      await sleep(700);
      const t0 = Date.now();
      const short = await client.get('/api/tap/sync', ONE_ROW);
      waited = Date.now() - t0;
      expect(short.status).toBe(200);
      expect(tableRows(short.text)).toHaveLength(1);
      long = await answer;
    });
    return { counts, waited, long: long!, longTook };
  };

  test('while the thread line runs a request, the next goes to the worker’s own line at once; SYNC_TIMEOUT stops the first, and a fresh thread line takes over', async () => {
    const { counts, waited, long, longTook } = await longThenShort(http);
    expect(counts).toEqual({ thread: 1, line: 1, queue: 0 });
    // Not behind the long one.
    expect(waited).toBeLessThan(1500);
    // The watchdog stopped it after SYNC_TIMEOUT (3 s), and the thread said why.
    expect(long.status).toBe(400);
    expect(long.text).toContain('the request ran longer than 3 s and was stopped');
    expect(longTook).toBeGreaterThan(2900);
    expect(longTook).toBeLessThan(6000);
    // The stopped thread was replaced: two lines again, and the next request takes the new thread line.
    await linesOpen(fx.stack.url, 1);
    await linesOpen(fx.stack.url, 2);
    expect(await moved(1, async () => expect((await http.get('/api/tap/sync', ONE_ROW)).status).toBe(200))).toEqual({
      thread: 1,
      line: 0,
      queue: 0,
    });
  }, 30000);

  test('a client that hangs up stops its request in the thread line (the abort goes to the worker’s own line too)', async () => {
    expect(await cpuAfterHangUp(fx.stack.url, workerCpuSeconds)).toBeLessThan(0.3);
    await linesOpen(fx.stack.url, 2);
    expect(await moved(1, async () => expect((await http.get('/api/tap/sync', ONE_ROW)).status).toBe(200))).toEqual({
      thread: 1,
      line: 0,
      queue: 0,
    });
  }, 20000);

  test('a thread line serves one api at a time: another api’s requests take the worker’s own line, and do not wait behind the first api’s', async () => {
    const other = await startApi(fx, {}, apis);
    // Its connection to the thread line is closed at once (this test's api holds the line): the worker's own line only.
    await linesOpen(other.base, 1);
    await sleep(500);
    expect(valueOf(await scrape(`${other.base}/metrics`), 'vo_sync_lines_open')).toBe(1);
    const { counts, waited, long } = await longThenShort(other);
    expect(counts).toEqual({ thread: 1, line: 1, queue: 0 });
    expect(waited).toBeLessThan(1500);
    expect(long.status).toBe(400);
    expect(long.text).toContain('the request ran longer than 3 s and was stopped');
    // The stopped thread's replacement is taken by whichever api dials it first: one of the two.
    const open = async () =>
      (
        await Promise.all([fx.stack.url, other.base].map(async (url) => valueOf(await scrape(`${url}/metrics`), 'vo_sync_lines_open') ?? 0))
      ).reduce((a, b) => a + b);
    for (let i = 0; i < 100 && (await open()) !== 3; i++) await sleep(50);
    expect(await open()).toBe(3);
    await sleep(500);
    expect(await open()).toBe(3);
  }, 30000);
});
