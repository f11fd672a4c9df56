/**
 * Ingest: FITS files → ivoa.ObsCore rows. Reads only headers: the WCS of the image HDU
 * gives the footprint (s_region, s_ra/s_dec, s_fov, s_xel1/2); MJD-OBS/MJD-END/EXPTIME give
 * the time axis; the band gives em_min/em_max; Rubin's butler keywords give the dataset type,
 * data id and dataset UUID. Identifiers are stable: the file's own `LSST BUTLER ID`, or else a
 * name-based UUID of its path, so ingesting the same file again updates the same row.
 * A bad file is reported and skipped; it never stops the ingest.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { openFits, scalarLookup, type FitsFile } from '../fits';
import type { Logger } from '../log';
import { coveringCircle, formatStcs } from '../sky';
import { parseWcs, type HeaderLike } from '../wcs';
import { bandOf } from './bands';
import { PUBLISHER_PREFIX, type ObscoreRecord } from './columns';
import { ObscoreStore, type ObscoreEntry } from './store';

export interface IngestOptions {
  /** The ObsCore SQLite file (OBSCORE_DB). */
  obscoreDb: string;
  log?: Logger;
  /** Draw a progress bar on stderr (when it is a terminal). */
  progress?: boolean;
  /** Rewrite the table in sky order afterwards (ObscoreStore.cluster). */
  cluster?: boolean;
}

export interface IngestReport {
  /** FITS files found. */
  files: number;
  /** Rows inserted or updated. */
  ingested: number;
  skipped: { file: string; reason: string }[];
}

export const DATALINK_FORMAT = 'application/x-votable+xml;content=datalink';

/** Rubin dataset types this service knows: ObsCore subtype and calibration level. */
const DATASET_TYPES: Readonly<Record<string, { subtype: string; calibLevel: number }>> = {
  calexp: { subtype: 'lsst.calexp', calibLevel: 2 },
  deepCoadd_calexp: { subtype: 'lsst.deepCoadd_calexp', calibLevel: 3 },
  goodSeeingDiff_differenceExp: { subtype: 'lsst.goodSeeingDiff_differenceExp', calibLevel: 3 },
};

export class IngestError extends Error {
  override name = 'IngestError';
}

function text(header: HeaderLike, ...keywords: string[]): string | null {
  for (const keyword of keywords) {
    const value = header.get(keyword);
    if (value !== undefined && String(value).trim() !== '') return String(value).trim();
  }
  return null;
}

function number(header: HeaderLike, ...keywords: string[]): number | null {
  for (const keyword of keywords) {
    const value = header.get(keyword);
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (Number.isFinite(n)) return n;
  }
  return null;
}

