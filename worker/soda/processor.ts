/**
 * SODA 1.0 cutouts (runs in a worker thread). Sync: one cutout, answered as FITS, or no
 * result when it holds no pixels (the api answers 204, SODA §5.1). Async: one result per
 * combination of the multi-valued inputs (§6), each `cutout-<n>`: a FITS file, or a
 * text/plain document starting with an error label when that combination has no pixels or
 * failed — every combination has its entry. With RESPONSEFORMAT=image/png or image/jpeg each
 * cutout is answered as a picture of its IMAGE plane drawn from the bytes just cut (no second
 * read); with RGB, the three IDs' cutouts of one region are one colour picture.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../shared/config';
import {
  FitsError,
  RowWindow,
  learntMaxGap,
  openFitsSync,
  rowRuns,
  rowsAheadPay,
  type FitsFile,
  type ReadAheadRun,
} from '../../shared/fits';
import { canonicalId, type Dataset, DatasetLookup } from '../../shared/obscore/lookup';
import type { JobParameter } from '../../shared/uws/model';
import { LSST_BANDS } from '../../shared/obscore/bands';
import {
  contentTypeOf,
  fileExtensionOf,
  gridImageOf,
  gridMismatch,
  planeOfFits,
  renderPreview,
  renderRgb,
  type GridImage,
} from '../../shared/preview';
import {
  checkCutoutSize,
  combinations,
  cutoutBuffer,
  LruCache,
  parseSodaRequest,
  planCutout,
  SodaError,
  sodaErrorText,
  type CutoutOptions,
  type CutoutPlan,
  type SodaCutout,
  type SodaOutput,
  type SodaRequest,
} from '../../shared/soda';
import { reportWork } from '../../shared/metrics/work';
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

/** The open file of a resolved ID and the cutout's plan in it; null when the region holds no pixels. */
function plannedCutout(cutout: SodaCutout, resolved: Resolved): { file: FitsFile; plan: CutoutPlan } | null {
  if (resolved instanceof SodaError) throw resolved;
  const { dataset, path } = resolved;
  const file = openFiles.getOrCreate(path, () => openFitsSync(path));
  const plan = planCutout(file, cutout, dataset);
  return plan && { file, plan };
}

/**
 * Only the planes a picture is drawn from: the first image and its MASK (as planeHdus picks
 * them), not every plane. A new plan object: planned ones are shared by the cutouts of one
 * region and grid.
 */
function picturePlanes(plan: CutoutPlan): CutoutPlan {
  return { ...plan, hdus: plan.hdus.filter((h, i) => i === 0 || h.name === 'MASK') };
}

/**
 * The FITS bytes of one cutout (in memory from `allocate` when given), or null when it contains
 * no pixels. `forPicture`: only picturePlanes (a 64×64 stamp's VARIANCE is a third of its cut
 * for nothing).
 */
function cut(
  cutout: SodaCutout,
  config: Config,
  resolved: Resolved,
  options: Pick<CutoutOptions, 'allocate' | 'rows'> & { forPicture?: boolean } = {},
): Buffer | null {
  const planned = plannedCutout(cutout, resolved);
  if (!planned) return null;
  const plan = options.forPicture ? picturePlanes(planned.plan) : planned.plan;
  return cutoutBuffer(planned.file, plan, cutout, { maxPixels: config.cutoutMaxPixels, allocate: options.allocate, rows: options.rows });
}

/** One answer: its bytes and media type. */
interface Answer {
  mimeType: string;
  bytes: Buffer;
}

/** What the cutout's FITS bytes give, their FitsError a SODA UsageError naming the ID. */
function drawable<T>(id: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FitsError) throw new SodaError('UsageError', `${id} has no image plane to draw: ${err.message}`);
    throw err;
  }
}

/**
 * A cutout as a picture: its IMAGE rectangle (and MASK's) read straight from the source file
 * and drawn, with no FITS written and parsed again in between (parsing the cut's headers took
 * longer than drawing a 64×64 picture). Null when the region holds no pixels.
 */
