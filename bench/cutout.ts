/**
 * SODA cutout benchmark, end to end over HTTP against the real processes (api + workers +
 * Redis) on the demo repository (generated once into var/bench/demo):
 *  1. sync cutout latency (warm), 64×64 stamps from the deep coadds, one request at a time;
 *  2. an async job of 1,000 ID × stencil combinations (5 coadds × 200 circles) of 64×64
 *     stamps × 3 planes: cutouts/s from PHASE=RUN to COMPLETED (every result a FITS file);
 *  3. the baseline in the same run: astropy Cutout2D + write of the same 1,000 stamps
 *     (bench/cutout_astropy.py, /usr/bin/python3).
 *  4. memory: the workers' RSS right after a burst of concurrent sync cutouts, and after
 *     BENCH_IDLE_SECONDS (65) idle (processor threads end after WORKER_THREAD_IDLE, 30 s).
 * Targets (2 cores): sync p50 ≤ 5 ms; async ≥ 2,000 cutouts/s and ≥ 20× astropy; a worker idle
 * for a minute ≤ 120 MiB RSS.
 * Env: BENCH_CUTOUT_SYNC (default 300), BENCH_CUTOUT_PER_ID (200), BENCH_IDLE_SECONDS, WORKERS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateDemoRepository, type GeneratedDataset } from '../shared/demo';
import { openFitsSync, scalarLookup } from '../shared/fits';
import { ingestDirectory } from '../shared/obscore/ingest';
import { seededRandom } from '../shared/random';
import { PROJECT_ROOT } from '../shared/runtime';
import { parseWcs } from '../shared/wcs';
import { machineLine, pythonBaseline, summary } from './machine';
import { pool, request, rssMiB, startBenchStack } from './stack';

const DIR = path.join(PROJECT_ROOT, 'var', 'bench');
const STAMP = 64;

export interface Stamp {
  id: string;
  file: string;
  ra: number;
  dec: number;
  /** Circle radius (deg) whose pixel box is STAMP × STAMP. */
  radius: number;
}

