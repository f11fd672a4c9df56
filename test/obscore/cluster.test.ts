/** ObscoreStore.cluster(): the table rewritten in sky order, with nothing lost or changed. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rtreePrefilter } from '../../shared/obscore/rtree';
import { ObscoreStore } from '../../shared/obscore/store';
import { addSyntheticRows } from '../../shared/obscore/synthetic';
import { cartesianBoundingBox, makeCircle } from '../../shared/sky';

let dir: string;
let store: ObscoreStore;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obscore-cluster-'));
  store = await ObscoreStore.open(path.join(dir, 'obscore.sqlite'));
  addSyntheticRows(store, 3000, { seed: 5 });
});
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** DIDs whose footprint box meets a circle's box, through the R*Tree (as queries do). */
function near(ra: number, dec: number, radius: number): string[] {
  const prefilter = rtreePrefilter('o._id', cartesianBoundingBox(makeCircle({ ra, dec }, radius)));
  return (
    store.db.prepare(`SELECT o.obs_publisher_did AS did FROM ivoa_obscore o WHERE ${prefilter.sql}`).all(...prefilter.params) as {
      did: string;
    }[]
  )
    .map((r) => r.did)
    .sort();
}

test('same rows, same R*Tree answers, same indexes; ids now follow declination bands and RA', () => {
  const rowsBefore = store.db.prepare('SELECT * FROM ivoa_obscore ORDER BY obs_publisher_did').all() as Record<string, unknown>[];
  const cones = [
    [10, 20, 5],
    [200, -45, 8],
    [359, 0, 6],
  ] as const;
  const nearBefore = cones.map(([ra, dec, r]) => near(ra, dec, r));
  const indexes = () =>
    (
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ivoa_obscore' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  const indexesBefore = indexes();

  store.cluster();

  const rowsAfter = store.db.prepare('SELECT * FROM ivoa_obscore ORDER BY obs_publisher_did').all() as Record<string, unknown>[];
  const strip = (rows: Record<string, unknown>[]) => rows.map(({ _id: _ignored, ...rest }) => rest);
  expect(strip(rowsAfter)).toEqual(strip(rowsBefore));
  expect(cones.map(([ra, dec, r]) => near(ra, dec, r))).toEqual(nearBefore);
  expect(nearBefore.every((dids) => dids.length > 0)).toBe(true);
  expect(indexes()).toEqual(indexesBefore);
  expect(indexesBefore).toContain('ivoa_obscore_did');

  const ordered = store.db.prepare('SELECT _id, s_ra, s_dec FROM ivoa_obscore ORDER BY _id').all() as {
    _id: number;
    s_ra: number;
    s_dec: number;
  }[];
  expect(ordered.map((r) => r._id)).toEqual(ordered.map((_, i) => i + 1));
  for (let i = 1; i < ordered.length; i++) {
    const [a, b] = [ordered[i - 1]!, ordered[i]!];
    const [bandA, bandB] = [Math.floor(a.s_dec + 90), Math.floor(b.s_dec + 90)];
    expect(bandB > bandA || (bandB === bandA && b.s_ra >= a.s_ra)).toBe(true);
  }
  // The store keeps working: upserts after clustering (the unique index is back).
  expect(() => addSyntheticRows(store, 10, { seed: 5, first: 0 })).not.toThrow();
  expect(store.count()).toBe(3000);
});
