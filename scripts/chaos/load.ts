/**
 * The mixed load: a bounded number of clients, each in a loop bounded in iterations and
 * time, creating async TAP and cutout jobs from the recipes and following them with blocking
 * WAIT reads, sending sync TAP queries and sync cutouts, aborting and deleting some of its
 * own jobs. Everything it saw is recorded for the checks.
 */
import { RequestFailed } from './http';
import { weighted, type AsyncRecipe, type SyncRecipe } from './recipes';
import { type Reference, compareOutcome } from './reference';
import { createJob, deleteJob, failureText, fetchOutcome, FINAL_PHASES, readJob, setPhase, syncRequest, type Api } from './uws';
import { Rng, sleep } from './util';

export interface Owner {
  owner: string;
  token: string;
}

export interface JobRecord {
  id: string;
  service: string;
  recipe: AsyncRecipe;
  owner: Owner;
  client: number;
  createdAt: number;
  /** PHASE=RUN at creation, or a PENDING job run by POST /phase. */
  start: 'create' | 'phase';
  /** POST /phase PHASE=RUN answered 303 (or the job was created with PHASE=RUN). */
  runSent: boolean;
  abort?: { intent: 'queued' | 'executing'; at?: number; outcome?: string };
  /** The abort answered 303: the store moved the job to ABORTED; it must stay so. */
  aborted: boolean;
  del?: { intent: 'final' | 'midway'; at?: number; outcome?: string };
  /** DELETE answered 303. */
  deleted: boolean;
  /** DELETE was sent but got no answer: the job may or may not exist. */
  deleteUncertain: boolean;
  /** Phases seen, in order, without repeats. */
  phases: string[];
  /** Problems seen while the load ran (e.g. results that differed from the reference). */
  problems: string[];
}

export interface SyncRecord {
  recipe: SyncRecipe;
  at: number;
  ms: number;
  /** HTTP status, or how the request failed (timeout = a hang). */
  outcome: number | 'timeout' | 'refused' | 'reset' | 'other';
  /** 200/204 bodies: identical to the reference's. */
  sameBytes?: boolean;
  message?: string;
  method: 'GET' | 'POST';
}

export interface Issue {
  at: number;
  what: string;
  kind: string;
  detail: string;
}

export interface LoadOptions {
  port: number;
  owners: Owner[];
  recipes: { async: AsyncRecipe[]; sync: SyncRecipe[] };
  reference: Reference;
  clients: number;
  seconds: number;
  seed: number;
  syncTimeoutMs: number;
  /** Iterations per client at most (a bound besides the time). */
  maxIterations?: number;
}

export interface LoadResult {
  jobs: JobRecord[];
  sync: SyncRecord[];
  /** Requests of the job protocol that failed or got an unexpected status. */
  issues: Issue[];
  /** Job creations that got no 303 (the job may exist unknown to the client). */
  creationFailures: Issue[];
  /** Longest WAIT=5 read (ms): more than ~5 s plus a little is a late answer. */
  waitMaxMs: number;
  waitReads: number;
  requests: number;
  startedAt: number;
  endedAt: number;
}

/** Polls of one job at most (WAIT=5 each). */
const MAX_POLLS = 200;
const WAIT_SECONDS = 5;

export interface LoadRun {
  /** Settles when every client and every injected job is done. */
  done: Promise<LoadResult>;
  /**
   * Creates `count` jobs of `recipe` now (owner of client 0, no abort or delete) and follows
   * them like the clients' own: the faults use it to have work EXECUTING when they strike.
   */
  inject(recipe: AsyncRecipe, count: number): void;
  /** Sends `count` sync requests of `recipe` now (recorded like the clients' own). */
  injectSync(recipe: SyncRecipe, count: number): void;
  /** Records a job created elsewhere (by a fault) with the load's, for the checks. */
  adopt(id: string, recipe: AsyncRecipe, owner: Owner): JobRecord;
  /** Keeps the load going past its time until release() (the faults are not over yet). */
  hold(): void;
  /** The faults are over: the load ends AFTER_FAULTS_MS from now, or at its time if later. */
  release(): void;
}

/** How long the load goes on after the last fault, ms. */
const AFTER_FAULTS_MS = 5000;

