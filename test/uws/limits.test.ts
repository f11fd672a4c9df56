/**
 * Limits are enforced, not just stored (UWS 1.1 §2.1.4–2.1.6): execution duration stops the
 * work and ends the job in ERROR; an abort reaches the worker process running the job and
 * stops it; destruction deletes expired jobs and their files; quotes follow queue depth.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, sleep, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let http: Client;

beforeAll(async () => {
  stack = await TestStack.start({ env: { UWS_EXECUTION_DURATION: '30', UWS_EXECUTION_DURATION_MAX: '60', UWS_REAPER_INTERVAL: '1' } });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

async function untilExecuting(job: string): Promise<void> {
  for (let i = 0; i < 50 && (await http.phase(job)) !== 'EXECUTING'; i++) await http.get(job, { WAIT: '1', PHASE: await http.phase(job) });
  expect(await http.phase(job)).toBe('EXECUTING');
}

/** Lines in a heartbeat file now, and again after `ms`: equal when the work has stopped. */
async function heartbeatsAfter(file: string, ms: number): Promise<[number, number]> {
  const count = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length : 0);
  await sleep(100); // let a beat in flight land
  const before = count();
  await sleep(ms);
  return [before, count()];
}

describe.each([
  ['a timer-based job', '0'],
  ['a CPU-bound job', '1'],
])('%s', (_name, busy) => {
  test('exceeding the execution duration ends it in ERROR saying so, and the work stops', async () => {
    const heartbeat = path.join(stack.dir, `duration-${busy}.log`);
    const job = await http.create('fixture', {
      MODE: 'sleep',
      SECONDS: '30',
      BUSY: busy,
      HEARTBEAT: heartbeat,
      EXECUTIONDURATION: '1',
      PHASE: 'RUN',
    });
    const started = Date.now();
    expect(await http.settle(job)).toBe('ERROR');
    expect(Date.now() - started).toBeLessThan(10000);
    const xml = (await http.get(job)).text;
    expect(textOf(xml, 'uws:message')).toBe('execution duration of 1 s exceeded; the job was stopped');
    expect(xml).toContain('<uws:errorSummary type="fatal" hasDetail="true">');
    expect((await http.get(`${job}/error`)).text.trim()).toBe('execution duration of 1 s exceeded; the job was stopped');
    const [before, after] = await heartbeatsAfter(heartbeat, 300);
    expect(before).toBeGreaterThan(10);
    expect(after).toBe(before);
  });

  test('ABORT of an EXECUTING job stops its work in the worker process', async () => {
    const heartbeat = path.join(stack.dir, `abort-${busy}.log`);
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '30', BUSY: busy, HEARTBEAT: heartbeat, PHASE: 'RUN' });
    await untilExecuting(job);
    // The work itself has begun (its thread may take a moment to start on a busy machine).
    for (let i = 0; i < 100 && (!fs.existsSync(heartbeat) || fs.readFileSync(heartbeat, 'utf8').split('\n').length < 5); i++)
      await sleep(50);
    expect((await http.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
    expect(await http.phase(job)).toBe('ABORTED');
    const [before, after] = await heartbeatsAfter(heartbeat, 300);
    expect(before).toBeGreaterThan(3);
    expect(after).toBe(before);
    // The aborted job stays ABORTED with no results, and the worker takes new jobs.
    const xml = (await http.get(job)).text;
    expect(xml).toContain('<uws:results/>');
    const next = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(next)).toBe('COMPLETED');
  });
});

test('an aborted QUEUED job never executes', async () => {
  // Fill every slot of the worker (concurrency 4) so the next job waits in the queue.
  const blockers = await Promise.all(
    Array.from({ length: 4 }, () => http.create('fixture', { MODE: 'sleep', SECONDS: '1', PHASE: 'RUN' })),
  );
  const heartbeat = path.join(stack.dir, 'queued.log');
  const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '1', HEARTBEAT: heartbeat, PHASE: 'RUN' });
  expect(await http.phase(job)).toBe('QUEUED');
  expect((await http.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
  for (const b of blockers) expect(await http.settle(b)).toBe('COMPLETED');
  await sleep(300);
  expect(await http.phase(job)).toBe('ABORTED');
  expect(textOf((await http.get(job)).text, 'uws:startTime')).toBeUndefined();
  expect(fs.existsSync(heartbeat)).toBe(false);
});

test('the reaper deletes jobs past their destruction time, with their files', async () => {
  const done = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
  expect(await http.settle(done)).toBe('COMPLETED');
  const running = await http.create('fixture', { MODE: 'sleep', SECONDS: '30', PHASE: 'RUN' });
  await untilExecuting(running);
  const keep = await http.create('fixture', { MODE: 'echo' });
  const soon = new Date(Date.now() + 500).toISOString();
  for (const job of [done, running]) expect((await http.post(`${job}/destruction`, { DESTRUCTION: soon })).status).toBe(303);
  const doneDir = path.join(stack.config.resultsDir, done.split('/').pop()!);
  expect(fs.existsSync(doneDir)).toBe(true);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && ((await http.get(done)).status !== 404 || (await http.get(running)).status !== 404)) await sleep(100);
  expect((await http.get(done)).status).toBe(404);
  expect((await http.get(running)).status).toBe(404);
  expect(fs.existsSync(doneDir)).toBe(false);
  expect((await http.get(keep)).status).toBe(200);
});

test('the quote grows with the queue depth', async () => {
  // Teach the quote the mean duration (≈ 300 ms), then fill the queue.
  for (let i = 0; i < 3; i++) {
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '0.3', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    await sleep(1100); // durations are published at most once a second
  }
  const quoteOf = async (job: string) =>
    Date.parse((await http.get(`${job}/quote`)).text.trim()) - Date.parse(textOf((await http.get(job)).text, 'uws:creationTime')!);
  const idle = await http.create('fixture', { MODE: 'echo' });
  const idleQuote = await quoteOf(idle);
  expect(idleQuote).toBeGreaterThan(100);
  expect(idleQuote).toBeLessThan(2000);
  const busy = await Promise.all(Array.from({ length: 24 }, () => http.create('fixture', { MODE: 'sleep', SECONDS: '5', PHASE: 'RUN' })));
  await sleep(1100); // queue depth is cached for a second
  const loaded = await http.create('fixture', { MODE: 'echo' });
  expect(await quoteOf(loaded)).toBeGreaterThan(idleQuote * 3);
  await Promise.all(busy.map((job) => http.post(`${job}/phase`, { PHASE: 'ABORT' })));
});
