/**
 * The fixed, deterministic work of the chaos suite: async TAP queries and cutout jobs, and
 * sync TAP queries and cutouts, each a "recipe" whose result bytes the reference run records
 * (sha256) and every later run of it must reproduce exactly.
 */
import Database from 'better-sqlite3';

export type Param = readonly [string, string];

export interface AsyncRecipe {
  name: string;
  service: 'tap' | 'cutout';
  params: Param[];
  /** The final phase it reaches when nothing goes wrong. */
  expect: 'COMPLETED' | 'ERROR';
  /** Result ids a COMPLETED job lists, in order. */
  resultIds: string[];
  /** How often the load picks it, relative. */
  weight: number;
}

export interface SyncRecipe {
  name: string;
  service: 'tap' | 'cutout';
  params: Param[];
  /** Status when nothing goes wrong (200, 204 or 400). */
  expect: number;
  weight: number;
}

export interface Dataset {
  id: string;
  subtype: string;
  ra: number;
  dec: number;
}

/** Datasets with a file behind them, from the ObsCore store, in a stable order. */
export function readDatasets(obscoreDb: string): Dataset[] {
  const db = new Database(obscoreDb, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT obs_publisher_did AS id, dataproduct_subtype AS subtype, s_ra AS ra, s_dec AS dec FROM ivoa_obscore WHERE _file IS NOT NULL ORDER BY obs_publisher_did',
      )
      .all() as Dataset[];
    return rows;
  } finally {
    db.close();
  }
}

const tap = (query: string, format: string, maxrec?: number): Param[] => [
  ['LANG', 'ADQL'],
  ['QUERY', query],
  ['RESPONSEFORMAT', format],
  ...(maxrec === undefined ? [] : [['MAXREC', String(maxrec)] as Param]),
];

const circle = (ra: number, dec: number, r: number): string => `${ra.toFixed(6)} ${dec.toFixed(6)} ${r}`;

const DIDS = 'SELECT obs_publisher_did, s_ra, s_dec FROM ivoa.ObsCore ORDER BY obs_publisher_did';
const WIDER = 'SELECT obs_publisher_did, dataproduct_subtype, lsst_band, t_min, t_max, s_fov FROM ivoa.ObsCore ORDER BY obs_publisher_did';
const CONE =
  "SELECT obs_publisher_did, s_ra, s_dec FROM ivoa.ObsCore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 55.8, -32.25, 0.2)) = 1 ORDER BY obs_publisher_did";
/** A query that keeps a thread busy for a while (a six-way cartesian join counted: 15^6 rows), so faults find jobs EXECUTING. */
const SLOW =
  'SELECT COUNT(*) AS n FROM ivoa.ObsCore AS a, ivoa.ObsCore AS b, ivoa.ObsCore AS c, ivoa.ObsCore AS d, ivoa.ObsCore AS e, ivoa.ObsCore AS f';
/** Longer (a seven-way join, 15^6 × 4 rows, 1–2 s of a thread): a few of these are started just before a worker fault. */
const SLOWER =
  "SELECT COUNT(*) AS n FROM ivoa.ObsCore AS a, ivoa.ObsCore AS b, ivoa.ObsCore AS c, ivoa.ObsCore AS d, ivoa.ObsCore AS e, ivoa.ObsCore AS f, ivoa.ObsCore AS g WHERE g.lsst_band = 'i'";
const BAD = 'SELECT no_such_column FROM ivoa.ObsCore';

/** The recipe the faults start just before they strike a worker, so that it has work EXECUTING. */
export const FAULT_RECIPE = 'tap-slower';

/** The sync request the faults send just before they stop or pause a worker, so that it has one running. */
export const FAULT_SYNC_RECIPE = 'sync-tap-slower';

/**
 * A nine-way join (15^9 rows: far longer than a run), aborted while Redis is away. Its
 * execution duration (600 s) outlasts the run: if the abort does not stop it, the checks find
 * its thread still busy (the stack is killed at the end of the run).
 */
export function longRecipe(): AsyncRecipe {
  const tables = 'abcdefghi'
    .split('')
    .map((t) => `ivoa.ObsCore AS ${t}`)
    .join(', ');
  return {
    name: 'tap-long-aborted',
    service: 'tap',
    params: [...tap(`SELECT COUNT(*) AS n FROM ${tables}`, 'csv'), ['EXECUTIONDURATION', '600']],
    expect: 'COMPLETED',
    resultIds: ['result'],
    weight: 0,
  };
}

