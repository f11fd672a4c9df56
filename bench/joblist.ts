/**
 * Job list benchmark (`npm run bench:joblist`): the UWS job list (JobStore.list, what
 * GET /api/<service>/async answers) with BENCH_JOBLIST_SMALL (500) jobs in the store, then
 * with BENCH_JOBLIST_JOBS (100,000), on SQLite and on PostgreSQL (BENCH_DATABASE_URL, default
 * TEST_DATABASE_URL or the local `test` database, in a schema of its own; skipped with a note
 * when unreachable). p50 of LAST=100 and PHASE=COMPLETED&LAST=100, anonymous (no owner
 * condition) and of one owner among ten (one who holds 40% of the jobs, so the list is full at
 * both sizes), at the store; and over HTTP through the real api (anonymous, SQLite).
 * Target: each list at 100,000 jobs within 2× of the same list at 500.
 * Jobs are written straight into uws_jobs in batches: mixed phases, creation times a second
 * apart with jitter, random job ids.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../shared/db';
import { newJobId } from '../shared/ids';
import { PROJECT_ROOT } from '../shared/runtime';
import type { JobListFilter } from '../shared/uws/model';
import type { Phase } from '../shared/uws/phase';
import { JobStore, type JobRowFill } from '../shared/uws/store';
import { machineLine, percentile, summary } from './machine';
import { request, startBenchStack } from './stack';

const SMALL = Number(process.env.BENCH_JOBLIST_SMALL ?? 500);
const LARGE = Number(process.env.BENCH_JOBLIST_JOBS ?? 100000);
const RUNS = Number(process.env.BENCH_JOBLIST_RUNS ?? 1000);
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const SERVICE = 'bench';
const OWNER = 'owner0';
const PHASE_WEIGHTS: readonly [Phase, number][] = [
  ['COMPLETED', 70],
  ['ERROR', 10],
  ['ABORTED', 8],
  ['PENDING', 6],
  ['QUEUED', 3],
  ['EXECUTING', 3],
];

type Row = JobRowFill;

/** `count` jobs of `service`, oldest first; owners: owner0 40%, owner1…owner9 the rest (or all null). */
function jobs(service: string, count: number, anonymous: boolean): Row[] {
  const start = Date.now() - count * 1000;
  const total = PHASE_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    let r = Math.random() * total;
    const phase = PHASE_WEIGHTS.find(([, w]) => (r -= w) < 0)?.[0] ?? 'COMPLETED';
    const owner = anonymous ? null : Math.random() < 0.4 ? OWNER : `owner${1 + Math.floor(Math.random() * 9)}`;
    rows.push({
      job_id: newJobId(),
      service,
      owner,
      run_id: null,
      phase,
      creation_time: start + i * 1000 + Math.floor(Math.random() * 500),
      execution_duration: 600,
      destruction: Date.now() + 30 * 86_400_000,
      quote: null,
      attempts: phase === 'PENDING' ? 0 : 1,
      parameters: '[{"name":"QUERY","value":"SELECT TOP 10 * FROM ivoa.obscore"}]',
      base_url: null,
    });
  }
  return rows;
}

const VARIANTS: [string, Omit<JobListFilter, 'service'>][] = [
  ['anonymous LAST=100', { last: 100 }],
  ['anonymous PHASE=COMPLETED&LAST=100', { phases: ['COMPLETED'], last: 100 }],
  [`owner LAST=100`, { owner: OWNER, last: 100 }],
  [`owner PHASE=COMPLETED&LAST=100`, { owner: OWNER, phases: ['COMPLETED'], last: 100 }],
];

interface Measured {
  times: number[];
  rows: number;
}

/**
 * Each list `RUNS` times after 300 to warm up, the lists taking turns ten at a time, so a
 * change of the machine's load (other processes) weighs on all of them alike.
 */
async function measure(lists: ReadonlyArray<[string, () => Promise<number>]>): Promise<Map<string, Measured>> {
  const measured = new Map<string, Measured>(lists.map(([label]) => [label, { times: [], rows: 0 }]));
  for (let i = 0; i < 300; i++) for (const [label, once] of lists) measured.get(label)!.rows = await once();
  for (let done = 0; done < RUNS; done += 10) {
    for (const [label, once] of lists) {
      const { times } = measured.get(label)!;
      for (let i = done; i < Math.min(RUNS, done + 10); i++) {
        const t = performance.now();
        await once();
        times.push(performance.now() - t);
      }
    }
  }
  return measured;
}

function p50(m: Measured): number {
  const sorted = [...m.times].sort((a, b) => a - b);
  return percentile(sorted, 50);
}