/** An RFC 4122 name-based (SHA-1, version 5 layout) UUID of a name. */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(`vo-image-services:${name}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The image HDU a dataset's metadata comes from: EXTNAME IMAGE, else the first 2-D image. */
function imageHdu(fits: FitsFile) {
  const named = fits.findHdu('IMAGE');
  if (named?.kind === 'image' && named.axes.length === 2) return named;
  const compressed = fits.hdus.find((h) => h.kind === 'compressed-image');
  const image = fits.hdus.find((h) => h.kind === 'image' && h.axes.length === 2 && h.axes[0]! > 0 && h.axes[1]! > 0);
  if (!image) {
    throw new IngestError(compressed ? 'tile-compressed images are not supported' : 'no 2-D image HDU');
  }
  return image;
}

/** The ObsCore row of one FITS file (relative path `relative` under the repository). */
export async function readDataset(file: string, relative: string): Promise<ObscoreEntry> {
  const fits = await openFits(file);
  try {
    const image = imageHdu(fits);
    const header = scalarLookup(image.header, fits.hdus[0]!.header);
    const wcs = parseWcs(header);
    const footprint = wcs.footprint();
    const datasetType = text(header, 'LSST BUTLER DATASETTYPE');
    const known = datasetType === null ? undefined : DATASET_TYPES[datasetType];
    const headerId = text(header, 'LSST BUTLER ID');
    const uuid = headerId !== null && UUID.test(headerId) ? headerId.toLowerCase() : nameUuid(relative);
    // A physical filter such as `r_sim_1.4` names its band first.
    const filterBand = /^([ugrizy])(?:_|$)/.exec(text(header, 'LSST BUTLER DATAID PHYSICAL_FILTER', 'FILTER') ?? '')?.[1];
    const bandName = text(header, 'LSST BUTLER DATAID BAND', 'BAND') ?? filterBand ?? null;
    const band = bandOf(bandName ?? undefined);
    const tract = number(header, 'LSST BUTLER DATAID TRACT');
    const patch = number(header, 'LSST BUTLER DATAID PATCH');
    const visit = number(header, 'LSST BUTLER DATAID VISIT');
    const detector = number(header, 'LSST BUTLER DATAID DETECTOR');
    const tMin = number(header, 'MJD-OBS', 'MJD-BEG');
    const exptime = number(header, 'EXPTIME');
    const tMax = number(header, 'MJD-END') ?? (tMin !== null && exptime !== null ? tMin + exptime / 86400 : null);
    const isCoadd = tract !== null && patch !== null && visit === null;
    const obsId = isCoadd
      ? `${tract}_${patch}_${bandName ?? ''}`
      : visit !== null
        ? `${visit}_${detector ?? 0}`
        : path.basename(relative).replace(/\.fits?$/i, '');
    const stat = await fs.stat(file);
    const record: ObscoreRecord = {
      dataproduct_type: 'image',
      dataproduct_subtype: known?.subtype ?? (datasetType === null ? null : `lsst.${datasetType}`),
      calib_level: known?.calibLevel ?? number(header, 'CALIB_LEVEL') ?? 2,
      obs_collection: 'LSST.DP02',
      obs_id: obsId,
      obs_publisher_did: `${PUBLISHER_PREFIX}${uuid}`,
      access_url: `/api/datalink/links?ID=${PUBLISHER_PREFIX}${uuid}`,
      access_format: DATALINK_FORMAT,
      access_estsize: Math.ceil(stat.size / 1024),
      target_name: text(header, 'OBJECT'),
      s_ra: footprint.center.ra,
      s_dec: footprint.center.dec,
      s_fov: 2 * coveringCircle(footprint.polygon).radius,
      s_region: formatStcs(footprint.polygon),
      s_resolution: number(header, 'PSF_FWHM', 'SEEING'),
      s_xel1: image.axes[0]!,
      s_xel2: image.axes[1]!,
      t_min: tMin,
      t_max: tMax,
      t_exptime: exptime,
      t_resolution: isCoadd ? null : exptime,
      t_xel: tMin === null ? null : 1,
      em_min: band?.emMin ?? null,
      em_max: band?.emMax ?? null,
      em_res_power: band ? (band.emMin + band.emMax) / 2 / (band.emMax - band.emMin) : null,
      em_xel: band ? 1 : null,
      o_ucd: 'phot.flux.density',
      pol_states: null,
      pol_xel: null,
      facility_name: 'Rubin:Simonyi',
      instrument_name: text(header, 'INSTRUME') ?? 'LSSTCam-imSim',
      lsst_band: band?.name ?? bandName,
      lsst_filter: text(header, 'LSST BUTLER DATAID PHYSICAL_FILTER', 'FILTER'),
      lsst_tract: tract,
      lsst_patch: patch,
      lsst_visit: visit,
      lsst_detector: detector,
    };
    return { record, file: relative, fileSize: stat.size, fileMtime: stat.mtimeMs, region: footprint.polygon };
  } finally {
    fits.close();
  }
}

/** FITS files under `dir`, sorted (compressed `.fz` files are listed so they are reported). */
export async function findFitsFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && /\.(fits?|fz)$/i.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** A one-line progress bar on a terminal; silent otherwise. */
function progressBar(total: number, enabled: boolean): { tick(done: number, skipped: number): void; end(): void } {
  const stream = process.stderr;
  if (!enabled || !stream.isTTY || total === 0) return { tick: () => undefined, end: () => undefined };
  let last = 0;
  const draw = (done: number, skipped: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    stream.write(
      `\ringest [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} files${skipped ? `, ${skipped} skipped` : ''}`,
    );
  };
  return {
    tick(done, skipped) {
      const now = Date.now();
      if (now - last > 100 || done === total) {
        last = now;
        draw(done, skipped);
      }
    },
    end: () => stream.write('\n'),
  };
}

export async function ingestDirectory(dir: string, options: IngestOptions): Promise<IngestReport> {
  const root = path.resolve(dir);
  const files = await findFitsFiles(root);
  const store = await ObscoreStore.open(options.obscoreDb);
  const report: IngestReport = { files: files.length, ingested: 0, skipped: [] };
  const bar = progressBar(files.length, options.progress ?? false);
  let batch: ObscoreEntry[] = [];
  const flush = () => {
    store.upsert(batch);
    report.ingested += batch.length;
    batch = [];
  };
  try {
    for (const [index, file] of files.entries()) {
      const relative = path.relative(root, file);
      try {
        batch.push(await readDataset(file, relative));
        if (batch.length >= 200) flush();
      } catch (err) {
        const reason = (err as Error).message;
        report.skipped.push({ file: relative, reason });
        options.log?.warn({ file: relative, reason }, 'skipped a file that could not be ingested');
      }
      bar.tick(index + 1, report.skipped.length);
    }
    flush();
    if (options.cluster) store.cluster();
  } finally {
    bar.end();
    store.close();
  }
  options.log?.info({ dir: root, files: report.files, ingested: report.ingested, skipped: report.skipped.length }, 'ingest done');
  return report;
}