export async function demoRepository(): Promise<{ dataDir: string; obscoreDb: string; datasets: GeneratedDataset[] }> {
  const dataDir = path.join(DIR, 'demo');
  const obscoreDb = path.join(DIR, 'obscore-demo.sqlite');
  const marker = path.join(dataDir, 'datasets.json');
  if (!fs.existsSync(marker) || !fs.existsSync(obscoreDb)) {
    console.log(`cutout: generating the demo repository into ${dataDir} (cached for later runs)…`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    const datasets = await generateDemoRepository(dataDir);
    await ingestDirectory(dataDir, { obscoreDb });
    fs.writeFileSync(marker, JSON.stringify(datasets));
  }
  return { dataDir, obscoreDb, datasets: JSON.parse(fs.readFileSync(marker, 'utf8')) as GeneratedDataset[] };
}

/** `perImage` random stamps fully inside each image. */
export function stamps(images: readonly GeneratedDataset[], perImage: number, seed: number): Stamp[] {
  const next = seededRandom(seed);
  return images.flatMap((image) => {
    const file = openFitsSync(image.path);
    try {
      const wcs = parseWcs(scalarLookup(file.hdu('IMAGE').header));
      return Array.from({ length: perImage }, () => {
        const x = STAMP + next() * (image.width - 2 * STAMP);
        const y = STAMP + next() * (image.height - 2 * STAMP);
        const { ra, dec } = wcs.pixelToSky0(x, y);
        return { id: `butler://dp02/${image.id}`, file: image.path, ra, dec, radius: (STAMP / 2 - 0.5) * pixelScale(wcs, x, y) };
      });
    } finally {
      file.close();
    }
  });
}

/** Degrees per pixel at (x, y). */
function pixelScale(wcs: ReturnType<typeof parseWcs>, x: number, y: number): number {
  const a = wcs.pixelToSky0(x, y);
  const b = wcs.pixelToSky0(x, y + 1);
  const dRa = (b.ra - a.ra) * Math.cos((a.dec * Math.PI) / 180);
  return Math.hypot(dRa, b.dec - a.dec);
}

export const circle = (s: Stamp) => `${s.ra.toFixed(7)} ${s.dec.toFixed(7)} ${s.radius.toFixed(7)}`;

export async function benchCutout(): Promise<void> {
  const { dataDir, obscoreDb, datasets } = await demoRepository();
  const coadds = datasets.filter((d) => d.datasetType === 'deepCoadd_calexp' && d.patch === 17 && d.band !== 'u');
  const stack = await startBenchStack('cutout', { DATA_DIR: dataDir, OBSCORE_DB: obscoreDb });
  try {
    const { port } = stack;
    console.log(machineLine());
    console.log(
      `cutout: demo repository (${coadds[0]!.width}×${coadds[0]!.height} coadds, IMAGE+MASK+VARIANCE), api 1 process, ${stack.workers} worker process(es)`,
    );

    // 1. Sync latency, one request at a time (the first 30 warm up threads, files and caches).
    const syncStamps = stamps(coadds, Math.ceil(Number(process.env.BENCH_CUTOUT_SYNC ?? 300) / coadds.length) + 6, 11);
    const ms: number[] = [];
    let bytes = 0;
    for (const [i, s] of syncStamps.entries()) {
      const t0 = performance.now();
      const reply = await request(
        port,
        'GET',
        `/api/cutout/sync?${new URLSearchParams({ ID: s.id, CIRCLE: circle(s) }).toString()}`,
        undefined,
        false,
      );
      if (reply.status !== 200) throw new Error(`sync cutout answered ${reply.status}`);
      if (i >= 30) ms.push(performance.now() - t0);
      bytes = reply.bytes;
    }
    console.log(`cutout sync 64×64 × 3 planes (${(bytes / 1024).toFixed(0)} KiB FITS): ${summary(ms)}  [target p50 ≤ 5 ms]`);

    // 2. One async job of 1,000 combinations: 5 IDs × 200 circles (SODA §6: one result each).
    const perId = Number(process.env.BENCH_CUTOUT_PER_ID ?? 200);
    const jobStamps = stamps(coadds.slice(0, 5), perId, 12);
    // Every circle is cut from every ID (ID × stencil), so each circle must lie in all five
    // images: the five coadds of patch 17 share one footprint, so the stamps of one image fit all.
    const circles = jobStamps.filter((s) => s.id === jobStamps[0]!.id);
    const body = new URLSearchParams([
      ...coadds.slice(0, 5).map((d): [string, string] => ['ID', `butler://dp02/${d.id}`]),
      ...circles.map((s): [string, string] => ['CIRCLE', circle(s)]),
      ['PHASE', 'RUN'],
    ]);
    const combinations = 5 * circles.length;
    const runJob = async (form: string): Promise<{ jobPath: string; phase: string }> => {
      const created = await request(port, 'POST', '/api/cutout/async', form);
      if (created.status !== 303) throw new Error(`async create answered ${created.status}`);
      const jobPath = new URL(created.location!).pathname;
      for (;;) {
        const reply = await request(port, 'GET', `${jobPath}?WAIT=60`);
        const phase = /<uws:phase>(\w+)</.exec(reply.text)?.[1] ?? '';
        if (phase !== 'QUEUED' && phase !== 'EXECUTING') return { jobPath, phase };
      }
    };
    // Warm-up jobs (one per worker process), so the timed job does not pay for loading code.
    for (let i = 0; i < stack.workers * 2; i++) await runJob(body.toString());
    const t0 = performance.now();
    const { jobPath, phase } = await runJob(body.toString());
    const seconds = (performance.now() - t0) / 1000;
    const jobDoc = (await request(port, 'GET', jobPath)).text;
    const time = (name: string) => Date.parse(new RegExp(`<uws:${name}>([^<]+)<`).exec(jobDoc)![1]!);
    const executing = (time('endTime') - time('startTime')) / 1000;
    const results = (await request(port, 'GET', `${jobPath}/results`)).text;
    const fitsResults = (results.match(/mime-type="application\/fits"/g) ?? []).length;
    if (phase !== 'COMPLETED' || fitsResults !== combinations)
      throw new Error(`async job ended ${phase} with ${fitsResults} FITS results of ${combinations}`);
    const ours = combinations / seconds;
    console.log(
      `cutout async job: ${combinations} combinations (5 IDs × ${circles.length} circles) → ${fitsResults} FITS results in ${seconds.toFixed(2)} s = ${Math.round(ours)} cutouts/s (EXECUTING ${executing.toFixed(2)} s of it)  [target ≥ 2000]`,
    );

    // 3. astropy on the same 1,000 stamps (same files, positions and size), in this run.
    {
      const stampsFor = coadds.slice(0, 5).flatMap((d) => circles.map((s) => ({ file: d.path, ra: s.ra, dec: s.dec, size: STAMP })));
      const astropy = pythonBaseline<{ seconds: number; stamps: number; shape: number[] }>('cutout_astropy.py', (work) => ({
        out_dir: path.join(work, 'out'),
        stamps: stampsFor,
      }));
      const theirs = astropy.stamps / astropy.seconds;
      console.log(
        `cutout astropy baseline (Cutout2D × 3 planes + writeto, same ${astropy.stamps} stamps, ${astropy.shape.join('×')}): ${Math.round(theirs)} cutouts/s`,
      );
      console.log(`cutout async vs astropy: ${(ours / theirs).toFixed(1)}×  [target ≥ 20×]`);
    }

    // 4. Memory: a burst of 16 sync cutouts at a time fills every worker's thread pool; then idle.
    const burst = stamps(coadds, 40, 13);
    await pool(burst.length, 16, async (i) => {
      const s = burst[i]!;
      await request(port, 'GET', `/api/cutout/sync?${new URLSearchParams({ ID: s.id, CIRCLE: circle(s) }).toString()}`, undefined, false);
    });
    const workerPids = stack.processes.filter(([name]) => name.startsWith('worker')).map(([, pid]) => pid);
    const rss = () => workerPids.map((pid) => `${rssMiB(pid).toFixed(0)}`).join(', ');
    const afterBurst = rss();
    const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 65);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    console.log(
      `cutout worker RSS (MiB, per worker): ${afterBurst} after a burst of ${burst.length} sync cutouts 16 at a time; ${rss()} after ${idleSeconds} s idle  [target ≤ 120]`,
    );
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  benchCutout().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
