/**
 * The job store is the source of truth: a worker killed mid-job has the job retried by
 * another worker; an api restart loses nothing; after Redis loses its data, reconciliation
 * enqueues the QUEUED jobs again; a job whose workers keep dying ends in ERROR.
 */
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
  const row = await stack.api!.engine.store.get(job.split('/').pop()!);
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
    while ((await stack.api!.engine.store.get(id))!.attempts <= attempt && Date.now() < end) await sleep(100);
    await worker.stop('SIGKILL');
  }
  await stack.startWorker();
  expect(await http.settle(job, 30000)).toBe('ERROR');
  expect(textOf((await http.get(job)).text, 'uws:message')).toMatch(/^the worker running this job stopped 2 time\(s\); giving up after 2 attempt\(s\)$/);
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
  expect((await stack.api!.engine.store.get(job.split('/').pop()!))?.attempts).toBe(1);
});
