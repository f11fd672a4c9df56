/**
 * What a service declares to get a UWS job tree at /api/<name>/async: its name, how its
 * jobs are processed, and how a failed job's error document looks. The engine does the rest.
 */
import type { ErrorType, Job, JobParameter } from './model';

/** What a processor is given; it runs in a worker thread, so all of it is plain data. */
export interface ProcessorInput {
  jobId: string;
  service: string;
  owner: string | null;
  parameters: JobParameter[];
  /** The job's own directory: uploads are under `uploads/`, results go into `resultsDir` (it exists). */
  jobDir: string;
  resultsDir: string;
  /** Seconds the job may run (0 = unlimited), for processors that can plan their work. */
  executionDuration: number;
  /** Base URL for links written into results (PUBLIC_URL or the address the client used). */
  baseUrl: string;
  /** A UWS job, or a DALI-sync request answered in the HTTP response (one result, or none). */
  mode: 'async' | 'sync';
  /**
   * Synchronous requests only: a result of at most this many bytes may be handed back in
   * memory (ProducedResult.data) instead of a file; `resultsDir` is then created only when
   * a result outgrows it (see shared/uws/results.ts).
   */
  inlineLimit?: number;
  /**
   * Synchronous requests only: called once when a result outgrows `inlineLimit` and its file
   * has been created with the bytes so far, so the api can start sending it while the rest
   * is written. Set in the processor's thread (functions do not cross threads).
   */
  onSpill?: (result: { id: string; file: string; mimeType: string }) => void;
  /** The most bytes the job's (or request's) results may take together (JOB_MAX_BYTES). */
  maxBytes?: number;
  /**
   * Bytes written so far, shared by every thread working on the job (a SharedArrayBuffer
   * travels to helper threads as the same memory). Made in the processor's thread.
   */
  written?: BigInt64Array;
}

export interface ProducedResult {
  /** UWS result id (TAP requires `result`). */
  id: string;
  /** File name under `resultsDir`. */
  file: string;
  mimeType: string;
  /** The content, when it stayed within ProcessorInput.inlineLimit (no file was written). */
  data?: Uint8Array;
  /** Bytes, when the processor knows them (saves the runner a stat per result). */
  size?: number;
  /** Where the result starts in `file` when results share one file (then `size` is given). */
  offset?: number;
}

/** The function a processor module exports as `process`. */
export type Processor = (input: ProcessorInput) => Promise<ProducedResult[]>;

/** A failure the user should read in errorSummary: thrown by processors. */
export class JobFailure extends Error {
  override name = 'JobFailure';
  constructor(
    message: string,
    readonly type: ErrorType = 'fatal',
  ) {
    super(message);
  }
}

export interface ErrorDocument {
  contentType: string;
  body: string;
}

export interface UwsService {
  /** URL segment and queue name: /api/<name>/async. */
  name: string;
  title: string;
  /** Absolute path of the compiled JS module exporting `process: Processor`. */
  processorModule: string;
  /** false: synchronous requests only (e.g. SIA {query}), no UWS job tree and no queue. */
  asyncJobs?: boolean;
  /** The /error resource of a job in ERROR (DALI 1.1 §4.2); plain text when not given. */
  errorDocument?(job: Job): ErrorDocument;
}

export function plainErrorDocument(job: Job): ErrorDocument {
  return { contentType: 'text/plain; charset=utf-8', body: `${job.error?.message ?? 'Error'}\n` };
}
