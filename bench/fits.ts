/**
 * FITS cutout benchmark: cutouts per second of 64×64 and 256×256 rectangles from a 4096×4096
 * float32 image (warm page cache), against reading the whole HDU, and against astropy
 * (Cutout2D + writeto) on the same positions in the same run (bench/fits_astropy.py).
 * Target: 256×256 in memory (written to /dev/null) ≥ 8× astropy (the 64×64 target, ≥ 20×, is
 * bench/cutout's async job).
 *
 * Both sides open the file once outside the timed loop (the service keeps an LRU of open
 * files). Per cutout, ours times: the complete file assembled from the primary HDU formatted
 * once per open file and the IMAGE header formatted once as an ImageHduTemplate (CRPIX1/2,
 * CRPIX1A/2A, LTV1/2 shifted by the origin and NAXISn rewritten per cutout), the rectangle's
 * rows read straight into the file's data area (big-endian on disk and in the output, so no
 * conversion), and fs.writeFileSync of it to a new file (astropy also writes a file). The
 * astropy side times Cutout2D(data, position, size, wcs) and writing PrimaryHDU() +
 * ImageHDU(cutout.data, cutout.wcs.to_header()) with HDUList.writeto. Also measured: both
 * sides writing to /dev/null (no filesystem cost, which is noisy on shared disks), astropy
 * writing the same headers as ours, and ours' steps one by one.
 *
 * Env: BENCH_FITS_N64 (default 1500), BENCH_FITS_N256 (400), BENCH_PYTHON (/usr/bin/python3),
 * BENCH_FITS_DIR (where the temp dir with the image and the cutout files goes; default the OS
 * temp dir: file creation there is part of both sides' cost), BENCH_KEEP (keep the temp dir).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  learntMaxGap,
  type FitsFile,
  Header,
  type HduInfo,
  ImageHduTemplate,
  openFitsSync,
  prepareImageHdu,
  scalarLookup,
  writeFitsFile,
} from '../shared/fits';
import { PROJECT_ROOT } from '../shared/runtime';
import { parseWcs } from '../shared/wcs';
import { seededRandom } from '../shared/random';
import { machineLine, percentile } from './machine';
import { makeSky } from './sky';

const WIDTH = 4096;
const HEIGHT = 4096;
const CHECKS_PER_SIZE = 4;

/** Sky background with Gaussian noise, a few thousand stars, two bad (NaN) columns. */
function makePixels(): Float32Array {
  return makeSky(WIDTH, HEIGHT, seededRandom(20240607), { stars: 3000, badColumns: [1021, 3377] });
}

