/**
 * Preview rendering benchmark (`npm run bench:preview`): in-process p50 of renderPreview with
 * the default display (asinh between the 0.5 and 99.5 percentiles, gray) for
 *   - a 64×64 float32 stamp, PNG and JPEG;
 *   - a 4096×4096 float32 image downsampled to 1024×1024, PNG, with its steps one by one;
 *   - previewOfFits of that image as a FITS file on disk (warm page cache): the first call in
 *     this process (JIT-cold, as the first preview a fresh worker thread draws) and the p50;
 *   - the percentile cuts of all 16.7 M pixels: our two selections against sorting a copy.
 * Baseline in the same run: numpy + astropy doing the same work in one python process that
 * times its own loop: np.nanmean block downsampling, AsymmetricPercentileInterval(0.5, 99.5),
 * ManualInterval(lo, hi)(clip=True), AsinhStretch(a=0.1), floor(255 s + 0.5) as uint8 and
 * np.flipud. Encoding is excluded there: Debian's python3 has no PIL/matplotlib to write PNG.
 *
 * Issue targets, for context (measured over HTTP by the service benchmarks, not here): a
 * 64×64 preview ≤ 2 ms p50; a whole 4k×4k #preview ≤ 300 ms cold.
 *
 * Env: BENCH_PREVIEW_N64 (default 2000), BENCH_PREVIEW_N4K (10), BENCH_PYTHON
 * (/usr/bin/python3), BENCH_KEEP (keep the temp dir).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFitsFile, Header } from '../shared/fits';
import {
  DEFAULT_DISPLAY,
  type DisplayOptions,
  type Plane,
  computeCuts,
  displayLevels,
  downsample,
  encodePng,
  finiteValues,
  paint,
  percentilePair,
  previewOfFits,
  renderPreview,
  renderRaster,
} from '../shared/preview';
import { seededRandom } from '../shared/random';
import { signedFilePath } from '../shared/datalink/signing';
import { circle, demoRepository, stamps } from './cutout';
import { machineLine, percentile } from './machine';
import { makeSky } from './sky';
import { request, startBenchStack } from './stack';

const BIG = 4096;
const PREVIEW_SIDE = 1024;

/** A sky image (bench/sky.ts) with two bad columns when it is wider than a stamp. */
function skyPlane(width: number, height: number, seed: string): Float32Array {
  const badColumns = width > 100 ? [Math.floor(width / 4) + 1, Math.floor((3 * width) / 4) + 3] : [];
  return makeSky(width, height, seededRandom('bench-preview', seed), { badColumns });
}

/** ms of each of n calls after `warmup` untimed ones. */
function timeIt(n: number, warmup: number, one: () => void): number[] {
  for (let i = 0; i < warmup; i++) one();
  const ms = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    one();
    ms[i] = performance.now() - t0;
  }
  return ms;
}

async function timeAsync(n: number, warmup: number, one: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await one();
  const ms = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await one();
    ms[i] = performance.now() - t0;
  }
  return ms;
}

