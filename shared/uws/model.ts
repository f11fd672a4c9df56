/** The UWS job as stored and as shown (UWS 1.1 §2.1, schema JobSummary). */
import type { Phase } from './phase';

/** One parameter, in the order it was given; repeated names are separate entries. */
export interface JobParameter {
  /** Canonical (upper-case) name: DALI parameter names are case-insensitive (DALI §3). */
  name: string;
  value: string;
  /** An inline upload: `value` is the URL it is served at, `file` its name in the job dir. */
  byReference?: boolean;
  file?: string;
}

export interface JobResult {
  id: string;
  /** File name under the job's results directory. */
  file: string;
  mimeType: string;
  size: number;
  /** Where the result starts in `file`, when many results share one file (a ResultPack). */
  offset?: number;
}

/**
 * A result with its place in the job's result list: results recorded while a job runs (a
 * batch's finished parts) are placed by the processor, so that a part done twice (its worker
 * died after recording it) replaces its rows instead of adding them again.
 */
export interface PlacedResult extends JobResult {
  seq: number;
}

/**
 * What a running job has done (shown in uws:jobInfo): `total` items when known, `done` of
 * them finished, `ok` and `failed` among those, `bytes` written, and a line of text.
 */
export interface JobProgress {
  total: number | null;
  done: number;
  ok: number;
  failed: number;
  bytes: number;
  message: string | null;
}

/** What a processor reports of its progress as it goes (the rest is kept as it was: 0, or null). */
export type ProgressReport = Pick<JobProgress, 'done'> & Partial<JobProgress>;

/** What finished work adds to a job's progress. */
export type ProgressDelta = Pick<JobProgress, 'done' | 'ok' | 'failed' | 'bytes'>;

/** Nothing done yet, or nothing to add. */
export const NO_PROGRESS: Readonly<ProgressDelta> = { done: 0, ok: 0, failed: 0, bytes: 0 };

export type ErrorType = 'transient' | 'fatal';

export interface JobError {
  type: ErrorType;
  message: string;
}

export interface Job {
  jobId: string;
  service: string;
  owner: string | null;
  runId: string | null;
  phase: Phase;
  /** Times are epoch milliseconds (UTC). */
  creationTime: number;
  startTime: number | null;
  endTime: number | null;
  /** Seconds; 0 = unlimited (UWS §2.1.4). */
  executionDuration: number;
  destruction: number;
  quote: number | null;
  attempts: number;
  error: JobError | null;
  parameters: JobParameter[];
  /** The base URL the job was created through (PUBLIC_URL or the request's host): links in results start with it. */
  baseUrl: string | null;
  /** Null until the job's processor reports any (JobStore.setProgress). */
  progress: JobProgress | null;
}

/** What a job list shows of each job (ShortJobDescription). */
export type JobRef = Pick<Job, 'jobId' | 'phase' | 'runId' | 'owner' | 'creationTime'>;

export interface JobListFilter {
  service: string;
  /** Only this owner's jobs; undefined = every owner (anonymous single-user mode). */
  owner?: string | null;
  /** Union of phases; ARCHIVED only when asked for explicitly (§2.2.2.1). */
  phases?: Phase[];
  /** creationTime strictly after this (epoch ms). */
  after?: number;
  /** The n most recent, newest first. */
  last?: number;
  /** At most this many rows (oldest first when `last` is not set). */
  limit?: number;
}
