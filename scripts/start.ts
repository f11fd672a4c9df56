/**
 * `npm start`: everything on one machine. Starts a private redis-server (append-only file
 * under var/redis) unless REDIS_URL is given, brings the job store up to date, generates and
 * ingests the demo data set when the FITS repository (DATA_DIR) is empty, then runs
 * the api and WORKERS worker processes (default: one per core). Ctrl-C / SIGTERM stops the
 * workers (running jobs finish or are released), the api, and the private Redis last.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configEnv, ConfigError, loadConfig, type Config } from '../shared/config';
import { createLogger } from '../shared/log';
import { findExecutable, REDIS_MISSING, startRedisServer, type RedisServer } from '../shared/redis/server';
import { JobStore } from '../shared/uws/store';

const log = createLogger('start');

function launch(script: string, config: Config, name: string): ChildProcess {
  const child = fork(path.join(__dirname, '..', script), [], {
    env: { ...process.env, ...configEnv(config), PORT: String(config.port), HOST: config.host, WORKERS: String(config.workers) },
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => log.info({ name, code, signal }, 'process exited'));
  return child;
}

/** No FITS file under DATA_DIR (missing counts as empty). */
function repositoryIsEmpty(dir: string): boolean {
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) stack.push(path.join(current, entry.name));
      else if (/\.fits?$/i.test(entry.name)) return false;
    }
  }
  return true;
}

async function runToCompletion(script: string, config: Config): Promise<void> {
  const child = fork(path.join(__dirname, '..', script), [], { env: { ...process.env, ...configEnv(config) }, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`${script} failed with exit code ${code}`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : String(err));
    process.exit(2);
  }
  let redis: RedisServer | undefined;
  if (!config.redisUrl) {
    if (!findExecutable('redis-server')) {
      console.error(REDIS_MISSING);
      process.exit(1);
    }
    redis = await startRedisServer({ dir: path.join(config.varDir, 'redis'), appendOnly: true, ownProcessGroup: true });
    config.redisUrl = redis.url;
    log.info({ url: redis.url }, 'private redis-server started');
  }
  const store = await JobStore.open(config.databaseUrl);
  await store.close();
  if (repositoryIsEmpty(config.dataDir)) {
    log.info({ dataDir: config.dataDir }, 'FITS repository is empty: generating and ingesting the demo data set');
    await runToCompletion('scripts/demo-data.js', config);
  }

  const workers: ChildProcess[] = [];
  let api: ChildProcess | undefined;
  let stopping = false;
  /** Runs a process and replaces it if it dies (a dead worker's job is retried through the
   * queue's stall check; the api's state is all in the store and Redis). */
  const supervise = (script: string, name: string, started: (child: ChildProcess) => void) => {
    const child = launch(script, config, name);
    started(child);
    child.once('exit', (code) => {
      if (!stopping && code !== 0) setTimeout(() => !stopping && supervise(script, name, started), 1000);
    });
  };
  supervise('api/main.js', 'api', (child) => (api = child));
  for (let i = 0; i < config.workers; i++) supervise('worker/main.js', `worker-${i}`, (child) => (workers[i] = child));

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: workers, api, then redis');
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    api?.kill('SIGTERM');
    if (api) await exited(api);
    await redis?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  log.info({ port: config.port, workers: config.workers }, 'started');
}

void main().catch((err: unknown) => {
  log.fatal({ err }, 'start failed');
  process.exit(1);
});