function p50(ms: readonly number[]): number {
  return percentile(
    [...ms].sort((a, b) => a - b),
    50,
  );
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * The numpy + astropy baseline. argv: job JSON {stamp, big: raw float32 files, n64, n4k}.
 * Prints JSON {numpy, astropy, stamp_ms: [...], big_ms: [...], big_steps: {...}, stamp_cuts, big_cuts}.
 */
const PYTHON_BASELINE = String.raw`
import json, sys, time, warnings
import numpy as np
import astropy
from astropy.visualization import AsinhStretch, AsymmetricPercentileInterval, ManualInterval
warnings.simplefilter('ignore', RuntimeWarning)
job = json.load(open(sys.argv[1]))
stamp = np.fromfile(job['stamp'], dtype='<f4').reshape(64, 64)
big = np.fromfile(job['big'], dtype='<f4').reshape(job['side'], job['side'])
interval = AsymmetricPercentileInterval(0.5, 99.5)
stretch = AsinhStretch(a=0.1)

def downsample(a, max_side):
    h, w = a.shape
    f = max(1, -(-max(w, h) // max_side))
    if f == 1: return a
    H, W = -(-h // f), -(-w // f)
    if H * f != h or W * f != w:
        p = np.full((H * f, W * f), np.nan, dtype=a.dtype); p[:h, :w] = a; a = p
    return np.nanmean(a.reshape(H, f, W, f), axis=(1, 3), dtype=np.float64)  # float64 sums, as ours

def draw(a, steps=None):
    t0 = time.perf_counter()
    lo, hi = interval.get_limits(a)
    t1 = time.perf_counter()
    s = stretch(ManualInterval(lo, hi)(a, clip=True), clip=True)
    lev = np.flipud(np.floor(s * 255 + 0.5).astype(np.uint8))
    t2 = time.perf_counter()
    if steps is not None:
        steps['cuts'].append((t1 - t0) * 1e3); steps['levels'].append((t2 - t1) * 1e3)
    return lo, hi, lev

def loop(n, warmup, fn):
    for _ in range(warmup): fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); out.append((time.perf_counter() - t0) * 1e3)
    return out

stamp_ms = loop(job['n64'], 50, lambda: draw(stamp))
steps = {'downsample': [], 'cuts': [], 'levels': []}
def big_one():
    t0 = time.perf_counter()
    d = downsample(big, job['preview'])
    steps['downsample'].append((time.perf_counter() - t0) * 1e3)
    return draw(d, steps)
big_ms = loop(job['n4k'], 1, big_one)
steps = {k: v[-job['n4k']:] for k, v in steps.items()}
d = downsample(big, job['preview'])
print(json.dumps({'numpy': np.__version__, 'astropy': astropy.__version__, 'stamp_ms': stamp_ms, 'big_ms': big_ms,
    'big_steps': steps, 'stamp_cuts': [float(x) for x in interval.get_limits(stamp)],
    'big_cuts': [float(x) for x in interval.get_limits(d)], 'big_shape': list(d.shape)}))
`;

interface Baseline {
  numpy: string;
  astropy: string;
  stamp_ms: number[];
  big_ms: number[];
  big_steps: Record<'downsample' | 'cuts' | 'levels', number[]>;
  stamp_cuts: [number, number];
  big_cuts: [number, number];
  big_shape: [number, number];
}

export async function benchPreview(): Promise<void> {
  const n64 = Number(process.env.BENCH_PREVIEW_N64 ?? 2000);
  const n4k = Number(process.env.BENCH_PREVIEW_N4K ?? 10);
  const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-preview-'));
  try {
    console.log(machineLine());
    const stamp: Plane = { width: 64, height: 64, data: skyPlane(64, 64, 'stamp') };
    const big: Plane = { width: BIG, height: BIG, data: skyPlane(BIG, BIG, 'big') };
    const display: DisplayOptions = { ...DEFAULT_DISPLAY };
    const previewDisplay: DisplayOptions = { ...DEFAULT_DISPLAY, maxSide: PREVIEW_SIDE };

    // 1. previewOfFits of the 4k image as a file, first in this process: the JIT has compiled
    //    nothing of the rendering yet (the page cache is warm: the file was just written).
    const fitsPath = path.join(dir, 'image.fits');
    const imageHeader = new Header();
    imageHeader.set('EXTNAME', 'IMAGE');
    await writeFitsFile(fitsPath, [{ header: new Header() }, { header: imageHeader, data: big.data, shape: [BIG, BIG] }]);
    let t0 = performance.now();
    const firstFits = await previewOfFits(fitsPath, previewDisplay, 'png');
    const fitsCold = performance.now() - t0;
    const fitsWarm = await timeAsync(Math.max(3, Math.ceil(n4k / 2)), 1, () => previewOfFits(fitsPath, previewDisplay, 'png'));

    // 2. The 64×64 stamp.
    const stampPng = renderPreview(stamp, display, 'png');
    const stampJpeg = renderPreview(stamp, display, 'jpeg');
    const stampPngMs = timeIt(n64, 200, () => void renderPreview(stamp, display, 'png'));
    const stampJpegMs = timeIt(n64, 200, () => void renderPreview(stamp, display, 'jpeg'));
    // The same work as the baseline: everything but the encoding.
    const stampRasterMs = timeIt(n64, 200, () => void renderRaster(stamp, display, 'png'));

    // 3. The 4k image, whole and step by step.
    const bigPng = renderPreview(big, previewDisplay, 'png');
    const bigMs = timeIt(n4k, 1, () => void renderPreview(big, previewDisplay, 'png'));
    const bigRasterMs = timeIt(n4k, 1, () => void renderRaster(big, previewDisplay, 'png'));
    const steps = {
      downsample: [] as number[],
      cuts: [] as number[],
      levels: [] as number[],
      paint: [] as number[],
      encode: [] as number[],
    };
    let shrunk = downsample(big, PREVIEW_SIDE);
    let cuts = computeCuts(shrunk.data, display.cuts);
    for (let i = 0; i < n4k; i++) {
      let t = performance.now();
      shrunk = downsample(big, PREVIEW_SIDE);
      steps.downsample.push(performance.now() - t);
      t = performance.now();
      cuts = computeCuts(shrunk.data, display.cuts);
      steps.cuts.push(performance.now() - t);
      t = performance.now();
      const levels = displayLevels(shrunk, cuts[0], cuts[1], display.stretch);
      steps.levels.push(performance.now() - t);
      t = performance.now();
      const raster = paint(levels, shrunk.width, shrunk.height, display.cmap, true);
      steps.paint.push(performance.now() - t);
      t = performance.now();
      encodePng(raster);
      steps.encode.push(performance.now() - t);
    }

    // 4. Percentile cuts of all 16.7 M pixels: two selections vs sorting a copy.
    const selectMs = timeIt(3, 1, () => void computeCuts(big.data, display.cuts));
    const sortMs = timeIt(3, 0, () => {
      const values = finiteValues(big.data).sort();
      const n = values.length;
      void [values[Math.floor(0.005 * (n - 1))], values[Math.floor(0.995 * (n - 1))]];
    });
    const fullCuts = percentilePair(finiteValues(big.data), 0.5, 99.5);

    // 5. The baseline.
    const stampFile = path.join(dir, 'stamp.f32');
    const bigFile = path.join(dir, 'big.f32');
    fs.writeFileSync(stampFile, Buffer.from(stamp.data.buffer, stamp.data.byteOffset, stamp.data.byteLength));
    fs.writeFileSync(bigFile, Buffer.from(big.data.buffer, big.data.byteOffset, big.data.byteLength));
    const jobFile = path.join(dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify({ stamp: stampFile, big: bigFile, side: BIG, preview: PREVIEW_SIDE, n64, n4k }));
    t0 = performance.now();
    const run = spawnSync(python, ['-c', PYTHON_BASELINE, jobFile], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const pythonS = (performance.now() - t0) / 1000;
    let base: Baseline | undefined;
    if (run.status === 0) base = JSON.parse(run.stdout) as Baseline;
    else
      console.log(
        `preview: numpy/astropy baseline failed (${python}: ${run.error?.message ?? `exit ${run.status}`}): ${(run.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`,
      );

    // 6. Figures.
    /** Our time without encoding against the baseline's, e.g. "numpy+astropy 0.088 ms: ours 1.9× slower". */
    const versus = (ours: number, theirs: number[] | undefined) => {
      if (!theirs) return 'numpy+astropy ?';
      const t = p50(theirs);
      return `numpy+astropy ${fmt(t)} ms: ours ${t >= ours ? `${(t / ours).toFixed(1)}× faster` : `${(ours / t).toFixed(1)}× slower`}`;
    };
    console.log(
      `preview: default display (asinh, percentiles 0.5/99.5, gray); in-process p50; baseline: numpy ${base?.numpy ?? '?'} + astropy ` +
        `${base?.astropy ?? '?'} doing the same cuts, stretch, levels, flip (and downsampling) in one python process timing its own loop (${pythonS.toFixed(1)} s), ` +
        `without encoding (no PIL), compared with our renderRaster (everything but the encoding)`,
    );
    console.log(
      `preview: 64×64 float32 stamp: renderPreview PNG ${fmt(p50(stampPngMs))} ms (${stampPng.length} B), JPEG ${fmt(p50(stampJpegMs))} ms ` +
        `(${stampJpeg.length} B); without encoding ${fmt(p50(stampRasterMs))} ms vs ${versus(p50(stampRasterMs), base?.stamp_ms)}; n=${n64} — target ≤ 2 ms over HTTP`,
    );
    const ourSteps = Object.entries(steps)
      .map(([k, v]) => `${k} ${fmt(p50(v))}`)
      .join(', ');
    const theirSteps = base
      ? Object.entries(base.big_steps)
          .map(([k, v]) => `${k} ${fmt(p50(v))}`)
          .join(', ')
      : '?';
    console.log(
      `preview: ${BIG}×${BIG} float32 → ${shrunk.width}×${shrunk.height} PNG (${kib(bigPng.length)}): renderPreview ${fmt(p50(bigMs))} ms ` +
        `(steps ${ourSteps} ms); without encoding ${fmt(p50(bigRasterMs))} ms vs ${versus(p50(bigRasterMs), base?.big_ms)} (steps ${theirSteps} ms); n=${n4k}`,
    );
    console.log(
      `preview: previewOfFits of the ${BIG}×${BIG} float32 FITS file (${(fs.statSync(fitsPath).size / 2 ** 20).toFixed(0)} MiB, page cache warm) → ` +
        `${kib(firstFits.length)} PNG: first call in this process (JIT cold) ${fmt(fitsCold)} ms, then p50 ${fmt(p50(fitsWarm))} ms (n=${fitsWarm.length}) — target ≤ 300 ms cold over HTTP`,
    );
    console.log(
      `preview: percentile cuts of all ${(big.data.length / 1e6).toFixed(1)} M pixels: selection ${fmt(p50(selectMs))} ms, sorting a Float32Array copy ${fmt(p50(sortMs))} ms ` +
        `(cuts ${fullCuts.map((v) => v.toFixed(3)).join(', ')}; renderPreview takes them on the downsampled plane: ${cuts.map((v) => v.toFixed(3)).join(', ')})`,
    );
    // The two sides must have computed the same thing.
    if (base) {
      const problems: string[] = [];
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      const stampCuts = computeCuts(stamp.data, display.cuts);
      if (!close(stampCuts[0], base.stamp_cuts[0]) || !close(stampCuts[1], base.stamp_cuts[1]))
        problems.push(`stamp cuts ${stampCuts.join(', ')} vs ${base.stamp_cuts.join(', ')}`);
      if (!close(cuts[0], base.big_cuts[0]) || !close(cuts[1], base.big_cuts[1]))
        problems.push(`4k cuts ${cuts.join(', ')} vs ${base.big_cuts.join(', ')}`);
      if (base.big_shape[0] !== shrunk.height || base.big_shape[1] !== shrunk.width) problems.push(`4k shape ${base.big_shape.join('×')}`);
      console.log(
        problems.length ? `preview: CHECK FAILED: ${problems.join('; ')}` : 'preview: check: both sides computed the same cuts and sizes',
      );
      if (problems.length) process.exitCode = 1;
    }
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

/**
 * Over HTTP, against the real system (api + workers + Redis), in the same run:
 *  - a 64×64 stamp of the demo repository as a picture (SODA sync, RESPONSEFORMAT=image/png),
 *    p50 of one request at a time, against the same stamp as FITS (the baseline: the picture
 *    adds its drawing to the same path) — target ≤ 2 ms;
 *  - the DataLink #preview of a 4096×4096 image (IMAGE float32 + MASK int32, like the demo's
 *    coadds but four times larger): cold (the file's modification time changed before each
 *    request, so a worker reads and draws it again) and cached — targets ≤ 300 ms and ≤ 5 ms.
 */
export async function benchPreviewHttp(): Promise<void> {
  const n = Number(process.env.BENCH_PREVIEW_HTTP_N ?? 500);
  const nCold = Number(process.env.BENCH_PREVIEW_COLD_N ?? 5);
  const { dataDir, obscoreDb, datasets } = await demoRepository();
  const coadds = datasets.filter((d) => d.datasetType === 'deepCoadd_calexp' && d.patch === 17 && d.band !== 'u');
  const cutouts = stamps(coadds, 60, 21);
  // The large image lies in the repository for the length of the run (the files route needs it
  // under DATA_DIR; ObsCore is not involved).
  const relative = `bench-preview-${process.pid}/image.fits`;
  const bigFile = path.join(dataDir, relative);
  fs.mkdirSync(path.dirname(bigFile), { recursive: true });
  const mask = new Int32Array(BIG * BIG);
  for (let x = 0; x < BIG; x++) mask[x] = 1 << 8; // a NO_DATA bottom row, drawn transparent
  const maskHeader = new Header();
  maskHeader.set('EXTNAME', 'MASK');
  maskHeader.set('MP_NO_DATA', 8);
  const imageHeader = new Header();
  imageHeader.set('EXTNAME', 'IMAGE');
  await writeFitsFile(bigFile, [
    { header: new Header() },
    { header: imageHeader, data: skyPlane(BIG, BIG, 'http'), shape: [BIG, BIG] },
    { header: maskHeader, data: mask, shape: [BIG, BIG] },
  ]);
  const stack = await startBenchStack('preview', { DATA_DIR: dataDir, OBSCORE_DB: obscoreDb });
  try {
    console.log(machineLine());
    const over = async (make: (i: number) => string, count: number, expectType: string): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < count + 30; i++) {
        const t0 = performance.now();
        const reply = await request(stack.port, 'GET', make(i), undefined, false);
        if (i >= 30) ms.push(performance.now() - t0);
        if (reply.status !== 200 || reply.contentType !== expectType)
          throw new Error(`${make(i)} answered ${reply.status} ${String(reply.contentType)}`);
      }
      return ms;
    };
    const stampUrl = (i: number, png: boolean) => {
      const c = cutouts[i % cutouts.length]!;
      return `/api/cutout/sync?${new URLSearchParams({ ID: c.id, CIRCLE: circle(c), ...(png ? { RESPONSEFORMAT: 'image/png' } : {}) }).toString()}`;
    };
    const rounds = 3;
    const png: number[] = [];
    const fits: number[] = [];
    // One unrecorded round first, as bench/sync does: a fresh processor thread runs cold code.
    await over((i) => stampUrl(i, false), n, 'application/fits');
    await over((i) => stampUrl(i, true), n, 'image/png');
    for (let r = 0; r < rounds; r++) {
      fits.push(p50(await over((i) => stampUrl(i, false), n, 'application/fits')));
      png.push(p50(await over((i) => stampUrl(i, true), n, 'image/png')));
    }
    const median = (v: number[]) => p50(v);
    console.log(
      `preview over HTTP: 64×64 × 3 planes SODA cutout as PNG p50 ${fmt(median(png))} ms vs the same as FITS ${fmt(median(fits))} ms ` +
        `(×${(median(png) / median(fits)).toFixed(2)}; rounds PNG ${png.map(fmt).join(', ')}; FITS ${fits.map(fmt).join(', ')}; n=${n} each, one at a time) — target ≤ 2 ms`,
    );
    const url = () => signedFilePath(stack.config.signingKey, relative, Math.floor(Date.now() / 1000) + 3600) + '&preview=preview';
    const cold: number[] = [];
    for (let i = 0; i < nCold; i++) {
      const when = new Date(Date.now() + (i + 1) * 1000);
      fs.utimesSync(bigFile, when, when); // a new version: nothing cached
      const t0 = performance.now();
      const reply = await request(stack.port, 'GET', url(), undefined, false);
      cold.push(performance.now() - t0);
      if (reply.status !== 200) throw new Error(`#preview answered ${reply.status}`);
    }
    const cached = await over(() => url(), n, 'image/png');
    console.log(
      `preview over HTTP: DataLink #preview of a ${BIG}×${BIG} float32 image with its MASK (${(fs.statSync(bigFile).size / 2 ** 20).toFixed(0)} MiB, page cache warm): ` +
        `cold ${cold.map(fmt).join(', ')} ms (p50 ${fmt(p50(cold))}) — target ≤ 300 ms; cached p50 ${fmt(p50(cached))} ms (n=${n}) — target ≤ 5 ms`,
    );
  } finally {
    await stack.stop();
    fs.rmSync(path.dirname(bigFile), { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchPreview()
    .then(benchPreviewHttp)
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
