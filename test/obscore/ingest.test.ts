/**
 * Ingest of FITS files into the ObsCore store: ObsCore values from headers and WCS, stable
 * identifiers, the R*Tree entries, TAP_SCHEMA generated from the one column definition,
 * idempotence, and bad files reported and skipped.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Header, writeFitsFile } from '../../shared/fits';
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { ingestDirectory, nameUuid } from '../../shared/obscore/ingest';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { PROJECT_ROOT } from '../../shared/runtime';
import { contains, parseStcs, toUnitVector } from '../../shared/sky';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obscore-ingest-'));
const repo = path.join(dir, 'repo');
const dbFile = path.join(dir, 'obscore.sqlite');
const COADD_ID = '20d28216-534a-4102-b8a7-1c7f32a9b78c';

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function wcsHeader(ra: number, dec: number, n: number, scaleDeg: number, sip: boolean): Header {
  const h = new Header();
  h.set('EXTNAME', 'IMAGE');
  h.set('CTYPE1', sip ? 'RA---TAN-SIP' : 'RA---TAN');
  h.set('CTYPE2', sip ? 'DEC--TAN-SIP' : 'DEC--TAN');
  h.set('CRVAL1', ra);
  h.set('CRVAL2', dec);
  h.set('CRPIX1', (n + 1) / 2);
  h.set('CRPIX2', (n + 1) / 2);
  h.set('CD1_1', -scaleDeg);
  h.set('CD1_2', 0);
  h.set('CD2_1', 0);
  h.set('CD2_2', scaleDeg);
  if (sip) {
    h.set('A_ORDER', 2);
    h.set('B_ORDER', 2);
    h.set('A_2_0', 1e-7);
    h.set('B_0_2', -1e-7);
  }
  return h;
}

async function writeDataset(file: string, primaryCards: [string, string | number][], ra: number, dec: number, sip = false): Promise<void> {
  const primary = new Header();
  for (const [k, v] of primaryCards) primary.set(k, v);
  const n = 64;
  const header = wcsHeader(ra, dec, n, (0.2 / 3600) * 8, sip);
  const pixels = new Float32Array(n * n).fill(1.5);
  const mask = new Header();
  mask.set('EXTNAME', 'MASK');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeFitsFile(file, [
    { header: primary },
    { header, data: pixels, shape: [n, n] },
    { header: mask, data: new Int32Array(n * n), shape: [n, n] },
  ]);
}

beforeAll(async () => {
  const calexp = path.join(repo, 'calexp/1172456/r/calexp_1172456_42.fits');
  await writeDataset(
    calexp,
    [
      ['LSST BUTLER DATASETTYPE', 'calexp'],
      ['LSST BUTLER ID', 'AB6A2F6E-0A3B-4E1C-9C5E-3A1B2C3D4E5F'],
      ['LSST BUTLER DATAID BAND', 'r'],
      ['LSST BUTLER DATAID PHYSICAL_FILTER', 'r_sim_1.4'],
      ['LSST BUTLER DATAID VISIT', 1172456],
      ['LSST BUTLER DATAID DETECTOR', 42],
      ['INSTRUME', 'LSSTCam-imSim'],
      ['MJD-OBS', 60512.25],
      ['EXPTIME', 30],
      ['PSF_FWHM', 0.75],
    ],
    55.7,
    -32.3,
    true,
  );
  await writeDataset(
    path.join(repo, 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits'),
    [
      ['LSST BUTLER DATASETTYPE', 'deepCoadd_calexp'],
      ['LSST BUTLER ID', COADD_ID],
      ['LSST BUTLER DATAID BAND', 'i'],
      ['LSST BUTLER DATAID TRACT', 4431],
      ['LSST BUTLER DATAID PATCH', 17],
      ['MJD-OBS', 60000.5],
      ['MJD-END', 60900.5],
      ['EXPTIME', 3600],
    ],
    359.99,
    -32.3,
  );
  await writeDataset(path.join(repo, 'other/plain.fits'), [['FILTER', 'g']], 10, 20);
  // Bad files: truncated, not FITS at all, FITS without a WCS.
  const good = fs.readFileSync(calexp);
  fs.writeFileSync(path.join(repo, 'other/truncated.fits'), good.subarray(0, 5000));
  fs.writeFileSync(path.join(repo, 'other/notfits.fits'), 'this is not a FITS file');
  const noWcs = new Header();
  noWcs.set('EXTNAME', 'IMAGE');
  await writeFitsFile(path.join(repo, 'other/nowcs.fits'), [{}, { header: noWcs, data: new Float32Array(16), shape: [4, 4] }]);
});

function rows(): Record<string, unknown>[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('SELECT * FROM ivoa_obscore ORDER BY obs_publisher_did').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

test('ingests the good files, skips the bad ones with their reasons', async () => {
  const report = await ingestDirectory(repo, { obscoreDb: dbFile });
  expect(report.files).toBe(6);
  expect(report.ingested).toBe(3);
  expect(report.skipped.map((s) => s.file).sort()).toEqual(['other/notfits.fits', 'other/nowcs.fits', 'other/truncated.fits']);
  for (const skipped of report.skipped) expect(skipped.reason.length).toBeGreaterThan(10);
  expect(report.skipped.find((s) => s.file === 'other/nowcs.fits')!.reason).toMatch(/CTYPE|WCS|projection/i);
});

test('a calexp row carries the ObsCore values from its headers and WCS', () => {
  const row = rows().find((r) => r.obs_publisher_did === 'butler://dp02/ab6a2f6e-0a3b-4e1c-9c5e-3a1b2c3d4e5f')!;
  expect(row).toMatchObject({
    dataproduct_type: 'image',
    dataproduct_subtype: 'lsst.calexp',
    calib_level: 2,
    obs_collection: 'LSST.DP02',
    obs_id: '1172456_42',
    access_url: '/api/datalink/links?ID=butler://dp02/ab6a2f6e-0a3b-4e1c-9c5e-3a1b2c3d4e5f',
    access_format: 'application/x-votable+xml;content=datalink',
    s_xel1: 64,
    s_xel2: 64,
    s_resolution: 0.75,
    t_min: 60512.25,
    t_exptime: 30,
    t_resolution: 30,
    t_xel: 1,
    em_min: 552e-9,
    em_max: 691e-9,
    em_xel: 1,
    facility_name: 'Rubin:Simonyi',
    instrument_name: 'LSSTCam-imSim',
    lsst_band: 'r',
    lsst_filter: 'r_sim_1.4',
    lsst_visit: 1172456,
    lsst_detector: 42,
    lsst_tract: null,
    lsst_patch: null,
    _file: 'calexp/1172456/r/calexp_1172456_42.fits',
  });
  expect(row.t_max).toBeCloseTo(60512.25 + 30 / 86400, 10);
  expect(row.em_res_power).toBeCloseTo(621.5 / 139, 6);
  expect(row.access_estsize).toBe(Math.ceil(fs.statSync(path.join(repo, row._file as string)).size / 1024));
  // The centre is the WCS of the image centre; the footprint contains it; 64 px × 1.6"/px ≈ 0.0284°.
  expect(row.s_ra as number).toBeCloseTo(55.7, 4);
  expect(row.s_dec as number).toBeCloseTo(-32.3, 4);
  const region = parseStcs(row.s_region as string);
  expect(region.kind).toBe('polygon');
  expect(contains(region, { ra: 55.7, dec: -32.3 })).toBe(true);
  expect(contains(region, { ra: 55.75, dec: -32.3 })).toBe(false);
  expect(row.s_fov as number).toBeCloseTo((Math.SQRT2 * 64 * 1.6) / 3600, 3);
});

test('a coadd row: fixed UUID, tract/patch, time span from MJD-OBS to MJD-END, footprint across RA 0', () => {
  const row = rows().find((r) => r.obs_publisher_did === `butler://dp02/${COADD_ID}`)!;
  expect(row).toMatchObject({
    dataproduct_subtype: 'lsst.deepCoadd_calexp',
    calib_level: 3,
    lsst_tract: 4431,
    lsst_patch: 17,
    lsst_band: 'i',
    obs_id: '4431_17_i',
    t_min: 60000.5,
    t_max: 60900.5,
    t_resolution: null,
  });
  const region = parseStcs(row.s_region as string);
  expect(contains(region, { ra: 0.001, dec: -32.3 })).toBe(true);
  expect(contains(region, { ra: 359.98, dec: -32.3 })).toBe(true);
});

test('a file without Rubin keywords gets a stable name-based id and still a full row', () => {
  const row = rows().find((r) => r._file === 'other/plain.fits')!;
  expect(row.obs_publisher_did).toBe(`butler://dp02/${nameUuid('other/plain.fits')}`);
  expect(nameUuid('other/plain.fits')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(row).toMatchObject({ lsst_band: 'g', em_min: 402e-9, dataproduct_subtype: null, calib_level: 2 });
});

test('the R*Tree finds a row from a box around a point of its footprint', () => {
  const db = new Database(dbFile, { readonly: true });
  const v = toUnitVector({ ra: 55.7, dec: -32.3 });
  const hits = db
    .prepare(
      'SELECT o.obs_id FROM ivoa_obscore_rtree r JOIN ivoa_obscore o ON o._id = r.id WHERE r.xmin <= ? AND r.xmax >= ? AND r.ymin <= ? AND r.ymax >= ? AND r.zmin <= ? AND r.zmax >= ?',
    )
    .all(v.x, v.x, v.y, v.y, v.z, v.z) as { obs_id: string }[];
  db.close();
  expect(hits.map((h) => h.obs_id)).toEqual(['1172456_42']);
});

test('TAP_SCHEMA describes exactly the published tables, from the one column definition', () => {
  const db = new Database(dbFile, { readonly: true });
  const tables = db.prepare('SELECT schema_name, table_name, table_type FROM tap_schema_tables ORDER BY table_index').all();
  const columns = db
    .prepare(
      "SELECT column_name, datatype, arraysize, unit, ucd, utype, principal, std FROM tap_schema_columns WHERE table_name = 'ivoa.ObsCore' ORDER BY column_index",
    )
    .all() as Record<string, unknown>[];
  const keys = db.prepare('SELECT key_id, from_table, target_table FROM tap_schema_keys ORDER BY key_id').all();
  const schemas = db.prepare('SELECT schema_name FROM tap_schema_schemas ORDER BY schema_index').all();
  db.close();
  expect(schemas).toEqual([{ schema_name: 'ivoa' }, { schema_name: 'TAP_SCHEMA' }]);
  expect(tables).toEqual(PUBLISHED_TABLES.map((t) => ({ schema_name: t.schema, table_name: t.name, table_type: 'table' })));
  expect(columns.map((c) => c.column_name)).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
  expect(columns.find((c) => c.column_name === 's_ra')).toEqual({
    column_name: 's_ra',
    datatype: 'double',
    arraysize: null,
    unit: 'deg',
    ucd: 'pos.eq.ra',
    utype: 'obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1',
    principal: 1,
    std: 1,
  });
  expect(columns.find((c) => c.column_name === 'access_url')).toMatchObject({
    datatype: 'char',
    arraysize: '*',
    ucd: 'meta.ref.url',
    utype: 'obscore:Access.reference',
  });
  expect(columns.find((c) => c.column_name === 'lsst_band')).toMatchObject({ std: 0, utype: null });
  expect(keys).toHaveLength(5);
  // Every mandatory ObsCore 1.1 column is there.
  for (const name of [
    'dataproduct_type',
    'calib_level',
    'obs_collection',
    'obs_id',
    'obs_publisher_did',
    'access_url',
    'access_format',
    'access_estsize',
    'target_name',
    's_ra',
    's_dec',
    's_fov',
    's_region',
    's_resolution',
    's_xel1',
    's_xel2',
    't_min',
    't_max',
    't_exptime',
    't_resolution',
    't_xel',
    'em_min',
    'em_max',
    'em_res_power',
    'em_xel',
    'o_ucd',
    'pol_states',
    'pol_xel',
    'facility_name',
    'instrument_name',
  ]) {
    expect(columns.map((c) => c.column_name)).toContain(name);
  }
});

test('ingesting again is idempotent: same rows, same ids', async () => {
  const before = rows();
  const report = await ingestDirectory(repo, { obscoreDb: dbFile });
  expect(report.ingested).toBe(3);
  const after = rows();
  expect(after.map((r) => [r.obs_publisher_did, r._id])).toEqual(before.map((r) => [r.obs_publisher_did, r._id]));
  const db = new Database(dbFile, { readonly: true });
  expect((db.prepare('SELECT count(*) AS n FROM ivoa_obscore_rtree').get() as { n: number }).n).toBe(3);
  db.close();
});

test('npm run ingest (the compiled CLI) reports what it did', () => {
  const out = execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/scripts/ingest.js'), repo], {
    env: { ...process.env, OBSCORE_DB: path.join(dir, 'cli.sqlite'), LOG_LEVEL: 'silent' },
  }).toString();
  expect(out).toContain(`ingested 3 of 6 FITS files into ${path.join(dir, 'cli.sqlite')}; 3 skipped`);
  expect(out).toMatch(/skipped other\/notfits\.fits: /);
});
