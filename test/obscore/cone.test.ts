/**
 * The cone prefilter (shared/obscore/cone.ts) never drops a row the exact test keeps: cones
 * anywhere (poles, RA 0, tiny to whole-sky radii, rows exactly on the edge) give the rows a
 * scan of the whole table gives, and the query plan uses the sky index.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseAdql } from '../../shared/adql';
import { registerAdqlFunctions, translateAdql } from '../../shared/adql/translate';
import { SKY_INDEX } from '../../shared/obscore/cone';
import { OBSCORE_PAGE_SIZE, ObscoreStore } from '../../shared/obscore/store';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { addSyntheticRows } from '../../shared/obscore/synthetic';
import { seededRandom } from '../../shared/random';
import { angularDistance, contains, makeCircle } from '../../shared/sky';

let dir: string;
let db: Database.Database;
let rows: { did: string; ra: number; dec: number }[];
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obscore-cone-'));
  const file = path.join(dir, 'obscore.sqlite');
  const store = await ObscoreStore.open(file);
  addSyntheticRows(store, 10000, { seed: 11 });
  store.close();
  db = new Database(file, { readonly: true });
  registerAdqlFunctions(db);
  rows = db.prepare('SELECT obs_publisher_did AS did, s_ra AS ra, s_dec AS dec FROM ivoa_obscore').all() as typeof rows;
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function cone(ra: number, dec: number, radius: number): { indexed: string[]; scanned: string[]; plan: string } {
  const adql = `SELECT obs_publisher_did FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', ${ra}, ${dec}, ${radius}))`;
  const translated = translateAdql(parseAdql(adql), PUBLISHED_TABLES);
  const indexed = (
    db
      .prepare(translated.sql)
      .raw(true)
      .all(...translated.params) as [string][]
  )
    .map(([did]) => did)
    .sort();
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${translated.sql}`).all(...translated.params) as { detail: string }[])
    .map((r) => r.detail)
    .join('\n');
  const circle = makeCircle({ ra, dec }, radius);
  const scanned = rows
    .filter((r) => contains(circle, { ra: r.ra, dec: r.dec }))
    .map((r) => r.did)
    .sort();
  return { indexed, scanned, plan };
}

test('a new store has 16 KiB pages; a cone on s_ra/s_dec reads the sky index', () => {
  expect(OBSCORE_PAGE_SIZE).toBe(16384);
  expect(db.pragma('page_size', { simple: true })).toBe(16384);
  const { plan, indexed } = cone(30, -20, 2);
  expect(plan).toContain(`USING COVERING INDEX ${SKY_INDEX}`);
  expect(indexed.length).toBeGreaterThan(0);
});

test('cones at the poles, across RA 0, from arcseconds to the whole sky: the rows of a full scan', () => {
  const cases: [number, number, number][] = [
    [0, 90, 1],
    [180, -90, 3],
    [10, 89.6, 0.5],
    [200, -88, 2.5],
    [0, 0, 1],
    [359.9, 10, 2],
    [0.05, -30, 2],
    [359.99, 60, 5],
    [45, 45, 1 / 3600],
    [123, 4, 45],
    [300, -60, 89.9],
    [0, 0, 90],
    [77, 12, 120],
    [1, 2, 180],
    [270, 0, 0.25],
    [90, 70, 19.5],
  ];
  const next = seededRandom('cone-prefilter', 1);
  for (let i = 0; i < 100; i++) {
    const dec = next() < 0.2 ? (next() < 0.5 ? 1 : -1) * (80 + next() * 10) : Math.asin(2 * next() - 1) * (180 / Math.PI);
    const ra = next() < 0.2 ? (next() < 0.5 ? next() * 2 : 358 + next() * 2) : next() * 360;
    cases.push([ra, dec, 10 ** (-3 + next() * 4.2)]);
  }
  let matched = 0;
  for (const [ra, dec, radius] of cases) {
    const { indexed, scanned } = cone(ra, dec, radius);
    expect({ ra, dec, radius, rows: indexed }).toEqual({ ra, dec, radius, rows: scanned });
    matched += scanned.length;
  }
  expect(matched).toBeGreaterThan(10000);
});

test('rows exactly on the edge of the circle are kept, at its southern, northern, eastern and western extremes too', () => {
  const next = seededRandom('cone-edge', 2);
  const rad = Math.PI / 180;
  let onEdge = 0;
  for (let i = 0; i < 240; i++) {
    const row = rows[Math.floor(next() * rows.length)]!;
    let ra: number;
    let dec: number;
    const kind = i % 4;
    if (kind === 0) {
      // Any centre up to 20° away (some across the poles and RA 0), the radius through the row.
      dec = Math.max(-90, Math.min(90, row.dec + (next() - 0.5) * 40));
      ra = (row.ra + (next() - 0.5) * 40 + 360) % 360;
    } else if (kind === 1 || kind === 2) {
      // The row is the circle's southernmost (northernmost) point: same RA, centre r north (south).
      const r = next() * 5;
      dec = row.dec + (kind === 1 ? r : -r);
      if (Math.abs(dec) > 90) continue;
      ra = row.ra;
    } else {
      // The row is the circle's easternmost or westernmost point: where the circle's RA extent peaks.
      const r = 0.01 + next() * 5;
      if (Math.abs(row.dec) + r >= 89) continue;
      dec = Math.asin(Math.sin(row.dec * rad) * Math.cos(r * rad)) / rad;
      const half = Math.asin(Math.sin(r * rad) / Math.cos(dec * rad)) / rad;
      ra = (row.ra + (next() < 0.5 ? half : -half) + 360) % 360;
    }
    const radius = angularDistance({ ra, dec }, row);
    if (radius <= 0) continue;
    const { indexed, scanned } = cone(ra, dec, radius);
    expect(scanned).toContain(row.did);
    expect({ ra, dec, radius, rows: indexed }).toEqual({ ra, dec, radius, rows: scanned });
    onEdge++;
  }
  expect(onEdge).toBeGreaterThan(200);
});
