/**
 * A whole system for a test: its own redis-server on a free port, temp dirs, the job store
 * (SQLite file, or PostgreSQL), the api in this process on 127.0.0.1, and worker processes
 * as real children (so a test can kill one). Nothing here is a mock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiServer } from '../../api/server';
import { configEnv, loadConfig, type Config } from '../../shared/config';
import { createLogger } from '../../shared/log';
import { startRedisServer, type RedisServer } from '../../shared/redis/server';
import { PROJECT_ROOT } from '../../shared/runtime';
import { loadServices } from '../../shared/services';
import { services as fixtureServices } from '../fixtures/services';

export const FIXTURE_SERVICES_MODULE = path.join(PROJECT_ROOT, 'dist/test/fixtures/services.js');

export interface WorkerProcess {
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StackOptions {
  env?: Record<string, string>;
  workers?: number;
  redis?: RedisServer;
  dir?: string;
}

export class TestStack {
  readonly workers: WorkerProcess[] = [];
  api: ApiServer | undefined;

  private constructor(
    readonly dir: string,
    readonly redis: RedisServer,
    readonly config: Config,
    private readonly ownsRedis: boolean,
  ) {}

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'uws-test-'));
    const redis = options.redis ?? (await startRedisServer({ dir: path.join(dir, 'redis') }));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      VAR_DIR: dir,
      REDIS_URL: redis.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SERVICE_MODULES: FIXTURE_SERVICES_MODULE,
      WORKER_CONCURRENCY: '4',
      UWS_LOCK_MS: '2000',
      UWS_STALLED_INTERVAL_MS: '500',
      ...options.env,
    });
    const stack = new TestStack(dir, redis, config, !options.redis);
    await stack.startApi();
    for (let i = 0; i < (options.workers ?? 1); i++) await stack.startWorker();
    return stack;
  }

  get url(): string {
    if (!this.api) throw new Error('api not running');
    return this.api.url;
  }

  async startApi(): Promise<ApiServer> {
    // The api runs from the TypeScript sources; the fixture services come from the source
    // module (their processor path is mapped to dist/ for the worker threads).
    this.api = await ApiServer.start({
      config: { ...this.config, serviceModules: [] },
      services: loadServices({ serviceModules: [] }, fixtureServices),
      log: createLogger('api', this.config.logLevel),
    });
    return this.api;
  }

  async stopApi(): Promise<void> {
    await this.api?.close();
    this.api = undefined;
  }

  async startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    const child = fork(path.join(PROJECT_ROOT, 'dist/worker/main.js'), [], {
      env: { ...process.env, ...configEnv(this.config), ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start in 20 s')), 20000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited at start with ${code}`)));
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker: WorkerProcess = {
      child,
      stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exit;
      },
    };
    this.workers.push(worker);
    return worker;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop('SIGKILL')));
    await this.stopApi();
    if (this.ownsRedis) await this.redis.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
