/**
 * /metrics of a real system (its own redis-server, the api, a worker process, a small demo
 * repository): the api's and the worker's (on METRICS_PORT) parse as the Prometheus text
 * format, and their counters move by exactly what was done: jobs created and ended (each end
 * counted once, by the process that made it), a sync request's one observation, the rows and
 * cutouts the worker's threads produced, the threads busy, the WAIT requests blocked, and the
 * queues' depths while no worker takes work.
 */
import { freePort } from '../../shared/redis/server';
import { Client, sleep, textOf } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { scrape, valueOf, type Family } from './prometheus';

const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
const TARGET = { ra: 55.7467376, dec: -32.2861552 };

let fx: TapFixture;
let http: Client;
let workerPort: number;

beforeAll(async () => {
  workerPort = await freePort();
  // BULK_PART_STAMPS=1: a batch of two stamps runs as two parts.
  fx = await startTapStack({ workers: 1, env: { METRICS_PORT: String(workerPort), BULK_PART_STAMPS: '1' } });
  http = new Client(fx.stack.url);
}, 90000);
afterAll(() => fx?.close());

const api = () => scrape(`${fx.stack.url}/metrics`);
const worker = () => scrape(`http://127.0.0.1:${workerPort}/metrics`);

/** How much each of `reads` moved while `work` ran. */
async function deltas(
  reads: Array<[() => Promise<Map<string, Family>>, string, Record<string, string>]>,
  work: () => Promise<void>,
): Promise<number[]> {
  const read = async () => Promise.all(reads.map(async ([source, name, labels]) => valueOf(await source(), name, labels)));
  const before = await read();
  await work();
  const after = await read();
  return after.map((v, i) => v - before[i]!);
}

/** Polls `read` until it returns `expected` (or 15 s pass), then returns what it read last. */
async function until<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const end = Date.now() + 15000;
  let value = await read();
  while (value !== expected && Date.now() < end) {
    await sleep(50);
    value = await read();
  }
  return value;
}

test('the api and the worker serve the Prometheus text format: process metrics and every vo_ family, described', async () => {
  const [a, w] = await Promise.all([api(), worker()]);
  const types = (families: Map<string, Family>) =>
    Object.fromEntries([...families.values()].filter((f) => f.name.startsWith('vo_')).map((f) => [f.name, f.type]));
  expect(types(a)).toEqual({
    vo_uws_jobs_finished_total: 'counter',
    vo_uws_job_duration_seconds: 'histogram',
    vo_redis_errors_total: 'counter',
    vo_job_store_errors_total: 'counter',
    vo_uws_jobs_created_total: 'counter',
    vo_sync_request_duration_seconds: 'histogram',
    vo_uws_wait_blocked: 'gauge',
    vo_queue_depth: 'gauge',
    vo_sync_lines_open: 'gauge',
  });
  expect(types(w)).toEqual({
    vo_uws_jobs_finished_total: 'counter',
    vo_uws_job_duration_seconds: 'histogram',
    vo_redis_errors_total: 'counter',
    vo_job_store_errors_total: 'counter',
    vo_uws_queue_wait_seconds: 'histogram',
    vo_cutouts_total: 'counter',
    vo_cutout_bytes_total: 'counter',
    vo_rows_streamed_total: 'counter',
    vo_sync_requests_taken_total: 'counter',
    vo_worker_threads_busy: 'gauge',
    vo_worker_threads_live: 'gauge',
  });
  for (const families of [a, w]) {
    for (const f of families.values()) if (f.name.startsWith('vo_')) expect(f.help).toMatch(/^[A-Z].{20,}/);
    // prom-client's defaults: the process's CPU, memory, event loop and heap.
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(families.get(name)?.samples.length).toBe(1);
  }
  expect(valueOf(a, 'vo_uws_wait_blocked')).toBe(0);
  // Every queue of every service, each state, read from Redis at the scrape.
  expect(valueOf(a, 'vo_queue_depth', { service: 'fixture', queue: 'jobs', state: 'waiting' })).toBe(0);
  expect(valueOf(a, 'vo_queue_depth', { service: 'bulk', queue: 'parts', state: 'active' })).toBe(0);
  expect(valueOf(a, 'vo_queue_depth', { service: 'tap', queue: 'sync', state: 'waiting' })).toBe(0);
  expect(a.get('vo_queue_depth')!.samples.some((s) => s.labels.queue === 'parts' && s.labels.service === 'fixture')).toBe(false);
  for (const base of [fx.stack.url, `http://127.0.0.1:${workerPort}`]) {
    const health = await fetch(`${base}/healthz`);
    expect([health.status, health.headers.get('content-type'), await health.text()]).toEqual([200, 'text/plain; charset=utf-8', 'ok']);
  }
});

