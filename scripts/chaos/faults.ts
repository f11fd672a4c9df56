/**
 * Faults on a schedule during the load, one at a time: SIGKILL of a worker (a new one is
 * started), SIGSTOP of a worker for longer than UWS_LOCK_MS (then SIGCONT), SIGTERM of a
 * worker (graceful stop; a new one is started), SIGKILL of Redis (started again after a few
 * seconds on the same port with the same append-only file), a restart of the api (SIGTERM,
 * then a new api on the same port), a restart of the api while Redis is away, and an ABORT
 * of an EXECUTING job while Redis is away. Just before a fault that strikes a worker, slow
 * jobs are started so that it finds work EXECUTING.
 */
import type { JobRecord } from './load';
import type { AsyncRecipe } from './recipes';
import type { ChaosStack } from './stack';
import { createJob, failureText, FINAL_PHASES, readJob, setPhase, type Api } from './uws';
import { sleep } from './util';

export type FaultKind =
  'kill-worker' | 'pause-worker' | 'term-worker' | 'kill-redis' | 'restart-api' | 'restart-api-without-redis' | 'abort-without-redis';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-worker',
  'pause-worker',
  'term-worker',
  'kill-redis',
  'restart-api',
  'restart-api-without-redis',
  'abort-without-redis',
];

/** Faults that strike a worker: work is started just before them, so that they find it EXECUTING. */
const WORKER_FAULTS: readonly FaultKind[] = ['kill-worker', 'pause-worker', 'term-worker'];
const PRIME_LEAD_MS = 1500;

export interface FaultRecord {
  kind: FaultKind;
  startedAt: number;
  endedAt: number;
  text: string;
  /** The fault itself went wrong (e.g. the api did not stop on SIGTERM). */
  problem?: string;
  /** abort-without-redis: the job it aborted. */
  jobId?: string;
}

export interface FaultPlan {
  kinds: FaultKind[];
  seconds: number;
  lockMs: number;
  /** How long Redis stays down, ms. */
  redisDownMs: number;
  /** How long the api may take to stop on SIGTERM, ms. */
  apiStopGraceMs: number;
  /** How long a worker may take to stop on SIGTERM (SHUTDOWN_GRACE and a margin), ms. */
  workerStopGraceMs: number;
  /** Starts work for a worker fault to find (called PRIME_LEAD_MS before it). */
  prime?: (kind: FaultKind) => void;
  /** abort-without-redis: whom it acts as, the long job it runs, and how the job joins the load's records. */
  longJob?: { api: Api; recipe: AsyncRecipe; adopt(id: string): JobRecord };
}

/** The default schedules: every kind once (quick), or a longer mixed sequence. */
export function defaultKinds(quick: boolean): FaultKind[] {
  return quick
    ? ['kill-worker', 'pause-worker', 'kill-redis', 'restart-api', 'abort-without-redis']
    : [
        'kill-worker',
        'pause-worker',
        'kill-redis',
        'restart-api',
        'term-worker',
        'kill-worker',
        'restart-api-without-redis',
        'pause-worker',
        'abort-without-redis',
      ];
}

/**
 * Runs the faults spread evenly over [8%, 70%] of the load, one after the other (a fault
 * that is late starts when the one before it ended; the load is held until the last is over).
 */
