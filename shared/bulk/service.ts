/**
 * The bulk cutout service as the UWS engine sees it: jobs at /api/bulk/async run
 * worker/bulk/processor; their parameters are checked when the job is created or changed
 * (an uploaded positions table is read then, so a table without usable columns is a 400 at
 * once; one given by URL is read by the worker and fails the job instead). A failed job's
 * /error is SODA's text/plain document (SODA 1.0 §5.2 labels).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeArchive, type ArchiveLayout } from '../archive';
import { fallbackBaseUrl, type Config } from '../config';
import { PROJECT_ROOT } from '../runtime';
import { SodaError } from '../soda/errors';
import { inlineUpload } from '../uws/files';
import type { Job, JobParameter, JobResult } from '../uws/model';
import { ParameterError, plainErrorDocument, type ResultBody, type UwsService, type ValidationContext } from '../uws/service';
import {
  archiveLayout,
  batchArchive,
  doneFile,
  MANIFEST_FILE,
  packFile,
  manifestBytes,
  manifestRows,
  partMembers,
  readDone,
  readBatchState,
  readPart,
  readBatchArchive,
  readPlan,
} from './batch';
import { TooManyRows } from './errors';
import { parseBulkParameters, type BulkRequest } from './params';
import { readPositionsTable, type PositionsTable } from './positions';

/** The job's request, as the processor and the validation read it (throws SodaError). */
export function bulkRequest(parameters: readonly JobParameter[], config: Pick<Config, 'bulk'>): BulkRequest {
  return parseBulkParameters(parameters, { maxPositions: config.bulk.maxPositions });
}

/** Reads an inline positions table (throws SodaError; TooManyRows past BULK_MAX_ROWS). */
export function positionsOf(bytes: Buffer, request: BulkRequest, config: Pick<Config, 'bulk'>): PositionsTable {
  return readPositionsTable(bytes, request, { maxRows: config.bulk.maxRows });
}

/** The message for an UPLOAD naming a part the request did not send (`uri` as the user wrote it). */
export function missingPart(uri: string): string {
  return `UPLOAD names ${uri}, but no file part of that name was sent`;
}

async function validate(parameters: readonly JobParameter[], { config, upload }: ValidationContext): Promise<void> {
  try {
    const request = bulkRequest(parameters, config);
    const { source } = request;
    if (source.kind !== 'upload' || source.location.kind !== 'part') return;
    const part = inlineUpload(parameters, source.location.part);
    if (!part) throw new SodaError('UsageError', missingPart(source.uri));
    positionsOf(await upload(part.file), request, config);
  } catch (err) {
    if (err instanceof TooManyRows) throw new ParameterError(err.message, 413);
    if (err instanceof SodaError) throw new ParameterError(err.message);
    throw err;
  }
}

function archiveBody(layout: ArchiveLayout): ResultBody {
  return {
    size: layout.totalSize,
    write: async (out, range, signal) => {
      await writeArchive(layout, out, range, { signal });
    },
  };
}

function bufferBody(bytes: Buffer): ResultBody {
  return {
    size: bytes.length,
    write: async (out, range) => {
      const slice = range ? bytes.subarray(range.start, range.endInclusive + 1) : bytes;
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(slice, () => resolve());
      });
    },
  };
}

/**
 * Results made on request (see shared/bulk/batch.ts): the manifest of a job that has not
 * finished (rows of parts not yet done say not_run, pending), the archive and each part's
 * archive, assembled from the packs as they are streamed.
 */
async function resultBody(job: Job, result: JobResult, attemptDir: string, config: Config): Promise<ResultBody | undefined> {
  if (result.id === 'manifest') {
    // The finish step's file once the job COMPLETED; before, or if it never did, made from the parts.
    if (job.phase === 'COMPLETED' && fs.existsSync(path.join(attemptDir, MANIFEST_FILE))) return undefined;
    const plan = readPlan(attemptDir);
    const base = job.baseUrl ?? fallbackBaseUrl(config);
    const url = (resultId: string) => `${base}/api/${job.service}/async/${job.jobId}/results/${encodeURIComponent(resultId)}`;
    const pending = job.phase === 'EXECUTING' ? 'pending: its part has not finished yet' : `not cut: the job ended ${job.phase} first`;
    const [votable] = await manifestBytes(manifestRows(plan, readBatchState(attemptDir, plan), url, pending), ['votable']);
    return bufferBody(votable!);
  }
  const part = /^part-([1-9][0-9]*)$/.exec(result.id);
  if (part) {
    // A part's own files only: the whole batch's plan may be large.
    const n = Number(part[1]);
    const partPlan = readPart(attemptDir, n);
    if (partPlan.packaging === 'none') return undefined;
    return archiveBody(archiveLayout(partPlan.packaging, partMembers(attemptDir, n, partPlan, readDone(attemptDir, n) ?? [])));
  }
  if (result.id !== 'archive') return undefined;
  const kept = readBatchArchive(attemptDir);
  if (kept) return archiveBody(kept);
  const plan = readPlan(attemptDir);
  if (plan.packaging === 'none') return undefined;
  return archiveBody(batchArchive(attemptDir, plan));
}

export const BULK_SERVICE: UwsService = {
  name: 'bulk',
  title: 'Bulk multi-position cutout batches',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'bulk', 'processor.ts'),
  errorDocument: plainErrorDocument,
  validate,
  parts: {
    concurrency: (config) => config.bulk.partConcurrency,
    niceness: 10,
    // The outcomes first: without them the part's stamps are not shown, pack or not.
    discard: async (dir, part) => {
      await fs.promises.rm(path.join(dir, doneFile(part)), { force: true });
      await fs.promises.rm(path.join(dir, packFile(part)), { force: true });
    },
  },
  maxRunningPerOwner: (config) => config.bulk.maxJobsPerOwner,
  resultBody,
};
