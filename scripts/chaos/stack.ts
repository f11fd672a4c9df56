/**
 * The system under test, as `npm start` runs it but with every process in reach: a private
 * redis-server (append-only file) on a free loopback port, the api (dist/api/main.js) and
 * worker processes (dist/worker/main.js) as child processes, each logging to a file of its
 * own. Faults are made here: SIGKILL/SIGSTOP of a worker, SIGKILL of Redis and a restart on
 * the same port and data directory, SIGTERM of the api and a restart on the same port.
 * A process that exits when no fault asked it to is recorded (a failure of the run) and
 * replaced, as `npm start` would.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configEnv, loadConfig, type Config } from '../../shared/config';
import { freePort, startRedisServer, type RedisServer } from '../../shared/redis/server';
import { PROJECT_ROOT } from '../../shared/runtime';
import { request } from './http';
import { rssMiB, sleep, tcpConnectionsTo, threadIds } from './util';

export type Role = 'api' | 'worker' | 'redis';

export interface Proc {
  name: string;
  role: Role;
  pid: number;
  child: ChildProcess;
  startedAt: number;
  log?: string;
  /** Set before a fault ends it: its exit is no failure. */
  expectedExit: boolean;
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  exited: Promise<void>;
  /** RSS (MiB) when it was ready, and at the end of the warm-up (or when it started, if later). */
  rssStart?: number;
  rssBaseline?: number;
  /** Threads when it was ready. */
  threadsStart?: number;
  /** Largest RSS sampled while it ran (MiB). */
  rssPeak?: number;
  /** Established connections to Redis when it was ready (api, workers). */
  redisConnsStart?: number;
}

export interface StackEvent {
  at: number;
  kind: 'fault' | 'unexpected-exit' | 'note';
  text: string;
}

export interface ChaosStackOptions {
  dir: string;
  workers: number;
  /** Variables given to loadConfig (over the suite's own). */
  env: Record<string, string>;
}

/** Variables a child must not inherit from this shell: the stack's own configuration decides. */
const CONFIG_NAMES = ['PORT', 'HOST', 'PUBLIC_URL', 'REDIS_URL', 'AUTH_TOKENS', 'WORKERS', 'SERVICE_MODULES', 'DATABASE_URL'];

/** SIGTERM (an expected exit), then SIGKILL if the process is still there after `graceMs`; whether it stopped by itself. */
async function terminate(proc: Proc, graceMs: number): Promise<boolean> {
  proc.expectedExit = true;
  proc.child.kill('SIGTERM');
  const stopped = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  return stopped;
}

export class ChaosStack {
  readonly history: Proc[] = [];
  /** When no api was serving: from its SIGTERM (or death) until the next one answered. */
  readonly apiDown: { from: number; to?: number }[] = [];
  readonly events: StackEvent[] = [];
  readonly workers: Proc[] = [];
  api: Proc | undefined;
  redisProc!: Proc;
  private redis!: RedisServer;
  private counter = new Map<Role, number>();
  private stopping = false;
  /** Restarts of processes that died by themselves, in flight. */
  private replacing: Promise<unknown>[] = [];
  readonly t0 = Date.now();

  private constructor(
    readonly dir: string,
    readonly config: Config,
    readonly port: number,
    readonly redisPort: number,
    private readonly childEnv: NodeJS.ProcessEnv,
  ) {}

  get redisDir(): string {
    return path.join(this.dir, 'redis');
  }

  get logDir(): string {
    return path.join(this.dir, 'logs');
  }

