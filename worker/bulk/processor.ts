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
 *           archive needs; every stamp gets an outcome, a bad one never fails the part;
 *   finish  writes the manifest (VOTable result, CSV archive member) and lists the archive.
 *
 * The files each step leaves are described in shared/bulk/batch.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../shared/config';
import {
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
  readOutcomes,
  readPart,
  partMembers,
  readPlan,
  SEQ,
  writeFileAtomic,
  writeJsonAtomic,
  type BatchPlan,
  type PartPlan,
  type PartStamp,
  type PlannedRow,
  type StampOutcome,
} from '../../shared/bulk/batch';
import type { ManifestStatus } from '../../shared/bulk/manifest';
import { MemberNamer } from '../../shared/bulk/manifest';
import type { BulkRequest } from '../../shared/bulk/params';
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
import { FetchError, fetchUpload } from '../../shared/net/fetch';
import { SodaError, sodaErrorText } from '../../shared/soda';
import { containedPath } from '../../shared/storage';
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

interface Cut extends PartStamp {
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
  let bytes = 0;
  for (const [index, s] of planned.entries()) {
    const image = s.image;
    // One object per row, written out (30,000 rows: spreads cost more than the rest of the loop).
    const row: Mutable<PlannedRow> = {
      row: s.row,
      id: s.id,
      ra: s.ra,
      dec: s.dec,
      band: s.band,
      status: MANIFEST_STATUS[s.status],
      message: s.message,
      obsPublisherDid: image?.did ?? null,
      dataproductSubtype: image?.subtype ?? null,
      tMin: image?.tMin ?? null,
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
    if (bytes + plan.bytes > maxBytes) {
      row.status = 'not_run';
      row.message = `not cut: the job's stamps would exceed BULK_MAX_BYTES (${maxBytes} bytes)`;
      continue;
    }
    bytes += plan.bytes;
    const result = `stamp-${index + 1}`;
    const member = request.dryRun ? null : namer.name(s.id, s.band, s.row, s.n);
    row.member = member;
    row.result = result;
    cuts.push({ index, source, box: s.box, result, member: member ?? '', provenance, pixels: s.box.nx * s.box.ny * request.planes.length });
  }
  const createdAt = Date.now();
  // Each image once, its rows read in order: by file, then pixel row, then column.
  cuts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0));
  const parts = request.dryRun ? [] : splitIntoParts(cuts, config.bulk.partStamps);
  for (const [k, part] of parts.entries()) {
    const partPlan: PartPlan = {
      planes: request.planes,
      edge,
      packaging: request.packaging,
      createdAt,
      stamps: part.map(({ pixels: _pixels, ...stamp }) => stamp),
    };
    writeJsonAtomic(path.join(input.resultsDir, partFile(k + 1)), partPlan);
    for (const cut of part) rows[cut.index]!.part = k + 1;
  }
  const plan: BatchPlan = { createdAt, packaging: request.packaging, dryRun: request.dryRun, parts: parts.length, rows };
  writeJsonAtomic(path.join(input.resultsDir, 'plan.json'), plan);
  const images = new Set(cuts.map((c) => c.source)).size;
  const message = request.dryRun
    ? `dry run: ${rows.length} manifest rows, ${cuts.length} stamps (${bytes} bytes) planned from ${images} images`
    : `${table.rows.length} rows: ${cuts.length} stamps from ${images} images in ${parts.length} parts`;
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

/** Rows of an image read ahead at once, at most (over the planes): bounds a part's memory. */
const READ_AHEAD_BYTES = 64 << 20;

/**
 * The stamps of one image in pixel-row order, in runs whose rows (over the planes) fit
 * READ_AHEAD_BYTES: each run's rows are read once (StampCutter.readRows) for all its stamps.
 */