/** A primary header of observation metadata (NAXIS = 0), shaped like a Rubin calexp's. */
function primaryHeader(): Header {
  const h = new Header();
  h.set('SIMPLE', true);
  h.set('ORIGIN', 'LSST DM Header Service', 'FITS file originator');
  h.set('DATE', '2024-06-07T03:12:45.123', 'Date of file creation');
  h.set('TELESCOP', 'Simonyi Survey Telescope', 'Telescope name');
  h.set('INSTRUME', 'LSSTCam', 'Instrument used to obtain these data');
  h.set('OBSERVAT', 'Rubin', 'Observatory name');
  h.set('OBS-LAT', -30.244639, '[deg] Observatory latitude');
  h.set('OBS-LONG', -70.749417, '[deg] Observatory east longitude');
  h.set('OBS-ELEV', 2663.0, '[m] Observatory elevation');
  h.set('OBSID', 'MC_O_20240606_000123', 'ImageName from Camera StartIntegration');
  h.set('DAYOBS', '20240606', 'The observation day as defined by image name');
  h.set('SEQNUM', 123, 'The sequence number from the image name');
  h.set('GROUPID', '2024-06-07T03:10:01.000', 'imageGroupName from Camera StartIntegration');
  h.set('IMGTYPE', 'OBJECT', 'Image type');
  h.set('OBJECT', 'COSMOS', 'Object of interest');
  h.set('PROGRAM', 'BLOCK-T123', 'Program identifier');
  h.set('FILTER', 'r_57', 'Name of the filter');
  h.set('FILTBAND', 'r', 'LSST filter band');
  h.set('EXPTIME', 30.0, '[s] Exposure time');
  h.set('DARKTIME', 31.2, '[s] Dark time');
  h.set('DATE-OBS', '2024-06-07T03:11:01.017', 'TAI date at start of integration');
  h.set('MJD-OBS', 60468.13265066, 'Modified Julian Date of DATE-OBS');
  h.set('DATE-BEG', '2024-06-07T03:11:01.017', 'Time at the start of integration');
  h.set('MJD-BEG', 60468.13265066, 'Modified Julian Date derived from DATE-BEG');
  h.set('DATE-END', '2024-06-07T03:11:31.212', 'End time of the exposure');
  h.set('MJD-END', 60468.13300014, 'Modified Julian Date derived from DATE-END');
  h.set('TIMESYS', 'TAI', 'The time scale used');
  h.set('RA', 150.1191, '[deg] Telescope RA of observation');
  h.set('DEC', 2.2058, '[deg] Telescope Dec of observation');
  h.set('ROTPA', 92.3, '[deg] Rotation angle relative to the sky');
  h.set('ROTCOORD', 'sky', 'Telescope Rotation Coordinates');
  h.set('AIRMASS', 1.0723, 'Airmass of the observation');
  h.set('ELSTART', 68.81, '[deg] Telescope elevation at start');
  h.set('AZSTART', 183.2, '[deg] Telescope azimuth at start');
  h.set('HASTART', -0.43, '[HH:MM:SS] Telescope hour angle at start');
  h.set('DIMMSEE', 0.71, '[arcsec] DIMM seeing');
  h.set('HUMIDITY', 13.4, '[%] Relative humidity');
  h.set('PRESSURE', 74.2, '[kPa] Barometric pressure');
  h.set('AIRTEMP', 9.1, '[degC] Outside air temperature');
  h.set('WINDSPD', 4.6, '[m/s] Wind speed');
  h.set('DETECTOR', 94, 'Detector number');
  h.set('DETNAME', 'R22_S11', 'Detector name');
  h.set('CCD_MANU', 'ITL', 'CCD manufacturer');
  h.set('CCD_TYPE', '3800C', 'CCD model number');
  h.set('CCDSLOT', 'S11', 'The CCD slot');
  h.set('RAFTBAY', 'R22', 'The RAFT bay');
  h.set('LSST_NUM', 'ITL-3800C-229', 'LSST Assigned CCD number');
  h.set('TEMP_SET', -100.0, '[degC] Temperature set point');
  h.set('CCDTEMP', -99.95, '[degC] Measured temperature');
  for (let amp = 0; amp < 16; amp++) {
    const name = `C${amp < 8 ? 1 : 0}${amp % 8}`;
    h.set(`HIERARCH LSST ISR GAIN ${name}`, 1.5 + amp * 0.01, 'gain applied by ISR');
    h.set(`HIERARCH LSST ISR READNOISE ${name}`, 5.2 + amp * 0.03, 'read noise measured by ISR');
    h.set(`HIERARCH LSST ISR OVERSCAN ${name}`, 23000.5 + amp, 'overscan level subtracted');
  }
  h.set('LSST BUTLER ID', '7cd5ae1c-0d1a-4d4c-9cce-67a4b5a2c3a9', 'Dataset ID of this file');
  h.set('LSST BUTLER DATASETTYPE', 'calexp', 'Dataset type');
  h.set('LSST BUTLER RUN', 'LSSTCam/runs/DRP/20240606/w_2024_22/DM-44300', 'Run collection');
  h.set('LSST BUTLER DATAID VISIT', 2024060600123, 'Data identifier');
  h.set('LSST BUTLER DATAID DETECTOR', 94, 'Data identifier');
  h.set('LSST BUTLER DATAID BAND', 'r', 'Data identifier');
  h.set('BGMEAN', 120.03, 'Mean of the fitted background');
  h.set('BGVAR', 36.1, 'Variance of the fitted background');
  h.set('MAGZERO', 31.4, 'Photometric zero point');
  h.set('FLUXMAG0', 3.63e12, 'Flux of a zero-magnitude object');
  h.set('SEEING', 0.74, '[arcsec] PSF FWHM');
  for (let i = 0; i < 12; i++) h.addHistory(`ISR step ${i}: applied calibration product ${i} of run DM-44300 (w_2024_22)`);
  h.addComment('This is a synthetic image made by bench/fits.ts for benchmarking.');
  return h;
}

