/**
 * `npm run demo-data`: writes the deterministic DP0.2-like demo data set into DATA_DIR and
 * ingests it into the ObsCore table (OBSCORE_DB), then prints a one-line summary.
 *
 *   node dist/scripts/demo-data.js
 *
 * What it writes (defaults), laid out like a butler repository:
 *   deepCoadd_calexp/4431/<patch>/<band>/deepCoadd_calexp_4431_<patch>_<band>.fits
 *       patches 17 (holding the tutorial's galaxy cluster at RA 55.7467376, Dec −32.2861552
 *       near its lower-left corner), 16, 18, 10, 24; bands u g r i z y
 *   calexp/<visit>/<band>/calexp_<visit>_<detector>.fits                         6 visits
 *   goodSeeingDiff_differenceExp/<visit>/<band>/goodSeeingDiff_differenceExp_<visit>_<detector>.fits
 *                                                                                3 of them
 * Each file: primary HDU with the metadata and HIERARCH LSST BUTLER keywords, then IMAGE (nJy),
 * MASK and VARIANCE extensions with the full WCS. Re-running writes identical bytes.
 *
 * Environment (besides DATA_DIR, OBSCORE_DB, LOG_LEVEL of shared/config):
 *   DEMO_BINNING  1, 2, 4 or 8 (default 4): pixels binned b × b. 1 is Rubin's native 0.2″/px
 *                 (4200 × 4200 patches, ~210 MB per file); 4 gives 0.8″/px, 1050 × 1050 patches
 *                 (~13 MB per file). Sky footprints are the same for every binning.
 *   DEMO_PATCHES  comma-separated patches of tract 4431 (default 17,16,18,10,24)
 *   DEMO_BANDS    coadd bands, e.g. ugrizy or g,r,i (default ugrizy)
 *   DEMO_VISITS   number of calexp visit images (default 6)
 *   DEMO_DIFFS    how many of those visits also get a difference image (default half, rounded up)
 *   DEMO_SEED     random seed of the sky, noise and visits (default 1)
 *   DEMO_INGEST   0 to write the files only, without the ingest
 *
 * Second mode, for query benchmarks at 1M and 10M rows:
 *
 *   node dist/scripts/demo-data.js --metadata-rows N [--seed S]
 *
 * adds N metadata-only ObsCore rows spread over the whole sky (no files, obs_collection
 * LSST.DP02.synthetic); run it again with another seed to add more (~10k rows/s).
 */
import { loadConfig } from '../shared/config';
import { demoOptionsFromEnv, generateDemoRepository, resolveDemoOptions } from '../shared/demo';
import { createLogger } from '../shared/log';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Generates (options from DEMO_* variables) and ingests; returns the summary line. */
export async function demoData(env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  const config = loadConfig(env);
  const log = createLogger('demo-data', config.logLevel);
  const options = resolveDemoOptions(demoOptionsFromEnv(env));
  log.info({ dataDir: config.dataDir, ...options }, 'generating the demo data set');
  const started = performance.now();
  const datasets = await generateDemoRepository(config.dataDir, {
    ...options,
    onDataset: (dataset, done, total) => log.debug({ file: dataset.relativePath, done, total }, 'written'),
  });
  const generated = (performance.now() - started) / 1000;
  const bytes = datasets.reduce((sum, d) => sum + d.bytes, 0);
  let summary = `demo data: ${datasets.length} files (${megabytes(bytes)}, binning ${options.binning}) written to ${config.dataDir} in ${generated.toFixed(1)} s`;
  if (env.DEMO_INGEST?.trim() !== '0') {
    // Loaded only when needed: generating files must not depend on the ObsCore store.
    const { ingestDirectory } = await import('../shared/obscore/ingest');
    const ingestStart = performance.now();
    const report = await ingestDirectory(config.dataDir, { obscoreDb: config.obscoreDb, log, progress: true });
    const ingestTime = (performance.now() - ingestStart) / 1000;
    summary += `; ingested ${report.ingested} of ${report.files} files into ${config.obscoreDb} in ${ingestTime.toFixed(1)} s`;
    if (report.skipped.length > 0)
      summary += ` (${report.skipped.length} skipped: ${report.skipped[0]!.file}: ${report.skipped[0]!.reason}${report.skipped.length > 1 ? ', ...' : ''})`;
  }
  return summary;
}

/** `--metadata-rows N [--seed S]`: synthetic rows only; returns the summary line. */
export async function metadataRows(
  count: number,
  seed: number,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const config = loadConfig(env);
  const { ObscoreStore } = await import('../shared/obscore/store');
  const { addSyntheticRows } = await import('../shared/obscore/synthetic');
  const store = await ObscoreStore.open(config.obscoreDb);
  const started = performance.now();
  const first = store.count();
  const progress = process.stderr.isTTY ? (done: number) => process.stderr.write(`\rmetadata rows: ${done}/${count}`) : undefined;
  try {
    addSyntheticRows(store, count, { seed, first, onProgress: progress });
  } finally {
    if (progress) process.stderr.write('\n');
    store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return `demo data: added ${count} metadata-only rows (seed ${seed}) to ${config.obscoreDb} in ${seconds.toFixed(1)} s (${Math.round(count / seconds)} rows/s)`;
}

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (require.main === module) {
  const rows = flag('--metadata-rows');
  if (rows !== undefined && !/^\d+$/.test(rows)) {
    console.error(`demo-data: --metadata-rows needs a number of rows, not ${JSON.stringify(rows)}`);
    process.exit(2);
  }
  const seedText = flag('--seed') ?? '1';
  (rows !== undefined ? metadataRows(Number(rows), Number(seedText)) : demoData()).then(
    (summary) => console.log(summary),
    (err: unknown) => {
      console.error(`demo-data: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
