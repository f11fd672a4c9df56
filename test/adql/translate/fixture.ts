/** A small real ObsCore SQLite file for the translation tests, opened read-only with the ADQL functions. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseAdql } from '../../../shared/adql';
import { AdqlValidationError, registerAdqlFunctions, translateAdql, type TranslatedQuery } from '../../../shared/adql/translate';
import { OBSCORE_COLUMNS, type ObscoreRecord } from '../../../shared/obscore/columns';
import { ObscoreStore, type ObscoreEntry } from '../../../shared/obscore/store';
import { PUBLISHED_TABLES } from '../../../shared/obscore/published';
import { formatStcs, makeBox } from '../../../shared/sky';

export const DID = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';

interface RowSpec {
  id: string;
  ra: number;
  dec: number;
  subtype: 'lsst.calexp' | 'lsst.deepCoadd_calexp' | 'lsst.goodSeeingDiff_differenceExp';
  band: string;
  tract?: number;
  patch?: number;
  did?: string;
}

export const ROWS: RowSpec[] = [
  { id: 'coadd-r', ra: 55.75, dec: -32.27, subtype: 'lsst.deepCoadd_calexp', band: 'r', tract: 4431, patch: 16 },
  { id: 'coadd-i', ra: 55.8, dec: -32.3, subtype: 'lsst.deepCoadd_calexp', band: 'i', tract: 4431, patch: 17, did: DID },
  { id: 'coadd-g', ra: 55.6, dec: -32.4, subtype: 'lsst.deepCoadd_calexp', band: 'g', tract: 4431, patch: 18 },
  { id: 'calexp-r', ra: 55.7, dec: -32.3, subtype: 'lsst.calexp', band: 'r' },
  { id: 'diff-r', ra: 55.72, dec: -32.25, subtype: 'lsst.goodSeeingDiff_differenceExp', band: 'r' },
  { id: 'far-coadd-r', ra: 150, dec: 2.2, subtype: 'lsst.deepCoadd_calexp', band: 'r', tract: 9813, patch: 40 },
  { id: 'west-of-0', ra: 359.95, dec: 0.5, subtype: 'lsst.calexp', band: 'z' },
  { id: 'east-of-0', ra: 0.05, dec: 0.5, subtype: 'lsst.calexp', band: 'y' },
];

function entry(spec: RowSpec): ObscoreEntry {
  const region = makeBox({ ra: spec.ra, dec: spec.dec }, 0.2, 0.2);
  const did = spec.did ?? `butler://dp02/00000000-0000-0000-0000-${spec.id.padStart(12, '0').slice(-12)}`;
  const record = Object.fromEntries(OBSCORE_COLUMNS.map((c) => [c.name, null])) as ObscoreRecord;
  Object.assign(record, {
    dataproduct_type: 'image',
    dataproduct_subtype: spec.subtype,
    calib_level: spec.subtype === 'lsst.calexp' ? 2 : 3,
    obs_collection: 'LSST.DP02',
    obs_id: spec.id,
    obs_publisher_did: did,
    access_url: `/api/datalink/links?ID=${did}`,
    access_format: 'application/x-votable+xml;content=datalink',
    s_ra: spec.ra,
    s_dec: spec.dec,
    s_fov: 0.28,
    s_region: formatStcs(region),
    facility_name: 'Rubin:Simonyi',
    instrument_name: 'LSSTCam-imSim',
    lsst_band: spec.band,
    lsst_tract: spec.tract ?? null,
    lsst_patch: spec.patch ?? null,
  });
  return { record, file: `${spec.id}.fits`, fileSize: 1000, fileMtime: 0, region };
}

export interface Fixture {
  db: Database.Database;
  run(adql: string): { rows: Record<string, unknown>[]; translated: TranslatedQuery };
  close(): void;
}

export async function openFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adql-translate-'));
  const file = path.join(dir, 'obscore.sqlite');
  const store = await ObscoreStore.open(file);
  store.upsert(ROWS.map(entry));
  store.close();
  const db = new Database(file, { readonly: true });
  registerAdqlFunctions(db);
  return {
    db,
    run(adql: string) {
      const translated = translateAdql(parseAdql(adql), PUBLISHED_TABLES);
      const rows = db.prepare(translated.sql).all(...translated.params) as Record<string, unknown>[];
      return { rows, translated };
    },
    close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The obs_id of result rows, sorted: what most assertions compare. */
export const ids = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => r.obs_id).sort();

/** The AdqlValidationError message of a query that must be refused. */
export function fail(adql: string): string {
  try {
    translateAdql(parseAdql(adql), PUBLISHED_TABLES);
  } catch (err) {
    expect(err).toBeInstanceOf(AdqlValidationError);
    return (err as Error).message;
  }
  throw new Error('no error');
}
