/**
 * UWS engine benchmark: job creations per second over HTTP, full create→COMPLETED
 * lifecycles per second of no-op jobs, and WAIT notification latency (from the worker
 * finishing the job to the blocked client's answer). Runs its own redis-server, the api
 * process and WORKERS worker processes, as `npm start` does.
 * Targets (2 cores): ≥ 3,000 creates/s, ≥ 1,500 lifecycles/s, WAIT p50 ≤ 3 ms, p99 ≤ 15 ms.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { configEnv, loadConfig } from '../shared/config';
import { channels, connectRedis } from '../shared/redis';
import { freePort, startRedisServer } from '../shared/redis/server';
import { PROJECT_ROOT } from '../shared/runtime';
import { machineLine, summary } from './machine';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, agent, headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** CPU time (user + system, ms) a process has used, from /proc (Linux). */
function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ=100
  } catch {
    return NaN;
  }
}

/** CPU per job of each process during a phase of the benchmark, e.g. "api 210 µs, …". */
function cpuMeter(processes: ReadonlyArray<[string, number]>): (jobs: number) => string {
  const before = processes.map(([, pid]) => cpuMs(pid));
  const self = process.cpuUsage();
  return (jobs: number) => {
    const parts = processes.map(([name, pid], i) => `${name} ${Math.round(((cpuMs(pid) - before[i]!) * 1000) / jobs)}`);
    const client = process.cpuUsage(self);
    parts.push(`client ${Math.round((client.user + client.system) / jobs)}`);
    return `CPU µs/job: ${parts.join(', ')}`;
  };
}

function waitForMessage(child: ChildProcess, predicate: (line: string) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 30000);
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      if (predicate(buffer)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

export async function benchUws(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-uws-'));
  const redis = await startRedisServer({ dir: path.join(dir, 'redis'), appendOnly: true });
  const port = await freePort();
  const workers = Number(process.env.WORKERS ?? os.cpus().length);
  const config = loadConfig({
    ...process.env,
    VAR_DIR: dir,
    REDIS_URL: redis.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SERVICE_MODULES: path.join(PROJECT_ROOT, 'dist/test/fixtures/services.js'),
    UWS_RECONCILE_INTERVAL: '3600',
  });
  const env = { ...process.env, ...configEnv(config), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' };
  const children: ChildProcess[] = [];
  const start = async (script: string, ready: string) => {
    const child = fork(path.join(PROJECT_ROOT, script), [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.push(child);
    if (process.env.BENCH_LOG) {
      const log = fs.createWriteStream(`${process.env.BENCH_LOG}.${children.length}`);
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    await waitForMessage(child, (s) => s.includes(ready), script);
  };
  try {
    await start('dist/api/main.js', 'api listening');
    for (let i = 0; i < workers; i++) await start('dist/worker/main.js', 'worker ready');
    console.log(machineLine());
    console.log(`uws: api 1 process, ${workers} worker process(es) × concurrency ${config.workerConcurrency}, job store SQLite (WAL), redis-server with AOF`);

    const processes: [string, number][] = [
      ['redis', redis.process.pid!],
      ...children.map((c, i): [string, number] => [i === 0 ? 'api' : `worker${i}`, c.pid!]),
    ];

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
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${completed.size} of ${lifecycles} completed`)), 120000))]);
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
    console.log(`uws WAIT latency (worker completion → blocked client answered): ${summary(latencies, 1)}  [target p50 ≤ 3 ms, p99 ≤ 15 ms]`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await redis.stop();
    agent.destroy();
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

if (require.main === module) {
  benchUws().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