export function buildRecipes(datasets: readonly Dataset[]): { async: AsyncRecipe[]; sync: SyncRecipe[] } {
  if (datasets.length < 4) throw new Error(`the ObsCore store holds ${datasets.length} datasets with files; the recipes need 4`);
  const coadds = datasets.filter((d) => d.subtype.includes('Coadd'));
  const others = datasets.filter((d) => !d.subtype.includes('Coadd'));
  const a = coadds[0] ?? datasets[0]!;
  const b = coadds.find((d) => Math.abs(d.ra - a.ra) > 0.1) ?? datasets[1]!;
  const c = others[0] ?? datasets[2]!;
  const d = others[1] ?? datasets[3]!;
  const centre = (x: Dataset, r = 0.01) => circle(x.ra, x.dec, r);
  const offset = (x: Dataset) => circle(x.ra + 0.08, x.dec - 0.05, 0.03);
  const far = (x: Dataset) => circle(x.ra + 20, x.dec, 0.01);
  const ids = (...xs: Dataset[]): Param[] => xs.map((x) => ['ID', x.id] as Param);
  const circles = (...cs: string[]): Param[] => cs.map((s) => ['CIRCLE', s] as Param);
  const cutoutIds = (n: number) => Array.from({ length: n }, (_, i) => `cutout-${i + 1}`);
  const manyIds = datasets.slice(0, 15);
  const manyCircles = [centre(a), centre(b), centre(c), offset(a), offset(c), far(a)];

  const asyncRecipes: AsyncRecipe[] = [
    { name: 'tap-csv', service: 'tap', params: tap(DIDS, 'csv'), expect: 'COMPLETED', resultIds: ['result'], weight: 3 },
    { name: 'tap-votable', service: 'tap', params: tap(DIDS, 'votable'), expect: 'COMPLETED', resultIds: ['result'], weight: 3 },
    { name: 'tap-votable-maxrec5', service: 'tap', params: tap(DIDS, 'votable', 5), expect: 'COMPLETED', resultIds: ['result'], weight: 2 },
    { name: 'tap-csv-maxrec3', service: 'tap', params: tap(DIDS, 'csv', 3), expect: 'COMPLETED', resultIds: ['result'], weight: 2 },
    { name: 'tap-binary2', service: 'tap', params: tap(WIDER, 'votable/b2'), expect: 'COMPLETED', resultIds: ['result'], weight: 2 },
    { name: 'tap-tsv-cone', service: 'tap', params: tap(CONE, 'tsv'), expect: 'COMPLETED', resultIds: ['result'], weight: 2 },
    { name: 'tap-slow', service: 'tap', params: tap(SLOW, 'csv'), expect: 'COMPLETED', resultIds: ['result'], weight: 2 },
    // Weight 0: never picked by the clients; the faults inject it (see FAULT_RECIPE).
    { name: FAULT_RECIPE, service: 'tap', params: tap(SLOWER, 'csv'), expect: 'COMPLETED', resultIds: ['result'], weight: 0 },
    { name: 'tap-bad-column', service: 'tap', params: tap(BAD, 'votable'), expect: 'ERROR', resultIds: [], weight: 1 },
    {
      name: 'cutout-1x1',
      service: 'cutout',
      params: [...ids(a), ...circles(centre(a))],
      expect: 'COMPLETED',
      resultIds: cutoutIds(1),
      weight: 3,
    },
    {
      name: 'cutout-2x2',
      service: 'cutout',
      params: [...ids(a, b), ...circles(centre(a), centre(b))],
      expect: 'COMPLETED',
      resultIds: cutoutIds(4),
      weight: 2,
    },
    {
      name: 'cutout-3x3',
      service: 'cutout',
      params: [...ids(a, c, d), ...circles(centre(c), offset(a), far(a))],
      expect: 'COMPLETED',
      resultIds: cutoutIds(9),
      weight: 2,
    },
    {
      name: `cutout-${manyIds.length}x${manyCircles.length}`,
      service: 'cutout',
      params: [...ids(...manyIds), ...circles(...manyCircles)],
      expect: 'COMPLETED',
      resultIds: cutoutIds(manyIds.length * manyCircles.length),
      weight: 1,
    },
    {
      name: 'cutout-unknown-id',
      service: 'cutout',
      params: [['ID', 'butler://dp02/00000000-0000-4000-8000-000000000000'], ...circles(centre(a))],
      expect: 'COMPLETED',
      resultIds: cutoutIds(1),
      weight: 1,
    },
    {
      name: 'cutout-bad-circle',
      service: 'cutout',
      params: [...ids(a), ['CIRCLE', '55.9 -32.2']],
      expect: 'ERROR',
      resultIds: [],
      weight: 1,
    },
  ];
  const syncRecipes: SyncRecipe[] = [
    { name: 'sync-tap-csv', service: 'tap', params: tap(DIDS, 'csv'), expect: 200, weight: 3 },
    { name: 'sync-tap-votable-maxrec5', service: 'tap', params: tap(DIDS, 'votable', 5), expect: 200, weight: 2 },
    { name: 'sync-tap-binary2', service: 'tap', params: tap(WIDER, 'votable/b2'), expect: 200, weight: 2 },
    { name: 'sync-tap-tsv-cone', service: 'tap', params: tap(CONE, 'tsv'), expect: 200, weight: 2 },
    // Weight 0: never picked by the clients; the faults inject it (see FAULT_SYNC_RECIPE).
    { name: FAULT_SYNC_RECIPE, service: 'tap', params: tap(SLOWER, 'csv'), expect: 200, weight: 0 },
    { name: 'sync-tap-bad-column', service: 'tap', params: tap(BAD, 'votable'), expect: 400, weight: 1 },
    { name: 'sync-cutout-centre', service: 'cutout', params: [...ids(a), ...circles(centre(a))], expect: 200, weight: 3 },
    { name: 'sync-cutout-offset', service: 'cutout', params: [...ids(c), ...circles(offset(c))], expect: 200, weight: 2 },
    { name: 'sync-cutout-far', service: 'cutout', params: [...ids(a), ...circles(far(a))], expect: 204, weight: 1 },
  ];
  return { async: asyncRecipes, sync: syncRecipes };
}

/** Picks by weight. */
export function weighted<T extends { weight: number }>(items: readonly T[], r: number): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = r * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}