/** An IMAGE extension header with a TAN WCS (CD matrix, 0.2″/px) and the Rubin pixel WCS 'A'. */
function imageHeader(): Header {
  const scale = 0.2 / 3600;
  const rot = (92.3 * Math.PI) / 180;
  const h = new Header();
  h.set('XTENSION', 'IMAGE');
  h.set('INHERIT', true, 'Inherit primary header keywords');
  h.set('EXTTYPE', 'IMAGE', 'Extension type');
  h.set('EXTNAME', 'IMAGE', 'Extension name');
  h.set('BUNIT', 'nJy', 'Brightness units');
  h.set('CTYPE1A', 'LINEAR', 'Type of projection');
  h.set('CTYPE2A', 'LINEAR', 'Type of projection');
  h.set('CRPIX1A', 1.0, 'Pixel coordinate of reference point');
  h.set('CRPIX2A', 1.0, 'Pixel coordinate of reference point');
  h.set('CRVAL1A', 0.0, 'Column pixel of reference pixel');
  h.set('CRVAL2A', 0.0, 'Row pixel of reference pixel');
  h.set('CUNIT1A', 'PIXEL', 'Column unit');
  h.set('CUNIT2A', 'PIXEL', 'Row unit');
  h.set('WCSNAMEA', 'PIXEL', 'Coordinate system name');
  h.set('LTV1', 0, 'Image to physical (parent) offset');
  h.set('LTV2', 0, 'Image to physical (parent) offset');
  h.set('LTM1_1', 1.0);
  h.set('LTM2_2', 1.0);
  h.set('RADESYS', 'ICRS', 'Coordinate reference frame');
  h.set('EQUINOX', 2000.0, 'Equinox of coordinates');
  h.set('CTYPE1', 'RA---TAN', 'Gnomonic projection');
  h.set('CTYPE2', 'DEC--TAN', 'Gnomonic projection');
  h.set('CUNIT1', 'deg', 'Units of coordinate increment and value');
  h.set('CUNIT2', 'deg', 'Units of coordinate increment and value');
  h.set('CRPIX1', 2048.5, 'Pixel coordinate of reference point', { numberType: 'float' });
  h.set('CRPIX2', 2048.5, 'Pixel coordinate of reference point', { numberType: 'float' });
  h.set('CRVAL1', 150.11916667, '[deg] Coordinate value at reference point');
  h.set('CRVAL2', 2.20583333, '[deg] Coordinate value at reference point');
  h.set('CD1_1', -scale * Math.cos(rot), 'Coordinate transformation matrix element');
  h.set('CD1_2', scale * Math.sin(rot), 'Coordinate transformation matrix element');
  h.set('CD2_1', scale * Math.sin(rot), 'Coordinate transformation matrix element');
  h.set('CD2_2', scale * Math.cos(rot), 'Coordinate transformation matrix element');
  h.set('LONPOLE', 180.0, '[deg] Native longitude of celestial pole');
  h.set('LATPOLE', 2.20583333, '[deg] Native latitude of celestial pole');
  h.set('MJDREF', 0.0, '[d] MJD of fiducial time');
  h.set('DATE-OBS', '2024-06-07T03:11:01.017', 'ISO-8601 time of observation');
  h.set('MJD-OBS', 60468.13265066, '[d] MJD of observation');
  h.set('HIERARCH LSST BUTLER ID', '7cd5ae1c-0d1a-4d4c-9cce-67a4b5a2c3a9', 'Dataset ID');
  h.set('AR_HDU', 5, 'HDU number of the archive');
  return h;
}