function pictureOf(cutout: SodaCutout, config: Config, resolved: Resolved, output: Extract<SodaOutput, { kind: 'image' }>): Answer | null {
  const planned = plannedCutout(cutout, resolved);
  if (!planned) return null;
  const { file, plan } = planned;
  checkCutoutSize(picturePlanes(plan), config.cutoutMaxPixels);
  const image = plan.hdus[0]!;
  const plane = drawable(cutout.id, () => planeOfFits(file, { rect: image.rect, ...(image.name ? { extname: image.name } : {}) }));
  return { mimeType: contentTypeOf(output.format), bytes: renderPreview(plane, output.display, output.format) };
}

/**
 * A colour picture of three IDs' cutouts of one region (RGB=<red>,<green>,<blue>): each band
 * is drawn from the ID whose image covers its wavelengths; the three cutouts must lie on one
 * pixel grid (gridMismatch: as coadds of one tract in different bands do). Null when they hold
 * no pixels.
 */
function rgbAnswer(
  cutouts: readonly SodaCutout[],
  output: Extract<SodaOutput, { kind: 'image' }>,
  config: Config,
  resolvedOf: (id: string) => Resolved,
): Answer | null {
  const resolved = cutouts.map((c) => resolvedOf(c.id));
  for (const r of resolved) if (r instanceof SodaError) throw r;
  const datasets = resolved as { dataset: Dataset; path: string }[];
  const images: GridImage[] = [];
  for (const band of output.rgb!) {
    const { emMin, emMax } = LSST_BANDS[band]!;
    const centre = (emMin + emMax) / 2;
    const k = datasets.findIndex(
      ({ dataset }) => dataset.emMin !== null && dataset.emMax !== null && dataset.emMin <= centre && centre <= dataset.emMax,
    );
    if (k < 0)
      throw new SodaError('UsageError', `RGB: none of the IDs is an image in band ${band} (${cutouts.map((c) => c.id).join(', ')})`);
    const fits = cut(cutouts[k]!, config, datasets[k]!, { forPicture: true });
    if (!fits) return null;
    images.push(drawable(cutouts[k]!.id, () => gridImageOf(band, fits)));
  }
  const mismatch = gridMismatch(images, 'cutouts');
  if (mismatch !== undefined) throw new SodaError('UsageError', `RGB: ${mismatch}; the images must share one pixel grid`);
  const [r, g, b] = images as [GridImage, GridImage, GridImage];
  return {
    mimeType: contentTypeOf(output.format),
    bytes: renderRgb([r.plane, g.plane, b.plane], { maxSide: output.display.maxSide }, output.format),
  };
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
  /** What each result is (FITS or a picture). */
  output: SodaOutput;
  /** Results first+1, first+2, …: each one cutout, or (RGB) the three IDs' cutouts of one region. */
  first: number;
  groups: readonly (readonly SodaCutout[])[];
  pack: string;
  /** Results made so far by every thread of the job (shared memory), for its progress. */
  done?: Int32Array;
}

/**
 * Cuts `groups` (results first+1, first+2, …) into one pack file. Each gets its entry (§6): a
 * FITS cutout or its picture, or the text of why that one has none.
 */
export function cutRange({ input, config, output, groups, first, pack: packFile, done }: CutPart, onEach?: () => void): ProducedResult[] {
  const lookup = datasets(config);
  // Looked up once per ID of the range (its combinations come grouped by ID), not per cutout.
  const byId = new Map<string, Resolved>();
  const resolvedOf = (id: string): Resolved => {
    let resolved = byId.get(id);
    if (!resolved) byId.set(id, (resolved = resolve(id, config, lookup)));
    return resolved;
  };
  // Results keep their numbers whatever order they are cut in (cuttingOrder).
  const results = new Array<ProducedResult>(groups.length);
  const pack = new ResultPack(input, packFile);
  try {
    for (const { index: i, rows } of cuttingOrder(groups, output, resolvedOf)) {
      if (done) Atomics.add(done, 0, 1);
      onEach?.();
      const group = groups[i]!;
      const id = `cutout-${first + i + 1}`;
      let answer: Answer | null;
      try {
        answer = answerGroup(group, output, config, resolvedOf, { allocate: (n) => pack.reserve(n), rows });
      } catch (err) {
        if (!(err instanceof SodaError)) throw err;
        results[i] = pack.add(id, 'text/plain', Buffer.from(sodaErrorText(err)));
        continue;
      }
      results[i] = answer
        ? pack.add(id, answer.mimeType, answer.bytes)
        : pack.add(
            id,
            'text/plain',
            Buffer.from(`UsageError: no overlap: the region, BAND or TIME does not overlap ${group.map((c) => c.id).join(', ')}\n`),
          );
    }
  } finally {
    pack.close();
  }
  return results;
}

