/**
 * UWS engine benchmark: job creations per second over HTTP, full create→COMPLETED
 * lifecycles per second of no-op jobs, and WAIT notification latency (from the worker
 * finishing the job to the blocked client's answer). Runs its own redis-server, the api
 * process and WORKERS worker processes, as `npm start` does.
 * Targets (2 cores): ≥ 3,000 creates/s, ≥ 1,500 lifecycles/s, WAIT p50 ≤ 3 ms, p99 ≤ 15 ms.
 */
import path from 'node:path';
import { channels, connectRedis } from '../shared/redis';
import { PROJECT_ROOT } from '../shared/runtime';
import { machineLine, summary } from './machine';
import { cpuMeter, pool, request, startBenchStack } from './stack';

export async function benchUws(): Promise<void> {
  const stack = await startBenchStack('uws', { SERVICE_MODULES: path.join(PROJECT_ROOT, 'dist/test/fixtures/services.js') });
  const { port, config, redis, processes } = stack;
  try {
    console.log(machineLine());
    console.log(
      `uws: api 1 process, ${stack.workers} worker process(es) × concurrency ${config.workerConcurrency}, job store SQLite (WAL), redis-server with AOF`,
    );

    // Warm up connections, JIT and the thread pools.
    await pool(500, 16, () => request(port, 'POST', '/api/fixture/async', 'MODE=noop&PHASE=RUN'));

    // 1. Creations per second (PENDING jobs: store insert + 303).
    const creates = Number(process.env.BENCH_CREATES ?? 20000);
    let meter = cpuMeter(processes);
    let t0 = performance.now();
    await pool(creates, 32, async () => {
      const r = await request(port, 'POST', '/api/fixture/async', 'MODE=noop&RUNID=bench');
      if (r.status !== 303) throw new Error(`create answered ${r.status}: ${r.text}`);
    });
    const createRate = creates / ((performance.now() - t0) / 1000);
    console.log(`uws creates: ${Math.round(createRate)} jobs/s (${creates} POSTs, 32 concurrent)  [target ≥ 3000]`);
    console.log(`  ${meter(creates)}`);

    // 2. Lifecycles per second: create with PHASE=RUN → worker → COMPLETED (counted from
    //    the phase events every api process also listens to).
    const subscriber = connectRedis(redis.url);
    const completed = new Set<string>();
    let allDone: (() => void) | undefined;
    const lifecycles = Number(process.env.BENCH_LIFECYCLES ?? 10000);
    await subscriber.subscribe(channels(config.queuePrefix).phase);
    const ids: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => {
      if (message.endsWith(' COMPLETED')) {
        completed.add(message.slice(0, message.indexOf(' ')));
        if (completed.size >= lifecycles && allDone) allDone();
      }
    });
    const done = new Promise<void>((resolve) => (allDone = resolve));
    meter = cpuMeter(processes);
    t0 = performance.now();
    await pool(lifecycles, 32, async (i) => {
      const r = await request(port, 'POST', '/api/fixture/async', 'MODE=noop&PHASE=RUN');
      if (r.status !== 303) throw new Error(`create answered ${r.status}`);
      ids[i] = r.location!.slice(r.location!.lastIndexOf('/') + 1);
    });
    const createdAt = performance.now();
    await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${completed.size} of ${lifecycles} completed`)), 120000)),
    ]);
    const lifeSeconds = (performance.now() - t0) / 1000;
    const missing = ids.filter((id) => !completed.has(id)).length;
    console.log(
      `uws lifecycles: ${Math.round(lifecycles / lifeSeconds)} jobs/s create→COMPLETED (${lifecycles} no-op jobs in ${lifeSeconds.toFixed(2)} s; ` +
        `all submitted after ${((createdAt - t0) / 1000).toFixed(2)} s; ${missing} not completed)  [target ≥ 1500]`,
    );
    console.log(`  ${meter(lifecycles)}`);
    await subscriber.quit();

    // 3. WAIT latency: a blocked GET ?WAIT=-1 on an EXECUTING job; latency = answer time −
    //    the job's endTime (the worker's completion time; same clock, ms resolution).
    const latencies: number[] = [];
    await pool(400, 4, async () => {
      const created = await request(port, 'POST', '/api/fixture/async', 'MODE=sleep&SECONDS=0.03&PHASE=RUN');
      const jobPath = new URL(created.location!).pathname;
      for (;;) {
        const reply = await request(port, 'GET', `${jobPath}?WAIT=-1`);
        const answered = Date.now();
        const phase = /<uws:phase>(\w+)</.exec(reply.text)?.[1];
        if (phase === 'COMPLETED') {
          const end = Date.parse(/<uws:endTime>([^<]+)</.exec(reply.text)![1]!);
          latencies.push(answered - end);
          return;
        }
        if (phase !== 'QUEUED' && phase !== 'EXECUTING') throw new Error(`job ended ${phase}`);
      }
    });
    console.log(
      `uws WAIT latency (worker completion → blocked client answered): ${summary(latencies, 1)}  [target p50 ≤ 3 ms, p99 ≤ 15 ms]`,
    );

    // 4. Requests about a job cost the same however many results it has (results are rows of
    //    their own): /phase and one result of a 10,000-result job against a 1-result job.
    const jobWith = async (count: number) => {
      const created = await request(port, 'POST', '/api/fixture/async', `MODE=many&COUNT=${count}&PHASE=RUN`);
      const jobPath = new URL(created.location!).pathname;
      for (let i = 0; i < 100; i++) {
        if (/<uws:phase>COMPLETED</.test((await request(port, 'GET', `${jobPath}?WAIT=5`)).text)) return jobPath;
      }
      throw new Error(`job of ${count} results did not complete`);
    };
    const timeGets = async (target: string, n = 500) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const reply = await request(port, 'GET', target);
        times.push(performance.now() - t);
        if (reply.status !== 200) throw new Error(`${target} answered ${reply.status}`);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    };
    const big = await jobWith(10000);
    const small = await jobWith(1);
    const [bigPhase, smallPhase] = [await timeGets(`${big}/phase`), await timeGets(`${small}/phase`)];
    const [bigResult, smallResult] = [await timeGets(`${big}/results/r-5000`), await timeGets(`${small}/results/r-1`)];
    console.log(
      `uws per-job request cost, p50 (10,000 results vs 1): /phase ${bigPhase.toFixed(2)} vs ${smallPhase.toFixed(2)} ms (×${(bigPhase / smallPhase).toFixed(2)}), ` +
        `/results/<id> ${bigResult.toFixed(2)} vs ${smallResult.toFixed(2)} ms (×${(bigResult / smallResult).toFixed(2)})  [target ×1]`,
    );
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  benchUws().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
