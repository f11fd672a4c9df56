/**
 * `npm run ingest -- <dir> [--cluster]`: ingests every FITS file under <dir> into the ObsCore
 * store (OBSCORE_DB). Idempotent; bad files are listed and skipped. `--cluster` then rewrites
 * the table in sky order (after large loads: cone and region queries read fewer pages).
 */
import fs from 'node:fs';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { ingestDirectory } from '../shared/obscore/ingest';

void (async () => {
  const args = process.argv.slice(2);
  const cluster = args.includes('--cluster');
  const dir = args.find((a) => a !== '--cluster');
  if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    console.error(`usage: npm run ingest -- <directory of FITS files> [--cluster]${dir ? ` (${dir} is not a directory)` : ''}`);
    process.exit(2);
  }
  const config = loadConfig();
  const report = await ingestDirectory(dir, { obscoreDb: config.obscoreDb, progress: true, cluster, log: createLogger('ingest', 'warn') });
  console.log(`ingested ${report.ingested} of ${report.files} FITS files into ${config.obscoreDb}; ${report.skipped.length} skipped`);
  for (const skipped of report.skipped) console.log(`  skipped ${skipped.file}: ${skipped.reason}`);
})().catch((err: unknown) => {
  console.error(`ingest failed: ${(err as Error).message}`);
  process.exit(1);
});
