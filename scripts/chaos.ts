/**
 * `npm run chaos`: a reliability suite (not part of `npm test`). Starts a whole stack (own
 * redis-server with an append-only file, the api and two worker processes from dist/, a tiny
 * generated demo repository ingested into an ObsCore store, two owners with Bearer tokens),
 * records a reference run of deterministic TAP and cutout work, then runs a mixed load of
 * async jobs (WAIT, ABORT, DELETE) and sync requests for a bounded time while faults are
 * injected (SIGKILL, SIGSTOP and SIGTERM of workers, SIGKILL and restart of Redis, restart of
 * the api, also while Redis is away),
 * lets the system settle and checks that nothing was lost, changed, run twice, left running
 * or left hanging. Exit code 0 when every check passes, 1 otherwise.
 *
 *   npm run chaos -- [--seconds N] [--quick] [--clients N] [--workers N] [--settle N]
 *                    [--seed N] [--faults kill-worker,pause-worker,term-worker,kill-redis,
 *                    restart-api,restart-api-without-redis,abort-without-redis]
 *                    [--no-faults] [--keep]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineLine } from '../bench/machine';
import { generateDemoRepository, type DemoOptions } from '../shared/demo';
import { ingestDirectory } from '../shared/obscore/ingest';
import { runChecks, type Report } from './chaos/checks';
import { defaultKinds, FAULT_KINDS, runFaults, type FaultKind, type FaultRecord } from './chaos/faults';
import { startLoad, type LoadResult, type Owner } from './chaos/load';
import { buildRecipes, FAULT_RECIPE, FAULT_SYNC_RECIPE, longRecipe, readDatasets } from './chaos/recipes';
import { runReference } from './chaos/reference';
import { ChaosStack } from './chaos/stack';
import { rssMiB, Tally } from './chaos/util';

/** The test suites' tiny repository (test/demo/helpers.ts TINY): 15 datasets, 2 s to generate. */
const TINY: DemoOptions = { binning: 8, patches: [17, 16], visits: 2, diffs: 1 };

interface Options {
  seconds: number;
  quick: boolean;
  clients: number;
  workers: number;
  settle: number;
  seed: number;
  faults: FaultKind[];
  keep: boolean;
}

const USAGE = `usage: npm run chaos -- [options]
  --seconds N     length of the mixed load (default 60; --quick: 20); it goes on until
                  5 s after the last fault if the faults take longer (at most 4× N)
  --quick         a short run: 20 s of load, 8 clients, five faults
  --clients N     concurrent clients (default 12; --quick: 8; at most 64)
  --workers N     worker processes (default 2)
  --settle N      seconds the system gets to settle after the load (default 60)
  --seed N        seed of the clients' choices (default 1)
  --faults LIST   comma-separated fault kinds, in order (${FAULT_KINDS.join(', ')});
                  default with --quick: kill-worker,pause-worker,kill-redis,restart-api,
                  abort-without-redis; else kill-worker,pause-worker,kill-redis,restart-api,
                  term-worker,kill-worker,restart-api-without-redis,pause-worker,
                  abort-without-redis
  --no-faults     the load without faults (a baseline)
  --keep          keep the temporary directory (logs, job store, Redis AOF); it is kept anyway when a check fails`;

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    seconds: quick ? 20 : 60,
    quick,
    clients: quick ? 8 : 12,
    workers: 2,
    settle: 60,
    seed: 1,
    faults: defaultKinds(quick),
    keep: false,
  };
  const int = (name: string, value: string | undefined, min: number, max: number): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new Error(`${name} needs an integer ${min}..${max}`);
    }
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--quick':
        break;
      case '--seconds':
        o.seconds = int(arg, argv[++i], 5, 3600);
        break;
      case '--clients':
        o.clients = int(arg, argv[++i], 1, 64);
        break;
      case '--workers':
        o.workers = int(arg, argv[++i], 1, 8);
        break;
      case '--settle':
        o.settle = int(arg, argv[++i], 5, 600);
        break;
      case '--seed':
        o.seed = int(arg, argv[++i], 0, 2 ** 31);
        break;
      case '--faults': {
        const list = (argv[++i] ?? '').split(',').filter(Boolean);
        for (const k of list)
          if (!FAULT_KINDS.includes(k as FaultKind)) throw new Error(`unknown fault ${k} (known: ${FAULT_KINDS.join(', ')})`);
        o.faults = list as FaultKind[];
        break;
      }
      case '--no-faults':
        o.faults = [];
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return o;
}

