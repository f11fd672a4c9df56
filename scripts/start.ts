/**
 * `npm start`: everything on one machine. Starts a private redis-server (append-only file
 * under var/redis) unless REDIS_URL is given, brings the job store up to date, generates and
 * ingests the demo data set when the FITS repository (DATA_DIR) is empty, then runs
 * the api and WORKERS worker processes (default: one per core). A process that dies is
 * started again, the private Redis too (same port and directory: its append-only file keeps
 * the queues; the api and the workers reconnect by themselves). Ctrl-C / SIGTERM stops the
 * workers (running jobs finish or are released), the api, and the private Redis last; a
 * process that has not stopped in time (e.g. a worker waiting for a Redis that is gone) is
 * killed, so stopping never hangs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configEnv, ConfigError, readConfig, type Config, type EnvConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { findExecutable, REDIS_MISSING, startRedisServer, type RedisServer } from '../shared/redis/server';
import { JobStore } from '../shared/uws/store';

const log = createLogger('start');

/** Seconds past SHUTDOWN_GRACE a worker gets to release its jobs before it is killed. */
const WORKER_STOP_EXTRA_S = 3;
/** Seconds the api gets to close (WAIT requests are cut after one) before it is killed. */
const API_STOP_S = 5;
/** Pause before a dead process (or Redis) is started again, ms. */
const RESTART_DELAY_MS = 1000;

function launch(script: string, config: Config, name: string, env: Record<string, string>): ChildProcess {
  const child = fork(path.join(__dirname, '..', script), [], {
    env: { ...process.env, ...configEnv(config), PORT: String(config.port), HOST: config.host, WORKERS: String(config.workers), ...env },
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => log.info({ name, code, signal }, 'process exited'));
  return child;
}

/**
 * The workers' metrics ports, METRICS_PORT … METRICS_PORT + WORKERS − 1 on this host, must be
 * ports and must not take the api's.
 */
function checkMetricsPorts(config: EnvConfig): void {
  if (config.metricsPort === 0 || config.workers === 0) return;
  const last = config.metricsPort + config.workers - 1;
  if (last > 65535)
    throw new ConfigError(
      `METRICS_PORT=${config.metricsPort} with WORKERS=${config.workers}: the last worker's port ${last} is past 65535`,
    );
  if (config.port >= config.metricsPort && config.port <= last)
    throw new ConfigError(
      `PORT=${config.port} is among the workers' metrics ports METRICS_PORT … METRICS_PORT + WORKERS − 1 (${config.metricsPort}…${last})`,
    );
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
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if the process has not exited after `seconds`. */
async function stopWithin(child: ChildProcess, seconds: number, name: string): Promise<void> {
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), seconds * 1000)));
  if ((await Promise.race([exited(child), late])) === 'late') {
    log.warn({ name, childPid: child.pid, seconds }, 'process did not stop in time: killed');
    child.kill('SIGKILL');
    await exited(child);
  }
  clearTimeout(timer);
}

async function main(): Promise<void> {
  let given: EnvConfig;
  try {
    given = readConfig();
    checkMetricsPorts(given);
  } catch (err) {
    console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : String(err));
    process.exit(2);
  }
  let redis: RedisServer | undefined;
  let stopping = false;
  let redisUrl = given.redisUrl;
  if (!redisUrl) {
    if (!findExecutable('redis-server')) {
      console.error(REDIS_MISSING);
      process.exit(1);
    }
    const redisOptions = { dir: path.join(given.varDir, 'redis'), appendOnly: true, ownProcessGroup: true };
    redis = await startRedisServer(redisOptions);
    redisUrl = redis.url;
    log.info({ url: redis.url, redisPid: redis.process.pid }, 'private redis-server started');
    // Started again when it dies, on the same port (the url every process has) and with the
    // same directory (its append-only file holds the queue entries).
    const supervise = (server: RedisServer) => {
      server.process.once('exit', (code, signal) => {
        if (stopping) return;
        log.warn({ redisPid: server.process.pid, code, signal }, 'private redis-server exited; starting it again');
        let delay = RESTART_DELAY_MS / 2;
        const restart = () => {
          if (stopping) return;
          startRedisServer({ ...redisOptions, port: server.port }).then(
            (again) => {
              redis = again;
              if (stopping) {
                void again.stop();
                return;
              }
              log.info({ url: again.url, redisPid: again.process.pid }, 'private redis-server started again');
              supervise(again);
            },
            (err: unknown) => {
              // E.g. its port was taken meanwhile: retried, less and less often.
              delay = Math.min(delay * 2, 30000);
              log.error({ err, retryInMs: delay }, 'private redis-server did not start again; retrying');
              setTimeout(restart, delay);
            },
          );
        };
        restart(); // at once: every process is waiting for it
      });
    };
    supervise(redis);
  }
  // Every process started from here is given this Redis (configEnv: REDIS_URL).
  const config: Config = { ...given, redisUrl };
  const store = await JobStore.open(config.databaseUrl);
  await store.close();
  if (repositoryIsEmpty(config.dataDir)) {
    log.info({ dataDir: config.dataDir }, 'FITS repository is empty: generating and ingesting the demo data set');
    await runToCompletion('scripts/demo-data.js', config);
  }

  const workers: ChildProcess[] = [];
  let api: ChildProcess | undefined;
  /** Runs a process and replaces it if it dies (a dead worker's job is retried through the
   * queue's stall check; the api's state is all in the store and Redis). */
  const supervise = (script: string, name: string, started: (child: ChildProcess) => void, env: Record<string, string> = {}) => {
    const child = launch(script, config, name, env);
    started(child);
    child.once('exit', (code) => {
      if (!stopping && code !== 0) setTimeout(() => !stopping && supervise(script, name, started, env), RESTART_DELAY_MS);
    });
  };
  supervise('api/main.js', 'api', (child) => (api = child));
  // Each worker's metrics endpoint is on METRICS_PORT + its index (a restarted worker keeps its own).
  for (let i = 0; i < config.workers; i++)
    supervise('worker/main.js', `worker-${i}`, (child) => (workers[i] = child), { WORKER_INDEX: String(i) });

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: workers, api, then redis');
    // Bounded: with Redis gone, a worker releasing a running job would wait for it forever.
    // A worker killed here leaves its job QUEUED in the store, and its queue entry is handed
    // to another worker by BullMQ's stalled check once its lock expires.
    await Promise.all(workers.map((w, i) => stopWithin(w, config.uws.shutdownGrace + WORKER_STOP_EXTRA_S, `worker-${i}`)));
    if (api) await stopWithin(api, API_STOP_S, 'api');
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