interface Cutter {
  readonly file: FitsFile;
  readonly hdu: HduInfo;
  readonly primary: Header;
  /** The primary HDU, formatted once per open file. */
  readonly primaryBytes: Buffer;
  /** The image HDU's header formatted once; per cutout only the shifted cards change. */
  readonly template: ImageHduTemplate;
}

/** Keywords that move with the cutout origin: CRPIXn (and the pixel WCS 'A'), LTVn. */
const SHIFTED = [
  ['CRPIX1', 'x'],
  ['CRPIX2', 'y'],
  ['CRPIX1A', 'x'],
  ['CRPIX2A', 'y'],
  ['LTV1', 'x'],
  ['LTV2', 'y'],
] as const;

/** Their values for a rectangle at (x0, y0). Rubin/IRAF: image pixel = physical × LTM + LTV. */
function shiftedValues(source: Header, x0: number, y0: number): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [key, axis] of SHIFTED) {
    const v = source.getNumber(key);
    if (v !== undefined) values[key] = v - (axis === 'x' ? x0 : y0);
  }
  return values;
}

/** A copy of the HDU header shifted to (x0, y0): the general path, without a template. */
function cutoutHeader(source: Header, x0: number, y0: number): Header {
  const h = source.clone();
  for (const [key, value] of Object.entries(shiftedValues(source, x0, y0))) h.set(key, value);
  return h;
}

function makeCutter(file: FitsFile, hdu: HduInfo): Cutter {
  const primary = file.hdus[0]!.header;
  const primaryBytes = prepareImageHdu({ header: primary }, { primary: true, extend: true }).header.toBuffer();
  const sample = file.readRawRect(hdu, { x0: 0, y0: 0, width: 1, height: 1 }).data;
  const template = ImageHduTemplate.create(
    hdu.header,
    sample,
    SHIFTED.map(([key]) => key).filter((key) => hdu.header.has(key)),
  );
  return { file, hdu, primary, primaryBytes, template };
}

/**
 * A complete FITS file: cached primary + templated HDU header, and the rectangle's rows read
 * straight from the source into the output's data area (big-endian on both sides: no decode).
 */
function cutoutBuffer(c: Cutter, x0: number, y0: number, size: number): Buffer {
  const { bytes, data } = c.template.layout(shiftedValues(c.hdu.header, x0, y0), [size, size], c.primaryBytes);
  c.file.readRectBytes(c.hdu, { x0, y0, width: size, height: size }, data);
  return bytes;
}

interface Timing {
  readonly ms: number[];
  readonly totalS: number;
}

/** Runs one(i, true) for the first `warmup` positions, then times one(i, false) for all n. */
function timeLoop(n: number, warmup: number, one: (i: number, warm: boolean) => void): Timing {
  for (let i = 0; i < Math.min(warmup, n); i++) one(i, true);
  const ms: number[] = new Array<number>(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    one(i, false);
    ms[i] = performance.now() - t0;
  }
  return { ms, totalS: (performance.now() - start) / 1000 };
}

async function timeLoopAsync(n: number, warmup: number, one: (i: number, warm: boolean) => Promise<void>): Promise<Timing> {
  for (let i = 0; i < Math.min(warmup, n); i++) await one(i, true);
  const ms: number[] = new Array<number>(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await one(i, false);
    ms[i] = performance.now() - t0;
  }
  return { ms, totalS: (performance.now() - start) / 1000 };
}

function rate(t: Timing): number {
  return t.ms.length / t.totalS;
}

