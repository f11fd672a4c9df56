/**
 * Redis outages: while Redis is down, job creation answers at once (the job is recorded
 * QUEUED or PENDING with a nil quote) and sync requests answer 503 within
 * SYNC_QUEUE_TIMEOUT; when Redis is back (same port, same directory) the api and the
 * workers reconnect by themselves and the job completes; each connection logs its loss and
 * its recovery once; stopping the api and a worker while Redis is down does not hang.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ApiServer } from '../../api/server';
import { startRedisServer, type RedisServer } from '../../shared/redis/server';
import { loadServices } from '../../shared/services';
import { services as fixtureServices } from '../fixtures/services';
import { Client, sleep, textOf, unescapeXml } from '../helpers/http';
import { TestStack } from '../helpers/stack';

const SHUTDOWN_GRACE = 2;

let redisDir: string;
let redis: RedisServer;
let stack: TestStack;
let http: Client;
/** The api's log lines, parsed (its logger writes here instead of stdout). */
const logLines: Array<{ level: number; msg: string; connection?: string; code?: string }> = [];

const errorText = (xml: string) => {
  const text = /<INFO name="QUERY_STATUS" value="ERROR">([^<]*)<\/INFO>/.exec(xml)?.[1];
  return text === undefined ? undefined : unescapeXml(text);
};

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

beforeAll(async () => {
  redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-redis-outage-'));
  redis = await startRedisServer({ dir: redisDir });
  // The default reconciliation interval (60 s): a job must not wait for its next tick once
  // Redis is back.
  stack = await TestStack.start({ workers: 0, redis, env: { SYNC_QUEUE_TIMEOUT: '2', SHUTDOWN_GRACE: String(SHUTDOWN_GRACE) } });
  await stack.stopApi();
  const log = pino(
    { level: 'info', base: { component: 'api' } },
    { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) },
  );
  // Without sync lines: sync requests here go through Redis (over a line they reach a worker
  // while Redis is away: test/tap/sync-lines.test.ts).
  stack.api = await ApiServer.start({
    config: { ...stack.config, serviceModules: [], syncLines: false },
    services: loadServices({ serviceModules: [] }, fixtureServices),
    log,
  });
  await stack.startWorker();
  http = new Client(stack.url);
});

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  fs.rmSync(redisDir, { recursive: true, force: true });
});

