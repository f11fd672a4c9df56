/**
 * What must hold once the load and the faults are over and the system has settled: every
 * job in a final phase (or deleted), every COMPLETED job's results identical to the
 * reference run, nothing visibly run twice, no thread outliving its job, memory settled,
 * every sync request answered cleanly, nothing left behind in Redis. Each check reports
 * pass/fail with its evidence; observations that are not failures are notes.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { channels } from '../../shared/redis';
import { queueName } from '../../shared/uws/queue';
import type { FaultRecord } from './faults';
import { jobRefsOf, request } from './http';
import type { Issue, JobRecord, LoadResult, Owner } from './load';
import type { AsyncRecipe, SyncRecipe } from './recipes';
import { compareOutcome, runJob, type Reference } from './reference';
import type { ChaosStack } from './stack';
import { failureText, fetchOutcome, FINAL_PHASES, PLAIN_TIMEOUT_MS, readJob, syncRequest, type Api } from './uws';
import { cpuSeconds, filesUnder, rssMiB, sleep, Tally, tcpConnectionsTo, threadCpu, threadIds } from './util';

export interface CheckResult {
  name: string;
  ok: boolean;
  summary: string;
  evidence: string[];
}

export interface Report {
  checks: CheckResult[];
  notes: string[];
  phases: Tally;
  /** Jobs that never reached a final phase, vanished, or whose results were missing or different. */
  lost: number;
  settleMs: number;
  unknownJobs: number;
}

/** Error messages a fault may legitimately leave on a job (the worker running it died too often, or its queue entry failed). */
const FAULT_ERRORS = [/worker running this job stopped \d+ time\(s\); giving up/, /^job lost by its worker/];

const EVIDENCE_MAX = 12;

function check(name: string, problems: string[], summary: string): CheckResult {
  return {
    name,
    ok: problems.length === 0,
    summary,
    evidence: problems
      .slice(0, EVIDENCE_MAX)
      .concat(problems.length > EVIDENCE_MAX ? [`… and ${problems.length - EVIDENCE_MAX} more`] : []),
  };
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface Listed {
  id: string;
  phase: string;
  service: string;
  owner: Owner;
}

/** Every job of every owner and service, from the job lists (retried while the api is away). */
async function listAll(port: number, owners: readonly Owner[]): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const owner of owners) {
    for (const service of ['tap', 'cutout']) {
      for (let attempt = 0; ; attempt++) {
        try {
          const reply = await request(port, `/api/${service}/async`, { token: owner.token, timeoutMs: PLAIN_TIMEOUT_MS });
          if (reply.status !== 200) throw new Error(`job list of ${owner.owner}/${service}: HTTP ${reply.status}`);
          for (const ref of jobRefsOf(reply.body.toString())) out.push({ ...ref, service, owner });
          break;
        } catch (err) {
          if (attempt >= 10) throw err;
          await sleep(500);
        }
      }
    }
  }
  return out;
}

export interface CheckInput {
  stack: ChaosStack;
  owners: Owner[];
  recipes: AsyncRecipe[];
  syncRecipes: SyncRecipe[];
  reference: Reference;
  load: LoadResult;
  faults: FaultRecord[];
  settleSeconds: number;
  workerConcurrency: number;
}

