/**
 * The demo repository: planning (which datasets, their WCS and metadata), pixel synthesis
 * (sky model rendered through each image's WCS, noise, mask and variance planes) and writing
 * the butler-like directory tree.
 *
 *   generateDemoRepository(dataDir, options) → GeneratedDataset[]   writes everything
 *   planDemoRepository(options)              → DatasetPlan[]        what would be written
 *   renderDatasetFile(plan, sky)             → Buffer               one file's bytes
 *
 * Same options → byte-identical files (seeded generators keyed by what they are for, no clock),
 * and a file's bytes do not depend on which other files are generated. With the defaults
 * (binning 4, 5 patches × 6 bands, 6 calexps, 3 difference images: 39 files, 508 MB) it takes
 * about 5 s on one core; binning 8 is four times smaller and faster.
 *
 * Pixels are fluxes in nJy: sources from the sky catalogue (catalogue.ts) convolved with the
 * image's PSF and rendered through its WCS (render.ts); Gaussian sky noise whose variance, plus
 * the sources' photon noise, is the VARIANCE plane; MASK with DETECTED (noiseless model above
 * 1σ), SAT, and for visits EDGE, BAD/INTRP columns and CR/INTRP cosmic-ray tracks. A difference
 * image holds what changed at its epoch (the transient, variable stars) plus noise of its calexp
 * and template.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { type ImageHduInput, writeFitsBuffer } from '../fits';
import { DemoSky, type SkySource, fluxAt } from './catalogue';
import { type DataId, type DemoDatasetType, datasetUuid, extensionHeader, maskBit, primaryHeader } from './headers';
import {
  BANDS,
  type Band,
  COADD_DEPTH,
  COADD_FWHM,
  COADD_SKY_COUNTS,
  COADD_VISITS,
  type Psf,
  SATURATION_NJY,
  VISIT_DEPTH,
  VISIT_EXPTIME,
  VISIT_SKY_COUNTS,
  bandIndex,
  isBand,
  makePsf,
  physicalFilter,
  pixelNoise,
} from './photometry';
import { Rng } from '../random';
import { makeFrame, renderSource } from './render';
import { type Binning, NATIVE_PIXEL_SCALE, TRACT, checkBinning, checkPatch, patchGeometry } from './skymap';
import { type VisitPlan, planVisits } from './visits';
import { type WcsSpec, toCelestialWcs } from './wcs';

// Module-level aliases: global lookups are slow in sandboxed contexts (vm, jest).
const { sqrt, floor, cos, sin } = Math;

export interface DemoOptions {
  /** Random seed of the sky, the noise and the visits (default 1). */
  readonly seed?: number;
  /** Pixel binning 1, 2, 4 or 8 (default 4); 1 is Rubin's native 0.2″ pixels. */
  readonly binning?: number;
  /** Patches of tract 4431 with deepCoadd_calexp images (default 17, 16, 18, 10, 24). */
  readonly patches?: readonly number[];
  /** Bands of the coadds (default u g r i z y). */
  readonly bands?: readonly string[];
  /** Number of calexp visit images (default 6). */
  readonly visits?: number;
  /** How many of the visits (the first ones) also get a difference image (default half, rounded up). */
  readonly diffs?: number;
  /** Called after each file is written. */
  readonly onDataset?: (dataset: GeneratedDataset, done: number, total: number) => void;
}

export interface ResolvedDemoOptions {
  readonly seed: number;
  readonly binning: Binning;
  readonly patches: readonly number[];
  readonly bands: readonly Band[];
  readonly visits: number;
  readonly diffs: number;
}

export const DEMO_DEFAULTS: ResolvedDemoOptions = {
  seed: 1,
  binning: 4,
  patches: [17, 16, 18, 10, 24],
  bands: BANDS,
  visits: 6,
  diffs: 3,
};