test('with Redis down, creation answers at once and sync answers 503; after Redis returns the job completes', async () => {
  const consoleErrors = jest.spyOn(console, 'error');
  // Before the outage, everything works (and the quote is known).
  const before = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
  expect(textOf((await http.get(before)).text, 'uws:quote')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(await http.settle(before)).toBe('COMPLETED');

  await redis.stop();
  const queued = await timed(() => http.post('/api/fixture/async', { MODE: 'echo', PHASE: 'RUN' }));
  expect(queued.value.status).toBe(303);
  expect(queued.ms).toBeLessThan(2000);
  const job = queued.value.location!;
  const queuedXml = (await http.get(job)).text;
  expect(textOf(queuedXml, 'uws:phase')).toBe('QUEUED');
  expect(queuedXml).toContain('<uws:quote xsi:nil="true"/>');
  expect((await http.get(`${job}/quote`)).text.trim()).toBe('');

  const pending = await timed(() => http.post('/api/fixture/async', { MODE: 'echo' }));
  expect(pending.value.status).toBe(303);
  expect(pending.ms).toBeLessThan(2000);
  const pendingXml = (await http.get(pending.value.location!)).text;
  expect(textOf(pendingXml, 'uws:phase')).toBe('PENDING');
  expect(pendingXml).toContain('<uws:quote xsi:nil="true"/>');

  // Each sync endpoint waits for Redis up to SYNC_QUEUE_TIMEOUT (2 s), then answers 503 in
  // its protocol's error format.
  const [sync, soda, sia] = await Promise.all([
    timed(() => http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT TOP 1 obs_id FROM ivoa.ObsCore' })),
    timed(() => http.get('/api/cutout/sync', { ID: 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c', CIRCLE: '55.7 -32.3 0.01' })),
    timed(() => http.get('/api/sia/query', { POS: 'CIRCLE 55.7 -32.3 0.01' })),
  ]);
  expect(sync.value.status).toBe(503);
  expect(errorText(sync.value.text)).toBe('the job queue (Redis) is unreachable; please retry later');
  expect(soda.value.status).toBe(503);
  expect(soda.value.text.trim()).toBe('ServiceUnavailable: the job queue (Redis) is unreachable; please retry later');
  expect(sia.value.status).toBe(503);
  expect(errorText(sia.value.text)).toBe('TransientFault: the job queue (Redis) is unreachable; please retry later');
  for (const reply of [sync, soda, sia]) {
    expect(reply.ms).toBeGreaterThanOrEqual(2000);
    expect(reply.ms).toBeLessThan(3000);
  }
  console.log(
    `redis down: create RUN ${queued.ms} ms, create ${pending.ms} ms, sync 503 TAP ${sync.ms} / SODA ${soda.ms} / SIA ${sia.ms} ms`,
  );

  // Back on the same port with the same directory: the connections come back by themselves.
  redis = await startRedisServer({ dir: redisDir, port: redis.port });
  const recovered = await timed(() => http.settle(job, 20000));
  expect(recovered.value).toBe('COMPLETED');
  // Enqueued on recovery, not at the next reconciliation tick (60 s).
  expect(recovered.ms).toBeLessThan(10000);
  console.log(`redis back: the queued job completed ${recovered.ms} ms later`);
  expect((await http.post(`${pending.value.location!}/phase`, { PHASE: 'RUN' })).status).toBe(303);
  expect(await http.settle(pending.value.location!)).toBe('COMPLETED');

  // One line per state change of each of the api's two connections, however many retries.
  const lost = logLines.filter((l) => l.msg === 'redis connection lost');
  const restored = logLines.filter((l) => l.msg === 'redis connection restored');
  expect(lost.map((l) => l.connection).sort()).toEqual(['commands', 'subscriber']);
  expect(lost.every((l) => l.level === 40 && l.code === 'ECONNREFUSED')).toBe(true);
  expect(restored.map((l) => l.connection).sort()).toEqual(['commands', 'subscriber']);
  expect(restored.every((l) => l.level === 30)).toBe(true);
  // No unhandled 'error' event (ioredis and BullMQ print those with console.error).
  expect(consoleErrors).not.toHaveBeenCalled();
  consoleErrors.mockRestore();
}, 60000);

test('an ABORT while Redis is down still stops the work: the worker checks its running jobs in the store', async () => {
  const heartbeat = path.join(stack.dir, 'abort-without-redis.log');
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '60', BUSY: '1', HEARTBEAT: heartbeat, PHASE: 'RUN' });
  for (let i = 0; i < 100 && (!fs.existsSync(heartbeat) || fs.readFileSync(heartbeat, 'utf8').split('\n').length < 5); i++) await sleep(50);
  await redis.stop();
  try {
    expect((await http.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
    expect(await http.phase(job)).toBe('ABORTED');
    // The abort event could not travel; the worker's store check (every 2 s) stops the work.
    await sleep(3500);
    const beats = () => fs.readFileSync(heartbeat, 'utf8').split('\n').length;
    const before = beats();
    await sleep(500);
    expect(beats()).toBe(before);
  } finally {
    redis = await startRedisServer({ dir: redisDir, port: redis.port });
  }
}, 30000);

test('with Redis down, SIGTERM stops a worker running a job within SHUTDOWN_GRACE + a few seconds, the job is QUEUED again, and the api closes promptly', async () => {
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '30', PHASE: 'RUN' });
  for (let i = 0; i < 100 && (await http.phase(job)) !== 'EXECUTING'; i++) await sleep(100);
  expect(await http.phase(job)).toBe('EXECUTING');
  await redis.stop();
  // Long enough for every connection to have failed a reconnection attempt (retries every
  // 100 ms, then 200 ms…): the worker has commands waiting for Redis.
  await sleep(1000);
  const stopped = await timed(() => stack.workers[0]!.stop('SIGTERM'));
  expect(stopped.value).toBe(0);
  // The grace, then at most 3 s for the queue connections (worker/runner.ts STOP_MARGIN_S).
  expect(stopped.ms).toBeLessThan((SHUTDOWN_GRACE + 5) * 1000);
  // Released: back to QUEUED in the store, for a worker to take once Redis is back.
  expect(await http.phase(job)).toBe('QUEUED');
  const closed = await timed(() => stack.stopApi());
  expect(closed.ms).toBeLessThan(3000);
  console.log(`redis down: worker SIGTERM → exit ${stopped.ms} ms, api close ${closed.ms} ms`);
}, 60000);

test('an api started while Redis is down serves anyway; its jobs run once Redis is there', async () => {
  // Down already after the previous test (both calls then do nothing).
  await stack.stopApi();
  await redis.stop();
  const started = await timed(() =>
    ApiServer.start({
      config: { ...stack.config, serviceModules: [] },
      services: loadServices({ serviceModules: [] }, fixtureServices),
      log: pino({ level: 'silent' }),
    }),
  );
  stack.api = started.value;
  // It waits a moment for its subscriptions, then serves without them.
  expect(started.ms).toBeLessThan(7000);
  http = new Client(stack.url);
  const created = await timed(() => http.post('/api/fixture/async', { MODE: 'echo', PHASE: 'RUN' }));
  expect(created.value.status).toBe(303);
  expect(created.ms).toBeLessThan(2000);
  const job = created.value.location!;
  const xml = (await http.get(job)).text;
  expect(textOf(xml, 'uws:phase')).toBe('QUEUED');
  expect(xml).toContain('<uws:quote xsi:nil="true"/>');
  console.log(`redis down at api start: start ${started.ms} ms, create ${created.ms} ms`);

  redis = await startRedisServer({ dir: redisDir, port: redis.port });
  await stack.startWorker();
  expect(await http.settle(job, 20000)).toBe('COMPLETED');
  // WAIT is woken by the phase events: the api subscribed to them once Redis came.
  const next = await http.create('fixture', { MODE: 'echo' });
  const waiting = timed(() => http.get(next, { WAIT: '20', PHASE: 'PENDING' }));
  await sleep(300);
  expect((await http.post(`${next}/phase`, { PHASE: 'RUN' })).status).toBe(303);
  const waited = await waiting;
  expect(textOf(waited.value.text, 'uws:phase')).not.toBe('PENDING');
  expect(waited.ms).toBeLessThan(5000);
  expect(await http.settle(next)).toBe('COMPLETED');
}, 60000);
