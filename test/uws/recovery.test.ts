/**
 * The job store is the source of truth: a worker killed mid-job has the job retried by
 * another worker; an api restart loses nothing; after Redis loses its data, reconciliation
 * enqueues the QUEUED jobs again; a job whose workers keep dying ends in ERROR.
 */
import fs from 'node:fs';
import { Client, sleep, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let http: Client;

beforeAll(async () => {
  stack = await TestStack.start({ workers: 0, env: { UWS_RECONCILE_INTERVAL: '1', UWS_MAX_ATTEMPTS: '2' } });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

async function untilPhase(job: string, phase: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while ((await http.phase(job)) !== phase && Date.now() < end) await http.get(job, { WAIT: '1', PHASE: await http.phase(job) });
  expect(await http.phase(job)).toBe(phase);
}

test('a job whose worker process is killed mid-job is retried by another worker and completes', async () => {
  const first = await stack.startWorker();
  // Long enough to be surely still running when the worker is killed, even on a busy machine.
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '3', PHASE: 'RUN' });
  await untilPhase(job, 'EXECUTING');
  await first.stop('SIGKILL');
  await stack.startWorker();
  // The lock (2 s in tests) expires, the stalled check hands the job to the new worker.
  expect(await http.settle(job, 30000)).toBe('COMPLETED');
  const row = await stack.api!.engine.job(job.split('/').pop()!, { service: 'fixture' });
  expect(row?.attempts).toBe(2);
  expect((await http.get(`${job}/results/result`)).text).toBe('slept 3000 ms\n');
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
});

test('a job whose workers die on every attempt ends in ERROR, not hanging in EXECUTING', async () => {
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '60', PHASE: 'RUN' });
  for (let attempt = 0; attempt < 2; attempt++) {
    const worker = await stack.startWorker();
    const id = job.split('/').pop()!;
    const end = Date.now() + 20000;
    while ((await stack.api!.engine.job(id, { service: 'fixture' }))!.attempts <= attempt && Date.now() < end) await sleep(100);
    await worker.stop('SIGKILL');
  }
  await stack.startWorker();
  expect(await http.settle(job, 30000)).toBe('ERROR');
  expect(textOf((await http.get(job)).text, 'uws:message')).toMatch(
    /^the worker running this job stopped 2 time\(s\); giving up after 2 attempt\(s\)$/,
  );
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
});

test('restarting the api loses no job, and WAIT works on the new api', async () => {
  const pending = await http.create('fixture', { MODE: 'echo' });
  const queued = await http.create('fixture', { MODE: 'sleep', SECONDS: '0.2', PHASE: 'RUN' });
  const port = new URL(stack.url).port;
  await stack.stopApi();
  await stack.startApi();
  http = new Client(stack.url);
  const moved = (url: string) => url.replace(`:${port}/`, `:${new URL(stack.url).port}/`);
  expect(await http.phase(moved(pending))).toBe('PENDING');
  expect(await http.phase(moved(queued))).toBe('QUEUED');
  await stack.startWorker();
  expect(await http.settle(moved(queued))).toBe('COMPLETED');
  await http.post(`${moved(pending)}/phase`, { PHASE: 'RUN' });
  expect(await http.settle(moved(pending))).toBe('COMPLETED');
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
});

test('after Redis loses its data, reconciliation enqueues QUEUED jobs again and they complete', async () => {
  const jobs = await Promise.all(Array.from({ length: 5 }, () => http.create('fixture', { MODE: 'echo', PHASE: 'RUN' })));
  for (const job of jobs) expect(await http.phase(job)).toBe('QUEUED');
  const admin = new (await import('ioredis')).Redis(stack.redis.url);
  await admin.flushall();
  await admin.quit();
  await stack.startWorker();
  for (const job of jobs) expect(await http.settle(job, 15000)).toBe('COMPLETED');
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
});

test('a worker stopped with SIGTERM releases a long job to the queue, and another worker finishes it', async () => {
  const worker = await stack.startWorker({ SHUTDOWN_GRACE: '0' });
  // Long enough that the job is surely still running when the SIGTERM arrives on a busy machine.
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '5', PHASE: 'RUN' });
  await untilPhase(job, 'EXECUTING');
  expect(await worker.stop('SIGTERM')).toBe(0);
  expect(await http.phase(job)).toBe('QUEUED');
  await stack.startWorker();
  expect(await http.settle(job)).toBe('COMPLETED');
  // The release did not spend an attempt.
  expect((await stack.api!.engine.job(job.split('/').pop()!, { service: 'fixture' }))?.attempts).toBe(1);
});

test("a worker stalled (SIGSTOP) past its lock while another attempt completes the job cannot remove that attempt's results", async () => {
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
  const stalled = await stack.startWorker();
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '3', PHASE: 'RUN' });
  const id = job.split('/').pop()!;
  const attemptDir = (n: number) => `${stack.config.resultsDir}/${id}/results/${n}`;
  await untilPhase(job, 'EXECUTING');
  // The first attempt's thread is at work (it made its directory) when the worker stalls.
  for (let i = 0; i < 100 && !fs.existsSync(attemptDir(1)); i++) await sleep(50);
  expect(fs.existsSync(attemptDir(1))).toBe(true);
  stalled.child.kill('SIGSTOP');
  try {
    // The lock (2 s) runs out; the stalled check gives the job to a second worker: attempt 2.
    await stack.startWorker();
    expect(await http.settle(job, 30000)).toBe('COMPLETED');
    expect((await stack.api!.engine.job(id, { service: 'fixture' }))?.attempts).toBe(2);
  } finally {
    stalled.child.kill('SIGCONT');
  }
  // The first attempt wakes up, finishes its sleep, loses the conditional completion and
  // removes only what it wrote (results/1/), never the results of attempt 2.
  const end = Date.now() + 10000;
  while (fs.existsSync(attemptDir(1)) && Date.now() < end) await sleep(100);
  await sleep(500);
  expect(fs.existsSync(attemptDir(1))).toBe(false);
  expect(await http.phase(job)).toBe('COMPLETED');
  expect((await http.get(job)).text).toContain(`xlink:href="${job}/results/result"`);
  const result = await http.get(`${job}/results/result`);
  expect(result.status).toBe(200);
  expect(result.text).toBe('slept 3000 ms\n');
  expect(fs.readdirSync(`${stack.config.resultsDir}/${id}/results`)).toEqual(['2']);
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
}, 60000);

test('reconciliation under load re-enqueues nothing that is in flight (jobs finishing or being queued)', async () => {
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
  await stack.startWorker();
  const engine = stack.api!.engine;
  let requeued = 0;
  let reconciling = true;
  const loop = (async () => {
    while (reconciling) {
      requeued += (await engine.reconcile()).requeued;
      await sleep(5); // the store answers without I/O: let the api serve requests meanwhile
    }
  })();
  const jobs = await Promise.all(Array.from({ length: 300 }, () => http.create('fixture', { MODE: 'echo', PHASE: 'RUN' })));
  for (const job of jobs) expect(await http.settle(job, 30000)).toBe('COMPLETED');
  reconciling = false;
  await loop;
  expect(requeued).toBe(0);
  await Promise.all(stack.workers.map((w) => w.stop('SIGKILL')));
}, 60000);
