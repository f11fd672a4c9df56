/** Metadata-only rows for query benchmarks: deterministic, spread over the sky, indexed. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ObscoreStore } from '../../shared/obscore/store';
import { PROJECT_ROOT } from '../../shared/runtime';
import { addSyntheticRows, SYNTHETIC_COLLECTION } from '../../shared/obscore/synthetic';
import { contains, parseStcs } from '../../shared/sky';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obscore-synth-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('N rows over the whole sky, each footprint containing its centre, in the R*Tree; the same seed gives the same rows', async () => {
  const store = await ObscoreStore.open(path.join(dir, 'a.sqlite'));
  expect(addSyntheticRows(store, 20000, { seed: 7 })).toBe(20000);
  expect(store.count()).toBe(20000);
  const rows = store.db.prepare('SELECT s_ra, s_dec, s_region, obs_collection, obs_publisher_did FROM ivoa_obscore').all() as {
    s_ra: number;
    s_dec: number;
    s_region: string;
    obs_collection: string;
    obs_publisher_did: string;
  }[];
  expect(new Set(rows.map((r) => r.obs_collection))).toEqual(new Set([SYNTHETIC_COLLECTION]));
  // Spread: each hemisphere and each RA quadrant gets about its share (uniform on the sphere).
  expect(rows.filter((r) => r.s_dec > 0).length / rows.length).toBeCloseTo(0.5, 1);
  for (let q = 0; q < 4; q++) expect(rows.filter((r) => Math.floor(r.s_ra / 90) === q).length / rows.length).toBeCloseTo(0.25, 1);
  for (const row of rows.slice(0, 500)) expect(contains(parseStcs(row.s_region), { ra: row.s_ra, dec: row.s_dec })).toBe(true);
  expect((store.db.prepare('SELECT count(*) AS n FROM ivoa_obscore_rtree').get() as { n: number }).n).toBe(20000);
  const again = await ObscoreStore.open(path.join(dir, 'b.sqlite'));
  addSyntheticRows(again, 100, { seed: 7 });
  const firstA = store.db.prepare('SELECT obs_publisher_did, s_ra FROM ivoa_obscore ORDER BY _id LIMIT 100').all();
  const firstB = again.db.prepare('SELECT obs_publisher_did, s_ra FROM ivoa_obscore ORDER BY _id LIMIT 100').all();
  expect(firstB).toEqual(firstA);
  store.close();
  again.close();
});

test('npm run demo-data -- --metadata-rows N adds N rows; a second run with another seed adds more', () => {
  const db = path.join(dir, 'cli.sqlite');
  const run = (...args: string[]) =>
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/scripts/demo-data.js'), ...args], {
      env: { ...process.env, OBSCORE_DB: db, LOG_LEVEL: 'silent' },
    }).toString();
  expect(run('--metadata-rows', '700')).toMatch(
    new RegExp(`^demo data: added 700 metadata-only rows \\(seed 1\\) to ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in `),
  );
  run('--metadata-rows', '300', '--seed', '2');
  const store = new Database(db, { readonly: true });
  expect(store.prepare('SELECT count(DISTINCT obs_publisher_did) AS n FROM ivoa_obscore').get()).toEqual({ n: 1000 });
  store.close();
  expect(() => run('--metadata-rows', 'many')).toThrow(/--metadata-rows needs a number of rows, not "many"/);
});
