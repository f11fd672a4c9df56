/**
 * Job list filters (UWS 1.1 §2.2.2.1) and blocking reads (§2.2.1.2): WAIT is event-driven
 * (one Redis subscription per api process), honours the PHASE race guard and its cap.
 */
import { Client, sleep, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';
import { UwsEvents } from '../../shared/uws/events';

let stack: TestStack;
let http: Client;
const LIST = '/api/fixture/async';

function jobIds(xml: string): string[] {
  return [...xml.matchAll(/<uws:jobref id="([^"]+)"/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  stack = await TestStack.start({ env: { UWS_WAIT_MAX: '2', UWS_LIST_MAX: '8' } });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

describe('job list', () => {
  const created: { id: string; url: string; phase: string }[] = [];
  let middle = '';

  beforeAll(async () => {
    // 2 COMPLETED, 1 ERROR, 1 ABORTED, 2 PENDING, in this creation order.
    const make = async (params: Record<string, string>) => {
      const url = await http.create('fixture', params);
      created.push({ id: url.split('/').pop()!, url, phase: '' });
      await sleep(5);
      return url;
    };
    await http.settle(await make({ MODE: 'echo', PHASE: 'RUN' }));
    await http.settle(await make({ MODE: 'echo', PHASE: 'RUN' }));
    middle = textOf((await http.get(created[1]!.url)).text, 'uws:creationTime')!;
    await http.settle(await make({ MODE: 'fail', PHASE: 'RUN' }));
    await http.post(`${await make({ MODE: 'echo' })}/phase`, { PHASE: 'ABORT' });
    await make({ MODE: 'echo' });
    await make({ MODE: 'echo' });
  });

  test('the list is a uws:jobs document, version 1.1, with jobrefs carrying phase and creationTime', async () => {
    const reply = await http.get(LIST);
    expect(reply.status).toBe(200);
    expect(reply.text).toMatch(/<uws:jobs [^>]*version="1.1"/);
    expect(jobIds(reply.text)).toEqual(created.map((c) => c.id));
    const ref = new RegExp(
      `<uws:jobref id="${created[0]!.id}" xlink:type="simple" xlink:href="${created[0]!.url}"><uws:phase>COMPLETED</uws:phase><uws:ownerId xsi:nil="true"/><uws:creationTime>[^<]+Z</uws:creationTime></uws:jobref>`,
    );
    expect(reply.text).toMatch(ref);
  });

  test('PHASE filters; repeated PHASE is a union', async () => {
    expect(jobIds((await http.get(LIST, { PHASE: 'COMPLETED' })).text)).toEqual([created[0]!.id, created[1]!.id]);
    expect(
      jobIds(
        (
          await http.get(LIST, [
            ['PHASE', 'ERROR'],
            ['PHASE', 'ABORTED'],
          ])
        ).text,
      ),
    ).toEqual([created[2]!.id, created[3]!.id]);
    expect(jobIds((await http.get(LIST, { PHASE: 'EXECUTING' })).text)).toEqual([]);
    expect((await http.get(LIST, { PHASE: 'DONE' })).status).toBe(400);
  });

  test('AFTER keeps jobs created strictly after the time; bad times are 400', async () => {
    expect(jobIds((await http.get(LIST, { AFTER: middle })).text)).toEqual(created.slice(2).map((c) => c.id));
    expect((await http.get(LIST, { AFTER: 'yesterday' })).status).toBe(400);
  });

  test('LAST gives the n most recent, newest first; LAST must be a positive integer', async () => {
    expect(jobIds((await http.get(LIST, { LAST: '3' })).text)).toEqual(
      created
        .slice(-3)
        .reverse()
        .map((c) => c.id),
    );
    for (const bad of ['0', '-1', 'x', '1.5']) expect((await http.get(LIST, { LAST: bad })).status).toBe(400);
  });

  test('filters combine with AND', async () => {
    expect(jobIds((await http.get(LIST, { PHASE: 'PENDING', LAST: '1' })).text)).toEqual([created[5]!.id]);
    expect(jobIds((await http.get(LIST, { PHASE: 'COMPLETED', AFTER: middle })).text)).toEqual([]);
  });

  test('a list longer than UWS_LIST_MAX redirects to the same query with LAST', async () => {
    for (let i = 0; i < 3; i++) await http.create('fixture', { MODE: 'echo' });
    const reply = await http.get(LIST, { PHASE: 'PENDING' });
    expect(reply.status).toBe(200);
    const long = await http.get(LIST);
    expect(long.status).toBe(303);
    expect(long.location).toBe(`${stack.url}${LIST}?LAST=8`);
    expect(jobIds((await http.get(long.location!)).text)).toHaveLength(8);
  });
});

describe('WAIT', () => {
  test('blocks on an EXECUTING job and answers as soon as it completes, not at the timeout', async () => {
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '0.4', PHASE: 'RUN' });
    const started = Date.now();
    let xml = (await http.get(job, { WAIT: '-1' })).text;
    // The first change may be QUEUED → EXECUTING; wait again until it completes.
    while (textOf(xml, 'uws:phase') !== 'COMPLETED' && Date.now() - started < 1900) xml = (await http.get(job, { WAIT: '-1' })).text;
    const elapsed = Date.now() - started;
    expect(textOf(xml, 'uws:phase')).toBe('COMPLETED');
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(1900);
  });

  test('times out after WAIT seconds with the unchanged job', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    const started = Date.now();
    const reply = await http.get(job, { WAIT: '1' });
    const elapsed = Date.now() - started;
    expect(textOf(reply.text, 'uws:phase')).toBe('PENDING');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(1800);
  });

  test('WAIT=-1 and larger values are capped by UWS_WAIT_MAX (2 s here)', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    for (const wait of ['-1', '30']) {
      const started = Date.now();
      await http.get(job, { WAIT: wait });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1950);
      expect(elapsed).toBeLessThan(3000);
    }
  });

  test('a PENDING job wakes the waiter when it is run', async () => {
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '1' });
    const waiting = http.get(job, { WAIT: '-1' });
    await sleep(100);
    const started = Date.now();
    await http.post(`${job}/phase`, { PHASE: 'RUN' });
    const xml = (await waiting).text;
    expect(['QUEUED', 'EXECUTING']).toContain(textOf(xml, 'uws:phase'));
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('does not block in a final phase', async () => {
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    const started = Date.now();
    expect(textOf((await http.get(job, { WAIT: '-1' })).text, 'uws:phase')).toBe('COMPLETED');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('the PHASE guard returns at once when the job is no longer in that phase', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    const started = Date.now();
    expect(textOf((await http.get(job, { WAIT: '-1', PHASE: 'QUEUED' })).text, 'uws:phase')).toBe('PENDING');
    expect(Date.now() - started).toBeLessThan(1000);
    // With the matching phase it blocks.
    const blocked = Date.now();
    await http.get(job, { WAIT: '1', PHASE: 'PENDING' });
    expect(Date.now() - blocked).toBeGreaterThanOrEqual(950);
  });

  test('bad WAIT or PHASE values are 400', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.get(job, { WAIT: 'soon' })).status).toBe(400);
    expect((await http.get(job, { WAIT: '-2' })).status).toBe(400);
    expect((await http.get(job, { WAIT: '1', PHASE: 'DONE' })).status).toBe(400);
  });

  /** A 5 s job, once EXECUTING, with a WAIT=-1 request blocked on it. */
  async function waitingOnExecutingJob() {
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '5', PHASE: 'RUN' });
    let phase = await http.phase(job);
    while (phase === 'QUEUED') phase = textOf((await http.get(job, { WAIT: '2', PHASE: 'QUEUED' })).text, 'uws:phase')!;
    expect(phase).toBe('EXECUTING');
    const waiting = http.get(job, { WAIT: '-1' });
    await sleep(50);
    return { job, waiting };
  }

  test('a stale phase event (the phase the waiter already saw) does not end its WAIT', async () => {
    const { job, waiting } = await waitingOnExecutingJob();
    const events = new UwsEvents(stack.config.redisUrl, stack.config.queuePrefix);
    try {
      await events.publishPhase(job.split('/').pop()!, 'EXECUTING');
      await sleep(300);
      const started = Date.now();
      await http.post(`${job}/phase`, { PHASE: 'ABORT' });
      expect(textOf((await waiting).text, 'uws:phase')).toBe('ABORTED');
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await events.close();
    }
  });

  test('an abort wakes a waiter at once', async () => {
    const { job, waiting } = await waitingOnExecutingJob();
    const started = Date.now();
    await http.post(`${job}/phase`, { PHASE: 'ABORT' });
    expect(textOf((await waiting).text, 'uws:phase')).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('many concurrent waiters on many jobs are all woken, and none is left registered', async () => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => http.create('fixture', { MODE: 'sleep', SECONDS: '0.2' })));
    const waits = jobs.flatMap((job) => [http.get(job, { WAIT: '-1' }), http.get(job, { WAIT: '-1' })]);
    // Every waiter registers before the jobs run (how soon depends on the machine's load).
    for (const deadline = Date.now() + 5000; stack.api!.hub.size < 40 && Date.now() < deadline;) await sleep(20);
    expect(stack.api!.hub.size).toBe(40);
    await Promise.all(jobs.map((job) => http.post(`${job}/phase`, { PHASE: 'RUN' })));
    const replies = await Promise.all(waits);
    for (const reply of replies) expect(['QUEUED', 'EXECUTING', 'COMPLETED']).toContain(textOf(reply.text, 'uws:phase'));
    expect(stack.api!.hub.size).toBe(0);
  });
});
