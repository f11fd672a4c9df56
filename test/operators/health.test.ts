/**
 * /healthz and /readyz of a real api (its own redis-server, a job store file, an ObsCore store
 * file), anonymous although the service needs a token: /readyz says 200 `ready` only while
 * Redis, the job store and the ObsCore store all answer, else 503 naming each failing one and
 * why, within READY_TIMEOUT_MS even when Redis hangs; VOSI availability says the same. The
 * failures are made as they happen: no ObsCore store yet, Redis stopped, then frozen, the job
 * store's file moved away or replaced under the running api, the ObsCore file overwritten.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ingestDirectory } from '../../shared/obscore/ingest';
import { startRedisServer, type RedisServer } from '../../shared/redis/server';
import { Client, sleep, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';
import { scrape, valueOf } from './prometheus';

const READY_TIMEOUT_MS = 500;

let redisDir: string;
let redis: RedisServer;
let stack: TestStack;
let http: Client;
let jobStore: string;
let obscore: string;

beforeAll(async () => {
  redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operators-redis-'));
  redis = await startRedisServer({ dir: redisDir });
  stack = await TestStack.start({
    workers: 0,
    redis,
    env: { READY_TIMEOUT_MS: String(READY_TIMEOUT_MS), AUTH_TOKENS: 'secret:alice', SIGNING_KEY: 'operators-test-key' },
  });
  http = new Client(stack.url); // no token
  jobStore = stack.config.databaseUrl;
  obscore = stack.config.obscoreDb;
}, 60000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  fs.rmSync(redisDir, { recursive: true, force: true });
});

interface Probe {
  status: number;
  type: string | null;
  text: string;
}

async function readyz(): Promise<Probe> {
  const reply = await http.get('/readyz');
  return { status: reply.status, type: reply.headers.get('content-type'), text: reply.text };
}

/** Polls /readyz until it answers `status` (or 15 s pass); returns that answer. */
async function readyzUntil(status: number): Promise<Probe> {
  const end = Date.now() + 15000;
  let probe = await readyz();
  while (probe.status !== status && Date.now() < end) {
    await sleep(50);
    probe = await readyz();
  }
  return probe;
}

const READY: Probe = { status: 200, type: 'text/plain; charset=utf-8', text: 'ready' };
const notReady = (text: string): Probe => ({ status: 503, type: 'text/plain; charset=utf-8', text });

/** VOSI availability of TAP: [available, notes]. */
async function availability(): Promise<[string | undefined, string[]]> {
  const xml = (await http.get('/api/tap/availability')).text;
  return [textOf(xml, 'available'), [...xml.matchAll(/<note>([^<]*)<\/note>/g)].map((m) => m[1]!)];
}

test('/healthz answers ok, anonymously; /readyz names the missing ObsCore store until it is made', async () => {
  expect((await http.get('/api/fixture/async')).status).toBe(401); // the service needs a token
  const health = await http.get('/healthz');
  expect([health.status, health.headers.get('content-type'), health.text]).toEqual([200, 'text/plain; charset=utf-8', 'ok']);
  const missing = `ObsCore store (${obscore}): the file does not exist (OBSCORE_DB; npm run ingest makes it)`;
  expect(await readyz()).toEqual(notReady(missing));
  expect(await availability()).toEqual(['false', [`the service cannot work: ${missing}`]]);
  // An empty store, as `npm run ingest` of an empty directory makes it.
  const empty = fs.mkdtempSync(path.join(stack.dir, 'empty-'));
  await ingestDirectory(empty, { obscoreDb: obscore });
  expect(await readyz()).toEqual(READY);
  expect(await availability()).toEqual(['true', []]);
  expect((await http.get('/metrics')).status).toBe(200); // anonymous too
});