test('jobs: created QUEUED +4 and PENDING +1, each ended once where it ended: COMPLETED +3 and ERROR +1 by the worker, ABORTED +1 by the api', async () => {
  const moved = await deltas(
    [
      [api, 'vo_uws_jobs_created_total', { service: 'fixture', phase: 'QUEUED' }],
      [api, 'vo_uws_jobs_created_total', { service: 'fixture', phase: 'PENDING' }],
      [worker, 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'COMPLETED' }],
      [worker, 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'ERROR' }],
      [worker, 'vo_uws_job_duration_seconds_count', { service: 'fixture', phase: 'COMPLETED' }],
      [worker, 'vo_uws_queue_wait_seconds_count', { service: 'fixture' }],
      [api, 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'ABORTED' }],
      // A job aborted while PENDING never ran: no duration.
      [api, 'vo_uws_job_duration_seconds_count', { service: 'fixture', phase: 'ABORTED' }],
      [api, 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'COMPLETED' }],
      [worker, 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'ABORTED' }],
    ],
    async () => {
      const jobs = await Promise.all([1, 2, 3].map(() => http.create('fixture', { MODE: 'echo', PHASE: 'RUN' })));
      const failing = await http.create('fixture', { MODE: 'fail', PHASE: 'RUN' });
      const pending = await http.create('fixture', { MODE: 'echo' });
      expect(await Promise.all(jobs.map((j) => http.settle(j)))).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
      expect(await http.settle(failing)).toBe('ERROR');
      expect((await http.post(`${pending}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
    },
  );
  expect(moved).toEqual([4, 1, 3, 1, 3, 4, 1, 0, 0, 0]);
});

test('a TAP sync request adds one observation to the sync histogram; the worker counts its rows, and an async query’s', async () => {
  const moved = await deltas(
    [
      [api, 'vo_sync_request_duration_seconds_count', { service: 'tap', status: '200' }],
      [worker, 'vo_rows_streamed_total', { service: 'tap', mode: 'sync' }],
      [worker, 'vo_rows_streamed_total', { service: 'tap', mode: 'async' }],
    ],
    async () => {
      const reply = await http.get('/api/tap/sync', {
        LANG: 'ADQL',
        QUERY: 'SELECT TOP 3 obs_id FROM ivoa.ObsCore',
        RESPONSEFORMAT: 'csv',
      });
      expect(reply.status).toBe(200);
      expect(reply.text.trim().split('\n')).toHaveLength(4); // header and 3 rows
      const job = await http.create('tap', { LANG: 'ADQL', QUERY: 'SELECT TOP 5 obs_id FROM ivoa.ObsCore', PHASE: 'RUN' });
      expect(await http.settle(job)).toBe('COMPLETED');
    },
  );
  expect(moved).toEqual([1, 3, 5]);
  const a = await api();
  expect(valueOf(a, 'vo_sync_request_duration_seconds_sum', { service: 'tap', status: '200' })).toBeGreaterThan(0);
  // A refused request (a syntax error) is observed under its own status.
  const refused = await deltas([[api, 'vo_sync_request_duration_seconds_count', { service: 'tap', status: '400' }]], async () => {
    expect((await http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELEC nothing' })).status).toBe(400);
  });
  expect(refused).toEqual([1]);
});

test('cutouts and their bytes: a sync cutout, an async job (one cutout, one without overlap) and a bulk batch’s stamps', async () => {
  let syncBytes = 0;
  let asyncBytes = 0;
  let batch = '';
  const moved = await deltas(
    [
      [worker, 'vo_cutouts_total', { service: 'cutout', mode: 'sync' }],
      [worker, 'vo_cutout_bytes_total', { service: 'cutout', mode: 'sync' }],
      [worker, 'vo_cutouts_total', { service: 'cutout', mode: 'async' }],
      [worker, 'vo_cutout_bytes_total', { service: 'cutout', mode: 'async' }],
      [worker, 'vo_cutouts_total', { service: 'bulk', mode: 'async' }],
      [worker, 'vo_cutout_bytes_total', { service: 'bulk', mode: 'async' }],
    ],
    async () => {
      const sync = await fetch(
        `${fx.stack.url}/api/cutout/sync?${new URLSearchParams({ ID: I_COADD, CIRCLE: `${TARGET.ra} ${TARGET.dec} 0.01` }).toString()}`,
      );
      expect(sync.status).toBe(200);
      syncBytes = (await sync.arrayBuffer()).byteLength;
      const job = await http.create('cutout', [
        ['ID', I_COADD],
        ['CIRCLE', `${TARGET.ra} ${TARGET.dec} 0.01`],
        ['CIRCLE', '10 10 0.01'],
        ['PHASE', 'RUN'],
      ]);
      expect(await http.settle(job)).toBe('COMPLETED');
      const cut = await fetch(`${job}/results/cutout-1`);
      expect(cut.headers.get('content-type')).toBe('application/fits');
      asyncBytes = (await cut.arrayBuffer()).byteLength;
      expect((await http.get(`${job}/results/cutout-2`)).text).toMatch(/^UsageError: no overlap/);
      batch = await http.create('bulk', [
        ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
        ['BAND', 'g'],
        ['BAND', 'r'],
        ['SIZE', '16'],
        ['PHASE', 'RUN'],
      ]);
      expect(await http.settle(batch, 60000)).toBe('COMPLETED');
    },
  );
  const info = (await http.get(batch)).text;
  const stampBytes = Number(textOf(info, 'bytes'));
  expect(textOf(info, 'itemsOk')).toBe('2');
  expect(stampBytes).toBeGreaterThan(0);
  expect(moved).toEqual([1, syncBytes, 1, asyncBytes, 2, stampBytes]);
  // The batch's parts ran in the low-priority pool, whose threads stay for reuse a while.
  const w = await worker();
  expect(valueOf(w, 'vo_worker_threads_busy', { pool: 'low-priority' })).toBe(0);
  expect(valueOf(w, 'vo_worker_threads_live', { pool: 'low-priority' })).toBeGreaterThanOrEqual(1);
}, 90000);

test('threads busy: 1 while a job runs, 0 after; live threads stay for reuse', async () => {
  const busy = async () => valueOf(await worker(), 'vo_worker_threads_busy', { pool: 'main' });
  expect(await busy()).toBe(0);
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '2', PHASE: 'RUN' });
  expect(await until(busy, 1)).toBe(1);
  expect(await http.settle(job)).toBe('COMPLETED');
  expect(await busy()).toBe(0);
  expect(valueOf(await worker(), 'vo_worker_threads_live', { pool: 'main' })).toBeGreaterThanOrEqual(1);
});

test('WAIT requests blocked: 1 while a WAIT is blocked, 0 after it answered', async () => {
  const blocked = async () => valueOf(await api(), 'vo_uws_wait_blocked');
  const job = await http.create('fixture', { MODE: 'echo' });
  const waited = http.get(job, { WAIT: '20' }); // PENDING: blocks until the phase changes
  expect(await until(blocked, 1)).toBe(1);
  expect((await http.post(`${job}/phase`, { PHASE: 'RUN' })).status).toBe(303);
  const reply = await waited;
  expect(textOf(reply.text, 'uws:phase')).not.toBe('PENDING');
  expect(await blocked()).toBe(0);
  expect(await http.settle(job)).toBe('COMPLETED');
});

test('queue depths while no worker runs: 2 jobs waiting, 1 sync request waiting; 0 once a worker takes them', async () => {
  const depth = async (service: string, queue: string) => valueOf(await api(), 'vo_queue_depth', { service, queue, state: 'waiting' });
  await fx.stack.workers[0]!.stop();
  const jobs = [await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' }), await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' })];
  expect(await depth('fixture', 'jobs')).toBe(2);
  const sync = http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT TOP 1 obs_id FROM ivoa.ObsCore' });
  expect(await until(() => depth('tap', 'sync'), 1)).toBe(1);
  // A new worker, on the same metrics port.
  await fx.stack.startWorker();
  expect((await sync).status).toBe(200);
  expect(await Promise.all(jobs.map((j) => http.settle(j)))).toEqual(['COMPLETED', 'COMPLETED']);
  expect(await depth('fixture', 'jobs')).toBe(0);
  expect(await depth('tap', 'sync')).toBe(0);
  expect(valueOf(await worker(), 'vo_uws_jobs_finished_total', { service: 'fixture', phase: 'COMPLETED' })).toBe(2);
}, 60000);
