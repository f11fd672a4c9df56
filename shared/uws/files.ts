/** Where a job's files live: RESULTS_DIR/<jobId>/{results,uploads}/. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobParameter } from './model';

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isJobId(text: string): boolean {
  return JOB_ID.test(text);
}

export function jobDir(resultsRoot: string, jobId: string): string {
  if (!isJobId(jobId)) throw new Error(`invalid job id ${JSON.stringify(jobId)}`);
  return path.join(resultsRoot, jobId);
}

export function resultsDir(resultsRoot: string, jobId: string): string {
  return path.join(jobDir(resultsRoot, jobId), 'results');
}

/**
 * Where one attempt at a job writes its results: RESULTS_DIR/<job>/results/<attempt>/. A
 * worker that stalled and lost the job to another attempt removes only its own directory,
 * never the results of the attempt that completed the job. Result files are recorded
 * relative to resultsDir, i.e. as `<attempt>/<file>`.
 */
export function attemptDir(resultsRoot: string, jobId: string, attempt: number): string {
  return path.join(resultsDir(resultsRoot, jobId), String(attempt));
}

/** Removes the result directories of every attempt at a job but `keep` (none when undefined). */
export async function removeAttempts(resultsRoot: string, jobId: string, keep?: number): Promise<void> {
  const dir = resultsDir(resultsRoot, jobId);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => name !== String(keep)).map((name) => fs.rm(path.join(dir, name), { recursive: true, force: true })),
  );
}

/** The inline upload (a byReference parameter, UWS §2.1.11) of canonical name `name`, if the job has one. */
export function inlineUpload(parameters: readonly JobParameter[], name: string): (JobParameter & { file: string }) | undefined {
  return parameters.find((p): p is JobParameter & { file: string } => p.name === name && p.byReference === true && p.file !== undefined);
}

export function uploadsDir(resultsRoot: string, jobId: string): string {
  return path.join(jobDir(resultsRoot, jobId), 'uploads');
}

export async function removeJobFiles(resultsRoot: string, jobId: string): Promise<void> {
  await fs.rm(jobDir(resultsRoot, jobId), { recursive: true, force: true });
}
