/**
 * A small real ObsCore SQLite file for the SIA query tests, opened read-only with the ADQL
 * functions registered, as the worker opens the real one. Each row is named (obs_id) after
 * what it is there to test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { registerAdqlFunctions } from '../../shared/adql/translate';
import { LSST_BANDS, type Band } from '../../shared/obscore/bands';
import { OBSCORE_COLUMNS, type ObscoreRecord } from '../../shared/obscore/columns';
import { ObscoreStore, type ObscoreEntry } from '../../shared/obscore/store';
import { buildSiaQuery, type SiaLimits, type SiaParam, type SiaQuery } from '../../shared/sia';
import { formatStcs, makeBox, makePolygon, type Shape } from '../../shared/sky';

export const LIMITS: SiaLimits = { maxrecDefault: 20, maxrecMax: 50 };
/** The base URL the queries put before stored access_url paths. */
export const BASE_URL = 'http://sia.test';

const DATALINK = 'application/x-votable+xml;content=datalink';
/** Mixed case, to show that ID compares case-insensitively (SIA 2.0 §2.1.8). */
export const TRIANGLE_DID = 'ivo://example.org/Other?Triangle-1';

/** The obs_publisher_did of a row (but the triangle's). */
export const did = (obsId: string): string => `butler://dp02/00000000-0000-0000-0000-${obsId.padStart(12, '0').slice(-12)}`;
const box = (ra: number, dec: number): Shape => makeBox({ ra, dec }, 0.2, 0.2);
const band = ({ emMin, emMax }: Band): Partial<ObscoreRecord> => ({ em_min: emMin, em_max: emMax });

/** A Rubin-like calexp row; `overrides` make it the row a test needs. */
function entry(obsId: string, region: Shape, overrides: Partial<ObscoreRecord>): ObscoreEntry {
  const blank = Object.fromEntries(OBSCORE_COLUMNS.map((c) => [c.name, null])) as ObscoreRecord;
  const record: ObscoreRecord = {
    ...blank,
    dataproduct_type: 'image',
    calib_level: 2,
    obs_collection: 'LSST.DP02',
    obs_id: obsId,
    obs_publisher_did: did(obsId),
    access_url: `/api/datalink/links?ID=${did(obsId)}`,
    access_format: DATALINK,
    s_fov: 0.28,
    s_region: formatStcs(region),
    s_resolution: 0.7,
    t_exptime: 30,
    t_resolution: 30,
    em_res_power: 5,
    facility_name: 'Rubin:Simonyi',
    instrument_name: 'LSSTCam-imSim',
    target_name: 'DC2',
    ...overrides,
  };
  return { record, file: null, fileSize: null, fileMtime: null, region };
}

export const ENTRIES: readonly ObscoreEntry[] = [
  entry('r-coadd', box(55.75, -32.27), {
    calib_level: 3,
    ...band(LSST_BANDS.r!),
    t_min: 60100,
    t_max: 60300,
    t_exptime: 900,
    t_resolution: null,
  }),
  entry('i-calexp', box(55.8, -32.3), { ...band(LSST_BANDS.i!), t_min: 60010.1, t_max: 60010.1004, s_resolution: 0.9 }),
  entry('g-diff', box(55.6, -32.4), { calib_level: 3, ...band(LSST_BANDS.g!), t_min: 60020, t_max: 60020.0004, s_resolution: 1.1 }),
  // Its footprint spans RA 359.85 … 0.05, across RA 0.
  entry('west-of-0', box(359.95, 0.5), { ...band(LSST_BANDS.z!), t_min: 60030, t_max: 60030.0004 }),
  entry('east-of-0', box(0.3, 0.5), { ...band(LSST_BANDS.y!), t_min: 60040, t_max: 60040.0004 }),
  entry('near-pole', box(45, 89.5), { ...band(LSST_BANDS.u!), t_min: 60060, t_max: 60060.0004 }),
  entry(
    'triangle',
    makePolygon([
      { ra: 150, dec: 2 },
      { ra: 151, dec: 2 },
      { ra: 150.5, dec: 3 },
    ]),
    {
      dataproduct_type: 'cube',
      calib_level: 1,
      obs_collection: 'OTHER.SURVEY',
      obs_publisher_did: TRIANGLE_DID,
      access_url: null,
      access_format: 'application/fits',
      facility_name: 'Other:Telescope',
      instrument_name: 'OtherCam',
      target_name: 'COSMOS',
      pol_states: '/I/Q/U/',
      em_min: 1e-6,
      em_max: 2e-6,
      t_min: 59000,
      t_max: 59001,
      s_fov: 1.2,
      s_resolution: 1.5,
      t_exptime: 600,
      t_resolution: 10,
      em_res_power: 1000,
    },
  ),
  entry('pol-v', box(10, 10), {
    calib_level: 1,
    obs_collection: 'OTHER.SURVEY',
    pol_states: '/V/',
    em_min: 5e-3,
    em_max: 6e-3,
    t_min: 59500,
    t_max: 59500.1,
  }),
  // Every column that may be NULL is NULL, s_region included (its R*Tree box is still there).
  entry('nulls', box(200, -10), {
    calib_level: 0,
    dataproduct_type: null,
    access_url: null,
    access_format: null,
    target_name: null,
    s_fov: null,
    s_region: null,
    s_resolution: null,
    t_exptime: null,
    t_resolution: null,
    em_res_power: null,
    facility_name: null,
    instrument_name: null,
  }),
  // One end of the band and of the time range unknown; the collection in lower case.
  entry('half-open', box(210, -10), { obs_collection: 'lsst.dp02', em_min: 5e-7, em_max: null, t_min: 60050, t_max: null }),
];

export const ALL = ENTRIES.map((e) => String(e.record.obs_id)).sort();
/** All rows but the listed ones. */
export const allBut = (...obsIds: string[]): string[] => ALL.filter((id) => !obsIds.includes(id));

export interface Fixture {
  db: Database.Database;
  /** The sorted obs_id of the rows the query returns. */
  run(query: SiaQuery): string[];
  /** buildSiaQuery on name/value pairs, then run. */
  search(...pairs: Pairs): string[];
  close(): void;
}

/** Request parameters as name/value pairs, the way tables of cases write them. */
export type Pairs = [name: string, value: string][];

export const siaParams = (pairs: Pairs): SiaParam[] => pairs.map(([name, value]) => ({ name, value }));

export async function openFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sia-query-'));
  const file = path.join(dir, 'obscore.sqlite');
  const store = await ObscoreStore.open(file);
  store.upsert(ENTRIES);
  store.close();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  registerAdqlFunctions(db);
  const run = (query: SiaQuery): string[] => {
    const rows = db.prepare(query.sql).all(...query.params) as { obs_id: string }[];
    return rows.map((r) => r.obs_id).sort();
  };
  return {
    db,
    run,
    search: (...pairs) => run(buildSiaQuery(siaParams(pairs), LIMITS, BASE_URL)),
    close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
