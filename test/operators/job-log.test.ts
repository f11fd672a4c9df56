/**
 * The one structured log line per finished job (`job finished`): the api's log and a worker
 * process's stdout are both read, and every job that ended has exactly one line between them,
 * written by the process that ended it (the worker: COMPLETED and ERROR; the api: ABORTED),
 * with its service, owner, phase, duration, items, bytes and error type.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { ApiServer } from '../../api/server';
import { configEnv } from '../../shared/config';
import { PROJECT_ROOT } from '../../shared/runtime';
import { loadServices } from '../../shared/services';
import { services as fixtureServices } from '../fixtures/services';
import { Client, sleep } from '../helpers/http';
import { TestStack } from '../helpers/stack';

interface Line {
  component: string;
  level: number;
  msg: string;
  jobId?: string;
  [field: string]: unknown;
}

let stack: TestStack;
let worker: ChildProcess;
let http: Client;
const lines: Line[] = [];

function collect(text: string): void {
  for (const line of text.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Line);
}

beforeAll(async () => {
  stack = await TestStack.start({ workers: 0, env: { AUTH_TOKENS: 'secret:alice', SIGNING_KEY: 'job-log-test-key' } });
  await stack.stopApi();
  stack.api = await ApiServer.start({
    config: { ...stack.config, serviceModules: [] },
    services: loadServices({ serviceModules: [] }, fixtureServices),
    log: pino({ level: 'info', base: { component: 'api' } }, { write: collect }),
  });
  // A worker whose stdout (its pino lines) is read here.
  worker = fork(path.join(PROJECT_ROOT, 'dist/worker/main.js'), [], {
    env: { ...process.env, ...configEnv(stack.config), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let pending = '';
  worker.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const end = pending.lastIndexOf('\n');
    if (end >= 0) {
      collect(pending.slice(0, end));
      pending = pending.slice(end + 1);
    }
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('exit', (code) => reject(new Error(`worker exited at start with ${code}`)));
  });
  http = new Client(stack.url, { authorization: 'Bearer secret' });
}, 60000);

afterAll(async () => {
  worker?.kill('SIGKILL');
  await stack?.stop();
});

const ended = (jobId: string) => lines.filter((l) => l.msg === 'job finished' && l.jobId === jobId);

test('one line per finished job, by the process that ended it, with its fields', async () => {
  const echo = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
  const many = await http.create('fixture', { MODE: 'many', COUNT: '5', PHASE: 'RUN' });
  const failing = await http.create('fixture', { MODE: 'fail', MESSAGE: 'bad input', PHASE: 'RUN' });
  const crashing = await http.create('fixture', { MODE: 'crash', PHASE: 'RUN' });
  const sleeping = await http.create('fixture', { MODE: 'sleep', SECONDS: '30', PHASE: 'RUN' });
  const pending = await http.create('fixture', { MODE: 'echo' });
  expect(await http.settle(echo)).toBe('COMPLETED');
  expect(await http.settle(many)).toBe('COMPLETED');
  expect(await http.settle(failing)).toBe('ERROR');
  expect(await http.settle(crashing)).toBe('ERROR');
  for (let i = 0; i < 200 && (await http.phase(sleeping)) !== 'EXECUTING'; i++) await sleep(25);
  await sleep(300);
  expect((await http.post(`${sleeping}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
  expect((await http.delete(pending)).status).toBe(303);
  const echoBytes = (await http.get(`${echo}/results/result`)).text.length;

  const ids = [echo, many, failing, crashing, sleeping, pending].map((url) => url.slice(url.lastIndexOf('/') + 1));
  // The worker's lines come through a pipe: wait until every job has one.
  for (let i = 0; i < 200 && ids.some((id) => ended(id).length === 0); i++) await sleep(50);
  await sleep(500); // a second line, if there were one, would have arrived too

  const fields = (id: string) =>
    ended(id).map(({ component, level, jobId, service, owner, phase, items, bytes, errorType }) => ({
      component,
      level,
      jobId,
      service,
      owner,
      phase,
      items,
      bytes,
      errorType,
    }));
  const line = (component: string, jobId: string, phase: string, items: number, bytes: number, errorType: string | null) => [
    { component, level: 30, jobId, service: 'fixture', owner: 'alice', phase, items, bytes, errorType },
  ];
  const [echoId, manyId, failingId, crashingId, sleepingId, pendingId] = ids as [string, string, string, string, string, string];
  expect(fields(echoId)).toEqual(line('worker', echoId, 'COMPLETED', 1, echoBytes, null));
  expect(fields(manyId)).toEqual(line('worker', manyId, 'COMPLETED', 5, 5 * 'result 1\n'.length, null));
  expect(fields(failingId)).toEqual(line('worker', failingId, 'ERROR', 0, 0, 'fatal'));
  expect(fields(crashingId)).toEqual(line('worker', crashingId, 'ERROR', 0, 0, 'fatal'));
  expect(fields(sleepingId)).toEqual(line('api', sleepingId, 'ABORTED', 0, 0, null));
  expect(fields(pendingId)).toEqual(line('api', pendingId, 'ABORTED', 0, 0, null));

  // Durations: from EXECUTING to the end; null for the job that never ran.
  const duration = (id: string) => ended(id)[0]!.durationMs;
  for (const id of [echoId, manyId, failingId, crashingId]) expect(duration(id)).toEqual(expect.any(Number));
  expect(duration(sleepingId)).toBeGreaterThanOrEqual(300);
  expect(duration(sleepingId)).toBeLessThan(30000);
  expect(duration(pendingId)).toBeNull();
  // No line for anything else: six jobs, six lines.
  expect(lines.filter((l) => l.msg === 'job finished')).toHaveLength(6);
}, 60000);