export async function runChecks(input: CheckInput): Promise<Report> {
  const { stack, owners, load, faults, reference } = input;
  const redisWasDown = (at: number) =>
    faults.some(
      (f) =>
        (f.kind === 'kill-redis' || f.kind === 'restart-api-without-redis' || f.kind === 'abort-without-redis') &&
        at >= f.startedAt &&
        at <= f.endedAt,
    );
  const port = stack.port;
  const checks: CheckResult[] = [];
  const notes: string[] = [];
  const byId = new Map<string, JobRecord>(load.jobs.map((j) => [j.id, j]));
  const referenceIds = new Set(reference.jobIds.map((j) => j.id));
  const recipeByName = new Map(input.recipes.map((r) => [r.name, r]));

  // --- settle: wait until no job is left QUEUED or EXECUTING (or a run job PENDING) ----------
  const settleStart = Date.now();
  let listed: Listed[] = [];
  const stuckOf = (jobs: Listed[]) =>
    jobs.filter((j) => j.phase === 'QUEUED' || j.phase === 'EXECUTING' || (j.phase === 'PENDING' && byId.get(j.id)?.runSent === true));
  for (;;) {
    listed = await listAll(port, owners);
    if (stuckOf(listed).length === 0 || Date.now() - settleStart > input.settleSeconds * 1000) break;
    await sleep(1000);
  }
  const settleMs = Date.now() - settleStart;
  const listedById = new Map(listed.map((l) => [l.id, l]));

  // --- 1. every job final or deleted --------------------------------------------------------
  const finalProblems: string[] = [];
  const phases = new Tally();
  const lost = new Set<string>();
  let pendingNeverRun = 0;
  for (const job of load.jobs) {
    const entry = listedById.get(job.id);
    job.problems.forEach((p) => finalProblems.push(`${job.service} job ${job.id} (${job.recipe.name}): ${p}`));
    if (job.problems.length) lost.add(job.id);
    if (job.deleted) {
      if (entry) {
        finalProblems.push(
          `${job.service} job ${job.id} (${job.recipe.name}) was deleted (303 at ${stack.since(job.del?.at)}) but is listed again, ${entry.phase}`,
        );
        lost.add(job.id);
      }
      phases.add('deleted');
      continue;
    }
    if (!entry) {
      if (job.deleteUncertain) {
        phases.add('deleted');
        continue;
      }
      // Not listed: read it, the list may be wrong.
      let status = 'unreadable';
      try {
        status = String((await readJob({ port, token: job.owner.token }, job.service, job.id)).status);
      } catch (err) {
        status = failureText(err);
      }
      finalProblems.push(
        `${job.service} job ${job.id} (${job.recipe.name}, phases seen ${job.phases.join('→') || 'none'}) vanished: not listed, GET → ${status}`,
      );
      lost.add(job.id);
      phases.add('vanished');
      continue;
    }
    phases.add(entry.phase);
    // UWS: after PHASE=RUN the very next read shows QUEUED or later (pyvo's wait() relies on it).
    if (job.start === 'create' && job.phases[0] === 'PENDING')
      finalProblems.push(`${job.service} job ${job.id} (${job.recipe.name}) was created with PHASE=RUN but the first read showed PENDING`);
    if (!job.runSent && entry.phase === 'PENDING') {
      pendingNeverRun++;
      continue;
    }
    if (!FINAL_PHASES.has(entry.phase)) {
      finalProblems.push(
        `${job.service} job ${job.id} (${job.recipe.name}) is still ${entry.phase} ${Math.round(settleMs / 1000)} s after the load (created ${stack.since(job.createdAt)}, phases seen ${job.phases.join('→') || 'none'})`,
      );
      lost.add(job.id);
    }
    if (job.aborted && entry.phase !== 'ABORTED') {
      finalProblems.push(
        `${job.service} job ${job.id} (${job.recipe.name}) was aborted (303 at ${stack.since(job.abort?.at)}) but is ${entry.phase}`,
      );
    }
  }
  const unknown = listed.filter((l) => !byId.has(l.id) && !referenceIds.has(l.id));
  for (const l of unknown) {
    if (l.phase === 'QUEUED' || l.phase === 'EXECUTING') {
      finalProblems.push(`${l.service} job ${l.id} of ${l.owner.owner} (created by a request whose answer was lost) is still ${l.phase}`);
      lost.add(l.id);
    }
  }
  if (unknown.length) {
    const t = new Tally();
    unknown.forEach((u) => t.add(u.phase));
    notes.push(`${unknown.length} job(s) exist whose creation answer never reached the client: ${t}`);
  }
  if (pendingNeverRun)
    notes.push(
      `${pendingNeverRun} job(s) stay PENDING because their PHASE=RUN got no answer before the load ended (legitimately not final)`,
    );
  checks.push(
    check(
      'every job reached a final phase or was deleted',
      finalProblems,
      `${load.jobs.length} jobs followed, settled in ${(settleMs / 1000).toFixed(1)} s`,
    ),
  );

  // --- 2. results of COMPLETED jobs identical to the reference; errors explained ----------------
  const resultProblems: string[] = [];
  const errorProblems: string[] = [];
  const errorKinds = new Tally();
  const toVerify = load.jobs.filter(
    (j) => !j.deleted && listedById.get(j.id)?.phase !== undefined && ['COMPLETED', 'ERROR'].includes(listedById.get(j.id)!.phase),
  );
  let verifiedResults = 0;
  await pool(toVerify, 6, async (job) => {
    const api: Api = { port, token: job.owner.token };
    const ref = reference.async.get(job.recipe.name);
    if (!ref) {
      resultProblems.push(
        `${job.service} job ${job.id} (${job.recipe.name}, no reference: it must end ABORTED) ended ${listedById.get(job.id)?.phase}`,
      );
      lost.add(job.id);
      return;
    }
    let outcome;
    try {
      outcome = await fetchOutcome(api, job.service, job.id);
    } catch (err) {
      resultProblems.push(`${job.service} job ${job.id} (${job.recipe.name}): results could not be read: ${failureText(err)}`);
      lost.add(job.id);
      return;
    }
    if (outcome.phase === 'COMPLETED') {
      const problems = compareOutcome(outcome, ref, recipeByName.get(job.recipe.name)!);
      verifiedResults += outcome.results.length;
      if (problems.length) {
        lost.add(job.id);
        problems.forEach((p) => resultProblems.push(`${job.service} job ${job.id} (${job.recipe.name}): ${p}`));
      }
    } else if (outcome.phase === 'ERROR') {
      const message = outcome.error ?? '(no message)';
      if (job.recipe.expect === 'ERROR' && message === ref.error) errorKinds.add('expected (the recipe fails)');
      else if (FAULT_ERRORS.some((re) => re.test(message))) errorKinds.add(`fault: ${message.replace(/\d+/g, 'N').slice(0, 80)}`);
      else {
        errorKinds.add('unexpected');
        errorProblems.push(
          `${job.service} job ${job.id} (${job.recipe.name}, phases seen ${job.phases.join('→')}) ended in ERROR: ${message.slice(0, 300)}`,
        );
      }
    }
  });
  checks.push(
    check(
      'COMPLETED results identical to the reference (ids, count, sizes, sha256)',
      resultProblems,
      `${verifiedResults} result(s) of ${toVerify.length} job(s) downloaded and compared`,
    ),
  );
  checks.push(check('no job failed for an unexplained reason', errorProblems, `ERROR jobs: ${errorKinds}`));

  // --- 2b. the system still serves: every recipe once more, as in the reference run ------------
  const probeProblems: string[] = [];
  const probeApi: Api = { port, token: owners[0]!.token };
  const probeStart = Date.now();
  await pool(input.recipes, 4, async (recipe) => {
    try {
      const run = await runJob(probeApi, recipe, 30000);
      const ref = reference.async.get(recipe.name)!;
      if (run.outcome.phase !== ref.phase)
        probeProblems.push(
          `${recipe.name}: job ${run.id} is ${run.outcome.phase} after ${run.ms} ms (reference: ${ref.phase})${run.outcome.error ? `: ${run.outcome.error}` : ''}`,
        );
      else compareOutcome(run.outcome, ref, recipe).forEach((p) => probeProblems.push(`${recipe.name}: job ${run.id}: ${p}`));
    } catch (err) {
      probeProblems.push(`${recipe.name}: ${failureText(err)}`);
    }
  });
  await pool(input.syncRecipes, 4, async (recipe) => {
    try {
      const answer = await syncRequest(probeApi, recipe.service, recipe.params, false, 30000);
      const ref = reference.sync.get(recipe.name)!;
      if (answer.status !== ref.status || answer.sha256 !== ref.sha256)
        probeProblems.push(
          `${recipe.name}: HTTP ${answer.status}, ${answer.bytes} bytes (reference: HTTP ${ref.status}, ${ref.bytes} bytes)`,
        );
    } catch (err) {
      probeProblems.push(`${recipe.name}: ${failureText(err)}`);
    }
  });
  checks.push(
    check(
      'after the faults every recipe runs again as in the reference run',
      probeProblems,
      `${input.recipes.length} jobs and ${input.syncRecipes.length} sync requests in ${((Date.now() - probeStart) / 1000).toFixed(1)} s`,
    ),
  );

  // --- 3. nothing visibly ran twice: store and files --------------------------------------------
  const twiceProblems: string[] = [];
  const attempts = new Tally();
  let leftoverAttemptDirs = 0;
  let leftoverDeleted = 0;
  let partialOutput = 0;
  let emptyDeletedDirs = 0;
  const partialExamples: string[] = [];
  const resultsRoot = stack.config.resultsDir;
  try {
    const db = new Database(stack.config.databaseUrl, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT job_id, phase, attempts FROM uws_jobs').all() as {
        job_id: string;
        phase: string;
        attempts: number;
      }[];
      const resultRows = db.prepare('SELECT job_id, result_id, file FROM uws_results ORDER BY job_id, seq').all() as {
        job_id: string;
        result_id: string;
        file: string;
      }[];
      const files = new Map<string, { ids: string[]; attempts: Set<string> }>();
      for (const r of resultRows) {
        const f = files.get(r.job_id) ?? { ids: [], attempts: new Set<string>() };
        f.ids.push(r.result_id);
        f.attempts.add(r.file.split('/')[0]!);
        files.set(r.job_id, f);
      }
      for (const row of rows) {
        attempts.add(`${row.attempts} attempt(s)`);
        const f = files.get(row.job_id);
        if (row.phase !== 'COMPLETED' && f) twiceProblems.push(`job ${row.job_id} is ${row.phase} but has ${f.ids.length} result row(s)`);
        if (f && f.attempts.size > 1)
          twiceProblems.push(`job ${row.job_id}: its results come from several attempts (${[...f.attempts].join(', ')})`);
        if (f && new Set(f.ids).size !== f.ids.length) twiceProblems.push(`job ${row.job_id}: duplicated result ids in the store`);
        const dir = path.join(resultsRoot, row.job_id, 'results');
        let attemptDirs: string[] = [];
        try {
          attemptDirs = fs.readdirSync(dir);
        } catch {
          // none
        }
        const kept = f ? [...f.attempts] : [];
        for (const a of attemptDirs) {
          if (kept.includes(a)) continue;
          const content = filesUnder(path.join(dir, a));
          if (content.files > 0) {
            if (row.phase === 'COMPLETED') leftoverAttemptDirs++;
            else {
              partialOutput++;
              if (partialExamples.length < 3)
                partialExamples.push(
                  `${row.job_id} ${row.phase} after ${row.attempts} attempt(s): results/${a}/ holds ${content.files} file(s), ${content.bytes} bytes`,
                );
            }
          }
        }
      }
      for (const job of load.jobs.filter((j) => j.deleted)) {
        const content = filesUnder(path.join(resultsRoot, job.id));
        if (content.files === 0 && fs.existsSync(path.join(resultsRoot, job.id))) emptyDeletedDirs++;
        if (content.files > 0) {
          leftoverDeleted++;
          twiceProblems.push(
            `deleted job ${job.id} (${job.recipe.name}): ${content.files} file(s), ${content.bytes} bytes left under RESULTS_DIR/${job.id} (deleted at ${stack.since(job.del?.at)}, phases seen ${job.phases.join('→')})`,
          );
        }
      }
    } finally {
      db.close();
    }
  } catch (err) {
    twiceProblems.push(`the job store could not be read: ${(err as Error).message}`);
  }
  if (leftoverAttemptDirs)
    notes.push(
      `${leftoverAttemptDirs} COMPLETED job(s) keep the files of an earlier attempt that does not count (a worker killed mid-job leaves its attempt directory until the job is destroyed)`,
    );
  if (emptyDeletedDirs)
    notes.push(
      `${emptyDeletedDirs} deleted job(s) left an empty directory under RESULTS_DIR (an attempt still running when the job was deleted recreated it; nothing removes it)`,
    );
  if (partialOutput)
    notes.push(
      `${partialOutput} ERROR/ABORTED job(s) keep result files of an attempt (README: a job that ends in ERROR keeps no partial output), e.g. ${partialExamples.join('; ')}`,
    );
  const syncLeft = filesUnder(path.join(resultsRoot, '.sync'));
  if (syncLeft.files)
    notes.push(
      `RESULTS_DIR/.sync holds ${syncLeft.files} file(s), ${syncLeft.bytes} bytes of sync requests (swept only after SYNC_TIMEOUT + 600 s)`,
    );
  checks.push(
    check(
      "nothing visibly ran twice (one attempt's results per job, no duplicates, deleted jobs leave no files)",
      twiceProblems,
      `store: ${attempts}${leftoverDeleted ? `; ${leftoverDeleted} deleted job(s) left files` : ''}`,
    ),
  );

  // --- 4. Redis: no entry left behind -------------------------------------------------------------
  const redisProblems: string[] = [];
  const redis = new Redis(stack.config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  let redisSummary = '';
  try {
    await redis.connect();
    const counts: string[] = [];
    for (const service of ['tap', 'cutout', 'sia']) {
      const queue = new Queue(queueName(service), { connection: redis, prefix: stack.config.queuePrefix });
      const c = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'paused',
        'failed',
        'completed',
        'waiting-children',
      );
      await queue.close();
      counts.push(
        `${service}: ${
          Object.entries(c)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k} ${v}`)
            .join(' ') || 'empty'
        }`,
      );
      const live = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0);
      if (live > 0) redisProblems.push(`queue ${queueName(service)} still holds ${live} entr(ies) (${JSON.stringify(c)})`);
      const syncLen = await redis.llen(channels(stack.config.queuePrefix).syncRequests(service));
      if (syncLen > 0) redisProblems.push(`sync request list of ${service} still holds ${syncLen} request(s) nobody waits for`);
    }
    redisSummary = counts.join('; ');
  } catch (err) {
    redisProblems.push(`Redis could not be read: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  checks.push(check('Redis holds no leftover queue entries or sync requests', redisProblems, redisSummary));

  // --- 5. processes: idle, threads back, memory settled -------------------------------------------
  const live = stack.live();
  const cpuBefore = new Map(
    live.map((p) => [p.pid, { total: cpuSeconds(p.pid), threads: threadCpu(p.pid), count: threadIds(p.pid).length }]),
  );
  await sleep(3000);
  const idleProblems: string[] = [];
  const threadProblems: string[] = [];
  const memoryProblems: string[] = [];
  const procLines: string[] = [];
  // A process started during the load (a replacement) is measured against the warm-up value
  // of the processes of its role: it started small, before any work.
  const roleBaseline = new Map<string, number>();
  for (const p of stack.history)
    if (p.rssBaseline !== undefined) roleBaseline.set(p.role, Math.max(roleBaseline.get(p.role) ?? 0, p.rssBaseline));
  const baselineOf = (p: (typeof live)[number]) => p.rssBaseline ?? roleBaseline.get(p.role) ?? p.rssStart ?? NaN;
  for (const p of live) {
    const before = cpuBefore.get(p.pid)!;
    const after = cpuSeconds(p.pid);
    const cpu = after !== undefined && before.total !== undefined ? after - before.total : NaN;
    const count = threadIds(p.pid).length;
    const threadsNow = threadCpu(p.pid);
    const busy: string[] = [];
    for (const [tid, t] of threadsNow) {
      const was = before.threads.get(tid);
      const d = t.cpu - (was?.cpu ?? 0);
      if (d >= 0.05) busy.push(`${t.name}[${tid}] ${d.toFixed(2)} s`);
    }
    const rssEnd = rssMiB(p.pid) ?? NaN;
    const base = baselineOf(p);
    const baseWhat =
      p.rssBaseline !== undefined ? 'after warm-up' : `warm-up value of its role; ${p.rssStart?.toFixed(0)} MiB when it started`;
    procLines.push(
      `${p.name} (pid ${p.pid}): CPU ${cpu.toFixed(2)} s in 3 s, threads ${before.count}→${count} (at start ${p.threadsStart ?? '?'}), RSS ${base.toFixed(0)} MiB (${baseWhat}) → peak ${(p.rssPeak ?? NaN).toFixed(0)} → ${rssEnd.toFixed(0)} MiB at the end`,
    );
    if (p.role === 'worker') {
      if (!(cpu < 0.2)) {
        const abortedWithoutRedis = faults
          .filter((f) => f.kind === 'abort-without-redis' && f.jobId)
          .map((f) => `${f.jobId} at ${stack.since(f.startedAt)}`);
        idleProblems.push(
          `${p.name} (pid ${p.pid}) used ${cpu.toFixed(2)} s of CPU in 3 s after settling${busy.length ? `; busy threads: ${busy.join(', ')}` : ''}` +
            (abortedWithoutRedis.length
              ? `; every job is final, but a job was ABORTED while Redis was away (${abortedWithoutRedis.join(', ')}): its work still runs?`
              : ''),
        );
      }
      if (count !== before.count)
        threadProblems.push(`${p.name} (pid ${p.pid}): thread count not steady, ${before.count} → ${count} in 3 s`);
      const bound = (p.threadsStart ?? count) + input.workerConcurrency + 2;
      if (count > bound)
        threadProblems.push(
          `${p.name} (pid ${p.pid}): ${count} threads, more than ${bound} (${p.threadsStart} at start + WORKER_CONCURRENCY ${input.workerConcurrency} idle pool threads + 2)`,
        );
    }
    if (rssEnd > 3 * base || rssEnd - base > 300)
      memoryProblems.push(`${p.name} (pid ${p.pid}): RSS ${base.toFixed(0)} MiB (${baseWhat}) → ${rssEnd.toFixed(0)} MiB at the end`);
  }
  checks.push(
    check(
      'workers idle after settling (< 0.2 s CPU in 3 s)',
      idleProblems,
      procLines
        .filter((l) => l.startsWith('worker'))
        .map((l) => l.replace(/, threads.*/, ''))
        .join('; '),
    ),
  );
  checks.push(
    check(
      'worker threads back to a small steady number',
      threadProblems,
      procLines
        .filter((l) => l.startsWith('worker'))
        .map((l) => l.replace(/^([^:]+):.*threads ([^,]+).*$/, '$1 threads $2'))
        .join('; '),
    ),
  );
  checks.push(
    check(
      'memory settled (RSS < 3× and < +300 MiB of its warm-up value)',
      memoryProblems,
      live.map((p) => `${p.name} ${baselineOf(p).toFixed(0)}→${(rssMiB(p.pid) ?? NaN).toFixed(0)} MiB`).join(', '),
    ),
  );
  notes.push(...procLines.map((l) => `process ${l}`));

  // --- 6. sync requests ---------------------------------------------------------------------------
  const syncProblems: string[] = [];
  const byStatus = new Tally();
  for (const s of load.sync) {
    const label = typeof s.outcome === 'number' ? String(s.outcome) : s.outcome;
    const during = stack.apiWasDown(s.at) ? ' (api restart)' : redisWasDown(s.at) ? ' (Redis down)' : '';
    byStatus.add(`${label}${during}`);
    const what = `${s.method} ${s.recipe.name} at ${stack.since(s.at)} (${s.ms} ms)`;
    if (s.outcome === 'timeout') syncProblems.push(`${what}: no answer within the client's ${Math.round(s.ms / 1000)} s: a hang`);
    else if (s.outcome === 'refused' || s.outcome === 'reset' || s.outcome === 'other') {
      if (!stack.apiWasDown(s.at) && !stack.apiWasDown(s.at + s.ms)) syncProblems.push(`${what}: ${s.message} outside an api restart`);
    } else if (s.outcome === 200 || s.outcome === 204) {
      if (!s.sameBytes)
        syncProblems.push(
          `${what}: HTTP ${s.outcome} with bytes that differ from the reference (HTTP ${reference.sync.get(s.recipe.name)?.status})`,
        );
    } else if (s.outcome === 400) {
      if (s.recipe.expect !== 400) syncProblems.push(`${what}: HTTP 400 where the reference answered ${s.recipe.expect}: ${s.message}`);
    } else if (s.outcome !== 503) {
      syncProblems.push(`${what}: HTTP ${s.outcome}: ${s.message}`);
    }
  }
  const s503 = new Tally();
  for (const s of load.sync)
    if (s.outcome === 503)
      s503.add(
        (s.message ?? '')
          .replace(/\d+/g, 'N')
          .replace(/^ServiceUnavailable: /, '')
          .slice(0, 110),
      );
  if (s503.total) notes.push(`sync 503 reasons: ${s503}`);
  const slowest = [...load.sync]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((s) => `${s.recipe.name} ${s.ms} ms → ${s.outcome} at ${stack.since(s.at)}`);
  if (slowest.length) notes.push(`slowest sync requests: ${slowest.join('; ')}`);
  checks.push(
    check(
      'every sync request answered (200/204 with the reference bytes, or a clean error), none hung',
      syncProblems,
      `${load.sync.length} sync requests: ${byStatus}`,
    ),
  );

  // --- 7. the job protocol's requests -------------------------------------------------------------
  const requestProblems: string[] = [];
  const classify = (list: Issue[]) => {
    for (const i of list) {
      const expected = (i.kind === 'refused' || i.kind === 'reset') && stack.apiWasDown(i.at);
      if (!expected) requestProblems.push(`${i.what} at ${stack.since(i.at)}: ${i.detail}`);
    }
  };
  classify(load.issues);
  classify(load.creationFailures);
  if (load.waitMaxMs > 5000 + 5000) requestProblems.push(`a WAIT=5 read took ${load.waitMaxMs} ms`);
  const issueKinds = new Tally();
  for (const i of [...load.issues, ...load.creationFailures]) issueKinds.add(`${i.kind}${stack.apiWasDown(i.at) ? ' (api restart)' : ''}`);
  checks.push(
    check(
      'UWS requests answered (no hang, no 5xx, connection errors only during an api restart)',
      requestProblems,
      `${load.requests} requests, ${load.waitReads} WAIT reads (longest ${load.waitMaxMs} ms); failed: ${issueKinds}`,
    ),
  );

  // --- 8. processes ended only by faults, faults went as planned, no fatal log lines ---------------
  const processProblems: string[] = [];
  for (const e of stack.events) if (e.kind === 'unexpected-exit') processProblems.push(`${stack.since(e.at)}: ${e.text}`);
  for (const f of faults) if (f.problem) processProblems.push(`${stack.since(f.startedAt)} ${f.kind}: ${f.problem}`);
  const logErrors = new Tally();
  const reconnectProblems: string[] = [];
  const connectionCounts: string[] = [];
  let reconnections = 0;
  for (const p of stack.history) {
    if (!p.log || p.role === 'redis') continue;
    /** Per connection name: connections lost and not (yet) restored, from the 'redis connection …' lines. */
    const down = new Map<string, number>();
    let text = '';
    try {
      text = fs.readFileSync(p.log, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: { level?: number; msg?: string; message?: string; err?: { message?: string } } | undefined;
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        if (/Error|FATAL|uncaught|Unhandled/i.test(line)) logErrors.add(`${p.role} (not JSON): ${line.slice(0, 140)}`);
        continue;
      }
      const connection = (entry as { connection?: string } | undefined)?.connection;
      if (connection && entry?.msg === 'redis connection lost') down.set(connection, (down.get(connection) ?? 0) + 1);
      if (connection && (entry?.msg === 'redis connection restored' || entry?.msg === 'redis connection dropped and restored')) {
        reconnections++;
        if (entry.msg === 'redis connection restored') down.set(connection, Math.max(0, (down.get(connection) ?? 0) - 1));
      }
      if ((entry?.level ?? 0) >= 60) processProblems.push(`${p.name} logged fatal: ${entry?.msg} ${entry?.err?.message ?? ''}`.trim());
      else if ((entry?.level ?? 0) >= 50) {
        const detail = entry?.err?.message ?? entry?.message;
        logErrors.add(`${p.role}: ${entry?.msg}${detail ? `: ${detail.replace(/[a-z2-7]{16}/g, '<id>').slice(0, 140)}` : ''}`);
      }
    }
    if (!p.exit) {
      // 'redis' is also the name of each processor thread's own connection (sync replies),
      // which ends with its thread: judged by the count of connections below instead.
      for (const [connection, n] of down)
        if (n > 0 && connection !== 'redis')
          reconnectProblems.push(`${p.name} (pid ${p.pid}): ${n} '${connection}' connection(s) lost and never restored (see ${p.log})`);
      const now = tcpConnectionsTo(p.pid, stack.redisPort);
      connectionCounts.push(`${p.name} ${p.redisConnsStart ?? '?'}→${now ?? '?'}`);
      if (now !== undefined && p.redisConnsStart !== undefined && now < p.redisConnsStart) {
        reconnectProblems.push(
          `${p.name} (pid ${p.pid}) holds ${now} connection(s) to Redis, ${p.redisConnsStart} when it started${
            [...down].some(([, n]) => n > 0)
              ? `; its log has ${[...down]
                  .filter(([, n]) => n > 0)
                  .map(([c, n]) => `${n} '${c}'`)
                  .join(', ')} lost and not restored`
              : ''
          }`,
        );
      }
    }
  }
  if (logErrors.total)
    notes.push(
      `error lines in the logs: ${[...logErrors.counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([k, v]) => `${v}× ${k}`)
        .join(' | ')}`,
    );
  checks.push(
    check('no process died or logged fatal except by a fault', processProblems, `${stack.history.length} processes started in all`),
  );
  checks.push(
    check(
      'every Redis connection of the live processes came back by itself',
      reconnectProblems,
      `${reconnections} reconnection(s) logged; connections to Redis at start→end: ${connectionCounts.join(', ')}`,
    ),
  );

  return { checks, notes, phases, lost: lost.size, settleMs, unknownJobs: unknown.length };
}