function pct(t: { ms: number[] }, p: number): number {
  return percentile(
    [...t.ms].sort((a, b) => a - b),
    p,
  );
}

function fmtMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function fmtRate(r: number): string {
  return r >= 100 ? String(Math.round(r)) : r.toFixed(1);
}

/** Great-circle separation in milliarcseconds (haversine). */
function sepMas(a: readonly [number, number], b: readonly [number, number]): number {
  const rad = Math.PI / 180;
  const dra = (b[0] - a[0]) * rad;
  const ddec = (b[1] - a[1]) * rad;
  const h = Math.sin(ddec / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dra / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h))) * 180 * 3600 * 1000) / Math.PI;
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

interface AstropyResult {
  astropy: string;
  numpy: string;
  sizes: {
    size: number;
    variant: 'minimal' | 'same_output' | 'minimal_null' | 'same_output_null';
    n: number;
    total_s: number;
    ms: number[];
    bbox_mismatch: number;
  }[];
  checks: {
    size: number;
    x0: number;
    y0: number;
    astropy_file: string;
    shape_ours: number[];
    shape_astropy: number[];
    data_identical: boolean;
    crpix_ours: [number, number];
    crpix_astropy: [number, number];
    crval_ours: [number, number];
    crval_astropy: [number, number];
    sky_ours: [number, number];
    sky_astropy: [number, number];
    sky_full: [number, number];
  }[];
}