/** A result to cut next, and the rows read ahead that hold its pixels, if any. */
interface NextCut {
  index: number;
  rows?: RowWindow;
}

/** A FITS cutout of a range, planned: the file it is cut from, and the HDUs and rows it spans. */
interface PlannedCut {
  index: number;
  path: string;
  hdus: readonly number[];
  y0: number;
  y1: number;
}

/**
 * The order in which a range's results are cut. FITS cutouts of one image go together in
 * pixel-row order, in runs of at most READ_AHEAD_BYTES of rows (rowRuns); a run whose cutouts share
 * enough rows (rowsAheadPay) has those rows read once (RowWindow) and every cutout copies its
 * own from them, instead of each reading its rows from the file (a 64×64 cutout of a
 * 1050-wide image otherwise reads 64 whole rows per plane). Pictures, and cutouts that cannot
 * be planned (they answer their error when cut), come first, in order.
 */
function* cuttingOrder(
  groups: readonly (readonly SodaCutout[])[],
  output: SodaOutput,
  resolvedOf: (id: string) => Resolved,
): Generator<NextCut, void, void> {
  if (output.kind !== 'fits') {
    for (let index = 0; index < groups.length; index++) yield { index };
    return;
  }
  const byFile = new Map<string, PlannedCut[]>();
  for (let index = 0; index < groups.length; index++) {
    const cutout = groups[index]![0]!;
    let planned: { file: FitsFile; plan: CutoutPlan } | null;
    const resolved = resolvedOf(cutout.id);
    try {
      planned = plannedCutout(cutout, resolved);
    } catch (err) {
      if (!(err instanceof SodaError || err instanceof FitsError)) throw err;
      planned = null;
    }
    if (!planned || resolved instanceof SodaError || planned.plan.primary === 'cut') {
      yield { index };
      continue;
    }
    const { hdus } = planned.plan;
    const cut: PlannedCut = {
      index,
      path: resolved.path,
      hdus: hdus.map((h) => h.index),
      y0: Math.min(...hdus.map((h) => h.rect.y0)),
      y1: Math.max(...hdus.map((h) => h.rect.y0 + h.rect.height)),
    };
    const same = byFile.get(cut.path);
    if (same) same.push(cut);
    else byFile.set(cut.path, [cut]);
  }
  for (const [source, cuts] of byFile) {
    cuts.sort((a, b) => a.y0 - b.y0 || a.index - b.index);
    // Opened again: planning a range of more images than OPEN_FILES closed the first ones.
    let file: FitsFile;
    try {
      file = openFiles.getOrCreate(source, () => openFitsSync(source));
    } catch {
      // Each cutout then opens it itself, and fails as it would have.
      for (const c of cuts) yield { index: c.index };
      continue;
    }
    // The HDUs any of them cuts, and the length of a row of each.
    const hdus = [...new Set(cuts.flatMap((c) => c.hdus))];
    const rowBytes = hdus.map((h) => {
      const { width, bytesPerPixel } = file.imageLayout(h);
      return width * bytesPerPixel;
    });
    for (const run of rowRuns(cuts, (c) => c, rowBytes)) {
      const rows = rowsAhead(file, run, hdus, rowBytes);
      for (const c of run.items) yield { index: c.index, ...(rows ? { rows } : {}) };
    }
  }
}

/**
 * The rows of a run read once, when its cutouts share enough of them to gain (rowsAheadPay);
 * undefined otherwise, or when they cannot be read (each cutout then reads its own and answers
 * why it cannot).
 */
function rowsAhead(
  file: FitsFile,
  run: ReadAheadRun<PlannedCut>,
  hdus: readonly number[],
  rowBytes: readonly number[],
): RowWindow | undefined {
  if (!rowsAheadPay(run, rowBytes, learntMaxGap())) return undefined;
  try {
    return new RowWindow(file, hdus, run.y0, run.y1);
  } catch (err) {
    if (err instanceof FitsError) return undefined;
    throw err;
  }
}