  static async start(options: ChaosStackOptions): Promise<ChaosStack> {
    const port = await freePort();
    const redisPort = await freePort();
    const config = loadConfig({
      VAR_DIR: options.dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      LOG_LEVEL: 'info',
      ...options.env,
    });
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [...CONFIG_NAMES, ...Object.keys(configEnv(config))]) delete inherited[name];
    const childEnv = { ...inherited, ...configEnv(config), PORT: String(port), HOST: '127.0.0.1' };
    const stack = new ChaosStack(options.dir, config, port, redisPort, childEnv);
    fs.mkdirSync(stack.logDir, { recursive: true });
    process.once('exit', () => stack.killAllSync());
    await stack.startRedis();
    await stack.startApi();
    for (let i = 0; i < options.workers; i++) await stack.startWorker();
    return stack;
  }

  /** Seconds since the stack started, for event times. */
  since(at = Date.now()): string {
    return `t+${((at - this.t0) / 1000).toFixed(1)}s`;
  }

  note(kind: StackEvent['kind'], text: string): void {
    this.events.push({ at: Date.now(), kind, text });
  }

  private nextName(role: Role): string {
    const n = (this.counter.get(role) ?? 0) + 1;
    this.counter.set(role, n);
    return `${role}-${n}`;
  }

  private track(role: Role, child: ChildProcess, log: string | undefined, name = this.nextName(role)): Proc {
    const proc: Proc = {
      name,
      role,
      pid: child.pid!,
      child,
      startedAt: Date.now(),
      log,
      expectedExit: false,
      exited: new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      }),
    };
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal, at: Date.now() };
      if (!proc.expectedExit && !this.stopping) this.onUnexpectedExit(proc);
    });
    this.history.push(proc);
    return proc;
  }

  private onUnexpectedExit(proc: Proc): void {
    if (proc.role === 'api' && this.api === proc) this.apiDown.push({ from: proc.exit?.at ?? Date.now() });
    this.note(
      'unexpected-exit',
      `${proc.name} (pid ${proc.pid}) exited by itself: code ${proc.exit?.code} signal ${proc.exit?.signal}${proc.log ? `; log ${proc.log}` : ''}`,
    );
    // Replaced as npm start would (after a second), so the run goes on with a whole stack.
    const replace = async () => {
      await sleep(1000);
      if (this.stopping) return;
      if (proc.role === 'worker') {
        const i = this.workers.indexOf(proc);
        if (i >= 0) this.workers.splice(i, 1);
        await this.startWorker();
      } else if (proc.role === 'api') {
        if (this.api === proc) await this.startApi();
      } else {
        await this.startRedis();
      }
    };
    this.replacing.push(replace().catch((err: unknown) => this.note('unexpected-exit', `replacing ${proc.name} failed: ${String(err)}`)));
  }

  private openLog(name: string): { fd: number; file: string } {
    const file = path.join(this.logDir, `${name}.log`);
    return { fd: fs.openSync(file, 'a'), file };
  }

  async startRedis(): Promise<Proc> {
    this.redis = await startRedisServer({ dir: this.redisDir, appendOnly: true, port: this.redisPort });
    const proc = this.track('redis', this.redis.process, path.join(this.redisDir, 'redis.log'));
    proc.rssStart = rssMiB(proc.pid);
    proc.threadsStart = threadIds(proc.pid).length;
    this.redisProc = proc;
    return proc;
  }

  async startApi(): Promise<Proc> {
    const name = this.nextName('api');
    const { fd, file } = this.openLog(name);
    const child = fork(path.join(PROJECT_ROOT, 'dist/api/main.js'), [], { env: this.childEnv, stdio: ['ignore', fd, fd, 'ipc'] });
    fs.closeSync(fd);
    const proc = this.track('api', child, file, name);
    this.api = proc;
    const deadline = Date.now() + 30000;
    for (;;) {
      if (proc.exit) throw new Error(`${proc.name} exited at start (see ${file})`);
      try {
        const reply = await request(this.port, '/api/tap/availability', { timeoutMs: 2000 });
        if (reply.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${proc.name} did not answer within 30 s (see ${file})`);
      await sleep(50);
    }
    proc.rssStart = rssMiB(proc.pid);
    proc.threadsStart = threadIds(proc.pid).length;
    proc.redisConnsStart = tcpConnectionsTo(proc.pid, this.redisPort);
    const down = this.apiDown[this.apiDown.length - 1];
    if (down && down.to === undefined) down.to = Date.now();
    return proc;
  }

  /** Whether no api was serving at `at` (with a margin: requests in flight when it stopped are cut). */
  apiWasDown(at: number, marginMs = 1500): boolean {
    return this.apiDown.some((d) => at >= d.from - 500 && at <= (d.to ?? Infinity) + marginMs);
  }

  async startWorker(): Promise<Proc> {
    const name = this.nextName('worker');
    const { fd, file } = this.openLog(name);
    const child = fork(path.join(PROJECT_ROOT, 'dist/worker/main.js'), [], { env: this.childEnv, stdio: ['ignore', fd, fd, 'ipc'] });
    fs.closeSync(fd);
    const proc = this.track('worker', child, file, name);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${proc.name} not ready within 60 s (see ${file})`)), 60000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      void proc.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${proc.name} exited at start (see ${file})`));
      });
    });
    proc.rssStart = rssMiB(proc.pid);
    proc.threadsStart = threadIds(proc.pid).length;
    proc.redisConnsStart = tcpConnectionsTo(proc.pid, this.redisPort);
    this.workers.push(proc);
    return proc;
  }

  /** Live processes (redis, api, workers). */
  live(): Proc[] {
    return this.history.filter((p) => !p.exit);
  }

  /** Samples the RSS of every live process every `ms` (peaks); returns the stop function. */
  sampleMemory(ms: number): () => void {
    const timer = setInterval(() => {
      for (const p of this.live()) {
        const rss = rssMiB(p.pid);
        if (rss !== undefined) p.rssPeak = Math.max(p.rssPeak ?? 0, rss);
      }
    }, ms);
    timer.unref();
    return () => clearInterval(timer);
  }

  // --- faults -------------------------------------------------------------------------------

  async killWorker(index: number): Promise<string> {
    const proc = this.workers[index % this.workers.length]!;
    proc.expectedExit = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
    this.workers.splice(this.workers.indexOf(proc), 1);
    const replacement = await this.startWorker();
    return `SIGKILL ${proc.name} (pid ${proc.pid}); started ${replacement.name} (pid ${replacement.pid})`;
  }

  async pauseWorker(index: number, ms: number): Promise<string> {
    const proc = this.workers[index % this.workers.length]!;
    proc.child.kill('SIGSTOP');
    await sleep(ms);
    proc.child.kill('SIGCONT');
    return `SIGSTOP ${proc.name} (pid ${proc.pid}) for ${ms} ms, then SIGCONT`;
  }

  /** SIGTERM (graceful: running jobs finish within SHUTDOWN_GRACE or are released), then a new worker. */
  async terminateWorker(index: number, graceMs: number): Promise<{ text: string; killed: boolean }> {
    const proc = this.workers[index % this.workers.length]!;
    const started = Date.now();
    const stopped = await terminate(proc, graceMs);
    const stopMs = Date.now() - started;
    this.workers.splice(this.workers.indexOf(proc), 1);
    const replacement = await this.startWorker();
    return {
      text: `SIGTERM ${proc.name} (pid ${proc.pid}): exited in ${stopMs} ms${stopped ? ` (code ${proc.exit?.code})` : ', SIGKILLed'}; started ${replacement.name} (pid ${replacement.pid})`,
      killed: !stopped,
    };
  }

  /** Redis SIGKILLed; while it is away the api is restarted (it must stop, and start, without Redis); then Redis comes back. */
  async restartApiWithoutRedis(downMs: number, graceMs: number): Promise<{ text: string; killed: boolean }> {
    const proc = this.redisProc;
    proc.expectedExit = true;
    const started = Date.now();
    proc.child.kill('SIGKILL');
    await proc.exited;
    await sleep(1000);
    const api = await this.restartApi(graceMs);
    const left = downMs - (Date.now() - started);
    if (left > 0) await sleep(left);
    const next = await this.startRedis();
    return {
      text: `SIGKILL ${proc.name} (pid ${proc.pid}); with Redis away: ${api.text}; ${next.name} (pid ${next.pid}) after ${Date.now() - started} ms`,
      killed: api.killed,
    };
  }

  async killRedis(downMs: number): Promise<string> {
    const proc = this.redisProc;
    proc.expectedExit = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
    await sleep(downMs);
    const started = Date.now();
    const next = await this.startRedis();
    return `SIGKILL ${proc.name} (pid ${proc.pid}); down ${downMs} ms; ${next.name} (pid ${next.pid}) on the same port and AOF, loaded in ${Date.now() - started} ms`;
  }

  /** SIGTERM, then a new api on the same port; SIGKILL if it has not stopped after `graceMs` (a failure the caller reports). */
  async restartApi(graceMs: number): Promise<{ text: string; stopMs: number; killed: boolean }> {
    const proc = this.api!;
    const started = Date.now();
    this.apiDown.push({ from: started });
    const stopped = await terminate(proc, graceMs);
    const stopMs = Date.now() - started;
    const next = await this.startApi();
    const text = `SIGTERM ${proc.name} (pid ${proc.pid}): exited in ${stopMs} ms${stopped ? ` (code ${proc.exit?.code})` : ', SIGKILLed'}; ${next.name} (pid ${next.pid}) on the same port ready after ${Date.now() - started} ms`;
    return { text, stopMs, killed: !stopped };
  }

  /** Waits for replacements of processes that died by themselves. */
  async settled(): Promise<void> {
    while (this.replacing.length) await this.replacing.shift();
  }

  private killAllSync(): void {
    for (const p of this.history) {
      if (!p.exit) {
        try {
          p.child.kill('SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }

  async stop(keep: boolean): Promise<void> {
    this.stopping = true;
    await this.settled().catch(() => undefined);
    const live = this.live();
    for (const p of live) {
      p.expectedExit = true;
      p.child.kill('SIGKILL');
    }
    await Promise.all(live.map((p) => p.exited));
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
