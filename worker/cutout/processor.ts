/**
 * SODA 1.0 cutouts (runs in a worker thread). Sync: one cutout, answered as FITS, or no
 * result when it holds no pixels (the api answers 204, SODA §5.1). Async: one result per
 * combination of the multi-valued inputs (§6), each `cutout-<n>`: a FITS file, or a
 * text/plain document starting with an error label when that combination has no pixels or
 * failed — every combination has its entry.
 */
import { loadConfig, type Config } from '../../shared/config';
import { openFitsSync } from '../../shared/fits';
import { canonicalId, DatasetLookup } from '../../shared/obscore/lookup';
import type { JobParameter } from '../../shared/uws/model';
import { combinations, cutoutBuffer, parseSodaRequest, planCutout, SodaError, sodaErrorText, type SodaCutout } from '../../shared/soda';
import { containedPath } from '../../shared/uws/files';
import { openResult } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';

let config: Config | undefined;
let lookup: DatasetLookup | undefined;

/** The FITS bytes of one cutout, or null when it contains no pixels. */
function cut(cutout: SodaCutout, config: Config, lookup: DatasetLookup): Buffer | null {
  const dataset = lookup.find(cutout.id);
  if (!dataset) throw new SodaError('UsageError', `no dataset with ID ${cutout.id}`);
  const path = dataset.file && containedPath(config.dataDir, dataset.file);
  if (!path) throw new SodaError('UsageError', `${dataset.id} is described by metadata only; it has no image to cut`);
  const file = openFitsSync(path);
  try {
    const plan = planCutout(file, cutout, dataset);
    return plan && cutoutBuffer(file, plan, cutout, { maxPixels: config.cutoutMaxPixels });
  } finally {
    file.close();
  }
}

/**
 * The same ID given several times is one dataset: pyvo's SodaQuery.from_resource sends the ID
 * of every row of a DataLink response (#this and each #cutout row), all equal. Distinct IDs
 * are kept (and refused by sync as MultiValuedParamNotSupported).
 */
function withoutRepeatedIds(parameters: readonly JobParameter[]): JobParameter[] {
  const seen = new Set<string>();
  return parameters.filter((p) => {
    if (p.name !== 'ID') return true;
    const id = canonicalId(p.value);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

async function write(input: ProcessorInput, id: string, file: string, mimeType: string, bytes: Buffer | string): Promise<ProducedResult> {
  const output = openResult(input, id, file, mimeType);
  await new Promise<void>((resolve, reject) => {
    output.stream.on('error', reject);
    output.stream.end(bytes, resolve);
  });
  return output.result();
}

export async function process(input: ProcessorInput): Promise<ProducedResult[]> {
  config ??= loadConfig();
  lookup ??= new DatasetLookup(config.obscoreDb);
  const sync = input.mode === 'sync';
  try {
    const request = parseSodaRequest(withoutRepeatedIds(input.parameters), { multiValued: !sync, maxCombinations: config.cutoutMaxCombinations });
    const cutouts = combinations(request);
    if (sync) {
      const bytes = cut(cutouts[0]!, config, lookup);
      return bytes ? [await write(input, 'cutout', 'cutout.fits', 'application/fits', bytes)] : [];
    }
    const results: ProducedResult[] = [];
    for (const [i, cutout] of cutouts.entries()) {
      const id = `cutout-${i + 1}`;
      let outcome: Buffer | string;
      try {
        outcome = cut(cutout, config, lookup) ?? `Error: the cutout holds no pixels: the region, BAND or TIME does not overlap ${cutout.id}\n`;
      } catch (err) {
        if (!(err instanceof SodaError)) throw err;
        outcome = sodaErrorText(err);
      }
      results.push(
        typeof outcome === 'string' ? await write(input, id, `${id}.txt`, 'text/plain', outcome) : await write(input, id, `${id}.fits`, 'application/fits', outcome),
      );
    }
    return results;
  } catch (err) {
    if (err instanceof SodaError) throw new JobFailure(sodaErrorText(err).trimEnd());
    throw err;
  }
}
