/**
 * Bulk multi-position cutout batches (runs in a worker thread), in the three steps of a split
 * job (UwsService.parts):
 *
 *   start   reads the positions table (the job's upload, a URL, or its POSITIONs), resolves every
 *           row × band to images through the ObsCore store (set-wise, shared/bulk/resolve.ts),
 *           plans each stamp's exact size, applies BULK_MAX_STAMPS and BULK_MAX_BYTES (rows past
 *           them are not_run), groups the stamps by image in pixel-row order and cuts that list
 *           into parts of about a second's work each; DRYRUN (or nothing to cut) ends here;
 *   part n  cuts its stamps into one pack file, each a result of its own, with the CRC the
 *           archive needs, and with PREVIEW draws each stamp's picture from its bytes right
 *           after it; every stamp gets an outcome, a bad one never fails the part;
 *   finish  with RGB, makes each row's colour composite from its three stamps, read back from
 *           the packs (they may have been cut by different parts on different workers, so this
 *           is the first step that sees all three); then writes the manifest (VOTable result,
 *           CSV archive member) and lists the archive.
 *
 * The files each step leaves are described in shared/bulk/batch.ts.
 */
import fs from 'node:fs/promises';
import { closeSync, openSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, encodeLayout } from '../../shared/archive';
import type { Config } from '../../shared/config';
import {
  ARCHIVE_LAYOUT,
  ARCHIVE_TYPES,
  archiveFile,
  archiveLayout,
  batchArchive,
  doneFile,
  MANIFEST_CSV,
  MANIFEST_FILE,
  MANIFEST_TYPE,
  manifestBytes,
  manifestRows,
  packFile,
  partFile,
  compositesByIndex,
  previewResult,
  readOutcomes,
  readPart,
  partMembers,
  readPlan,
  rgbResult,
  RGB_DONE,
  RGB_PACK,
  SEQ,
  stampResult,
  temporaryName,
  writeFileAtomic,
  writeJsonAtomic,
  type BatchPlan,
  type CompositeOutcome,
  type PackedPicture,
  type PartImage,
  type PlannedImage,
  type PartPlan,
  type PartStamp,
  type PlannedComposite,
  type PlannedRow,
  type StampOutcome,
} from '../../shared/bulk/batch';
import type { ManifestStatus } from '../../shared/bulk/manifest';
import { MemberNamer, previewMemberName } from '../../shared/bulk/manifest';
import type { BulkPreview, BulkRequest, BulkRgb } from '../../shared/bulk/params';
import { compositeBound, compositeOf, previewBound } from '../../shared/bulk/pictures';
import { positionsFromRequest, type PositionsTable } from '../../shared/bulk/positions';
import { resolveStamps, type PlannedStamp } from '../../shared/bulk/resolve';
import { bulkRequest, missingPart, positionsOf } from '../../shared/bulk/service';
import {
  StampCutter,
  StampError,
  type PixelBox,
  type Stamp,
  type StampOptions,
  type StampPlan,
  type StampProvenance,
} from '../../shared/bulk/stamp';
import { learntMaxGap, rowRuns, rowsAheadPay, type ReadAheadRun } from '../../shared/fits';
import { reportWork } from '../../shared/metrics/work';
import { FetchError, fetchUpload } from '../../shared/net/fetch';
import { contentTypeOf, gridImageOf, renderPreview, type GridImage } from '../../shared/preview';
import { SodaError, sodaErrorText } from '../../shared/soda';
import { LruCache } from '../../shared/soda/lru';
import { containedPath, readFullSync } from '../../shared/storage';
import { inlineUpload } from '../../shared/uws/files';
import { ResultPack } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProcessorOutcome, type ProducedResult } from '../../shared/uws/service';
import { obscoreConnection } from '../obscore';

/** Pixels of the 64×64 stamps BULK_PART_STAMPS counts: a part's budget is in pixels over its planes. */
const STAMP_PIXELS = 64 * 64;

