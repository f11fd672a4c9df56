/**
 * Metadata-only ObsCore rows spread over the whole sky, for query benchmarks at 1M and 10M
 * rows: deterministic (seeded), each a rotated ~0.22° square "detector" footprint with a
 * band, a time and a visit, indexed in the R*Tree like real rows. They have no file
 * (DataLink answers NotFoundFault for them) and are marked by obs_collection.
 */
import { seededRandom } from '../random';
import { makePolygon, formatStcs, type Point } from '../sky';
import { LSST_BANDS } from './bands';
import { PUBLISHER_PREFIX } from './columns';
import { DATALINK_FORMAT, nameUuid } from './ingest';
import type { ObscoreEntry, ObscoreStore } from './store';

export const SYNTHETIC_COLLECTION = 'LSST.DP02.synthetic';
const BANDS = Object.values(LSST_BANDS);
const HALF_SIDE = 0.11; // degrees

function offset(center: Point, east: number, north: number): Point {
  const cosDec = Math.max(Math.cos((center.dec * Math.PI) / 180), 1e-6);
  return { ra: (center.ra + east / cosDec + 360) % 360, dec: Math.max(-89.999, Math.min(89.999, center.dec + north)) };
}

export interface SyntheticOptions {
  seed?: number;
  /** Number of the first row (to add more rows to an earlier run). */
  first?: number;
  batch?: number;
  onProgress?: (done: number) => void;
}

/** The random draws that make one row, in the order they are taken from the stream. */
const DRAWS = 7;

/**
 * Adds `count` rows (numbered from `first`), in transactions of `batch`; returns rows added.
 * Large loads run without the secondary indexes and insert in sky order — the order
 * ObscoreStore.cluster() gives — so the table needs no rewrite afterwards (the rows are drawn
 * in random sky order, the worst case for cone queries). Rows added to a store that already
 * had some are clustered with them.
 */
export function addSyntheticRows(store: ObscoreStore, count: number, options: SyntheticOptions = {}): number {
  if (count < 100000) return loadRows(store, count, options, false);
  const had = store.count();
  store.withLoadCache(() => store.withoutIndexes(() => loadRows(store, count, options, true)));
  if (had > 0) store.cluster();
  return count;
}

function loadRows(store: ObscoreStore, count: number, options: SyntheticOptions, skyOrder: boolean): number {
  const seed = options.seed ?? 1;
  const first = options.first ?? 0;
  const batchSize = options.batch ?? 10000;
  const next = seededRandom(seed);
  // Every row's draws first (7 numbers a row), so rows keep their content whatever the order.
  const draws = new Float64Array(count * DRAWS);
  for (let i = 0; i < draws.length; i++) draws[i] = next();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (skyOrder) {
    const band = new Uint8Array(count);
    const ra = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const center = centerOf(draws, i);
      band[i] = Math.trunc(center.dec + 90);
      ra[i] = center.ra;
    }
    order.sort((a, b) => band[a]! - band[b]! || ra[a]! - ra[b]! || a - b);
  }
  for (let start = 0; start < count; start += batchSize) {
    const entries: ObscoreEntry[] = [];
    for (let k = start; k < Math.min(count, start + batchSize); k++) entries.push(syntheticEntry(draws, order[k]!, seed, first));
    store.upsert(entries);
    options.onProgress?.(Math.min(count, start + batchSize));
  }
  return count;
}

/** Uniform on the sphere; Dec kept off the poles so footprints stay small squares. */
function centerOf(draws: Float64Array, i: number): Point {
  const d = i * DRAWS;
  return { ra: draws[d]! * 360, dec: Math.max(-89.5, Math.min(89.5, (Math.asin(2 * draws[d + 1]! - 1) * 180) / Math.PI)) };
}

function syntheticEntry(draws: Float64Array, i: number, seed: number, first: number): ObscoreEntry {
  const d = i * DRAWS;
  const center = centerOf(draws, i);
  const angle = draws[d + 2]! * 2 * Math.PI;
  const [c, s] = [Math.cos(angle) * HALF_SIDE, Math.sin(angle) * HALF_SIDE];
  const polygon = makePolygon([
    offset(center, c - s, s + c),
    offset(center, -c - s, -s + c),
    offset(center, -c + s, -s - c),
    offset(center, c + s, s - c),
  ]);
  const band = BANDS[Math.floor(draws[d + 3]! * BANDS.length)]!;
  const tMin = 60000 + draws[d + 4]! * 1000;
  const uuid = nameUuid(`synthetic:${seed}:${first + i}`);
  const visit = 2000000 + first + i;
  const detector = Math.floor(draws[d + 5]! * 189);
  return {
    record: {
      dataproduct_type: 'image',
      dataproduct_subtype: 'lsst.calexp',
      calib_level: 2,
      obs_collection: SYNTHETIC_COLLECTION,
      obs_id: `${visit}_${detector}`,
      obs_publisher_did: `${PUBLISHER_PREFIX}${uuid}`,
      access_url: `/api/datalink/links?ID=${PUBLISHER_PREFIX}${uuid}`,
      access_format: DATALINK_FORMAT,
      access_estsize: 100000,
      target_name: null,
      s_ra: center.ra,
      s_dec: center.dec,
      s_fov: 2 * Math.SQRT2 * HALF_SIDE,
      s_region: formatStcs(polygon),
      s_resolution: 0.6 + draws[d + 6]! * 0.4,
      s_xel1: 4072,
      s_xel2: 4000,
      t_min: tMin,
      t_max: tMin + 30 / 86400,
      t_exptime: 30,
      t_resolution: 30,
      t_xel: 1,
      em_min: band.emMin,
      em_max: band.emMax,
      em_res_power: (band.emMin + band.emMax) / 2 / (band.emMax - band.emMin),
      em_xel: 1,
      o_ucd: 'phot.flux.density',
      pol_states: null,
      pol_xel: null,
      facility_name: 'Rubin:Simonyi',
      instrument_name: 'LSSTCam-imSim',
      lsst_band: band.name,
      lsst_filter: `${band.name}_sim_1.4`,
      lsst_tract: null,
      lsst_patch: null,
      lsst_visit: visit,
      lsst_detector: detector,
    },
    file: null,
    fileSize: null,
    fileMtime: null,
    region: polygon,
  };
}
