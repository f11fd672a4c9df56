/**
 * `npm run ingest -- <dir>`: ingests every FITS file under <dir> into the ObsCore store
 * (OBSCORE_DB). Idempotent; bad files are listed and skipped.
 */
import fs from 'node:fs';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { ingestDirectory } from '../shared/obscore/ingest';

void (async () => {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    console.error(`usage: npm run ingest -- <directory of FITS files>${dir ? ` (${dir} is not a directory)` : ''}`);
    process.exit(2);
  }
  const config = loadConfig();
  const report = await ingestDirectory(dir, { obscoreDb: config.obscoreDb, progress: true, log: createLogger('ingest', 'warn') });
  console.log(`ingested ${report.ingested} of ${report.files} FITS files into ${config.obscoreDb}; ${report.skipped.length} skipped`);
  for (const skipped of report.skipped) console.log(`  skipped ${skipped.file}: ${skipped.reason}`);
})().catch((err: unknown) => {
  console.error(`ingest failed: ${(err as Error).message}`);
  process.exit(1);
});
