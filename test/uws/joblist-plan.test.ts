/**
 * Job lists on both backends (SQLite, and PostgreSQL at 127.0.0.1:5432, database `test`, in a
 * schema of this run's own): every variant (anonymous or an owner's; no PHASE, one, several;
 * LAST or AFTER) walks the list indexes of migration 006 in order and stops after its limit,
 * without sorting the service's jobs; and on a few thousand jobs every list is exactly the one
 * worked out here (rows, order, LAST, PHASE, AFTER, owner).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_URL, testSchema } from '../helpers/postgres';
import type { JobListFilter, JobRef } from '../../shared/uws/model';
import { PHASES, type Phase } from '../../shared/uws/phase';
import { JobStore, type JobRowFill } from '../../shared/uws/store';

const pg = testSchema('uws_joblist');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-joblist-'));

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await pg.drop();
});

const backends: [string, boolean, () => Promise<JobStore>][] = [
  ['SQLite', false, () => JobStore.open(path.join(tmp, 'jobs.sqlite'))],
  [
    'PostgreSQL',
    true,
    async () => {
      await pg.create();
      return JobStore.open(PG_URL, { searchPath: pg.name });
    },
  ],
];

const SERVICE = 'svc';
const OWNERS = ['alice', 'bob', 'carol', null] as const;
/** Phases by weight: mostly finished jobs, a few of every other kind (HELD, SUSPENDED, UNKNOWN none). */
const WEIGHTED: readonly [Phase, number][] = [
  ['COMPLETED', 60],
  ['ERROR', 12],
  ['ABORTED', 8],
  ['PENDING', 8],
  ['QUEUED', 4],
  ['EXECUTING', 4],
  ['ARCHIVED', 4],
];
const BASE = 1_700_000_000_000;