function report(label: string, small: Measured, large: Measured): void {
  const ratio = p50(large) / p50(small);
  console.log(
    `  ${label}: ${SMALL} jobs ${summary(small.times, 3)}, ${small.rows} rows; ${LARGE.toLocaleString('en')} jobs ${summary(large.times, 3)}, ${large.rows} rows; ` +
      `×${ratio.toFixed(2)}  [target ≤ 2×]`,
  );
}

/** The store-level lists on one backend, at SMALL jobs then LARGE. */
async function benchStore(name: string, store: JobStore, postgres: boolean): Promise<void> {
  const all = jobs(SERVICE, LARGE, false);
  const lists = VARIANTS.map(([label, filter]): [string, () => Promise<number>] => [
    label,
    async () => (await store.list({ service: SERVICE, ...filter })).length,
  ]);
  await store.insertRows(all.slice(0, SMALL));
  // As autovacuum would after the inserts (SQLite's plans take no statistics).
  if (postgres) await store.knex.raw('ANALYZE uws_jobs');
  const small = await measure(lists);
  const t = performance.now();
  await store.insertRows(all.slice(SMALL));
  if (postgres) await store.knex.raw('ANALYZE uws_jobs');
  console.log(
    `joblist ${name} (store, JobStore.list): filled to ${LARGE.toLocaleString('en')} jobs in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const large = await measure(lists);
  for (const [label] of VARIANTS) report(label, small.get(label)!, large.get(label)!);
}

async function benchSqlite(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-joblist-'));
  const store = await JobStore.open(path.join(dir, 'jobs.sqlite'));
  try {
    await benchStore('SQLite (WAL)', store, false);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function reachable(url: string): Promise<string | undefined> {
  const admin = openDatabase(url);
  try {
    await Promise.race([
      admin.raw('SELECT 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 5 s')), 5000).unref()),
    ]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.destroy();
  }
}

async function benchPostgres(): Promise<void> {
  const shown = PG_URL.replace(/\/\/[^@/]*@/, '//');
  const why = await reachable(PG_URL);
  if (why !== undefined) {
    console.log(`joblist PostgreSQL: skipped, ${shown} unreachable (${why}); set BENCH_DATABASE_URL`);
    return;
  }
  const schema = `bench_joblist_${process.pid}_${Date.now()}`;
  const admin = openDatabase(PG_URL);
  await admin.raw(`CREATE SCHEMA ${schema}`);
  let store: JobStore | undefined;
  try {
    store = await JobStore.open(PG_URL, { searchPath: schema });
    const [version] = (await store.knex.raw<{ rows: { server_version: string }[] }>('SHOW server_version')).rows;
    await benchStore(`PostgreSQL ${version?.server_version ?? ''} (${shown}, schema of its own)`, store, true);
  } finally {
    await store?.close();
    await admin.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.destroy();
  }
}

/** GET /api/fixture/async?… through the api process (anonymous mode, SQLite), list XML included. */
async function benchHttp(): Promise<void> {
  const stack = await startBenchStack('joblist', { SERVICE_MODULES: path.join(PROJECT_ROOT, 'dist/test/fixtures/services.js') });
  const store = await JobStore.open(stack.config.databaseUrl);
  try {
    const all = jobs('fixture', LARGE, true);
    const queries: [string, string][] = [
      ['HTTP anonymous LAST=100', 'LAST=100'],
      ['HTTP anonymous PHASE=COMPLETED&LAST=100', 'PHASE=COMPLETED&LAST=100'],
    ];
    const get = async (query: string) => {
      const reply = await request(stack.port, 'GET', `/api/fixture/async?${query}`);
      if (reply.status !== 200) throw new Error(`job list answered ${reply.status}: ${reply.text.slice(0, 200)}`);
      return reply.text.split('<uws:jobref ').length - 1;
    };
    const lists = queries.map(([label, query]): [string, () => Promise<number>] => [label, () => get(query)]);
    await store.insertRows(all.slice(0, SMALL));
    const small = await measure(lists);
    await store.insertRows(all.slice(SMALL));
    const large = await measure(lists);
    console.log(`joblist SQLite over HTTP (api process, jobListXml; ${stack.workers} idle worker(s)):`);
    for (const [label] of queries) report(label, small.get(label)!, large.get(label)!);
  } finally {
    await store.close();
    await stack.stop();
  }
}

export async function benchJoblist(): Promise<void> {
  console.log(machineLine());
  console.log(
    `joblist: p50 of ${RUNS} lists each (taking turns), after 300 to warm up; owner = ${OWNER}, 40% of the jobs (9 other owners); ` +
      `phases COMPLETED 70%, ERROR 10%, ABORTED 8%, PENDING 6%, QUEUED 3%, EXECUTING 3%`,
  );
  await benchSqlite();
  await benchPostgres();
  await benchHttp();
  console.log(machineLine());
}

if (require.main === module) {
  benchJoblist().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