export function resolveDemoOptions(options: DemoOptions = {}): ResolvedDemoOptions {
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const binning = checkBinning(options.binning ?? DEMO_DEFAULTS.binning);
  const patches = [...new Set((options.patches ?? DEMO_DEFAULTS.patches).map(checkPatch))];
  const bands = [...new Set(options.bands ?? DEMO_DEFAULTS.bands)].map((b) => {
    if (!isBand(b)) throw new RangeError(`unknown band '${b}' (expected u, g, r, i, z or y)`);
    return b;
  });
  bands.sort((a, b) => bandIndex(a) - bandIndex(b));
  const visits = options.visits ?? DEMO_DEFAULTS.visits;
  if (!Number.isInteger(visits) || visits < 0 || visits > 200) throw new RangeError(`visits must be 0..200, got ${visits}`);
  const diffs = options.diffs ?? Math.ceil(visits / 2);
  if (!Number.isInteger(diffs) || diffs < 0 || diffs > visits) throw new RangeError(`diffs must be 0..visits (${visits}), got ${diffs}`);
  return { seed, binning, patches, bands, visits, diffs };
}

/** Everything needed to synthesise and write one image. */
export interface DatasetPlan {
  readonly datasetType: DemoDatasetType;
  readonly id: string;
  readonly dataId: DataId;
  readonly band: Band;
  /** Path under the repository, '/'-separated. */
  readonly relativePath: string;
  readonly wcs: WcsSpec;
  readonly psf: Psf;
  /** Sky noise per (binned) pixel, nJy. */
  readonly noise: number;
  /** nJy per electron-like count: source flux f adds variance f × this. */
  readonly gain: number;
  /** Epoch of a visit image (variable sources, transients); undefined for coadds. */
  readonly epoch: number | undefined;
  readonly mjdObs: number;
  readonly mjdEnd?: number;
  readonly exptime: number;
  readonly inputs?: number;
  readonly airmass?: number;
  readonly rotation?: number;
  readonly binning: Binning;
  readonly seed: number;
  /** Visit images (calexp and difference): the visit. */
  readonly visit?: VisitPlan;
}

