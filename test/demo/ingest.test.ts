/**
 * The demo set through the ObsCore ingest (shared/obscore/ingest.ts): `npm run demo-data`
 * generates the files and ingests every one of them, each row carrying the dataset id, type
 * and data id of its file's primary header.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TARGET } from '../../shared/demo';
import { findFitsFiles } from '../../shared/obscore/ingest';
import { demoData } from '../../scripts/demo-data';
import { tempDir } from './helpers';

test('the demo command generates and ingests: every file becomes an ObsCore row', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dataDir = join(dir, 'data');
    const summary = await demoData({
      DATA_DIR: dataDir,
      OBSCORE_DB: join(dir, 'obscore.sqlite'),
      LOG_LEVEL: 'silent',
      DEMO_BINNING: '8',
      DEMO_PATCHES: '17,16',
      DEMO_BANDS: 'gi',
      DEMO_VISITS: '2',
      DEMO_DIFFS: '1',
    });
    expect(summary).toMatch(/^demo data: 7 files .*; ingested 7 of 7 files into .*obscore\.sqlite in [\d.]+ s$/);

    const files = (await findFitsFiles(dataDir)).map((file) => file.slice(dataDir.length + 1)).sort();
    expect(files).toHaveLength(7);
    const db = new Database(join(dir, 'obscore.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT _file FROM ivoa_obscore ORDER BY _file').all() as { _file: string }[];
      expect(rows.map((row) => row._file)).toEqual(files);
      const coadd = db
        .prepare('SELECT obs_publisher_did, dataproduct_subtype, lsst_band, lsst_tract, lsst_patch, s_ra FROM ivoa_obscore WHERE _file = ?')
        .get('deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits') as Record<string, unknown>;
      expect(coadd).toMatchObject({
        obs_publisher_did: 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c',
        dataproduct_subtype: 'lsst.deepCoadd_calexp',
        lsst_band: 'i',
        lsst_tract: 4431,
        lsst_patch: 17,
      });
      expect(Math.abs((coadd.s_ra as number) - TARGET.ra)).toBeLessThan(0.2);
    } finally {
      db.close();
    }
  } finally {
    cleanup();
  }
});