export async function runFaults(stack: ChaosStack, plan: FaultPlan, loadStart: number, isStopped: () => boolean): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const n = plan.kinds.length;
  for (const [i, kind] of plan.kinds.entries()) {
    const at = loadStart + plan.seconds * 1000 * (n === 1 ? 0.3 : 0.08 + (0.62 * i) / (n - 1));
    if (plan.prime && WORKER_FAULTS.includes(kind) && !isStopped()) {
      if (at - PRIME_LEAD_MS > Date.now()) await sleep(at - PRIME_LEAD_MS - Date.now());
      plan.prime(kind);
      await sleep(PRIME_LEAD_MS);
    }
    if (at > Date.now()) await sleep(at - Date.now());
    if (isStopped()) {
      stack.note('note', `fault ${kind} skipped: the load has ended`);
      continue;
    }
    const record: FaultRecord = { kind, startedAt: Date.now(), endedAt: 0, text: '' };
    try {
      switch (kind) {
        case 'kill-worker':
          record.text = await stack.killWorker(i);
          break;
        case 'pause-worker':
          record.text = await stack.pauseWorker(i, Math.round(plan.lockMs * 2.5));
          break;
        case 'term-worker': {
          const r = await stack.terminateWorker(i, plan.workerStopGraceMs);
          record.text = r.text;
          if (r.killed) record.problem = `the worker did not exit within ${plan.workerStopGraceMs} ms of SIGTERM`;
          break;
        }
        case 'restart-api-without-redis': {
          const r = await stack.restartApiWithoutRedis(plan.redisDownMs + 4000, plan.apiStopGraceMs);
          record.text = r.text;
          if (r.killed) record.problem = `the api did not exit within ${plan.apiStopGraceMs} ms of SIGTERM while Redis was away`;
          break;
        }
        case 'abort-without-redis': {
          const r = await abortWithoutRedis(stack, plan);
          Object.assign(record, r);
          break;
        }
        case 'kill-redis':
          record.text = await stack.killRedis(plan.redisDownMs);
          break;
        case 'restart-api': {
          const r = await stack.restartApi(plan.apiStopGraceMs);
          record.text = r.text;
          if (r.killed) record.problem = `the api did not exit within ${plan.apiStopGraceMs} ms of SIGTERM`;
          break;
        }
      }
    } catch (err) {
      record.problem = `${kind} failed: ${(err as Error).message}`;
      record.text = record.problem;
    }
    record.endedAt = Date.now();
    records.push(record);
    stack.note('fault', `${kind}: ${record.text}`);
  }
  return records;
}

/**
 * A long job EXECUTING; Redis SIGKILLed; the job aborted through the api (which needs only the
 * job store); Redis back. The abort must still stop the work (the checks find a worker busy
 * after settling if it did not).
 */
async function abortWithoutRedis(stack: ChaosStack, plan: FaultPlan): Promise<{ text: string; problem?: string; jobId?: string }> {
  const long = plan.longJob;
  if (!long) return { text: 'skipped: no long job configured' };
  const { id } = await createJob(long.api, long.recipe.service, long.recipe.params, true);
  const job = long.adopt(id);
  let phase: string | undefined;
  const until = Date.now() + 20000;
  while (Date.now() < until && phase !== 'EXECUTING' && !(phase && FINAL_PHASES.has(phase))) {
    phase = (await readJob(long.api, long.recipe.service, id, { seconds: 2, inPhase: phase })).phase;
    if (phase && job.phases[job.phases.length - 1] !== phase) job.phases.push(phase);
  }
  if (phase !== 'EXECUTING')
    return {
      text: `job ${id} did not start within 20 s (${phase})`,
      problem: `the long job ${id} was not EXECUTING within 20 s (${phase})`,
      jobId: id,
    };
  const redis = stack.redisProc;
  redis.expectedExit = true;
  const started = Date.now();
  redis.child.kill('SIGKILL');
  await redis.exited;
  job.abort = { intent: 'executing', at: Date.now() };
  let outcome: string;
  try {
    const reply = await setPhase(long.api, long.recipe.service, id, 'ABORT');
    outcome = String(reply.status);
    if (reply.status === 303) job.aborted = true;
  } catch (err) {
    outcome = failureText(err);
  }
  job.abort.outcome = outcome;
  const left = plan.redisDownMs - (Date.now() - started);
  if (left > 0) await sleep(left);
  const next = await stack.startRedis();
  return {
    text: `${long.recipe.name} job ${id} EXECUTING; SIGKILL ${redis.name} (pid ${redis.pid}); ABORT → ${outcome}; ${next.name} (pid ${next.pid}) after ${Date.now() - started} ms`,
    problem: job.aborted ? undefined : `the ABORT of ${id} while Redis was away was answered ${outcome}, not 303`,
    jobId: id,
  };
}