export interface GeneratedDataset {
  /** Absolute path of the file. */
  readonly path: string;
  /** Path under the repository, '/'-separated. */
  readonly relativePath: string;
  readonly datasetType: DemoDatasetType;
  /** Butler dataset UUID (HIERARCH LSST BUTLER ID). */
  readonly id: string;
  readonly band: Band;
  readonly physicalFilter: string;
  readonly tract?: number;
  readonly patch?: number;
  readonly visit?: number;
  readonly detector?: number;
  /** NAXIS1, NAXIS2 of the image planes. */
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

function coaddPlan(opts: ResolvedDemoOptions, patch: number, band: Band): DatasetPlan {
  const geometry = patchGeometry(patch, opts.binning);
  const dataId: DataId = { band, tract: TRACT, patch };
  const rng = new Rng(opts.seed, 'coadd', patch, band);
  const inputs = Math.round(COADD_VISITS[band] * rng.uniform(0.9, 1.1));
  // DC2's simulated survey starts on MJD 59853 (2022-10-01); DP0.2 covers its first five years.
  const mjdObs = Math.round((59853 + rng.int(45) + rng.uniform(0.02, 0.37)) * 1e6) / 1e6;
  const mjdEnd = Math.round((61670 - rng.int(60) + rng.uniform(0.02, 0.37)) * 1e6) / 1e6 + VISIT_EXPTIME / 86400;
  const psf = makePsf(COADD_FWHM[band]);
  const noise = pixelNoise(COADD_DEPTH[band], psf, NATIVE_PIXEL_SCALE * opts.binning);
  const nativeNoise = noise / opts.binning;
  return {
    datasetType: 'deepCoadd_calexp',
    id: datasetUuid('deepCoadd_calexp', dataId),
    dataId,
    band,
    relativePath: `deepCoadd_calexp/${TRACT}/${patch}/${band}/deepCoadd_calexp_${TRACT}_${patch}_${band}.fits`,
    wcs: geometry.wcs,
    psf,
    noise,
    gain: (nativeNoise * nativeNoise) / COADD_SKY_COUNTS,
    epoch: undefined,
    mjdObs,
    mjdEnd,
    exptime: inputs * VISIT_EXPTIME,
    inputs,
    binning: opts.binning,
    seed: opts.seed,
  };
}

function visitPlan(opts: ResolvedDemoOptions, visit: VisitPlan, datasetType: 'calexp' | 'goodSeeingDiff_differenceExp'): DatasetPlan {
  const dataId: DataId = { band: visit.band, visit: visit.visit, detector: visit.detector };
  const psf = makePsf(visit.fwhm);
  // Sky noise per pixel does not depend on seeing: the depth is quoted for 0.8″ seeing.
  let noise = pixelNoise(VISIT_DEPTH[visit.band], makePsf(0.8), NATIVE_PIXEL_SCALE * opts.binning) * sqrt(visit.airmass);
  const nativeNoise = noise / opts.binning;
  // The difference image carries the template's noise too (~25 % more variance).
  if (datasetType === 'goodSeeingDiff_differenceExp') noise *= sqrt(1.25);
  return {
    datasetType,
    id: datasetUuid(datasetType, dataId),
    dataId,
    band: visit.band,
    relativePath: `${datasetType}/${visit.visit}/${visit.band}/${datasetType}_${visit.visit}_${visit.detector}.fits`,
    wcs: visit.wcs,
    psf,
    noise,
    gain: (nativeNoise * nativeNoise) / VISIT_SKY_COUNTS,
    epoch: visit.mjd,
    mjdObs: visit.mjd,
    exptime: VISIT_EXPTIME,
    airmass: visit.airmass,
    rotation: visit.rotation,
    binning: opts.binning,
    seed: opts.seed,
    visit,
  };
}

/**
 * What the repository will hold, in writing order: the coadds (patch by patch, bands u→y),
 * then each visit's calexp followed by its difference image when it has one.
 */
export function planDemoRepository(options: DemoOptions = {}, sky?: DemoSky): DatasetPlan[] {
  const opts = resolveDemoOptions(options);
  if (sky && sky.seed !== opts.seed) throw new RangeError(`the sky model's seed ${sky.seed} is not the options' seed ${opts.seed}`);
  const model = sky ?? new DemoSky(opts.seed);
  const plans: DatasetPlan[] = [];
  for (const patch of opts.patches) for (const band of opts.bands) plans.push(coaddPlan(opts, patch, band));
  const visits = planVisits(opts.seed, opts.visits, opts.binning, model.transient.lightCurve!.peakMjd);
  visits.forEach((visit, k) => {
    plans.push(visitPlan(opts, visit, 'calexp'));
    if (k < opts.diffs) plans.push(visitPlan(opts, visit, 'goodSeeingDiff_differenceExp'));
  });
  return plans;
}

/** The noiseless model of an image: static sky (coadds) or the sky at the visit's epoch. */
export function renderModel(plan: DatasetPlan, sky: DemoSky, which: 'sky' | 'residual' = 'sky'): Float64Array {
  const { width, height } = plan.wcs;
  const frame = makeFrame(toCelestialWcs(plan.wcs), width, height);
  const band = bandIndex(plan.band);
  const model = new Float64Array(width * height);
  const threshold = 0.01 * plan.noise;
  const sources: SkySource[] = sky.sourcesForImage(frame.wcs, width, height);
  for (const source of sources) {
    let flux: number;
    if (which === 'sky') flux = fluxAt(source, band, plan.epoch);
    else if (source.lightCurve || source.variable) flux = fluxAt(source, band, plan.epoch) - fluxAt(source, band, undefined);
    else continue;
    renderSource(model, frame, source, flux, plan.psf, threshold);
  }
  return model;
}

export interface DatasetPixels {
  readonly image: Float32Array;
  readonly mask: Int32Array;
  readonly variance: Float32Array;
}

/** Detector defects of a visit (same for its calexp and difference image). */
function addDetectorDefects(plan: DatasetPlan, mask: Int32Array): void {
  const { width, height } = plan.wcs;
  const visit = plan.visit!;
  const rng = new Rng(plan.seed, 'defects', visit.visit, visit.detector);
  const bad = maskBit('BAD') | maskBit('INTRP');
  // A partial bad column and a bad pixel cluster, fixed per detector.
  const column = 20 + rng.int(width - 40);
  const from = rng.int(height);
  for (let y = from; y < height; y++) mask[y * width + column]! |= bad;
  const cx = rng.int(width - 4);
  const cy = rng.int(height - 4);
  for (let y = cy; y < cy + 3; y++) for (let x = cx; x < cx + 3; x++) mask[y * width + x]! |= bad;
  // Detector edge.
  const edge = Math.max(1, Math.ceil(16 / plan.binning));
  const edgeBit = maskBit('EDGE');
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < edge || y < edge || x >= width - edge || y >= height - edge) mask[y * width + x]! |= edgeBit;
    }
  }
  // Cosmic rays (interpolated over): short tracks.
  const cr = maskBit('CR') | maskBit('INTRP');
  const rays = 8 + rng.int(8);
  for (let k = 0; k < rays; k++) {
    let x = rng.uniform(0, width);
    let y = rng.uniform(0, height);
    const angle = rng.uniform(0, 2 * Math.PI);
    const length = 1 + rng.int(Math.max(2, Math.ceil(24 / plan.binning)));
    for (let step = 0; step < length; step++) {
      const ix = floor(x);
      const iy = floor(y);
      if (ix >= 0 && iy >= 0 && ix < width && iy < height) mask[iy * width + ix]! |= cr;
      x += cos(angle);
      y += sin(angle);
    }
  }
}