/** One result's answer, or null when its cutout holds no pixels. FITS goes straight into `allocate`'s memory, its pixels from `rows` when they hold them. */
function answerGroup(
  group: readonly SodaCutout[],
  output: SodaOutput,
  config: Config,
  resolvedOf: (id: string) => Resolved,
  options: Pick<CutoutOptions, 'allocate' | 'rows'> = {},
): Answer | null {
  if (output.kind === 'image' && output.rgb) return rgbAnswer(group, output, config, resolvedOf);
  const cutout = group[0]!;
  if (output.kind === 'image') return pictureOf(cutout, config, resolvedOf(cutout.id), output);
  const fits = cut(cutout, config, resolvedOf(cutout.id), options);
  return fits && { mimeType: 'application/fits', bytes: fits };
}

/** The request's results: one per combination (§6), or with RGB one per region of the three IDs. */
function resultGroups(request: SodaRequest): SodaCutout[][] {
  if (request.output.kind !== 'image' || !request.output.rgb) return combinations(request).map((c) => [c]);
  return combinations({ ...request, ids: [request.ids[0]!] }).map((c) => request.ids.map((id) => ({ ...c, id })));
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

/**
 * The cutouts among an async job's results, for the worker's metrics (the other results are
 * text saying why a combination has none). Reported here, in the processor's own thread: the
 * cutting threads' parent is this thread, not the pool.
 */
function reportCutouts(results: readonly ProducedResult[]): void {
  let cutouts = 0;
  let bytes = 0;
  for (const r of results) {
    if (r.mimeType.startsWith('text/plain')) continue;
    cutouts++;
    bytes += r.size ?? r.data?.length ?? 0;
  }
  reportWork({ cutouts, cutoutBytes: bytes });
}

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  const sync = input.mode === 'sync';
  try {
    const request = parseSodaRequest(withoutRepeatedIds(input.parameters), {
      multiValued: !sync,
      maxCombinations: config.cutoutMaxCombinations,
    });
    const { output } = request;
    const groups = resultGroups(request);
    if (sync) {
      const lookup = datasets(config);
      const answer = answerGroup(groups[0]!, output, config, (id) => resolve(id, config, lookup));
      if (!answer) return [];
      const name = output.kind === 'fits' ? 'cutout.fits' : `cutout.${fileExtensionOf(output.format)}`;
      const result = writeResult(input, 'cutout', name, answer.mimeType, answer.bytes);
      reportWork({ cutouts: 1, cutoutBytes: answer.bytes.length });
      return [result];
    }
    // Large jobs are cut by several threads, each a contiguous range of the results (so the
    // cutouts of one image stay together) into a pack of its own.
    // Starting a thread costs about as much as 300 stamps: split only jobs large enough to gain.
    const parts = Math.max(1, Math.min(config.cutoutThreads, Math.floor(groups.length / config.cutoutSplitMin)));
    const size = Math.ceil(groups.length / parts);
    const ranges = Array.from({ length: parts }, (_, k) => ({ first: k * size, groups: groups.slice(k * size, (k + 1) * size) }));
    // Progress (uws:jobInfo): results made by every thread, counted in shared memory.
    const done = new Int32Array(new SharedArrayBuffer(4));
    const report = () => input.progress?.({ total: groups.length, done: Atomics.load(done, 0) });
    const others = ranges
      .slice(1)
      .map((range, k) =>
        cutInThread({ input, config, output, first: range.first, groups: range.groups, pack: `cutouts-${k + 2}.pack`, done }),
      );
    const results = cutRange({ input, config, output, first: 0, groups: ranges[0]!.groups, pack: 'cutouts.pack', done }, report);
    const ticker = setInterval(report, 1000);
    try {
      for (const more of await Promise.all(others)) results.push(...more);
    } finally {
      clearInterval(ticker);
    }
    input.progress?.({ total: groups.length, done: groups.length, message: `${groups.length} cutouts` });
    reportCutouts(results);
    return results;
  } catch (err) {
    if (err instanceof SodaError) throw new JobFailure(sodaErrorText(err).trimEnd());
    throw err;
  }
}
