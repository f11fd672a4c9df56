/**
 * Queries that must stop, or fail, cleanly. Stopping a query really stops it: ABORT, an execution-duration overrun and a SYNC_TIMEOUT
 * each end a cartesian join that would run for hours, and the worker process's CPU time
 * stops growing within a second (a statement inside SQLite ignores thread termination; the
 * cancel extension, shared/db/native/cancel.cc, interrupts it). A statement SQLite refuses
 * fails before the answer's header goes out, so a sync answer is an error, not a cut 200.
 */
import fs from 'node:fs';
import { Client, sleep, textOf } from '../helpers/http';
import { startTapStack, type TapFixture } from './fixture';

let fx: TapFixture;
let client: Client;

beforeAll(async () => {
  fx = await startTapStack({
    workers: 1,
    env: { SYNC_TIMEOUT: '2', UWS_EXECUTION_DURATION_MAX: '60', SYNC_INLINE_BYTES: '8000', JOB_MAX_BYTES: '20000' },
  });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

/** Eight copies of the table: 15^8 combinations of the demo store's rows, minutes of SQLite. */
const ALIASES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const CARTESIAN = `SELECT COUNT(*) FROM ${ALIASES.map((a) => `ivoa.ObsCore AS ${a}`).join(', ')} WHERE ${ALIASES.map((a) => `${a}.s_ra`).join(' + ')} > -1`;

/** CPU seconds (user + system) the worker process has used: /proc/<pid>/stat fields 14 and 15. */
function workerCpuSeconds(): number {
  const pid = fx.stack.workers[0]!.child.pid!;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // fields after the name start at field 3
}

/** CPU the worker spends over `ms`, measured after a second for the stop to take effect. */
async function cpuAfterStop(ms = 2000): Promise<number> {
  await sleep(1000);
  const before = workerCpuSeconds();
  await sleep(ms);
  return workerCpuSeconds() - before;
}

async function untilExecuting(job: string): Promise<void> {
  for (let i = 0; i < 50 && (await client.phase(job)) !== 'EXECUTING'; i++) await sleep(100);
  expect(await client.phase(job)).toBe('EXECUTING');
}

/** The worker is busy: the query is running (a core's worth of CPU on a quiet machine; a busy one shares it). */
async function expectBusy(): Promise<void> {
  const before = workerCpuSeconds();
  await sleep(1000);
  expect(workerCpuSeconds() - before).toBeGreaterThan(0.2);
}

test('ABORT stops the statement inside SQLite', async () => {
  const job = await client.create('tap', { LANG: 'ADQL', QUERY: CARTESIAN, PHASE: 'RUN' });
  try {
    await untilExecuting(job);
    await expectBusy();
  } finally {
    // Whatever failed above, the query must not outlive this test and skew the next ones.
    expect((await client.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
  }
  expect(await client.phase(job)).toBe('ABORTED');
  expect(await cpuAfterStop()).toBeLessThan(0.3);
}, 30000);

test('an execution-duration overrun ends the job in ERROR and stops the statement', async () => {
  const job = await client.create('tap', { LANG: 'ADQL', QUERY: CARTESIAN, EXECUTIONDURATION: '2', PHASE: 'RUN' });
  expect(await client.settle(job)).toBe('ERROR');
  expect(textOf((await client.get(job)).text, 'uws:message')).toBe('execution duration of 2 s exceeded; the job was stopped');
  expect(await cpuAfterStop()).toBeLessThan(0.3);
}, 30000);

test('a sync query past SYNC_TIMEOUT is answered with an error, and its statement stops', async () => {
  const started = Date.now();
  const reply = await client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN });
  expect(Date.now() - started).toBeLessThan(6000);
  expect(reply.status).toBe(400);
  expect(reply.text).toContain('the request ran longer than 2 s and was stopped; use the async endpoint for long work');
  expect(await cpuAfterStop()).toBeLessThan(0.3);
}, 30000);

test('after all that, the worker answers queries at once', async () => {
  const reply = await client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT COUNT(*) FROM ivoa.ObsCore' });
  expect(reply.status).toBe(200);
  expect(reply.text).toContain(`<TD>${fx.datasets.length}</TD>`);
});

test('a statement SQLite refuses (too many result columns) is a 400 error document, not a 200 cut short', async () => {
  // 2,100 columns: more than SQLite allows in a result (2,000); their FIELDs alone outgrow
  // SYNC_INLINE_BYTES, so a header written before the statement was prepared would have
  // gone out with a 200.
  const query = `SELECT ${Array.from({ length: 2100 }, () => 's_ra').join(', ')} FROM ivoa.ObsCore`;
  const reply = await client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: query });
  expect(reply.status).toBe(400);
  expect(reply.text).toContain('<INFO name="QUERY_STATUS" value="ERROR">query failed: too many columns in result set</INFO>');
  expect(reply.text).not.toContain('<FIELD');
});

test('a job whose results outgrow JOB_MAX_BYTES ends in ERROR saying so, and keeps no partial file', async () => {
  // Every column of every row: about 30 kB of TABLEDATA, over the 20,000-byte budget.
  const job = await client.create('tap', { LANG: 'ADQL', QUERY: 'SELECT * FROM ivoa.ObsCore', PHASE: 'RUN' });
  expect(await client.settle(job)).toBe('ERROR');
  const message = 'the results exceed the output limit of 20000 bytes (JOB_MAX_BYTES); ask for less (MAXREC, fewer or smaller cutouts)';
  expect(textOf((await client.get(job)).text, 'uws:message')).toBe(message);
  expect((await client.get(`${job}/error`)).text).toContain(message);
  expect(fs.existsSync(`${fx.stack.config.resultsDir}/${job.split('/').pop()}/results`)).toBe(true);
  expect(fs.readdirSync(`${fx.stack.config.resultsDir}/${job.split('/').pop()}/results`)).toEqual([]);
  // Within the budget, the same query with fewer rows completes.
  const small = await client.create('tap', { LANG: 'ADQL', QUERY: 'SELECT TOP 2 * FROM ivoa.ObsCore', PHASE: 'RUN' });
  expect(await client.settle(small)).toBe('COMPLETED');
});

test('a sync request whose worker stops (SIGTERM, no grace) is a 503 with Retry-After, not a 500', async () => {
  const stopping = await fx.stack.startWorker({ SHUTDOWN_GRACE: '0' });
  await fx.stack.workers[0]!.stop('SIGKILL'); // only `stopping` takes requests now
  const answer = client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN });
  await sleep(1000);
  expect(await stopping.stop('SIGTERM')).toBe(0);
  const reply = await answer;
  expect(reply.status).toBe(503);
  expect(reply.headers.get('retry-after')).toBe('5');
  expect(reply.text).toMatch(
    /the worker is shutting down; please retry|the worker running the request stopped before it answered; please retry/,
  );
}, 30000);

test('a sync request whose worker dies is answered 503 within seconds, not after SYNC_TIMEOUT', async () => {
  // Without the watch, the api would wait SYNC_QUEUE_TIMEOUT (30 s here) and then SYNC_TIMEOUT.
  const doomed = await fx.stack.startWorker();
  await Promise.all(fx.stack.workers.filter((w) => w !== doomed).map((w) => w.stop('SIGKILL')));
  const started = Date.now();
  const answer = client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: CARTESIAN });
  await sleep(1500);
  await doomed.stop('SIGKILL');
  const reply = await answer;
  expect(reply.status).toBe(503);
  expect(reply.text).toContain('the worker running the request stopped before it answered; please retry');
  expect(Date.now() - started).toBeLessThan(10000);
}, 30000);
