/**
 * SODA 1.0 cutouts (runs in a worker thread). Sync: one cutout, answered as FITS, or no
 * result when it holds no pixels (the api answers 204, SODA §5.1). Async: one result per
 * combination of the multi-valued inputs (§6), each `cutout-<n>`: a FITS file, or a
 * text/plain document starting with an error label when that combination has no pixels or
 * failed — every combination has its entry.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../shared/config';
import { openFitsSync, type FitsFile } from '../../shared/fits';
import { canonicalId, type Dataset, DatasetLookup } from '../../shared/obscore/lookup';
import type { JobParameter } from '../../shared/uws/model';
import {
  combinations,
  cutoutBuffer,
  LruCache,
  parseSodaRequest,
  planCutout,
  SodaError,
  sodaErrorText,
  type SodaCutout,
} from '../../shared/soda';
import { containedPath } from '../../shared/storage';
import { ResultPack, writeResult } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';
import { IdleThreads } from '../idle-threads';

const OPEN_FILES = 32;

let threadLookup: DatasetLookup | undefined;
/** Open files of this thread: the cutouts of one image (a job's combinations come grouped by ID) share one handle. */
const openFiles = new LruCache<string, FitsFile>(OPEN_FILES, (file) => file.close());

/** The dataset behind an ID and its file's path, or the SodaError saying why there is none. */
type Resolved = { dataset: Dataset; path: string } | SodaError;

function resolve(id: string, config: Config, lookup: DatasetLookup): Resolved {
  const dataset = lookup.find(id);
  if (!dataset) return new SodaError('UsageError', `no dataset with ID ${id}`);
  const path = dataset.file && containedPath(config.dataDir, dataset.file);
  if (!path) return new SodaError('UsageError', `${dataset.id} is described by metadata only; it has no image to cut`);
  return { dataset, path };
}