type Row = JobRowFill;

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` jobs of `service`, created a second apart in threes (ties of creation time are
 * ordered by job id), inserted out of order so neither rowid nor job id follows the list order.
 */
function jobs(service: string, count: number, seed: number): Row[] {
  const next = random(seed);
  const total = WEIGHTED.reduce((sum, [, w]) => sum + w, 0);
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    let r = next() * total;
    const phase = WEIGHTED.find(([, w]) => (r -= w) < 0)?.[0] ?? 'COMPLETED';
    rows.push({
      // Letters and digits of one length: byte order and any collation's order agree.
      job_id: `${service}${Math.floor(next() * 36 ** 6)
        .toString(36)
        .padStart(6, '0')}${i.toString(36).padStart(4, '0')}`,
      service,
      owner: OWNERS[Math.floor(next() * OWNERS.length)]!,
      run_id: i % 7 === 0 ? `run-${i}` : null,
      phase,
      creation_time: BASE + Math.floor(i / 3) * 1000,
      execution_duration: 60,
      destruction: BASE + 86_400_000,
      quote: null,
      attempts: 0,
      parameters: '[]',
      base_url: null,
    });
  }
  return rows.sort(() => next() - 0.5);
}

/** The list worked out from the rows, as JobStore.list must answer it. */
function expected(rows: readonly Row[], filter: JobListFilter): JobRef[] {
  const phases = filter.phases?.length ? filter.phases : PHASES.filter((p) => p !== 'ARCHIVED');
  const chosen = rows.filter(
    (r) =>
      r.service === filter.service &&
      (filter.owner === undefined || r.owner === filter.owner) &&
      phases.includes(r.phase) &&
      (filter.after === undefined || r.creation_time > filter.after),
  );
  chosen.sort((a, b) => a.creation_time - b.creation_time || (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0));
  let list = chosen;
  if (filter.last !== undefined) list = chosen.reverse().slice(0, filter.last);
  else if (filter.limit !== undefined) list = chosen.slice(0, filter.limit);
  return list.map((r) => ({ jobId: r.job_id, phase: r.phase, runId: r.run_id, owner: r.owner, creationTime: r.creation_time }));
}

const OWNER_SCOPES: (string | null | undefined)[] = [undefined, 'alice', null];
const PHASE_SETS: (Phase[] | undefined)[] = [undefined, ['COMPLETED'], ['COMPLETED', 'ERROR'], ['PENDING', 'QUEUED', 'EXECUTING']];
const AFTER = BASE + 400_000;
/** The service whose plans are checked: sizes like the benchmark's, so PostgreSQL's costs are too. */
const BIG = 'big';
const BIG_JOBS = 30_000;
const BIG_AFTER = BASE + 4_000_000;

/**
 * Every variant whose plan is checked: anonymous / an owner's / owner IS NULL × PHASE × LAST=100,
 * or the oldest 100 (after a time, or of all), of the 30,000 jobs of BIG.
 */
function planVariants(): JobListFilter[] {
  const variants: JobListFilter[] = [];
  for (const owner of OWNER_SCOPES) {
    for (const phases of PHASE_SETS) {
      const scope = { service: BIG, ...(owner === undefined ? {} : { owner }), ...(phases ? { phases } : {}) };
      variants.push({ ...scope, last: 100 }, { ...scope, after: BIG_AFTER, limit: 100 }, { ...scope, limit: 100 });
    }
  }
  return variants;
}

const LIST_INDEXES = ['uws_jobs_list_phase', 'uws_jobs_list_owner'];

/** The index a list walks: uws_jobs_list_owner holds owned jobs only, so owner IS NULL walks the other. */
function listIndex(filter: JobListFilter): string {
  return typeof filter.owner === 'string' ? 'uws_jobs_list_owner' : 'uws_jobs_list_phase';
}

interface PgPlan {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Scan Direction'?: string;
  'Index Cond'?: string;
  'Plan Rows': number;
  Plans?: PgPlan[];
}

function nodes(plan: PgPlan): PgPlan[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe.each(backends)('%s job lists', (_name, postgres, open) => {
  let store: JobStore;
  const rows = [...jobs(SERVICE, 3000, 1), ...jobs('other', 600, 2)];
  beforeAll(async () => {
    store = await open();
    await store.insertRows(rows);
    await store.insertRows(jobs(BIG, BIG_JOBS, 3));
    if (postgres) await store.knex.raw('ANALYZE uws_jobs');
  });
  afterAll(async () => store?.close());

  test('the migration replaced uws_jobs_list by the two list indexes', async () => {
    const names = postgres
      ? (
          await store.knex.raw<{ rows: { name: string }[] }>(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'uws_jobs' AND schemaname = ?",
            [pg.name],
          )
        ).rows
      : await store.knex.raw<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'uws_jobs'");
    const found = names.map((r) => r.name);
    expect(found).toEqual(expect.arrayContaining(LIST_INDEXES));
    expect(found).not.toContain('uws_jobs_list');
  });

  test('every list variant walks a list index in order: nothing sorts the jobs', async () => {
    for (const filter of planVariants()) {
      const { sql, bindings } = JobStore.listStatement(filter, postgres);
      const what = JSON.stringify(filter);
      if (!postgres) {
        const plan = (await store.knex.raw<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`, bindings)).map((r) => r.detail);
        expect({ what, plan: plan.filter((d) => /TEMP B-TREE|SCAN uws_jobs|AUTOMATIC/.test(d)) }).toEqual({ what, plan: [] });
        const searches = plan.filter((d) => d.startsWith('SEARCH uws_jobs'));
        expect(searches.length).toBe(filter.phases?.length ?? PHASES.length - 1);
        const index = listIndex(filter);
        for (const search of searches)
          expect({ what, search }).toEqual({ what, search: expect.stringContaining(`USING INDEX ${index} `) as string });
      } else {
        const result = await store.knex.raw<{ rows: { 'QUERY PLAN': { Plan: PgPlan }[] }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, bindings);
        const root = result.rows[0]!['QUERY PLAN'][0]!.Plan;
        const all = nodes(root);
        const scans = all.filter((n) => n['Relation Name'] === 'uws_jobs');
        expect({ what, scans: scans.length, top: root['Node Type'], child: root.Plans?.[0]?.['Node Type'] }).toEqual({
          what,
          scans: filter.phases?.length ?? PHASES.length - 1,
          top: 'Limit',
          child: scans.length > 1 ? 'Merge Append' : 'Index Scan',
        });
        // No Seq Scan; a Sort only of an arm PostgreSQL expects to be small (it may fetch a phase of
        // few jobs, e.g. alice's EXECUTING ones, ~300, through a bitmap and sort them): never the
        // service's 30,000 jobs, nor its 18,000 COMPLETED ones.
        const sorts = all.filter((n) => n['Node Type'] === 'Sort').map((n) => n['Plan Rows']);
        expect({ what, seq: all.some((n) => n['Node Type'] === 'Seq Scan'), sorts: sorts.filter((rows) => rows > 1000) }).toEqual({
          what,
          seq: false,
          sorts: [],
        });
        // The big phase is read in order from a list index, backwards for LAST, and stops early.
        for (const scan of scans.filter((n) => n['Index Cond']?.includes("'COMPLETED'"))) {
          const read = { type: scan['Node Type'], index: scan['Index Name'], direction: scan['Scan Direction'] };
          expect({ what, ...read }).toEqual({
            what,
            type: 'Index Scan',
            index: listIndex(filter),
            direction: filter.last ? 'Backward' : 'Forward',
          });
        }
      }
    }
  });

  test('lists are exactly right: rows, order, LAST, PHASE (several, repeated, ARCHIVED), AFTER, owner', async () => {
    const phaseSets = [...PHASE_SETS, ['ARCHIVED'], ['COMPLETED', 'COMPLETED', 'ABORTED'], ['HELD'], PHASES.slice()] as (
      Phase[] | undefined
    )[];
    const bounds: Partial<JobListFilter>[] = [
      { last: 1 },
      { last: 100 },
      { last: 5000 },
      { limit: 57 },
      { after: AFTER, limit: 200 },
      { after: AFTER, last: 30 },
      { after: AFTER },
      {},
    ];
    let compared = 0;
    for (const owner of [...OWNER_SCOPES, 'bob', 'nobody']) {
      for (const phases of phaseSets) {
        for (const bound of bounds) {
          const filter: JobListFilter = {
            service: SERVICE,
            ...(owner === undefined ? {} : { owner }),
            ...(phases ? { phases } : {}),
            ...bound,
          };
          const want = expected(rows, filter);
          const got = await store.list(filter);
          if (got.length !== want.length || got.some((g, i) => JSON.stringify(g) !== JSON.stringify(want[i]))) {
            expect({ filter, got }).toEqual({ filter, got: want });
          }
          compared += got.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(50_000);
    // The anonymous list of everything but ARCHIVED, LAST=100: the newest 100 of the service.
    const newest = await store.list({ service: SERVICE, last: 100 });
    expect(newest).toHaveLength(100);
    expect(newest.every((j) => j.phase !== 'ARCHIVED')).toBe(true);
  });
});