/** Models already computed: the image's own, and for a difference image its calexp's. */
export interface Precomputed {
  readonly model?: Float64Array;
  readonly calexpModel?: Float64Array;
}

/**
 * The three planes of an image. A difference image's variance includes the photon noise of its
 * calexp's sources, so it needs the calexp model too (computed when not given).
 */
export function renderPixels(plan: DatasetPlan, sky: DemoSky, precomputed: Precomputed = {}): DatasetPixels {
  const { width, height } = plan.wcs;
  const n = width * height;
  const diff = plan.datasetType === 'goodSeeingDiff_differenceExp';
  const model = precomputed.model ?? renderModel(plan, sky, diff ? 'residual' : 'sky');
  const photonModel = diff ? (precomputed.calexpModel ?? renderModel({ ...plan, datasetType: 'calexp' }, sky)) : model;
  const image = new Float32Array(n);
  const mask = new Int32Array(n);
  const variance = new Float32Array(n);
  const sky2 = plan.noise * plan.noise;
  const rng = new Rng(plan.seed, 'noise', plan.id);
  const detected = maskBit('DETECTED');
  const negative = maskBit('DETECTED_NEGATIVE');
  const saturated = maskBit('SAT');
  const saturation = SATURATION_NJY * plan.binning * plan.binning;
  for (let i = 0; i < n; i++) {
    const photons = photonModel[i]!;
    const v = sky2 + (photons > 0 ? photons * plan.gain : 0);
    variance[i] = v;
    const m = model[i]!;
    image[i] = m + sqrt(v) * rng.normal();
    let bits = 0;
    if (m > plan.noise) bits |= detected;
    else if (diff && m < -plan.noise) bits |= negative;
    if (photons > saturation) bits |= saturated;
    mask[i] = bits;
  }
  if (plan.visit) addDetectorDefects(plan, mask);
  return { image, mask, variance };
}