function rowRuns(stamps: readonly PartStamp[], rowBytes: number): PartStamp[][] {
  const maxRows = Math.max(1, Math.floor(READ_AHEAD_BYTES / rowBytes));
  const runs: PartStamp[][] = [];
  let run: PartStamp[] = [];
  let first = 0;
  for (const s of stamps) {
    const top = Math.max(0, s.box.y0);
    if (run.length > 0 && s.box.y0 + s.box.ny - first > maxRows) {
      runs.push(run);
      run = [];
    }
    if (run.length === 0) first = top;
    run.push(s);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function cutPart(input: ProcessorInput, config: Config, part: number): ProcessorOutcome {
  const dir = input.resultsDir;
  const plan = readPart(dir, part);
  const { planes, edge, stamps } = plan;
  const pack = new ResultPack(input, packFile(part));
  const results: ProducedResult[] = [];
  const outcomes: StampOutcome[] = [];
  const progress = { done: 0, ok: 0, failed: 0, bytes: 0 };
  const stampCutter = cutter();
  const cutOne = (s: PartStamp): StampOutcome => {
    let stamp: Stamp;
    try {
      stamp = stampCutter.cut(s.source, s.box, { planes, edge, provenance: s.provenance, maxPixels: config.cutoutMaxPixels });
    } catch (err) {
      progress.failed++;
      return { index: s.index, status: err instanceof StampError ? err.status : 'error', message: (err as Error).message };
    }
    // Writing the pack is not the stamp's problem: an I/O error or JOB_MAX_BYTES (a JobFailure)
    // fails the part (tried again, then its rows say why), never a stamp with a wrong offset.
    const result = pack.add(s.result, 'application/fits', stamp.data);
    results.push({ ...result, seq: SEQ.stamp + s.index });
    progress.ok++;
    progress.bytes += stamp.bytes;
    return { index: s.index, status: stamp.partial ? 'partial' : 'ok', offset: result.offset!, bytes: stamp.bytes, crc32: stamp.crc32 };
  };
  /** Reads a run's rows ahead; if they cannot be read, each stamp reads its own (and says why it cannot). */
  const readAhead = (run: readonly PartStamp[]): void => {
    const top = Math.min(...run.map((s) => s.box.y0));
    const bottom = Math.max(...run.map((s) => s.box.y0 + s.box.ny));
    try {
      stampCutter.readRows(run[0]!.source, planes, top, bottom);
    } catch {
      stampCutter.releaseRows();
    }
  };
  try {
    for (const group of byImage(stamps)) {
      const rowBytes = stampCutter.rowBytes(group[0]!.source, planes);
      for (const run of rowRuns(group, rowBytes ?? Infinity)) {
        if (rowBytes !== undefined) readAhead(run);
        for (const s of run) {
          outcomes.push(cutOne(s));
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
  return { results, progress };
}

/** Consecutive stamps of one image (a part lists them grouped). */
function byImage(stamps: readonly PartStamp[]): PartStamp[][] {
  const groups: PartStamp[][] = [];
  for (const s of stamps) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.source === s.source) last.push(s);
    else groups.push([s]);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// finish

/** The manifest (both forms) written, and the results that list it and the archive. */
async function finishedResults(input: ProcessorInput, plan: BatchPlan): Promise<ProducedResult[]> {
  const dir = input.resultsDir;
  const url = (resultId: string) => `${input.baseUrl}/api/${input.service}/async/${input.jobId}/results/${encodeURIComponent(resultId)}`;
  const rows = [...manifestRows(plan, readOutcomes(dir, plan), url, 'not cut: the part that held it failed')];
  const votable = await manifestBytes(rows, 'votable');
  // Whole or not at all: a finish step stopped half-way leaves no truncated manifest behind.
  writeFileAtomic(path.join(dir, MANIFEST_FILE), votable);
  const results: ProducedResult[] = [
    { id: 'manifest', file: MANIFEST_FILE, mimeType: MANIFEST_TYPE, size: votable.length, seq: SEQ.manifest },
  ];
  if (plan.packaging !== 'none' && !plan.dryRun) {
    writeFileAtomic(path.join(dir, MANIFEST_CSV), await manifestBytes(rows, 'csv'));
    const layout = batchArchive(dir, plan);
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
