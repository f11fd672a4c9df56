/**
 * What the service benchmarks share: a whole system as `npm start` runs it (own redis-server,
 * the api process, worker processes, from dist/), a keep-alive HTTP client, a bounded
 * concurrent loop, and per-process CPU accounting.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { configEnv, loadConfig, type Config } from '../shared/config';
import { freePort, startRedisServer, type RedisServer } from '../shared/redis/server';
import { PROJECT_ROOT } from '../shared/runtime';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface BenchReply {
  status: number;
  location?: string;
  contentType?: string;
  text: string;
  bytes: number;
}

export function request(port: number, method: string, urlPath: string, body?: string, keepText = true): Promise<BenchReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keepText) chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString(),
            bytes,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
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
export function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at USER_HZ=100
  } catch {
    return NaN;
  }
}

/** Resident memory of a process, MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/** CPU per job of each process during a phase of the benchmark, e.g. "api 210 µs, …". */
export function cpuMeter(processes: ReadonlyArray<[string, number]>): (jobs: number) => string {
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

export interface BenchStack {
  port: number;
  config: Config;
  redis: RedisServer;
  /** [name, pid] of redis, the api and the workers, for cpuMeter. */
  processes: [string, number][];
  workers: number;
  /** The ports of the api processes started besides the first (StackOptions.moreApis), in order. */
  morePorts: number[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** More api processes on the same Redis and workers, each with these variables over the stack's (e.g. SYNC_LINES=0). */
  moreApis?: Record<string, string>[];
}

/** Starts redis-server (AOF), the api and WORKERS (default: cores) worker processes. */
export async function startBenchStack(name: string, env: Record<string, string> = {}, options: StackOptions = {}): Promise<BenchStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
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
    UWS_RECONCILE_INTERVAL: '3600',
    ...env,
  });
  const childEnv = {
    ...process.env,
    ...configEnv(config),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    await redis.stop();
    agent.destroy();
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  };
  const start = async (script: string, ready: string, extra: Record<string, string> = {}) => {
    const child = fork(path.join(PROJECT_ROOT, script), [], { env: { ...childEnv, ...extra }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.push(child);
    if (process.env.BENCH_LOG) {
      const log = fs.createWriteStream(`${process.env.BENCH_LOG}.${children.length}`);
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    await waitForMessage(child, (s) => s.includes(ready), script);
  };
  const morePorts: number[] = [];
  try {
    await start('dist/api/main.js', 'api listening');
    for (let i = 0; i < workers; i++) await start('dist/worker/main.js', 'worker ready');
    for (const extra of options.moreApis ?? []) {
      morePorts.push(await freePort());
      await start('dist/api/main.js', 'api listening', { ...extra, PORT: String(morePorts.at(-1)) });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const processes: [string, number][] = [
    ['redis', redis.process.pid!],
    ...children.map((c, i): [string, number] => [i === 0 ? 'api' : i <= workers ? `worker${i}` : `api${i - workers + 1}`, c.pid!]),
  ];
  return { port, config, redis, processes, workers, morePorts, stop };
}
