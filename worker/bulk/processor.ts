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
  readPlan,
  SEQ,
  stampMembers,
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
import { bulkRequest, missingPart, positionsOf, uploadedPart } from '../../shared/bulk/service';
import { StampCutter, StampError, type PixelBox, type StampProvenance } from '../../shared/bulk/stamp';
import { FetchError, fetchPublic } from '../../shared/net/fetch';
import { SodaError, sodaErrorText } from '../../shared/soda';
import { containedPath } from '../../shared/storage';
import { ResultPack } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProcessorOutcome, type ProducedResult } from '../../shared/uws/service';
import { obscoreConnection } from '../obscore';

/** Milliseconds a positions table given by URL may take to arrive. */
const FETCH_TIMEOUT_MS = 30000;

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
      const fetched = await fetchPublic(source.location.url, {
        maxBytes: config.uws.uploadMaxBytes,
        timeoutMs: FETCH_TIMEOUT_MS,
        allow: config.uploadUrlAllow,
      });
      bytes = fetched.body;
    } catch (err) {
      if (err instanceof FetchError) throw new JobFailure(`UsageError: UPLOAD positions: ${err.message}`);
      throw err;
    }
  } else {
    const part = uploadedPart(input.parameters, source.location.part);
    const file = part?.file && containedPath(path.join(input.jobDir, 'uploads'), part.file);
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

function boxColumns(box: PixelBox | undefined): Pick<PlannedRow, 'x0' | 'y0' | 'nx' | 'ny'> {
  return box ? { x0: box.x0, y0: box.y0, nx: box.nx, ny: box.ny } : {};
}

interface Cut extends PartStamp {
  readonly pixels: number;
}

/**
 * Parts of about a second's work each (BULK_PART_STAMPS stamps of 64×64 pixels, in pixels over
 * the planes), over stamps already in image and pixel-row order; never more stamps than that.
 */
function splitIntoParts(cuts: readonly Cut[], partStamps: number): Cut[][] {
  const budget = partStamps * STAMP_PIXELS;
  const parts: Cut[][] = [];
  let current: Cut[] = [];
  let pixels = 0;
  for (const cut of cuts) {
    if (current.length > 0 && (pixels + cut.pixels > budget || current.length >= partStamps)) {
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
  const table = await positionsTable(input, request, config);
  const planned = resolveStamps(obscoreConnection(config.obscoreDb), config.dataDir, table.rows, request, {
    maxPixels: config.cutoutMaxPixels,
  });
  const { maxStamps, maxBytes } = config.bulk;
  const edge = request.edge === 'pad' ? 'pad' : 'clip';
  const namer = new MemberNamer();
  const rows: PlannedRow[] = [];
  const cuts: Cut[] = [];
  let bytes = 0;
  for (const [index, s] of planned.entries()) {
    const base = {
      row: s.row,
      id: s.id,
      ra: s.ra,
      dec: s.dec,
      band: s.band,
      obsPublisherDid: s.image?.did ?? null,
      dataproductSubtype: s.image?.subtype ?? null,
      tMin: s.image?.tMin ?? null,
    };
    const status = MANIFEST_STATUS[s.status];
    const source = s.image && containedPath(config.dataDir, s.image.file);
    if (!s.cut || !s.box || !source) {
      rows.push({ ...base, status, message: s.message, ...boxColumns(s.clipped ?? s.box) });
      continue;
    }
    const provenance: StampProvenance = { id: s.id, row: s.row, ra: s.ra, dec: s.dec, band: s.band, did: s.image.did };
    let plan;
    try {
      plan = cutter().plan(source, s.box, { planes: request.planes, edge, provenance, maxPixels: config.cutoutMaxPixels });
    } catch (err) {
      const failed = err instanceof StampError ? err.status : 'error';
      rows.push({ ...base, status: failed, message: (err as Error).message, ...boxColumns(s.box) });
      continue;
    }
    let limit: string | undefined;
    if (cuts.length >= maxStamps) limit = `not cut: the job reached BULK_MAX_STAMPS (${maxStamps} stamps)`;
    else if (bytes + plan.bytes > maxBytes) limit = `not cut: the job's stamps would exceed BULK_MAX_BYTES (${maxBytes} bytes)`;
    if (limit) {
      rows.push({ ...base, status: 'not_run', message: limit, ...boxColumns(plan.box), bytes: plan.bytes });
      continue;
    }
    bytes += plan.bytes;
    const result = `stamp-${index + 1}`;
    const member = request.dryRun ? null : namer.name(s.id, s.band, s.row, s.n);
    rows.push({ ...base, status, message: s.message, ...boxColumns(plan.box), member, result, bytes: plan.bytes });
    cuts.push({ index, source, box: s.box, result, provenance, pixels: s.box.nx * s.box.ny * request.planes.length });
  }
  // Each image once, its rows read in order: by file, then pixel row, then column.
  cuts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0));
  const parts = request.dryRun ? [] : splitIntoParts(cuts, config.bulk.partStamps);
  const partOf = new Map<number, number>();
  for (const [k, part] of parts.entries()) {
    const partPlan: PartPlan = { planes: request.planes, edge, stamps: part.map(({ pixels: _pixels, ...stamp }) => stamp) };
    writeJsonAtomic(path.join(input.resultsDir, partFile(k + 1)), partPlan);
    for (const cut of part) partOf.set(cut.index, k + 1);
  }
  const plan: BatchPlan = {
    createdAt: Date.now(),
    packaging: request.packaging,
    dryRun: request.dryRun,
    parts: parts.length,
    rows: rows.map((row, index) => (partOf.has(index) ? { ...row, part: partOf.get(index)! } : row)),
  };
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

function cutPart(input: ProcessorInput, config: Config, part: number): ProcessorOutcome {
  const dir = input.resultsDir;
  const { planes, edge, stamps } = readPart(dir, part);
  const pack = new ResultPack(input, packFile(part));
  const results: ProducedResult[] = [];
  const outcomes: StampOutcome[] = [];
  const progress = { done: 0, ok: 0, failed: 0, bytes: 0 };
  try {
    for (const s of stamps) {
      let outcome: StampOutcome;
      try {
        const stamp = cutter().cut(s.source, s.box, { planes, edge, provenance: s.provenance, maxPixels: config.cutoutMaxPixels });
        const result = pack.add(s.result, 'application/fits', stamp.data);
        results.push({ ...result, seq: SEQ.stamp + s.index });
        outcome = {
          index: s.index,
          status: stamp.partial ? 'partial' : 'ok',
          offset: result.offset!,
          bytes: stamp.bytes,
          crc32: stamp.crc32,
        };
        progress.ok++;
        progress.bytes += stamp.bytes;
      } catch (err) {
        // JOB_MAX_BYTES (a JobFailure) ends the part: the rest of its stamps are not_run.
        if (err instanceof JobFailure) throw err;
        outcome = { index: s.index, status: err instanceof StampError ? err.status : 'error', message: (err as Error).message };
        progress.failed++;
      }
      outcomes.push(outcome);
      progress.done++;
    }
  } finally {
    pack.close();
  }
  writeJsonAtomic(path.join(dir, doneFile(part)), outcomes);
  const plan = readPlan(dir);
  if (plan.packaging !== 'none') {
    const layout = archiveLayout(plan.packaging, stampMembers(dir, plan, [part]));
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

// ---------------------------------------------------------------------------------------------
// finish

/** The manifest (both forms) written, and the results that list it and the archive. */
async function finishedResults(input: ProcessorInput, plan: BatchPlan): Promise<ProducedResult[]> {
  const dir = input.resultsDir;
  const url = (resultId: string) => `${input.baseUrl}/api/${input.service}/async/${input.jobId}/results/${encodeURIComponent(resultId)}`;
  const rows = [...manifestRows(plan, readOutcomes(dir, plan), url, 'not cut: the part that held it failed')];
  const votable = await manifestBytes(rows, 'votable');
  await fs.writeFile(path.join(dir, MANIFEST_FILE), votable);
  const results: ProducedResult[] = [
    { id: 'manifest', file: MANIFEST_FILE, mimeType: MANIFEST_TYPE, size: votable.length, seq: SEQ.manifest },
  ];
  if (plan.packaging !== 'none' && !plan.dryRun) {
    await fs.writeFile(path.join(dir, MANIFEST_CSV), await manifestBytes(rows, 'csv'));
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