const log = (text: string) => console.log(`[chaos] ${text}`);

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const started = Date.now();
  log(machineLine());
  log(`load average at start: ${loadAverage()}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  const dataDir = path.join(dir, 'data');
  const obscoreDb = path.join(dir, 'obscore.sqlite');
  log(`working directory ${dir}`);
  await generateDemoRepository(dataDir, TINY);
  await ingestDirectory(dataDir, { obscoreDb });
  const datasets = readDatasets(obscoreDb);
  const recipes = buildRecipes(datasets);
  log(`demo repository: ${datasets.length} datasets; ${recipes.async.length} async and ${recipes.sync.length} sync recipes`);

  const owners: Owner[] = [
    { owner: 'alice', token: `chaos-a-${randomBytes(12).toString('hex')}` },
    { owner: 'bob', token: `chaos-b-${randomBytes(12).toString('hex')}` },
  ];
  const lockMs = 2000;
  const syncTimeout = 20;
  const syncQueueTimeout = 10;
  const workerConcurrency = 4;
  // Short, so that a graceful worker stop (term-worker) finds work to release.
  const shutdownGrace = 2;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    OBSCORE_DB: obscoreDb,
    AUTH_TOKENS: owners.map((o) => `${o.token}:${o.owner}`).join(','),
    SIGNING_KEY: randomBytes(32).toString('base64'),
    UWS_LOCK_MS: String(lockMs),
    UWS_STALLED_INTERVAL_MS: '500',
    UWS_RECONCILE_INTERVAL: '2',
    UWS_REAPER_INTERVAL: '5',
    WORKER_CONCURRENCY: String(workerConcurrency),
    SYNC_TIMEOUT: String(syncTimeout),
    SYNC_QUEUE_TIMEOUT: String(syncQueueTimeout),
    SHUTDOWN_GRACE: String(shutdownGrace),
    // The temporary directory's disk may be fuller than the service's default reserve.
    RESULTS_MIN_FREE_BYTES: String(16 * 2 ** 20),
  };
  // A request taken by a worker that dies is answered 503 after SYNC_TIMEOUT + 5 s; past
  // this, the client counts a hang.
  const syncClientTimeoutMs = (syncQueueTimeout + syncTimeout + 5 + 15) * 1000;

  let stack: ChaosStack | undefined;
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the stack');
    void (stack ? stack.stop(true) : Promise.resolve()).then(() => process.exit(130));
  });

  try {
    stack = await ChaosStack.start({ dir, workers: options.workers, env });
    log(
      `stack up: api on 127.0.0.1:${stack.port} (pid ${stack.api?.pid}), redis on ${stack.redisPort} (pid ${stack.redisProc.pid}), workers ${stack.workers.map((w) => w.pid).join(', ')}; ${stack.since()}`,
    );

    const refStart = Date.now();
    const apis = owners.map((o) => ({ port: stack!.port, token: o.token }));
    const { reference, problems } = await runReference(apis, recipes, syncClientTimeoutMs);
    log(
      `reference run: ${reference.async.size} async recipes × 2 and ${reference.sync.size} sync recipes × 2 in ${((Date.now() - refStart) / 1000).toFixed(1)} s`,
    );
    for (const r of recipes.async) {
      const ref = reference.async.get(r.name);
      if (ref)
        log(
          `  ${r.name}: ${ref.phase}, ${ref.results.length} result(s), ${ref.results.reduce((s, x) => s + x.size, 0)} bytes, ${ref.ms} ms`,
        );
    }
    if (problems.length) {
      for (const p of problems) log(`REFERENCE PROBLEM: ${p}`);
      log('the reference run failed: no load was run');
      await stack.stop(true);
      log(`kept ${dir}`);
      return 1;
    }
    for (const p of stack.live()) p.rssBaseline = rssMiB(p.pid);
    const stopSampling = stack.sampleMemory(1000);

    log(`load: ${options.seconds} s, ${options.clients} clients; faults: ${options.faults.join(', ') || 'none'}`);
    const loadStart = Date.now();
    let loadDone = false;
    const run = startLoad({
      port: stack.port,
      owners,
      recipes,
      reference,
      clients: options.clients,
      seconds: options.seconds,
      seed: options.seed,
      syncTimeoutMs: syncClientTimeoutMs,
    });
    const loadPromise = run.done.finally(() => (loadDone = true));
    if (options.faults.length) run.hold();
    const slower = recipes.async.find((r) => r.name === FAULT_RECIPE)!;
    const slowerSync = recipes.sync.find((r) => r.name === FAULT_SYNC_RECIPE)!;
    const faultsPromise = runFaults(
      stack,
      {
        kinds: options.faults,
        seconds: options.seconds,
        lockMs,
        redisDownMs: options.quick ? 3000 : 4000,
        apiStopGraceMs: 20000,
        workerStopGraceMs: (shutdownGrace + 10) * 1000,
        longJob: {
          api: { port: stack.port, token: owners[0]!.token },
          recipe: longRecipe(),
          adopt: (id) => run.adopt(id, longRecipe(), owners[0]!),
        },
        prime: (kind) => {
          run.inject(slower, options.workers + 1);
          // A sync request killed with its worker is answered only after SYNC_QUEUE_TIMEOUT +
          // SYNC_TIMEOUT: the load has those anyway; these go to the faults a worker survives or
          // shuts down from.
          if (kind !== 'kill-worker') run.injectSync(slowerSync, options.workers + 1);
        },
      },
      loadStart,
      () => loadDone || interrupted,
    ).finally(() => run.release());
    const [load, faults] = await Promise.all([loadPromise, faultsPromise]);
    await stack.settled();
    log(
      `load over after ${((load.endedAt - loadStart) / 1000).toFixed(1)} s: ${load.jobs.length} jobs created, ${load.sync.length} sync requests; settling (at most ${options.settle} s)`,
    );

    const report = await runChecks({
      stack,
      owners,
      recipes: recipes.async,
      syncRecipes: recipes.sync,
      reference,
      load,
      faults,
      settleSeconds: options.settle,
      workerConcurrency,
    });
    stopSampling();
    const failed = report.checks.filter((c) => !c.ok);
    printSummary(options, stack, load, faults, report, started);
    const keep = options.keep || failed.length > 0;
    await stack.stop(keep);
    if (keep) log(`kept ${dir} (logs under logs/, job store jobs.sqlite, Redis AOF under redis/)`);
    return failed.length === 0 && report.lost === 0 ? 0 : 1;
  } catch (err) {
    log(`the suite itself failed: ${(err as Error).stack ?? String(err)}`);
    await stack?.stop(true).catch(() => undefined);
    log(`kept ${dir}`);
    return 1;
  }
}

function printSummary(options: Options, stack: ChaosStack, load: LoadResult, faults: FaultRecord[], report: Report, started: number): void {
  const out: string[] = [];
  out.push('');
  out.push('================================ chaos summary ================================');
  out.push(machineLine());
  out.push(`load average now: ${loadAverage()}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  out.push(
    `load: ${options.seconds} s asked, ${((load.endedAt - load.startedAt) / 1000).toFixed(1)} s run (until the last client's request ended), ${options.clients} clients, ${options.workers} workers, seed ${options.seed}`,
  );
  out.push('faults injected:');
  if (faults.length === 0) out.push('  none');
  for (const f of faults)
    out.push(`  ${stack.since(f.startedAt)}–${stack.since(f.endedAt)} ${f.kind}: ${f.text}${f.problem ? `  [PROBLEM: ${f.problem}]` : ''}`);
  for (const e of stack.events) if (e.kind !== 'fault') out.push(`  ${stack.since(e.at)} ${e.kind}: ${e.text}`);
  const byService = new Tally();
  load.jobs.forEach((j) => byService.add(j.service));
  const byRecipe = new Tally();
  load.jobs.forEach((j) => byRecipe.add(j.recipe.name));
  out.push(
    `jobs created: ${load.jobs.length} (${byService}); creations without an answer: ${load.creationFailures.length}; unknown jobs found in the store: ${report.unknownJobs}`,
  );
  out.push(`  by recipe: ${byRecipe}`);
  out.push(`  final phases: ${report.phases}`);
  out.push(
    `  aborts answered 303: ${load.jobs.filter((j) => j.aborted).length}; deletes answered 303: ${load.jobs.filter((j) => j.deleted).length}`,
  );
  const syncStatus = new Tally();
  load.sync.forEach((s) => syncStatus.add(String(s.outcome)));
  out.push(`sync requests: ${load.sync.length}: ${syncStatus}`);
  out.push(`settled in ${(report.settleMs / 1000).toFixed(1)} s`);
  out.push(`lost: ${report.lost}`);
  out.push('checks:');
  for (const c of report.checks) {
    out.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.summary ? ` — ${c.summary}` : ''}`);
    if (!c.ok) for (const e of c.evidence) out.push(`          ${e}`);
  }
  if (report.notes.length) {
    out.push('notes:');
    for (const n of report.notes) out.push(`  - ${n}`);
  }
  const failed = report.checks.filter((c) => !c.ok);
  out.push(
    failed.length === 0 && report.lost === 0
      ? 'RESULT: PASS'
      : `RESULT: FAIL (${failed.length} check(s) failed${report.lost ? `, ${report.lost} job(s) lost` : ''})`,
  );
  for (const c of failed) out.push(`  failed: ${c.name}`);
  console.log(out.join('\n'));
}

void main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