test('Redis stopped: 503 naming Redis and why, VOSI availability false with the note; ready again when Redis is back', async () => {
  const port = new URL(stack.config.redisUrl).port;
  await redis.stop();
  const down = `redis (127.0.0.1:${port}): cannot connect (ECONNREFUSED)`;
  expect(await readyzUntil(503)).toEqual(notReady(down));
  expect(await availability()).toEqual(['false', [`the service cannot work: ${down}`]]);
  expect((await http.get('/healthz')).status).toBe(200);
  // /metrics still answers; the queues' depths are left out rather than shown stale.
  const during = await scrape(`${stack.url}/metrics`);
  expect(during.get('vo_queue_depth')!.samples).toEqual([]);

  redis = await startRedisServer({ dir: redisDir, port: redis.port });
  expect(await readyzUntil(200)).toEqual(READY);
  expect(await availability()).toEqual(['true', []]);
  const after = await scrape(`${stack.url}/metrics`);
  // One outage of the api's command connection, counted once however many reconnection attempts failed.
  expect(valueOf(after, 'vo_redis_errors_total', { operation: 'connection' })).toBe(1);
  expect(valueOf(after, 'vo_redis_errors_total', { operation: 'metrics' })).toBeGreaterThanOrEqual(1);
  expect(valueOf(after, 'vo_queue_depth', { service: 'fixture', queue: 'jobs', state: 'waiting' })).toBe(0);
}, 60000);

test('a Redis that hangs (SIGSTOP): /readyz answers 503 within READY_TIMEOUT_MS instead of hanging', async () => {
  const port = new URL(stack.config.redisUrl).port;
  redis.process.kill('SIGSTOP');
  try {
    const started = Date.now();
    const probe = await readyz();
    const ms = Date.now() - started;
    expect(probe).toEqual(notReady(`redis (127.0.0.1:${port}): no answer within ${READY_TIMEOUT_MS} ms`));
    expect(ms).toBeGreaterThanOrEqual(READY_TIMEOUT_MS - 10);
    expect(ms).toBeLessThan(READY_TIMEOUT_MS + 1000);
  } finally {
    redis.process.kill('SIGCONT');
  }
  expect(await readyzUntil(200)).toEqual(READY);
});

test('the job store file moved away, then replaced, under the running api: 503 naming the job store; ready once it is back', async () => {
  const moved = `${jobStore}.moved`;
  fs.renameSync(jobStore, moved);
  try {
    expect(await readyz()).toEqual(
      notReady(`job store (${jobStore}): the file is gone (ENOENT): it was removed or moved since the api opened it`),
    );
    expect((await availability())[0]).toBe('false');
  } finally {
    fs.renameSync(moved, jobStore);
  }
  expect(await readyz()).toEqual(READY);

  // A copy put in its place (a restore beside the running api): the api still writes to the old file.
  const original = `${jobStore}.original`;
  fs.linkSync(jobStore, original);
  fs.copyFileSync(jobStore, `${jobStore}.copy`);
  fs.renameSync(`${jobStore}.copy`, jobStore);
  try {
    expect(await readyz()).toEqual(
      notReady(`job store (${jobStore}): the file was replaced since the api opened it: the api still uses the old one`),
    );
  } finally {
    fs.renameSync(original, jobStore);
  }
  expect(await readyz()).toEqual(READY);
});

test('the ObsCore store overwritten (not a database any more): 503 naming it and SQLite’s reason', async () => {
  const saved = fs.readFileSync(obscore);
  fs.writeFileSync(obscore, Buffer.alloc(8192, 'not a database '));
  try {
    expect(await readyz()).toEqual(notReady(`ObsCore store (${obscore}): a read failed: file is not a database`));
  } finally {
    fs.writeFileSync(obscore, saved);
  }
  expect(await readyz()).toEqual(READY);
});

// Permission bits do not stop root: run where the tests are not root (CI).
(process.getuid?.() === 0 ? test.skip : test)('the ObsCore store made unreadable (mode 000): 503 with EACCES', async () => {
  fs.chmodSync(obscore, 0o000);
  try {
    expect(await readyz()).toEqual(notReady(`ObsCore store (${obscore}): the file cannot be read (EACCES)`));
  } finally {
    fs.chmodSync(obscore, 0o644);
  }
  expect(await readyz()).toEqual(READY);
});
