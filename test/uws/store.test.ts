/**
 * The job store on both backends: SQLite (WAL file) and PostgreSQL (the local server at
 * 127.0.0.1:5432, database `test`, in a schema of this run's own). Transitions are
 * conditional updates, so racing changes end in exactly one outcome.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_URL, testSchema } from '../helpers/postgres';
import type { Job } from '../../shared/uws/model';
import { JobStore, type NewJob } from '../../shared/uws/store';

const pg = testSchema('uws_test');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-store-'));

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await pg.drop();
});

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const now = Date.now();
  return {
    jobId: `j${Math.random().toString(36).slice(2, 12)}`,
    service: 'svc',
    owner: 'alice',
    runId: null,
    phase: 'PENDING',
    creationTime: now,
    executionDuration: 60,
    destruction: now + 3600_000,
    quote: null,
    parameters: [{ name: 'QUERY', value: "SELECT 'ü'" }],
    baseUrl: 'http://example.org:8080',
    ...overrides,
  };
}

const backends: [string, () => Promise<JobStore>][] = [
  ['SQLite', () => JobStore.open(path.join(tmp, 'jobs.sqlite'))],
  [
    'PostgreSQL',
    async () => {
      await pg.create();
      return JobStore.open(PG_URL, { searchPath: pg.name });
    },
  ],
];

describe.each(backends)('%s job store', (_name, open) => {
  let store: JobStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => store?.close());

  test('migrations are idempotent: opening the store twice works', async () => {
    const again = await open();
    await again.close();
  });

  test('a created job reads back exactly, times as numbers', async () => {
    const job = newJob({ runId: 'run-1', quote: 1234567890123 });
    await store.create(job);
    const read = (await store.get(job.jobId)) as Job;
    expect(read).toEqual({ ...job, startTime: null, endTime: null, attempts: 0, error: null, progress: null });
    expect(await store.results(job.jobId)).toEqual([]);
    expect(typeof read.creationTime).toBe('number');
    expect(await store.get('nope')).toBeUndefined();
  });

  test('transitions follow the state machine and are conditional', async () => {
    const job = newJob();
    await store.create(job);
    expect(await store.transition(job.jobId, 'COMPLETED')).toBe(false);
    expect(await store.transition(job.jobId, 'QUEUED')).toBe(true);
    const started = await store.start(job.jobId, 2);
    expect(started.kind).toBe('started');
    expect(await store.complete(job.jobId, 1, [{ id: 'result', file: 'r.xml', mimeType: 'text/xml', size: 10 }])).toBe(true);
    expect(await store.fail(job.jobId, { type: 'fatal', message: 'late' })).toBe(false);
    expect(await store.transition(job.jobId, 'ABORTED')).toBe(false);
    const read = (await store.get(job.jobId))!;
    expect(read.phase).toBe('COMPLETED');
    expect(await store.results(job.jobId)).toEqual([{ id: 'result', file: 'r.xml', mimeType: 'text/xml', size: 10 }]);
    expect(read.startTime).not.toBeNull();
    expect(read.endTime).toBeGreaterThanOrEqual(read.startTime!);
  });

  test('abort racing completion: exactly one outcome, 40 times over', async () => {
    const jobs = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const job = newJob({ phase: 'QUEUED' });
        await store.create(job);
        await store.start(job.jobId, 2);
        return job.jobId;
      }),
    );
    const outcomes = await Promise.all(jobs.map((id) => Promise.all([store.transition(id, 'ABORTED'), store.complete(id, 1, [])])));
    for (const [i, [aborted, completed]] of outcomes.entries()) {
      expect(aborted !== completed).toBe(true);
      expect((await store.get(jobs[i]!))!.phase).toBe(aborted ? 'ABORTED' : 'COMPLETED');
    }
  });

  test('only the current attempt can complete or fail a job (a stalled worker that lost it cannot)', async () => {
    const job = newJob({ phase: 'QUEUED' });
    await store.create(job);
    await store.start(job.jobId, 3); // attempt 1 stalls…
    await store.start(job.jobId, 3); // …and attempt 2 takes the job over
    expect(await store.complete(job.jobId, 1, [{ id: 'stale', file: '1/r', mimeType: 'text/plain', size: 1 }])).toBe(false);
    expect(await store.fail(job.jobId, { type: 'fatal', message: 'stale' }, 1)).toBe(false);
    expect(await store.results(job.jobId)).toEqual([]);
    expect((await store.get(job.jobId))!.phase).toBe('EXECUTING');
    expect(await store.complete(job.jobId, 2, [{ id: 'r', file: '2/r', mimeType: 'text/plain', size: 2 }])).toBe(true);
    expect(await store.complete(job.jobId, 1, [])).toBe(false);
    expect(await store.results(job.jobId)).toEqual([{ id: 'r', file: '2/r', mimeType: 'text/plain', size: 2 }]);
  });

  test('results live in a table of their own: 12,345 in order, one read by id, all gone with the job', async () => {
    const job = newJob({ phase: 'QUEUED' });
    await store.create(job);
    await store.start(job.jobId, 2);
    const results = Array.from({ length: 12345 }, (_, i) => ({
      id: `cutout-${i + 1}`,
      file: '1/cutouts.pack',
      mimeType: 'application/fits',
      size: 100 + i,
      offset: i * 1000,
    }));
    expect(await store.complete(job.jobId, 1, results)).toBe(true);
    expect(await store.results(job.jobId)).toEqual(results);
    expect(await store.result(job.jobId, 'cutout-12000')).toEqual(results[11999]);
    expect(await store.result(job.jobId, 'cutout-0')).toBeUndefined();
    // Pages of the list (the browser pages read no more than they show).
    expect(await store.resultCount(job.jobId)).toBe(12345);
    expect(await store.resultsSlice(job.jobId, 0, 3)).toEqual(results.slice(0, 3));
    expect(await store.resultsSlice(job.jobId, 12000, 200)).toEqual(results.slice(12000, 12200));
    expect(await store.resultsSlice(job.jobId, 12340, 200)).toEqual(results.slice(12340));
    expect(await store.resultsSlice(job.jobId, 12345, 200)).toEqual([]);
    expect(await store.delete(job.jobId)).toBe(true);
    expect(await store.results(job.jobId)).toEqual([]);
    expect(await store.resultCount(job.jobId)).toBe(0);
  });

  test('results recorded while EXECUTING, placed: a part recorded once however often it is done; progress adds up; none after the job ends', async () => {
    const job = newJob({ phase: 'QUEUED' });
    await store.create(job);
    await store.start(job.jobId, 3);
    const stamp = (seq: number, offset: number) => ({
      id: `stamp-${seq}`,
      file: '1/part-1.pack',
      mimeType: 'application/fits',
      size: 10,
      offset,
      seq,
    });
    expect(await store.setProgress(job.jobId, 1, { total: 40, done: 0, ok: 0, failed: 0, bytes: 0, message: '40 stamps in 2 parts' })).toBe(
      true,
    );
    expect(
      await store.addResults(job.jobId, 1, [{ id: 'manifest', file: '1/manifest.xml', mimeType: 'text/xml', size: 0, seq: 0 }], {
        done: 0,
        ok: 0,
        failed: 0,
        bytes: 0,
      }),
    ).toBe('recorded');
    const delta = { done: 20, ok: 18, failed: 2, bytes: 180 };
    expect(await store.addResults(job.jobId, 1, [stamp(12, 0), stamp(11, 10)], delta, 1)).toBe('recorded');
    // The same part again (its worker died after recording it): recorded once, counted once.
    expect(await store.addResults(job.jobId, 1, [stamp(12, 100), stamp(11, 110)], delta, 1)).toBe('duplicate');
    // Results without a part are placed: the same places take the new values.
    expect(await store.addResults(job.jobId, 1, [stamp(11, 111)], { done: 0, ok: 0, failed: 0, bytes: 0 })).toBe('recorded');
    expect((await store.results(job.jobId)).map((r) => [r.id, r.offset])).toEqual([
      ['manifest', undefined],
      ['stamp-11', 111],
      ['stamp-12', 0],
    ]);
    expect(await store.addResults(job.jobId, 1, [], delta, 2)).toBe('recorded');
    expect((await store.get(job.jobId))!.progress).toEqual({
      total: 40,
      done: 40,
      ok: 36,
      failed: 4,
      bytes: 360,
      message: '40 stamps in 2 parts',
    });
    // Another attempt's parts do not count; the job's own attempt completes it keeping its rows.
    expect(await store.addResults(job.jobId, 2, [stamp(13, 0)], { done: 1, ok: 1, failed: 0, bytes: 10 }, 3)).toBe('ended');
    expect(
      await store.completePlaced(job.jobId, 1, [{ id: 'manifest', file: '1/manifest.xml', mimeType: 'text/xml', size: 999, seq: 0 }]),
    ).toBe(true);
    expect((await store.results(job.jobId)).map((r) => [r.id, r.size])).toEqual([
      ['manifest', 999],
      ['stamp-11', 10],
      ['stamp-12', 10],
    ]);
    expect(await store.addResults(job.jobId, 1, [stamp(14, 0)], { done: 1, ok: 1, failed: 0, bytes: 10 })).toBe('ended');
    expect(await store.addResults(job.jobId, 1, [stamp(14, 0)], { done: 1, ok: 1, failed: 0, bytes: 10 }, 4)).toBe('ended');
    expect(await store.setProgress(job.jobId, 1, { total: 1, done: 1, ok: 1, failed: 0, bytes: 0, message: null })).toBe(false);
  });

  test('a limit of running jobs per owner: held while the owner runs that many of the service (others and anonymous apart)', async () => {
    const owner = `o${Math.random().toString(36).slice(2, 8)}`;
    const jobs = [newJob({ owner, phase: 'QUEUED' }), newJob({ owner, phase: 'QUEUED' }), newJob({ owner, phase: 'QUEUED' })];
    const other = newJob({ owner, phase: 'QUEUED', service: 'other' });
    const anonymous = [
      newJob({ owner: null, phase: 'QUEUED', service: 'anon' }),
      newJob({ owner: null, phase: 'QUEUED', service: 'anon' }),
    ];
    for (const j of [...jobs, other, ...anonymous]) await store.create(j);
    expect((await store.start(jobs[0]!.jobId, 3, Date.now(), 2)).kind).toBe('started');
    expect((await store.start(jobs[1]!.jobId, 3, Date.now(), 2)).kind).toBe('started');
    expect((await store.start(jobs[2]!.jobId, 3, Date.now(), 2)).kind).toBe('held');
    expect((await store.get(jobs[2]!.jobId))!.phase).toBe('QUEUED');
    expect((await store.start(other.jobId, 3, Date.now(), 2)).kind).toBe('started'); // another service
    // One of the owner's jobs ends: the held one starts.
    await store.transition(jobs[0]!.jobId, 'ABORTED');
    expect((await store.start(jobs[2]!.jobId, 3, Date.now(), 2)).kind).toBe('started');
    // Anonymous jobs share one (NULL) owner.
    expect((await store.start(anonymous[0]!.jobId, 3, Date.now(), 1)).kind).toBe('started');
    expect((await store.start(anonymous[1]!.jobId, 3, Date.now(), 1)).kind).toBe('held');
    // A retry of an EXECUTING job (its worker died) is not held: it is already counted.
    expect((await store.start(jobs[1]!.jobId, 3, Date.now(), 1)).kind).toBe('started');
  });

  test('two workers taking the same job: attempts count, and a job out of attempts ends in ERROR', async () => {
    const job = newJob({ phase: 'QUEUED' });
    await store.create(job);
    expect((await store.start(job.jobId, 2)).kind).toBe('started');
    expect((await store.start(job.jobId, 2)).kind).toBe('started'); // retry after a dead worker
    const third = await store.start(job.jobId, 2);
    expect(third.kind).toBe('exhausted');
    const read = (await store.get(job.jobId))!;
    expect(read.phase).toBe('ERROR');
    expect(read.error).toEqual({
      type: 'transient',
      message: 'the worker running this job stopped 2 time(s); giving up after 2 attempt(s)',
    });
    expect((await store.start(job.jobId, 2)).kind).toBe('gone');
  });

  test('two workers starting the same job at the same moment: one of them gets it', async () => {
    for (let i = 0; i < 20; i++) {
      const job = newJob({ phase: 'QUEUED' });
      await store.create(job);
      const outcomes = await Promise.all([store.start(job.jobId, 5), store.start(job.jobId, 5)]);
      const started = outcomes.filter((o) => o.kind === 'started').length;
      expect(started).toBeGreaterThanOrEqual(1);
      expect((await store.get(job.jobId))!.attempts).toBe(started);
    }
  });

  test('release gives the job back without spending the attempt', async () => {
    const job = newJob({ phase: 'QUEUED' });
    await store.create(job);
    await store.start(job.jobId, 2);
    expect(await store.release(job.jobId, 2)).toBe(false); // not this job's attempt
    expect(await store.release(job.jobId, 1)).toBe(true);
    const read = (await store.get(job.jobId))!;
    expect(read.phase).toBe('QUEUED');
    expect(read.attempts).toBe(0);
  });

  test('parameters and execution duration change only while PENDING', async () => {
    const job = newJob();
    await store.create(job);
    expect(await store.setParameters(job.jobId, [{ name: 'A', value: '1' }], 'run-x')).toBe(true);
    expect(await store.setExecutionDuration(job.jobId, 5)).toBe(true);
    await store.transition(job.jobId, 'QUEUED');
    expect(await store.setParameters(job.jobId, [{ name: 'B', value: '2' }])).toBe(false);
    expect(await store.setExecutionDuration(job.jobId, 9)).toBe(false);
    const read = (await store.get(job.jobId))!;
    expect(read.parameters).toEqual([{ name: 'A', value: '1' }]);
    expect(read.runId).toBe('run-x');
    expect(read.executionDuration).toBe(5);
  });

  test('list filters: owner, phases (ARCHIVED hidden unless asked), after, last (newest first)', async () => {
    const base = Date.now() + 10_000_000;
    const made: NewJob[] = [];
    for (let i = 0; i < 5; i++) {
      const job = newJob({
        service: 'listsvc',
        owner: i === 4 ? 'bob' : 'alice',
        creationTime: base + i * 1000,
        phase: i === 3 ? 'ARCHIVED' : 'PENDING',
      });
      made.push(job);
      await store.create(job);
    }
    const ids = (refs: { jobId: string }[]) => refs.map((r) => r.jobId);
    expect(ids(await store.list({ service: 'listsvc', owner: 'alice' }))).toEqual([made[0]!.jobId, made[1]!.jobId, made[2]!.jobId]);
    expect(ids(await store.list({ service: 'listsvc', owner: 'alice', phases: ['ARCHIVED'] }))).toEqual([made[3]!.jobId]);
    expect(ids(await store.list({ service: 'listsvc', after: base + 1000 }))).toEqual([made[2]!.jobId, made[4]!.jobId]);
    expect(ids(await store.list({ service: 'listsvc', last: 2 }))).toEqual([made[4]!.jobId, made[2]!.jobId]);
    expect(ids(await store.list({ service: 'listsvc', owner: null }))).toEqual([]);
  });

  test('expired and unfinished jobs are found for the reaper and reconciliation', async () => {
    const old = newJob({ service: 'reapsvc', destruction: 1000 });
    const queued = newJob({ service: 'reapsvc', phase: 'QUEUED' });
    await store.create(old);
    await store.create(queued);
    expect((await store.expired(Date.now())).map((j) => j.jobId)).toContain(old.jobId);
    expect((await store.unfinished(['reapsvc'])).map((j) => j.jobId)).toContain(queued.jobId);
    // Only the services asked for (an engine reconciles its own).
    expect((await store.unfinished(['othersvc'])).map((j) => j.jobId)).not.toContain(queued.jobId);
    expect(await store.unfinished([])).toEqual([]);
    expect(await store.delete(old.jobId)).toBe(true);
    expect(await store.get(old.jobId)).toBeUndefined();
  });
});