/** The FITS HDUs of an image: primary (metadata), IMAGE, MASK, VARIANCE. */
export function datasetHdus(plan: DatasetPlan, pixels: DatasetPixels): ImageHduInput[] {
  const shape = [plan.wcs.width, plan.wcs.height];
  const primary = primaryHeader({
    datasetType: plan.datasetType,
    id: plan.id,
    dataId: plan.dataId,
    mjdObs: plan.mjdObs,
    ...(plan.mjdEnd !== undefined ? { mjdEnd: plan.mjdEnd } : {}),
    exptime: plan.exptime,
    ...(plan.inputs !== undefined ? { inputs: plan.inputs } : {}),
    psfFwhm: plan.psf.fwhm,
    binning: plan.binning,
    ...(plan.airmass !== undefined ? { airmass: plan.airmass } : {}),
    ...(plan.rotation !== undefined ? { rotation: plan.rotation } : {}),
  });
  return [
    { header: primary },
    { header: extensionHeader('IMAGE', plan.wcs), data: pixels.image, shape },
    { header: extensionHeader('MASK', plan.wcs), data: pixels.mask, shape },
    { header: extensionHeader('VARIANCE', plan.wcs), data: pixels.variance, shape },
  ];
}

/** The bytes of one dataset's FITS file. */
export function renderDatasetFile(plan: DatasetPlan, sky: DemoSky, precomputed: Precomputed = {}): Buffer {
  return writeFitsBuffer(datasetHdus(plan, renderPixels(plan, sky, precomputed)));
}

function describe(plan: DatasetPlan, file: string, bytes: number): GeneratedDataset {
  return {
    path: file,
    relativePath: plan.relativePath,
    datasetType: plan.datasetType,
    id: plan.id,
    band: plan.band,
    physicalFilter: physicalFilter(plan.band),
    ...(plan.dataId.tract !== undefined ? { tract: plan.dataId.tract } : {}),
    ...(plan.dataId.patch !== undefined ? { patch: plan.dataId.patch } : {}),
    ...(plan.dataId.visit !== undefined ? { visit: plan.dataId.visit } : {}),
    ...(plan.dataId.detector !== undefined ? { detector: plan.dataId.detector } : {}),
    width: plan.wcs.width,
    height: plan.wcs.height,
    bytes,
  };
}

/** Writes via a temporary name and a rename, so readers never see a partial file. */
async function writeAtomically(file: string, bytes: Buffer): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  try {
    await fsp.writeFile(temp, bytes);
    await fsp.rename(temp, file);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw err;
  }
}

/**
 * Generates the demo data set into `dataDir` (created if needed; existing files of the same
 * names are replaced, identically for the same options) and returns what was written, in
 * writing order. Pixels of the next image are computed while the previous file is written.
 */
export async function generateDemoRepository(dataDir: string, options: DemoOptions = {}): Promise<GeneratedDataset[]> {
  const opts = resolveDemoOptions(options);
  const root = path.resolve(dataDir);
  const sky = new DemoSky(opts.seed);
  const plans = planDemoRepository(opts, sky);
  const written: GeneratedDataset[] = [];
  let pending: Promise<void> = Promise.resolve();
  let calexpModel: { visit: number; model: Float64Array } | undefined;
  try {
    for (const plan of plans) {
      let bytes: Buffer;
      if (plan.datasetType === 'calexp') {
        const model = renderModel(plan, sky);
        calexpModel = { visit: plan.visit!.visit, model };
        bytes = renderDatasetFile(plan, sky, { model });
      } else if (plan.datasetType === 'goodSeeingDiff_differenceExp' && calexpModel && calexpModel.visit === plan.visit?.visit) {
        bytes = renderDatasetFile(plan, sky, { calexpModel: calexpModel.model });
      } else {
        bytes = renderDatasetFile(plan, sky);
      }
      await pending;
      const file = path.join(root, ...plan.relativePath.split('/'));
      const dataset = describe(plan, file, bytes.length);
      pending = writeAtomically(file, bytes).then(() => {
        written.push(dataset);
        options.onDataset?.(dataset, written.length, plans.length);
      });
    }
    await pending;
  } catch (err) {
    await pending.catch(() => undefined); // a rendering error: let the write in flight finish
    throw err;
  }
  return written;
}
