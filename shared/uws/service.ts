/**
 * What a service declares to get a UWS job tree at /api/<name>/async: its name, how its
 * jobs are processed, and how a failed job's error document looks. The engine does the rest.
 */
import type { Writable } from 'node:stream';
import type { Config } from '../config';
import type { ErrorType, Job, JobParameter, JobResult, ProgressDelta, ProgressReport } from './model';

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
  /**
   * Which step of a job that splits into parts (UwsService.parts) this run is: 'start' plans
   * the work (and may return ProcessorOutcome.parts), 'part' does part `part` (1-based) of it,
   * 'finish' runs once after every part. Absent for jobs that do not split. Every step of an
   * attempt shares `resultsDir`.
   */
  step?: { kind: 'start' } | { kind: 'part'; part: number } | { kind: 'finish' };
  /**
   * Async jobs that do not split: reports how far the job has come (shown in uws:jobInfo),
   * as often as the processor likes; it reaches the store at most about once a second, and
   * the last report when the job ends. Set in the processor's thread.
   */
  progress?: (report: ProgressReport) => void;
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
  /**
   * The result's place in the job's list, for results recorded while the job runs (split
   * jobs): a part done again replaces its rows. Results without one are listed first, in order.
   */
  seq?: number;
}

/**
 * What a processor of a service with `parts` returns instead of a result list: its results,
 * and, from the 'start' step, how many parts the work splits into (each runs as a BullMQ child
 * job on whichever worker is free; the 'finish' step runs when all are done), the number of
 * items the job has and a message for its progress; from a 'part' step, what the part adds
 * to the progress.
 */
export interface ProcessorOutcome {
  results: ProducedResult[];
  parts?: number;
  total?: number;
  message?: string;
  progress?: ProgressDelta;
}

/** The function a processor module exports as `process`. */
export type Processor = (input: ProcessorInput) => Promise<ProducedResult[] | ProcessorOutcome>;

/** How the parts of a service's split jobs run on each worker. */
export interface PartOptions {
  /** Parts a worker runs at once (each in a processor thread of its own pool). */
  concurrency(config: Config): number;
  /**
   * The parts' threads run at this nice value (Linux sets it per thread), so that sync
   * requests and small jobs on the same machine keep their CPU while a batch runs.
   */
  niceness: number;
  /**
   * Removes what part `part` wrote in `attemptDir` when its outcome did not count (its job
   * ended, or another attempt took it over, before the part was recorded), so that what the
   * job shows is what it recorded.
   */
  discard(attemptDir: string, part: number): Promise<void>;
}

/**
 * A result the service makes when it is asked for rather than reading it from a file (e.g.
 * an archive assembled from the files of other results): its size and how to write it.
 */
export interface ResultBody {
  size: number;
  /** Writes the bytes (or those of the inclusive `range`) to `out`, ending it. */
  write(out: Writable, range?: { start: number; endInclusive: number }, signal?: AbortSignal): Promise<void>;
}

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
  /**
   * Checks a job's parameters when it is created and whenever they change, so that a bad
   * request is refused at once (400, or 413 for a limit) instead of ending in ERROR later.
   * Throws a ParameterError; `upload` reads an inline upload's bytes by its stored file name.
   */
  validate?(parameters: readonly JobParameter[], context: ValidationContext): Promise<void>;
  /**
   * Jobs that split into parts (ProcessorOutcome.parts): their processor is run with
   * ProcessorInput.step, the parts on every worker at once.
   */
  parts?: PartOptions;
  /** Most jobs of one owner EXECUTING at once (0 or absent: no limit); others wait QUEUED. */
  maxRunningPerOwner?(config: Config): number;
  /**
   * A result the service makes on request (ResultBody), or undefined to serve the result's
   * file as it is. `attemptDir` is the directory of the attempt that wrote the result.
   */
  resultBody?(job: Job, result: JobResult, attemptDir: string, config: Config): Promise<ResultBody | undefined>;
}

export interface ValidationContext {
  config: Config;
  upload: (file: string) => Promise<Buffer>;
}

/** A job's parameters refused by UwsService.validate: the message as the client reads it. */
export class ParameterError extends Error {
  override readonly name = 'ParameterError';

  constructor(
    message: string,
    /** 400, or 413 when a limit is exceeded. */
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

export function plainErrorDocument(job: Job): ErrorDocument {
  return { contentType: 'text/plain; charset=utf-8', body: `${job.error?.message ?? 'Error'}\n` };
}