export function startLoad(options: LoadOptions): LoadRun {
  const result: LoadResult = {
    jobs: [],
    sync: [],
    issues: [],
    creationFailures: [],
    waitMaxMs: 0,
    waitReads: 0,
    requests: 0,
    startedAt: Date.now(),
    endedAt: 0,
  };
  // The load lasts `seconds`, and at least until the faults are over (hold()/release()) plus
  // a few seconds, so that every fault strikes a loaded system; never more than 4× `seconds`.
  let held = false;
  let releasedAt = 0;
  const hardEnd = result.startedAt + options.seconds * 4000;
  const deadlineOf = () =>
    Math.min(hardEnd, held ? Infinity : Math.max(result.startedAt + options.seconds * 1000, releasedAt + AFTER_FAULTS_MS));
  const running = () => Date.now() < deadlineOf();
  const maxIterations = options.maxIterations ?? 5000;
  const issue = (what: string, err: unknown): void => {
    const kind = err instanceof RequestFailed ? err.kind : 'status';
    result.issues.push({ at: Date.now(), what, kind, detail: failureText(err) });
  };

  const client = async (n: number): Promise<void> => {
    const rng = new Rng(options.seed * 1000 + n);
    const owner = options.owners[n % options.owners.length]!;
    const api: Api = { port: options.port, token: owner.token };
    for (let i = 0; i < maxIterations && running(); i++) {
      await sleep(20 + rng.int(130));
      const roll = rng.next();
      if (roll < 0.6) await asyncJob(n, rng, api, owner);
      else await syncCall(rng, api);
    }
  };

  const asyncJob = async (n: number, rng: Rng, api: Api, owner: Owner, forced?: AsyncRecipe): Promise<void> => {
    const recipe = forced ?? weighted(options.recipes.async, rng.next());
    const start: JobRecord['start'] = !forced && rng.chance(0.15) ? 'phase' : 'create';
    const abortRoll = forced ? 1 : rng.next();
    const abort: JobRecord['abort'] = abortRoll < 0.05 ? { intent: 'queued' } : abortRoll < 0.12 ? { intent: 'executing' } : undefined;
    const deleteRoll = forced ? 1 : rng.next();
    const del: JobRecord['del'] = deleteRoll < 0.06 ? { intent: 'final' } : deleteRoll < 0.1 ? { intent: 'midway' } : undefined;
    let id: string;
    result.requests++;
    try {
      id = (await createJob(api, recipe.service, recipe.params, start === 'create')).id;
    } catch (err) {
      result.creationFailures.push({
        at: Date.now(),
        what: `create ${recipe.name}`,
        kind: err instanceof RequestFailed ? err.kind : 'status',
        detail: failureText(err),
      });
      return;
    }
    const job: JobRecord = {
      id,
      service: recipe.service,
      recipe,
      owner,
      client: n,
      createdAt: Date.now(),
      start,
      runSent: start === 'create',
      abort,
      aborted: false,
      del,
      deleted: false,
      deleteUncertain: false,
      phases: [],
      problems: [],
    };
    result.jobs.push(job);
    const seen = (phase: string | undefined) => {
      if (phase && job.phases[job.phases.length - 1] !== phase) job.phases.push(phase);
    };
    if (start === 'phase') {
      for (let tries = 0; tries < 20 && !job.runSent && running(); tries++) {
        result.requests++;
        try {
          const reply = await setPhase(api, job.service, id, 'RUN');
          if (reply.status === 303) job.runSent = true;
          else issue(`PHASE=RUN ${id}`, new Error(`HTTP ${reply.status} ${reply.body.toString().slice(0, 200)}`));
        } catch (err) {
          issue(`PHASE=RUN ${id}`, err);
          await sleep(250);
        }
      }
      if (!job.runSent) return;
    }
    const sendAbort = async () => {
      job.abort!.at = Date.now();
      result.requests++;
      try {
        const reply = await setPhase(api, job.service, id, 'ABORT');
        job.abort!.outcome = String(reply.status);
        if (reply.status === 303) job.aborted = true;
        else if (reply.status !== 403) issue(`PHASE=ABORT ${id}`, new Error(`HTTP ${reply.status} ${reply.body.toString().slice(0, 200)}`));
      } catch (err) {
        job.abort!.outcome = failureText(err);
        issue(`PHASE=ABORT ${id}`, err);
      }
    };
    const sendDelete = async () => {
      job.del!.at = Date.now();
      result.requests++;
      try {
        const reply = await deleteJob(api, job.service, id);
        job.del!.outcome = String(reply.status);
        if (reply.status === 303) job.deleted = true;
        else issue(`DELETE ${id}`, new Error(`HTTP ${reply.status} ${reply.body.toString().slice(0, 200)}`));
      } catch (err) {
        job.del!.outcome = failureText(err);
        job.deleteUncertain = true;
        issue(`DELETE ${id}`, err);
      }
    };
    if (abort?.intent === 'queued') await sendAbort();

    let last: string | undefined;
    for (let polls = 0; polls < MAX_POLLS && running(); polls++) {
      let view;
      result.requests++;
      try {
        view = await readJob(api, job.service, id, { seconds: WAIT_SECONDS, inPhase: last });
      } catch (err) {
        issue(`WAIT ${id}`, err);
        await sleep(250);
        continue;
      }
      result.waitReads++;
      result.waitMaxMs = Math.max(result.waitMaxMs, view.ms);
      if (view.status === 404) {
        job.problems.push(`the job answered 404 while it was being followed (phases ${job.phases.join('→')})`);
        return;
      }
      if (view.status !== 200 || !view.phase) {
        issue(`WAIT ${id}`, new Error(`HTTP ${view.status} ${view.xml.slice(0, 200)}`));
        await sleep(250);
        continue;
      }
      last = view.phase;
      seen(last);
      if (FINAL_PHASES.has(last)) break;
      if (abort?.intent === 'executing' && last === 'EXECUTING' && abort.at === undefined) await sendAbort();
      if (del?.intent === 'midway' && del.at === undefined) {
        await sendDelete();
        return;
      }
    }
    if (last === undefined || !FINAL_PHASES.has(last)) return; // the checks follow it after the load
    if (last === 'COMPLETED' && rng.chance(0.3)) {
      result.requests++;
      try {
        const outcome = await fetchOutcome(api, job.service, id);
        job.problems.push(
          ...compareOutcome(outcome, options.reference.async.get(recipe.name)!, recipe).map((p) => `during the load: ${p}`),
        );
      } catch (err) {
        issue(`results of ${id}`, err);
      }
    }
    if (del?.intent === 'final' || (del?.intent === 'midway' && del.at === undefined)) await sendDelete();
  };

  const syncCall = async (rng: Rng, api: Api, forced?: SyncRecipe): Promise<void> => {
    const recipe = forced ?? weighted(options.recipes.sync, rng.next());
    const post = rng.chance(0.5);
    const at = Date.now();
    result.requests++;
    const record: SyncRecord = { recipe, at, ms: 0, outcome: 'other', method: post ? 'POST' : 'GET' };
    try {
      const answer = await syncRequest(api, recipe.service, recipe.params, post, options.syncTimeoutMs);
      record.ms = answer.ms;
      record.outcome = answer.status;
      const ref = options.reference.sync.get(recipe.name)!;
      if (answer.status === 200 || answer.status === 204) record.sameBytes = answer.status === ref.status && answer.sha256 === ref.sha256;
      if (answer.status >= 400) record.message = errorText(answer.body);
    } catch (err) {
      record.ms = Date.now() - at;
      record.outcome = err instanceof RequestFailed ? err.kind : 'other';
      record.message = failureText(err);
    }
    result.sync.push(record);
  };

  const injected: Promise<void>[] = [];
  const injectRng = new Rng(options.seed * 1000 + 999);
  const inject = (recipe: AsyncRecipe, count: number): void => {
    const owner = options.owners[0]!;
    for (let i = 0; i < count; i++) injected.push(asyncJob(-1, injectRng, { port: options.port, token: owner.token }, owner, recipe));
  };
  const injectSync = (recipe: SyncRecipe, count: number): void => {
    const owner = options.owners[0]!;
    for (let i = 0; i < count; i++) injected.push(syncCall(injectRng, { port: options.port, token: owner.token }, recipe));
  };
  const done = (async () => {
    await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
    while (injected.length) await injected.shift();
    result.endedAt = Date.now();
    return result;
  })();
  const hold = () => {
    held = true;
  };
  const release = () => {
    held = false;
    releasedAt = Date.now();
  };
  const adopt = (id: string, recipe: AsyncRecipe, owner: Owner): JobRecord => {
    const job: JobRecord = {
      id,
      service: recipe.service,
      recipe,
      owner,
      client: -1,
      createdAt: Date.now(),
      start: 'create',
      runSent: true,
      aborted: false,
      deleted: false,
      deleteUncertain: false,
      phases: [],
      problems: [],
    };
    result.jobs.push(job);
    return job;
  };
  return { done, inject, injectSync, adopt, hold, release };
}

/** The message of an error answer: a DALI VOTable's QUERY_STATUS INFO, or the text. */
export function errorText(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 4000));
  const info = /<INFO name="QUERY_STATUS" value="ERROR"\s*>([\s\S]*?)<\/INFO>/.exec(text);
  return (info ? info[1]! : text).replace(/\s+/g, ' ').trim().slice(0, 300);
}
