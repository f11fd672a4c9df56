/**
 * Long jobs' rendered result lists in the api (api/uws/results-cache.ts): the same elements
 * as rendered fresh; a final job's list read once; a running job's list read again after
 * max(1 s, 10 × what reading it took); short lists, other phases and other attempts read
 * fresh; the least recently used dropped beyond the budget.
 */
import { MIN_RESULTS, ResultsCache } from '../../api/uws/results-cache';
import type { Job, JobResult } from '../../shared/uws/model';
import type { Phase } from '../../shared/uws/phase';
import { resultsBody } from '../../shared/uws/xml';

const URL = 'http://example.org/api/bulk/async/j1';

function jobOf(phase: Phase, overrides: Partial<Job> = {}): Job {
  return {
    jobId: 'j1',
    service: 'bulk',
    owner: null,
    runId: null,
    phase,
    creationTime: 0,
    startTime: 1,
    endTime: phase === 'EXECUTING' ? null : 2,
    executionDuration: 0,
    destruction: 3,
    quote: null,
    parameters: [],
    error: null,
    attempts: 1,
    progress: null,
    baseUrl: 'http://example.org',
    ...overrides,
  };
}

const results = (n: number): JobResult[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `stamp-${i + 1}`,
    file: '1/part-1.pack',
    mimeType: 'application/fits',
    size: 28800,
    offset: i * 28800,
  }));

/** A loader that counts its calls and takes `ms` of the fake clock. */
function loader(clock: { now: number }, list: JobResult[], ms = 0) {
  const calls = { count: 0 };
  const load = () => {
    calls.count++;
    clock.now += ms;
    return Promise.resolve(list);
  };
  return { calls, load };
}

describe('ResultsCache', () => {
  test('a final job with a long list: rendered once, the same elements as rendered fresh, per base URL', async () => {
    const clock = { now: 1000 };
    const cache = new ResultsCache(64 << 20, () => clock.now);
    const list = results(MIN_RESULTS);
    const { calls, load } = loader(clock, list);
    const job = jobOf('COMPLETED');
    const first = await cache.elements(job, URL, load);
    expect(first).toBe(resultsBody(URL, list));
    clock.now += 3_600_000;
    expect(await cache.elements(job, URL, load)).toBe(first);
    expect(calls.count).toBe(1);
    // Another base URL (PUBLIC_URL unset, another Host): links of its own.
    const other = 'http://other.example/api/bulk/async/j1';
    expect(await cache.elements(job, other, load)).toBe(resultsBody(other, list));
    expect(calls.count).toBe(2);
    expect(cache.size).toBe(first.length + resultsBody(other, list).length);
    // Archived (its results removed): read again.
    await cache.elements(jobOf('ARCHIVED'), URL, load);
    expect(calls.count).toBe(3);
  });

  test('a running job: kept for 1 s, or 10 × what reading took; read fresh in a final phase and in another attempt', async () => {
    const clock = { now: 0 };
    const cache = new ResultsCache(64 << 20, () => clock.now);
    const { calls, load } = loader(clock, results(2000), 30);
    const running = jobOf('EXECUTING');
    await cache.elements(running, URL, load); // took 30 ms: kept until 0 + max(1000, 300)
    clock.now = 999;
    await cache.elements(running, URL, load);
    expect(calls.count).toBe(1);
    clock.now = 1000;
    await cache.elements(running, URL, load); // read at 1000, took 30: kept until 2000
    expect(calls.count).toBe(2);
    await cache.elements(jobOf('EXECUTING', { attempts: 2 }), URL, load);
    expect(calls.count).toBe(3);
    await cache.elements(jobOf('COMPLETED'), URL, load);
    expect(calls.count).toBe(4);

    const slow = loader(clock, results(2000), 400);
    const other = new ResultsCache(64 << 20, () => clock.now);
    clock.now = 10_000;
    await other.elements(running, URL, slow.load); // took 400 ms: kept until 10,000 + 4,000
    clock.now = 13_999;
    await other.elements(running, URL, slow.load);
    expect(slow.calls.count).toBe(1);
    clock.now = 14_000;
    await other.elements(running, URL, slow.load);
    expect(slow.calls.count).toBe(2);
  });

  test('short lists, jobs in other phases and a budget of 0: read every time', async () => {
    const clock = { now: 0 };
    const short = loader(clock, results(MIN_RESULTS - 1));
    const cache = new ResultsCache(64 << 20, () => clock.now);
    await cache.elements(jobOf('COMPLETED'), URL, short.load);
    await cache.elements(jobOf('COMPLETED'), URL, short.load);
    expect(short.calls.count).toBe(2);
    const long = loader(clock, results(MIN_RESULTS));
    for (const phase of ['PENDING', 'QUEUED', 'HELD', 'SUSPENDED'] as const) {
      await cache.elements(jobOf(phase), URL, long.load);
      await cache.elements(jobOf(phase), URL, long.load);
    }
    expect(long.calls.count).toBe(8);
    const none = new ResultsCache(0, () => clock.now);
    await none.elements(jobOf('COMPLETED'), URL, long.load);
    await none.elements(jobOf('COMPLETED'), URL, long.load);
    expect(long.calls.count).toBe(10);
    expect(none.size).toBe(0);
  });

  test('beyond its budget the least recently used list goes first', async () => {
    const clock = { now: 0 };
    const list = results(MIN_RESULTS);
    const one = resultsBody(URL, list).length;
    const cache = new ResultsCache(2 * one + 100, () => clock.now);
    const { calls, load } = loader(clock, list);
    const urlOf = (job: string) => URL.replace('j1', job);
    const job = (id: string) => jobOf('COMPLETED', { jobId: id });
    await cache.elements(job('a'), urlOf('a'), load);
    await cache.elements(job('b'), urlOf('b'), load);
    await cache.elements(job('a'), urlOf('a'), load); // a used last
    expect(calls.count).toBe(2);
    await cache.elements(job('c'), urlOf('c'), load); // b dropped
    expect(calls.count).toBe(3);
    expect(cache.size).toBeLessThanOrEqual(2 * one + 100);
    await cache.elements(job('a'), urlOf('a'), load);
    expect(calls.count).toBe(3);
    await cache.elements(job('b'), urlOf('b'), load);
    expect(calls.count).toBe(4);
  });
});