/** One cutter per thread: images stay open and headers formatted from one part to the next. */
let threadCutter: StampCutter | undefined;
const cutter = (): StampCutter => (threadCutter ??= new StampCutter({ openFiles: 32 }));

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProcessorOutcome> {
  const step = input.step ?? { kind: 'start' };
  try {
    if (step.kind === 'part') return cutPart(input, config, step.part);
    if (step.kind === 'finish') return await finish(input);
    return await start(input, config);
  } catch (err) {
    if (err instanceof SodaError) throw new JobFailure(sodaErrorText(err).trimEnd());
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// start

async function positionsTable(input: ProcessorInput, request: BulkRequest, config: Config): Promise<PositionsTable> {
  const { source } = request;
  if (source.kind === 'positions') return positionsFromRequest(source.positions);
  let bytes: Buffer;
  if (source.location.kind === 'url') {
    try {
      bytes = await fetchUpload(source.location.url, { maxBytes: config.uws.uploadMaxBytes, allow: config.uploadUrlAllow });
    } catch (err) {
      if (err instanceof FetchError) throw new JobFailure(`UsageError: UPLOAD positions: ${err.message}`);
      throw err;
    }
  } else {
    const part = inlineUpload(input.parameters, source.location.part);
    const file = part && containedPath(path.join(input.jobDir, 'uploads'), part.file);
    if (!file) throw new JobFailure(`UsageError: ${missingPart(source.uri)}`);
    bytes = await fs.readFile(file);
  }
  return positionsOf(bytes, request, config);
}

const MANIFEST_STATUS: Record<PlannedStamp['status'], ManifestStatus> = {
  planned: 'ok',
  partial: 'partial',
  no_coverage: 'no_coverage',
  invalid: 'invalid',
  too_large: 'too_large',
  error: 'error',
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The row's pixel box columns (none without a box). */
function setBox(row: Mutable<PlannedRow>, box: PixelBox | undefined): void {
  if (!box) return;
  row.x0 = box.x0;
  row.y0 = box.y0;
  row.nx = box.nx;
  row.ny = box.ny;
}

/** A stamp to cut, as the start step plans it: a part lists its image once (PartPlan.images). */
interface Cut extends Omit<PartStamp, 'image' | 'provenance'> {
  readonly source: string;
  readonly provenance: StampProvenance;
  readonly pixels: number;
}

/**
 * Parts of about a second's work each (BULK_PART_STAMPS stamps of 64×64 pixels, in pixels over
 * the planes), over stamps already in image and pixel-row order; never more stamps than that.
 * The first parts are smaller (1/8, 1/4, 1/2 of that), so the first results come early.
 */
function splitIntoParts(cuts: readonly Cut[], partStamps: number): Cut[][] {
  const parts: Cut[][] = [];
  let current: Cut[] = [];
  let pixels = 0;
  const limit = () => Math.max(1, Math.round(partStamps * Math.min(1, 2 ** (parts.length - 3))));
  for (const cut of cuts) {
    const stamps = limit();
    if (current.length > 0 && (pixels + cut.pixels > stamps * STAMP_PIXELS || current.length >= stamps)) {
      parts.push(current);
      current = [];
      pixels = 0;
    }
    current.push(cut);
    pixels += cut.pixels;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

async function start(input: ProcessorInput, config: Config): Promise<ProcessorOutcome> {
  const request = bulkRequest(input.parameters, config);
  // What each stamp will be and its size in bytes. DRYRUN plans every stamp exactly; a batch
  // plans the first stamp of each image and output shape, and takes its size for the others
  // of that shape (their provenance cards may differ in length: within a FITS block or two,
  // which is all BULK_MAX_BYTES needs; the cut stamps' sizes in the manifest are exact).
  const shapes = new Map<string, StampPlan>();
  const planOf = (source: string, s: PlannedStamp, box: PixelBox, options: StampOptions): StampPlan => {
    if (request.dryRun) return cutter().plan(source, box, options);
    const partial = s.status === 'partial';
    const out = options.edge === 'clip' && s.clipped ? s.clipped : box;
    const key = `${source}\0${out.nx}\0${out.ny}\0${partial}`;
    let shape = shapes.get(key);
    if (!shape) shapes.set(key, (shape = cutter().plan(source, box, options)));
    return { box: out, overlap: s.clipped ?? box, partial, bytes: shape.bytes };
  };
  const table = await positionsTable(input, request, config);
  const planned = resolveStamps(obscoreConnection(config.obscoreDb), config.dataDir, table.rows, request, {
    maxPixels: config.cutoutMaxPixels,
  });
  const { maxStamps, maxBytes } = config.bulk;
  const edge = request.edge === 'pad' ? 'pad' : 'clip';
  const namer = new MemberNamer();
  const rows: Mutable<PlannedRow>[] = [];
  const cuts: Cut[] = [];
  const sources = new Map<string, string | undefined>();
  const images: PlannedImage[] = [];
  const imageIndexes = new Map<string, number>();
  const imageIndex = (image: NonNullable<PlannedStamp['image']>): number => {
    let k = imageIndexes.get(image.did);
    if (k === undefined) {
      imageIndexes.set(image.did, (k = images.length));
      images.push({ did: image.did, subtype: image.subtype, tMin: image.tMin });
    }
    return k;
  };
  let bytes = 0;
  const { preview, rgb } = request;
  const composites: PlannedComposite[] = [];
  // RGB: the input row the loop is at (planned stamps come row by row), its stamps to cut in
  // the composite's bands (red, green, blue), and whether its composite's bytes are counted.
  let rgbRow: { row: number; indexes: (number | undefined)[]; counted: boolean } | undefined;
  for (const [index, s] of planned.entries()) {
    const image = s.image;
    if (rgb && rgbRow?.row !== s.row) rgbRow = { row: s.row, indexes: [], counted: false };
    // One object per row, written out (30,000 rows: spreads cost more than the rest of the loop).
    const row: Mutable<PlannedRow> = {
      row: s.row,
      id: s.id,
      ra: s.ra,
      dec: s.dec,
      band: s.band,
      status: MANIFEST_STATUS[s.status],
      // undefined: left out of the plan's JSON (the manifest writes no message either way).
      message: s.message || undefined,
      image: image ? imageIndex(image) : undefined,
    };
    rows.push(row);
    let source: string | undefined;
    if (image) {
      source = sources.get(image.file);
      if (source === undefined && !sources.has(image.file)) sources.set(image.file, (source = containedPath(config.dataDir, image.file)));
    }
    if (!s.cut || !s.box || !source || !image) {
      setBox(row, s.clipped ?? s.box);
      continue;
    }
    const provenance: StampProvenance = { id: s.id, row: s.row, ra: s.ra, dec: s.dec, band: s.band, did: image.did };
    let plan: StampPlan;
    try {
      plan = planOf(source, s, s.box, { planes: request.planes, edge, provenance, maxPixels: config.cutoutMaxPixels });
    } catch (err) {
      row.status = err instanceof StampError ? err.status : 'error';
      row.message = (err as Error).message;
      setBox(row, s.box);
      continue;
    }
    setBox(row, plan.box);
    row.bytes = plan.bytes;
    if (cuts.length >= maxStamps) {
      row.status = 'not_run';
      row.message = `not cut: the job reached BULK_MAX_STAMPS (${maxStamps} stamps)`;
      continue;
    }
    // Pictures count with their stamp (planned at their largest: their sizes are known only
    // once drawn); a composite with the first of its row's stamps in its bands.
    const colour = rgb ? rgb.bands.findIndex((band) => band === s.band) : -1;
    const compositeBytes = rgb && rgbRow && colour >= 0 && !rgbRow.counted ? compositeBound(plan.box, rgb) : 0;
    const cost = plan.bytes + (preview ? previewBound(plan.box, preview) : 0) + compositeBytes;
    if (bytes + cost > maxBytes) {
      row.status = 'not_run';
      row.message = `not cut: the job's stamps would exceed BULK_MAX_BYTES (${maxBytes} bytes)`;
      continue;
    }
    bytes += cost;
    const member = request.dryRun ? null : namer.name(s.id, s.band, s.row, s.n);
    row.member = member;
    const picture = preview && member ? previewMemberName(member, preview.format) : undefined;
    if (picture) row.preview = picture;
    cuts.push({
      index,
      source,
      box: s.box,
      member: member ?? '',
      // undefined without PREVIEW: left out of the part's JSON (no object spread per stamp).
      preview: picture,
      provenance,
      pixels: s.box.nx * s.box.ny * request.planes.length,
    });
    if (!rgb || !rgbRow || colour < 0) continue;
    rgbRow.counted = true;
    rgbRow.indexes[colour] = index;
    const [red, green, blue] = rgbRow.indexes;
    // The row's stamps in all three bands are to be cut: so is its composite.
    if (red !== undefined && green !== undefined && blue !== undefined && !request.dryRun) {
      composites.push({ row: s.row, indexes: [red, green, blue], member: namer.rgb(s.id, s.row, rgb.format) });
    }
  }
  const createdAt = Date.now();
  // Each image once, its rows read in order: by file, then pixel row, then column.
  cuts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0));
  const parts = request.dryRun ? [] : splitIntoParts(cuts, config.bulk.partStamps);
  for (const [k, part] of parts.entries()) {
    // The part's images, each once: its stamps come grouped by image (sorted above).
    const partImages: PartImage[] = [];
    // Written out, not rest and spread: 27,000 stamps took ~4 µs each that way.
    const stamps = part.map((cut): PartStamp => {
      const { provenance: p } = cut;
      if (partImages.at(-1)?.source !== cut.source) partImages.push({ source: cut.source, did: p.did });
      const provenance = { id: p.id, row: p.row, ra: p.ra, dec: p.dec, band: p.band };
      // undefined preview: left out of the JSON.
      return { index: cut.index, image: partImages.length - 1, box: cut.box, member: cut.member, preview: cut.preview, provenance };
    });
    const partPlan: PartPlan = {
      planes: request.planes,
      edge,
      packaging: request.packaging,
      createdAt,
      ...(preview ? { preview } : {}),
      images: partImages,
      stamps,
    };
    writeJsonAtomic(path.join(input.resultsDir, partFile(k + 1)), partPlan);
    for (const cut of part) rows[cut.index]!.part = k + 1;
  }
  const plan: BatchPlan = {
    createdAt,
    packaging: request.packaging,
    dryRun: request.dryRun,
    parts: parts.length,
    images,
    rows,
    ...(rgb ? { rgb: { ...rgb, composites } } : {}),
  };
  writeJsonAtomic(path.join(input.resultsDir, 'plan.json'), plan);
  const imagesCut = new Set(cuts.map((c) => c.source)).size;
  const message = request.dryRun
    ? `dry run: ${rows.length} manifest rows, ${cuts.length} stamps (${bytes} bytes) planned from ${imagesCut} images`
    : `${table.rows.length} rows: ${cuts.length} stamps from ${imagesCut} images in ${parts.length} parts`;
  if (parts.length === 0) return { results: await finishedResults(input, plan), message };
  return {
    results: [{ id: 'manifest', file: MANIFEST_FILE, mimeType: MANIFEST_TYPE, size: 0, seq: SEQ.manifest }],
    parts: parts.length,
    total: cuts.length,
    message,
  };
}

// ---------------------------------------------------------------------------------------------
// part n

/**
 * The stamps of one image in pixel-row order, in runs whose rows (over the planes, each
 * `rowBytes` long) fit READ_AHEAD_BYTES: each run's rows can be read once
 * (StampCutter.readRows) for all its stamps.
 */
function stampRuns(stamps: readonly PartStamp[], rowBytes: readonly number[]): ReadAheadRun<PartStamp>[] {
  return rowRuns(stamps, (s) => ({ y0: s.box.y0, y1: s.box.y0 + s.box.ny }), rowBytes);
}

function cutPart(input: ProcessorInput, config: Config, part: number): ProcessorOutcome {
  const dir = input.resultsDir;
  const plan = readPart(dir, part);
  const { planes, edge, stamps, preview, images } = plan;
  const picture = preview !== undefined;
  const pack = new ResultPack(input, packFile(part));
  const results: ProducedResult[] = [];
  const outcomes: StampOutcome[] = [];
  const progress = { done: 0, ok: 0, failed: 0, bytes: 0 };
  const stampCutter = cutter();
  /** The stamp's picture, drawn from the pixels just cut (none read again), after it in the pack. */
  const drawPreview = (s: PartStamp, stamp: Stamp, options: BulkPreview): PackedPicture => {
    if (!stamp.picture) return { message: 'no picture: the stamp has no IMAGE plane' };
    let picture: Buffer;
    try {
      picture = renderPreview(stamp.picture, options.display, options.format);
    } catch (err) {
      return { message: `no picture: ${(err as Error).message}` };
    }
    const result = pack.add(previewResult(s.index), contentTypeOf(options.format), picture);
    results.push({ ...result, seq: SEQ.preview + s.index });
    progress.bytes += picture.length;
    return { offset: result.offset!, bytes: picture.length, crc32: crc32(picture) };
  };
  const cutOne = (s: PartStamp, image: PartImage): StampOutcome => {
    let stamp: Stamp;
    const provenance: StampProvenance = { ...s.provenance, did: image.did };
    try {
      stamp = stampCutter.cut(image.source, s.box, {
        planes,
        edge,
        provenance,
        maxPixels: config.cutoutMaxPixels,
        picture,
        allocate: (bytes) => pack.reserve(bytes),
      });
    } catch (err) {
      progress.failed++;
      return { index: s.index, status: err instanceof StampError ? err.status : 'error', message: (err as Error).message };
    }
    // Writing the pack is not the stamp's problem: an I/O error or JOB_MAX_BYTES (a JobFailure)
    // fails the part (tried again, then its rows say why), never a stamp with a wrong offset.
    const result = pack.add(stampResult(s.index), 'application/fits', stamp.data);
    results.push({ ...result, seq: SEQ.stamp + s.index });
    progress.ok++;
    progress.bytes += stamp.bytes;
    const outcome: StampOutcome = {
      index: s.index,
      status: stamp.partial ? 'partial' : 'ok',
      offset: result.offset!,
      bytes: stamp.bytes,
      crc32: stamp.crc32,
    };
    return preview && s.preview ? { ...outcome, preview: drawPreview(s, stamp, preview) } : outcome;
  };
  /**
   * Reads a run's rows ahead when its stamps share enough of them (rowsAheadPay); if they
   * cannot be read, each stamp reads its own (and says why it cannot).
   */
  const readAhead = (source: string, run: ReadAheadRun<PartStamp>, rowBytes: readonly number[]): void => {
    if (!rowsAheadPay(run, rowBytes, learntMaxGap())) {
      stampCutter.releaseRows();
      return;
    }
    try {
      stampCutter.readRows(source, planes, run.y0, run.y1);
    } catch {
      stampCutter.releaseRows();
    }
  };
  try {
    for (const group of byImage(stamps)) {
      const image = images[group[0]!.image]!;
      const rowBytes = stampCutter.rowBytes(image.source, planes);
      for (const run of stampRuns(group, rowBytes ?? [])) {
        if (rowBytes !== undefined) readAhead(image.source, run, rowBytes);
        for (const s of run.items) {
          outcomes.push(cutOne(s, image));
          progress.done++;
        }
      }
      stampCutter.releaseRows();
    }
  } finally {
    pack.close();
    stampCutter.releaseRows();
  }
  writeJsonAtomic(path.join(dir, doneFile(part)), outcomes);
  if (plan.packaging !== 'none') {
    const layout = archiveLayout(plan.packaging, partMembers(dir, part, plan, outcomes));
    results.unshift({
      id: `part-${part}`,
      file: archiveFile(plan.packaging, part),
      mimeType: ARCHIVE_TYPES[plan.packaging],
      size: layout.totalSize,
      seq: SEQ.part + part,
    });
  }
  reportWork({ cutouts: progress.ok, cutoutBytes: progress.bytes });
  return { results, progress };
}

/** Consecutive stamps of one image (a part lists them grouped). */
function byImage(stamps: readonly PartStamp[]): PartStamp[][] {
  const groups: PartStamp[][] = [];
  for (const s of stamps) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.image === s.image) last.push(s);
    else groups.push([s]);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// finish

/** Bytes read back from the parts' packs, a few packs open at once (a batch may have thousands). */
class PackReader {
  private readonly files: LruCache<number, number>;

  constructor(private readonly dir: string) {
    this.files = new LruCache<number, number>(16, (fd) => closeSync(fd));
  }

  read(part: number, offset: number, bytes: number): Buffer {
    const fd = this.files.getOrCreate(part, () => openSync(path.join(this.dir, packFile(part)), 'r'));
    const out = Buffer.allocUnsafe(bytes);
    if (readFullSync(fd, out, offset) < bytes) throw new Error(`${packFile(part)} ends before byte ${offset + bytes}`);
    return out;
  }

  close(): void {
    this.files.clear();
  }
}

/**
 * The colour composites (RGB), made once every part is done: each from its row's three stamps
 * read back from the packs (a few KB each; one row's at a time in memory). They go to a pack
 * of their own written under a temporary name and renamed into place, then their outcomes to
 * rgb.done.json: a finish step done again (its worker died) makes the same bytes from the same
 * stamps and replaces both whole, and each composite's result has a fixed place (SEQ.rgb +
 * its row), so nothing is listed twice.
 */
function makeComposites(
  input: ProcessorInput,
  plan: BatchPlan,
  outcomes: ReadonlyMap<number, StampOutcome>,
): {
  composites: CompositeOutcome[];
  results: ProducedResult[];
} {
  const rgb = plan.rgb;
  if (!rgb || rgb.composites.length === 0) return { composites: [], results: [] };
  const dir = input.resultsDir;
  const temporary = temporaryName(RGB_PACK);
  // Created even when no composite is made, so that rgb.pack always exists after this.
  writeFileSync(path.join(dir, temporary), '');
  const pack = new ResultPack(input, temporary);
  const packs = new PackReader(dir);
  const composites: CompositeOutcome[] = [];
  const results: ProducedResult[] = [];
  const type = contentTypeOf(rgb.format);
  try {
    for (const planned of rgb.composites) {
      const made = rowComposite(planned, rgb, plan.rows, outcomes, packs);
      if (!Buffer.isBuffer(made)) {
        composites.push({ ...planned, message: `no RGB composite: ${made.message}` });
        continue;
      }
      const result = pack.add(rgbResult(planned.row), type, made);
      results.push({ ...result, file: RGB_PACK, seq: SEQ.rgb + planned.row });
      composites.push({ ...planned, offset: result.offset!, bytes: made.length, crc32: crc32(made) });
    }
  } finally {
    pack.close();
    packs.close();
  }
  renameSync(path.join(dir, temporary), path.join(dir, RGB_PACK));
  writeJsonAtomic(path.join(dir, RGB_DONE), composites);
  return { composites, results };
}

/** One row's composite, or why there is none (a stamp that failed when cut, or stamps on different grids). */
function rowComposite(
  planned: PlannedComposite,
  rgb: BulkRgb,
  rows: readonly PlannedRow[],
  outcomes: ReadonlyMap<number, StampOutcome>,
  packs: PackReader,
): Buffer | { message: string } {
  const images: GridImage[] = [];
  for (const index of planned.indexes) {
    const row = rows[index]!;
    const outcome = outcomes.get(index);
    if (row.part === undefined || outcome?.offset === undefined || outcome.bytes === undefined) {
      return { message: `the ${row.band ?? ''} stamp was not cut (${outcome?.status ?? 'not_run'})` };
    }
    try {
      images.push(gridImageOf(row.band ?? '', packs.read(row.part, outcome.offset, outcome.bytes)));
    } catch (err) {
      return { message: `the ${row.band ?? ''} stamp cannot be drawn: ${(err as Error).message}` };
    }
  }
  const [red, green, blue] = images;
  return compositeOf([red!, green!, blue!], rgb);
}

/** The manifest (both forms) written, and the results that list it and the archive (and the composites). */
async function finishedResults(input: ProcessorInput, plan: BatchPlan): Promise<ProducedResult[]> {
  const dir = input.resultsDir;
  const url = (resultId: string) => `${input.baseUrl}/api/${input.service}/async/${input.jobId}/results/${encodeURIComponent(resultId)}`;
  const outcomes = readOutcomes(dir, plan);
  const made = makeComposites(input, plan, outcomes);
  const state = { outcomes, composites: compositesByIndex(made.composites) };
  const archived = plan.packaging !== 'none' && !plan.dryRun;
  const rows = manifestRows(plan, state, url, 'not cut: the part that held it failed');
  const [votable, csv] = (await manifestBytes(rows, archived ? ['votable', 'csv'] : ['votable'])) as [Buffer, Buffer?];
  // Whole or not at all: a finish step stopped half-way leaves no truncated manifest behind.
  writeFileAtomic(path.join(dir, MANIFEST_FILE), votable);
  const results: ProducedResult[] = [
    { id: 'manifest', file: MANIFEST_FILE, mimeType: MANIFEST_TYPE, size: votable.length, seq: SEQ.manifest },
    ...made.results,
  ];
  if (archived) {
    writeFileAtomic(path.join(dir, MANIFEST_CSV), csv!);
    const layout = batchArchive(dir, plan, outcomes, csv);
    // Kept for the api, which then serves each download without laying the archive out again.
    writeFileAtomic(path.join(dir, ARCHIVE_LAYOUT), encodeLayout(layout, dir));
    results.push({
      id: 'archive',
      file: archiveFile(plan.packaging),
      mimeType: ARCHIVE_TYPES[plan.packaging],
      size: layout.totalSize,
      seq: SEQ.archive,
    });
  }
  return results;
}

async function finish(input: ProcessorInput): Promise<ProcessorOutcome> {
  return { results: await finishedResults(input, readPlan(input.resultsDir)) };
}