export async function benchFits(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(process.env.BENCH_FITS_DIR ?? os.tmpdir(), 'bench-fits-'));
  const sizes = [
    { size: 64, n: Number(process.env.BENCH_FITS_N64 ?? 1500) },
    { size: 256, n: Number(process.env.BENCH_FITS_N256 ?? 400) },
  ];
  const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  let file: FitsFile | undefined;
  try {
    console.log(machineLine());

    // 1. The image: primary (NAXIS = 0) + IMAGE extension, 4096×4096 float32, TAN WCS.
    const imagePath = path.join(dir, 'calexp.fits');
    let t0 = performance.now();
    await writeFitsFile(imagePath, [{ header: primaryHeader() }, { header: imageHeader(), data: makePixels(), shape: [WIDTH, HEIGHT] }]);
    const made = performance.now() - t0;
    // Flush the 64 MiB to disk now, so its writeback does not stall the timed file writes later
    // (the pages stay in the page cache).
    const fd = fs.openSync(imagePath, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    file = openFitsSync(imagePath); // opened once, as the service's cache of open files does
    const hdu = file.hdu('IMAGE');
    const cutter = makeCutter(file, hdu);
    console.log(
      `fits: image ${WIDTH}×${HEIGHT} float32 in HDU ${hdu.index} (EXTNAME IMAGE, TAN CD 0.2"/px, ${hdu.header.length} + ` +
        `${cutter.primary.length} primary cards), ${(file.size / 2 ** 20).toFixed(1)} MiB, made in ${Math.round(made)} ms; files in ${dir}`,
    );

    // 2. Positions: rectangle origins fully inside the image.
    const rand = seededRandom(4242);
    const positions = sizes.map(({ size, n }) => {
      const x0: number[] = [];
      const y0: number[] = [];
      for (let i = 0; i < n; i++) {
        x0.push(Math.floor(rand() * (WIDTH - size + 1)));
        y0.push(Math.floor(rand() * (HEIGHT - size + 1)));
      }
      return { size, x0, y0 };
    });

    // 4 (first, so the page cache is warm for everything after). Whole HDU.
    file.readRawImage(hdu); // warm-up: pulls every page of the data into the cache
    const whole = timeLoop(5, 1, () => void file!.readRawImage(hdu));
    const wholeMs = pct(whole, 50);

    // 3. Ours, per size: read only, header serialisation only, complete file to a Buffer, and
    //    to a file on disk (a fresh path per cutout, as a service writes each result; astropy
    //    does the same). Output directories are removed after each loop, outside the timing.
    const freshDir = (name: string): string => {
      const d = path.join(dir, name);
      fs.mkdirSync(d);
      return d;
    };
    const nullFd = fs.openSync('/dev/null', 'w');
    const ours = positions.map(({ size, x0, y0 }) => {
      const n = x0.length;
      const warm = Math.min(n, 200);
      const read = timeLoop(n, warm, (i) => void file!.readRawRect(hdu, { x0: x0[i]!, y0: y0[i]!, width: size, height: size }));
      const headers = timeLoop(n, warm, (i) => {
        cutter.primary.toBuffer();
        cutoutHeader(hdu.header, x0[i]!, y0[i]!).toBuffer();
      });
      const buffer = timeLoop(n, warm, (i) => void cutoutBuffer(cutter, x0[i]!, y0[i]!, size));
      const toNull = timeLoop(n, warm, (i) => void fs.writeSync(nullFd, cutoutBuffer(cutter, x0[i]!, y0[i]!, size)));
      const out = freshDir(`ours-sync-${size}`);
      const toFile = timeLoop(n, warm, (i, w) =>
        fs.writeFileSync(path.join(out, `${w ? 'warm-' : ''}${i}.fits`), cutoutBuffer(cutter, x0[i]!, y0[i]!, size)),
      );
      fs.rmSync(out, { recursive: true });
      return { size, read, headers, buffer, toNull, toFile };
    });
    fs.closeSync(nullFd);

    // The same with the module's async file writer (open, chunked writes, close on the thread pool).
    const oursAsync: Timing[] = [];
    for (const { size, x0, y0 } of positions) {
      const out = freshDir(`ours-async-${size}`);
      oursAsync.push(
        await timeLoopAsync(x0.length, Math.min(x0.length, 200), async (i, w) => {
          const raw = file!.readRawRect(hdu, { x0: x0[i]!, y0: y0[i]!, width: size, height: size });
          await writeFitsFile(path.join(out, `${w ? 'warm-' : ''}${i}.fits`), [
            { header: cutter.primary },
            { header: cutoutHeader(hdu.header, x0[i]!, y0[i]!), data: raw.data, shape: [size, size] },
          ]);
        }),
      );
      fs.rmSync(out, { recursive: true });
    }

    // Our cutout files at the check positions, for the correctness comparison.
    const checks: { size: number; x0: number; y0: number; ours: string }[] = [];
    for (const { size, x0, y0 } of positions) {
      for (let k = 0; k < CHECKS_PER_SIZE && k < x0.length; k++) {
        const p = path.join(dir, `ours-check-${size}-${k}.fits`);
        fs.writeFileSync(p, cutoutBuffer(cutter, x0[k]!, y0[k]!, size));
        checks.push({ size, x0: x0[k]!, y0: y0[k]!, ours: p });
      }
    }

    // 5. astropy, same file and positions, after the Node side has finished (2 shared cores).
    const jobPath = path.join(dir, 'astropy-job.json');
    fs.writeFileSync(
      jobPath,
      JSON.stringify({
        image: imagePath,
        hdu: 'IMAGE',
        out_dir: dir,
        warmup: 50,
        variants: ['minimal', 'minimal_null', 'same_output_null'],
        sizes: positions,
        checks,
      }),
    );
    t0 = performance.now();
    const run = spawnSync(python, [path.join(PROJECT_ROOT, 'bench', 'fits_astropy.py'), jobPath], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const pythonS = (performance.now() - t0) / 1000;
    let astropy: AstropyResult | undefined;
    if (run.status === 0) astropy = JSON.parse(run.stdout) as AstropyResult;
    else
      console.log(
        `fits: astropy baseline failed (${python}: ${run.error?.message ?? `exit ${run.status}`}): ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
      );

    // 6. Figures.
    for (const [i, o] of ours.entries()) {
      const variant = (v: string) => astropy?.sizes.find((s) => s.size === o.size && s.variant === v);
      const a = variant('minimal');
      const aRate = a ? a.n / a.total_s : NaN;
      const oRate = rate(o.toFile);
      const against = (x: typeof a, ourRate: number) =>
        x ? `${fmtRate(x.n / x.total_s)} cutouts/s (p50 ${fmtMs(pct(x, 50))} ms) → ${(ourRate / (x.n / x.total_s)).toFixed(1)}×` : 'n/a';
      console.log(
        `fits ${o.size}×${o.size}: ours ${fmtRate(oRate)} cutouts/s (p50 ${fmtMs(pct(o.toFile, 50))} ms, p99 ${fmtMs(pct(o.toFile, 99))} ms); ` +
          (a
            ? `astropy ${fmtRate(aRate)} cutouts/s (p50 ${fmtMs(pct(a, 50))} ms, p99 ${fmtMs(pct(a, 99))} ms); speed-up ${(oRate / aRate).toFixed(1)}×`
            : 'astropy n/a'),
      );
      const nRate = rate(o.toNull);
      console.log(
        `  without the filesystem (complete file written to /dev/null): ours ${fmtRate(nRate)} cutouts/s (p50 ${fmtMs(pct(o.toNull, 50))} ms); ` +
          `astropy ${against(variant('minimal_null'), nRate)}; ` +
          `astropy writing the same headers as ours ${against(variant('same_output_null'), nRate)}` +
          (o.size === 256 ? ' [target ≥ 8× astropy]' : ''),
      );
      const as = oursAsync[i]!;
      const mismatch = astropy?.sizes.filter((s) => s.size === o.size).reduce((n, s) => n + s.bbox_mismatch, 0) ?? 0;
      console.log(
        `  ours, p50 per cutout (n=${o.toFile.ms.length}): readRawRect alone ${fmtMs(pct(o.read, 50))} ms; ` +
          `the two headers alone (copy, shift, Header.toBuffer) ${fmtMs(pct(o.headers, 50))} ms; ` +
          `whole cutout to a Buffer (cached primary + templated header + rows read into its data area) ${fmtMs(pct(o.buffer, 50))} ms; ` +
          `+ writeFileSync to a new file ${fmtMs(pct(o.toFile, 50))} ms; with async writeFitsFile instead ${fmtMs(pct(as, 50))} ms; ` +
          `rows read as one span up to a gap of ${learntMaxGap()} bytes (learnt from this run's reads, shared/fits/read-cost.ts)` +
          (mismatch ? `; astropy cut a different rectangle ${mismatch} times` : ''),
      );
    }
    console.log(
      `fits whole HDU ${WIDTH}×${HEIGHT} read (readRawImage, ${(hdu.dataSize / 2 ** 20).toFixed(0)} MiB): ${fmtMs(wholeMs)} ms (p50 of ${whole.ms.length}); ` +
        ours.map((o) => `a ${o.size}×${o.size} cutout costs 1/${Math.round(wholeMs / (1000 / rate(o.toFile)))} of it`).join(', ') +
        ` (rectangle read alone: ` +
        ours.map((o) => `1/${Math.round(wholeMs / (1000 / rate(o.read)))}`).join(', ') +
        ')',
    );

    // Correctness: byte-identical pixels and the same sky position at the cutout centre.
    if (astropy) {
      let ok = 0;
      let worstMas = 0;
      const problems: string[] = [];
      for (const c of astropy.checks) {
        const theirs = openFitsSync(c.astropy_file);
        const ourFile = openFitsSync(checks.find((k) => k.size === c.size && k.x0 === c.x0 && k.y0 === c.y0)!.ours);
        try {
          const tHdu = theirs.hdu('IMAGE');
          const oHdu = ourFile.hdu('IMAGE');
          const identical = bytesOf(theirs.readRawImage(tHdu).data).equals(bytesOf(ourFile.readRawImage(oHdu).data));
          const half = (c.size + 1) / 2; // FITS 1-based geometric centre of the cutout
          const oursSky = parseWcs(scalarLookup(oHdu.header)).pixelToSky(half, half);
          const theirsSky = parseWcs(scalarLookup(tHdu.header)).pixelToSky(half, half);
          const fullSky = parseWcs(scalarLookup(hdu.header)).pixelToSky(c.x0 + half, c.y0 + half);
          const o: [number, number] = [oursSky.ra, oursSky.dec];
          const seps = [
            sepMas(o, [theirsSky.ra, theirsSky.dec]), // shared/wcs on both headers
            sepMas(o, [fullSky.ra, fullSky.dec]), // ours vs the parent image's WCS
            sepMas(c.sky_ours, c.sky_astropy), // astropy.wcs on both headers
            sepMas(o, c.sky_astropy), // shared/wcs (ours) vs astropy.wcs (theirs)
          ];
          const crpixOk = c.crpix_ours[0] === c.crpix_astropy[0] && c.crpix_ours[1] === c.crpix_astropy[1];
          const crvalOk = c.crval_ours[0] === c.crval_astropy[0] && c.crval_ours[1] === c.crval_astropy[1];
          worstMas = Math.max(worstMas, ...seps);
          if (identical && c.data_identical && crpixOk && crvalOk && seps.every((s) => s < 1)) ok++;
          else
            problems.push(
              `${c.size}@(${c.x0},${c.y0}): data ${identical}/${c.data_identical}, CRPIX ${c.crpix_ours.join(',')} vs ${c.crpix_astropy.join(',')}, ` +
                `CRVAL ${crvalOk}, sky ${seps.map((s) => s.toFixed(3)).join('/')} mas`,
            );
        } finally {
          theirs.close();
          ourFile.close();
        }
      }
      const mismatches = astropy.sizes.reduce((s, a) => s + a.bbox_mismatch, 0);
      console.log(
        `fits correctness: ${ok}/${astropy.checks.length} check cutouts byte-identical float32 data to astropy's (both directions: read with ` +
          `shared/fits and with astropy), CRPIX/CRVAL equal, centre sky positions agree within ${worstMas.toExponential(1)} mas ` +
          `(shared/wcs and astropy.wcs, ≤ 1 mas required); astropy's bbox_original = our rectangle for ` +
          `${astropy.sizes.reduce((s, a) => s + a.n, 0) - mismatches}/${astropy.sizes.reduce((s, a) => s + a.n, 0)} timed cutouts` +
          (problems.length ? `; FAILED: ${problems.join('; ')}` : ''),
      );
      console.log(
        `fits method: both sides open the file once outside the timed loops (ours openFitsSync; astropy fits.open(memmap=True) + WCS(header)), ` +
          `warm up (page cache warm), then make one cutout at a time in one process, each written to a new file in ${path.basename(dir)}; ` +
          `cutouts/s = n / wall time of the loop, p50/p99 per cutout; astropy ran after ours (${pythonS.toFixed(1)} s)`,
      );
      console.log(
        `fits method: ours = the primary HDU formatted once per open file + the IMAGE header formatted once as a template with CRPIX1/2, CRPIX1A/2A, LTV1/2 (and NAXISn) rewritten per cutout + the rectangle's rows read (readRectBytes) straight into the output's data area ` +
          `+ fs.writeFileSync; astropy ${astropy.astropy} (numpy ${astropy.numpy}) = ` +
          `Cutout2D(data, (x0+s/2, y0+s/2), (s, s), wcs=wcs) + HDUList([PrimaryHDU(), ImageHDU(cutout.data, cutout.wcs.to_header())]).writeto(path); ` +
          `/dev/null = the same written to an open /dev/null (ours fs.writeSync, astropy writeto(file object)); ` +
          `"same headers" = PrimaryHDU(source primary header) + ImageHDU(cutout.data, copy of the source header with the same shifts)`,
      );
      if (problems.length) process.exitCode = 1;
    }
  } finally {
    file?.close();
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

if (require.main === module) {
  benchFits().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