/** The FITS bytes of one cutout (in memory from `allocate` when given), or null when it contains no pixels. */
function cut(cutout: SodaCutout, config: Config, resolved: Resolved, allocate?: (bytes: number) => Buffer | undefined): Buffer | null {
  if (resolved instanceof SodaError) throw resolved;
  const { dataset, path } = resolved;
  const file = openFiles.getOrCreate(path, () => openFitsSync(path));
  const plan = planCutout(file, cutout, dataset);
  return plan && cutoutBuffer(file, plan, cutout, { maxPixels: config.cutoutMaxPixels, allocate });
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

/** The thread's ObsCore lookup (one configuration per thread: OBSCORE_DB does not change). */
function datasets(config: Config): DatasetLookup {
  threadLookup ??= new DatasetLookup(config.obscoreDb);
  return threadLookup;
}

export interface CutPart {
  input: ProcessorInput;
  /** The worker's configuration (a cutting thread gets it from its parent as well). */
  config: Config;
  first: number;
  cutouts: readonly SodaCutout[];
  pack: string;
  /** Cutouts made so far by every thread of the job (shared memory), for its progress. */
  done?: Int32Array;
}

/**
 * Cuts `cutouts` (combinations first+1, first+2, …) into one pack file. Each combination gets
 * its entry (§6): a FITS cutout, or the text of why that one has none.
 */
export function cutRange({ input, config, cutouts, first, pack: packFile, done }: CutPart, onEach?: () => void): ProducedResult[] {
  const lookup = datasets(config);
  // Looked up once per ID of the range (its combinations come grouped by ID), not per cutout.
  const byId = new Map<string, Resolved>();
  const resolvedOf = (id: string): Resolved => {
    let resolved = byId.get(id);
    if (!resolved) byId.set(id, (resolved = resolve(id, config, lookup)));
    return resolved;
  };
  const results: ProducedResult[] = [];
  const pack = new ResultPack(input, packFile);
  try {
    for (const [i, cutout] of cutouts.entries()) {
      if (done) Atomics.add(done, 0, 1);
      onEach?.();
      const id = `cutout-${first + i + 1}`;
      let bytes: Buffer | null;
      try {
        bytes = cut(cutout, config, resolvedOf(cutout.id), (n) => pack.reserve(n));
      } catch (err) {
        if (!(err instanceof SodaError)) throw err;
        results.push(pack.add(id, 'text/plain', Buffer.from(sodaErrorText(err))));
        continue;
      }
      results.push(
        bytes
          ? pack.add(id, 'application/fits', bytes)
          : pack.add(id, 'text/plain', Buffer.from(`UsageError: no overlap: the region, BAND or TIME does not overlap ${cutout.id}\n`)),
      );
    }
  } finally {
    pack.close();
  }
  return results;
}

/**
 * Cutting threads of this processor thread that are idle, kept for the next large job (made
 * with the first one: the idle time is the worker's WORKER_THREAD_IDLE). All end with this
 * thread (a job stopped).
 */
let idleCutters: IdleThreads | undefined;
let cuttersStarted = 0;

/** How many cutting threads this processor thread has started, and how many wait idle (tests). */
export function cuttingThreads(): { started: number; idle: number } {
  return { started: cuttersStarted, idle: idleCutters?.size ?? 0 };
}

function takeCutter(config: Config): Worker {
  idleCutters ??= new IdleThreads(config.threadIdleSeconds * 1000);
  const idle = idleCutters.take();
  if (idle) return idle;
  cuttersStarted++;
  return new Worker(path.join(__dirname, `part${path.extname(__filename)}`));
}

/** A range cut by a thread of its own (worker/soda/part.ts), reused once it has answered. */
function cutInThread(part: CutPart): Promise<ProducedResult[]> {
  const thread = takeCutter(part.config);
  return new Promise((resolve, reject) => {
    const detach = () => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
    };
    const onMessage = (results: ProducedResult[] | { error: string; name: string }) => {
      detach();
      idleCutters?.park(thread);
      if (!('error' in results)) resolve(results);
      else reject(results.name === 'JobFailure' ? new JobFailure(results.error) : new Error(results.error));
    };
    const onError = (err: Error) => {
      detach();
      reject(err);
    };
    const onExit = (code: number) => {
      detach();
      reject(new Error(`cutout thread exited with code ${code}`));
    };
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
    // Functions do not cross threads: the progress is reported by the job's own thread.
    thread.postMessage({ ...part, input: { ...part.input, progress: undefined } } satisfies CutPart);
  });
}

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  const sync = input.mode === 'sync';
  try {
    const request = parseSodaRequest(withoutRepeatedIds(input.parameters), {
      multiValued: !sync,
      maxCombinations: config.cutoutMaxCombinations,
    });
    const cutouts = combinations(request);
    if (sync) {
      const bytes = cut(cutouts[0]!, config, resolve(cutouts[0]!.id, config, datasets(config)));
      return bytes ? [writeResult(input, 'cutout', 'cutout.fits', 'application/fits', bytes)] : [];
    }
    // Large jobs are cut by several threads, each a contiguous range of the combinations (so
    // the cutouts of one image stay together) into a pack of its own.
    // Starting a thread costs about as much as 300 stamps: split only jobs large enough to gain.
    const parts = Math.max(1, Math.min(config.cutoutThreads, Math.floor(cutouts.length / config.cutoutSplitMin)));
    const size = Math.ceil(cutouts.length / parts);
    const ranges = Array.from({ length: parts }, (_, k) => ({ first: k * size, cutouts: cutouts.slice(k * size, (k + 1) * size) }));
    // Progress (uws:jobInfo): combinations cut by every thread, counted in shared memory.
    const done = new Int32Array(new SharedArrayBuffer(4));
    const report = () => input.progress?.({ total: cutouts.length, done: Atomics.load(done, 0) });
    const others = ranges
      .slice(1)
      .map((range, k) => cutInThread({ input, config, first: range.first, cutouts: range.cutouts, pack: `cutouts-${k + 2}.pack`, done }));
    const results = cutRange({ input, config, first: 0, cutouts: ranges[0]!.cutouts, pack: 'cutouts.pack', done }, report);
    const ticker = setInterval(report, 1000);
    try {
      for (const more of await Promise.all(others)) results.push(...more);
    } finally {
      clearInterval(ticker);
    }
    input.progress?.({ total: cutouts.length, done: cutouts.length, message: `${cutouts.length} cutouts` });
    return results;
  } catch (err) {
    if (err instanceof SodaError) throw new JobFailure(sodaErrorText(err).trimEnd());
    throw err;
  }
}
