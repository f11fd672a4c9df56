/**
 * A processor's input (shared/uws/service.ts ProcessorInput) from a task's description: one
 * shape for jobs and sync requests alike, whether the task runs in a pool thread
 * (worker/task.ts) or in a thread line (worker/line-thread.ts).
 */
import path from 'node:path';
import type { Config } from '../shared/config';
import { syncDir, type SyncRequest } from '../shared/dali/sync-messages';
import type { JobParameter } from '../shared/uws/model';
import type { ProcessorInput } from '../shared/uws/service';

export interface TaskInput {
  /** The job's id or the sync request's: aborts name it. */
  id: string;
  /** The service's name. */
  service: string;
  owner: string | null;
  parameters: JobParameter[];
  /** Base URL for links written into results. */
  baseUrl: string;
  /** The task's directory (uploads/ under it) and where its results go. */
  dir: string;
  resultsDir: string;
  /** Seconds the work may run before it is stopped; 0 = unlimited. */
  seconds: number;
  /** DALI-sync requests: results up to this many bytes come back in memory. */
  inlineLimit?: number;
  /** Split jobs: the step this task runs. */
  step?: ProcessorInput['step'];
}

export function processorInput(config: Config, task: TaskInput): ProcessorInput {
  return {
    jobId: task.id,
    service: task.service,
    owner: task.owner,
    parameters: task.parameters,
    jobDir: task.dir,
    resultsDir: task.resultsDir,
    executionDuration: task.seconds,
    baseUrl: task.baseUrl,
    mode: task.inlineLimit === undefined ? 'async' : 'sync',
    ...(task.inlineLimit === undefined ? {} : { inlineLimit: task.inlineLimit }),
    maxBytes: config.jobMaxBytes,
    ...(task.step ? { step: task.step } : {}),
  };
}

/** A DALI-sync request's task: its directory under RESULTS_DIR/.sync, its time limit (SYNC_TIMEOUT as its api sent it). */
export function syncTaskInput(config: Config, request: SyncRequest): TaskInput {
  const dir = syncDir(config.resultsDir, request.id);
  return {
    id: request.id,
    service: request.service,
    owner: request.owner,
    parameters: request.parameters,
    baseUrl: request.baseUrl,
    dir,
    resultsDir: path.join(dir, 'results'),
    seconds: request.timeout,
    inlineLimit: request.inlineLimit,
  };
}
