/**
 * What operators and their machines ask the api, at the root like the landing page (only /api
 * is behind authentication, api/auth.ts), so a load balancer or Prometheus needs no token:
 *   /healthz  the process answers (200 `ok`): restart it when this fails;
 *   /readyz   its dependencies answer: Redis, the job store, the ObsCore store (200 `ready`, or
 *             503 with one line per failing dependency saying why): send it no traffic while
 *             this fails. Each check has READY_TIMEOUT_MS, so the answer never hangs;
 *   /metrics  the api's metrics in the Prometheus text format (docs/operating.md).
 * VOSI availability (api/vosi.ts) says the same as /readyz through `readinessOf`.
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import Database from 'better-sqlite3';
import { Router, type Application } from 'express';
import { isPostgres, sqlitePath } from '../shared/db';
import type { Logger } from '../shared/log';
import { METRICS_CONTENT_TYPE, metricsText, processMetrics, type ApiMetrics, type QueueDepth } from '../shared/metrics';
import { channels, isUnavailableError, type Redis } from '../shared/redis';
import type { JobQueues } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import type { JobStore } from '../shared/uws/store';

const TEXT = 'text/plain; charset=utf-8';

/** A dependency the api needs to serve: `check` throws an Error whose message says what is wrong. */
export interface DependencyCheck {
  /** 'redis', 'job store', 'ObsCore store'. */
  name: string;
  /** Where it is, without credentials (host:port, a file). */
  where: string;
  check(): Promise<void>;
}

export interface Failure {
  dependency: string;
  where: string;
  reason: string;
}

/** One failing dependency as /readyz and VOSI availability show it. */
export function failureText(failure: Failure): string {
  return `${failure.dependency} (${failure.where}): ${failure.reason}`;
}

/** An error's message, read as a property: errors of native modules may come from another realm (not `instanceof Error`). */
function messageOf(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : messageOf(err);
}

/** `work`, or an Error after `ms` (the work itself goes on; its late outcome is dropped). */
function deadline(ms: number, work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The checks of /readyz and VOSI availability, run together; probes arriving meanwhile share one run. */
export class Readiness {
  private running: Promise<Failure[]> | undefined;

  constructor(
    private readonly checks: readonly DependencyCheck[],
    private readonly timeoutMs: number,
  ) {}

  /** The dependencies that do not answer now, in the order of the checks (empty: ready). */
  failures(): Promise<Failure[]> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<Failure[]> {
    const outcomes = await Promise.all(
      this.checks.map((c) =>
        deadline(this.timeoutMs, c.check()).then(
          () => undefined,
          (err: unknown): Failure => ({ dependency: c.name, where: c.where, reason: messageOf(err) }),
        ),
      ),
    );
    return outcomes.filter((f): f is Failure => f !== undefined);
  }
}

const READINESS = 'readiness';

/** The app's Readiness (VOSI availability reflects it), when createApp gave it one. */
export function readinessOf(app: Application): Readiness | undefined {
  const readiness: unknown = app.locals[READINESS];
  return readiness instanceof Readiness ? readiness : undefined;
}

/** Host and port of a Redis URL (never its password). */
function redisAddress(url: string): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || '6379') };
  } catch {
    return undefined;
  }
}

/**
 * Why Redis cannot be reached, in the system's words: ioredis only says that its connection
 * is closed, so a TCP connection is tried (ECONNREFUSED: nothing listens; ETIMEDOUT,
 * EHOSTUNREACH: the host or the network).
 */
function whyUnreachable(address: { host: string; port: number }, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    const done = (reason: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`cannot connect (no answer within ${timeoutMs} ms)`), timeoutMs);
    socket.once('connect', () => done("it accepts connections, but the api's connection to it is not up yet (reconnecting)"));
    socket.once('error', (err) => done(`cannot connect (${codeOf(err)})`));
  });
}

/**
 * Redis answers a PING on the api's command connection (which fails at once while Redis is
 * known to be down, the reason then found by whyUnreachable).
 */
export function redisCheck(redis: Redis, url: string, timeoutMs: number): DependencyCheck {
  const address = redisAddress(url);
  return {
    name: 'redis',
    where: address ? `${address.host}:${address.port}` : 'REDIS_URL',
    check: async () => {
      try {
        await redis.ping();
      } catch (err) {
        if (!isUnavailableError(err) || !address) throw new Error(`PING failed: ${messageOf(err)}`);
        throw new Error(await whyUnreachable(address, timeoutMs));
      }
    },
  };
}

/** A job id no job has (ids are generated, shared/ids.ts): the store's probe reads no row. */
const PROBE_JOB_ID = 'readiness-probe';

/**
 * The job store answers a read on the connection jobs use. An SQLite file must also still be
 * the one the process opened: a connection keeps working on a file that was removed, moved or
 * replaced (a disk unmounted, a restore beside a running api), writing where nobody else looks.
 */
export function jobStoreCheck(store: JobStore, url: string): DependencyCheck {
  if (isPostgres(url)) {
    let where = 'DATABASE_URL';
    try {
      const parsed = new URL(url);
      where = `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
    } catch {
      // a URL pg accepts but URL does not: named by its variable
    }
    return { name: 'job store', where, check: () => read(store) };
  }
  const file = sqlitePath(url);
  let opened: { dev: number; ino: number } | undefined;
  const identity = fs.stat(file).then(
    (s) => (opened = { dev: s.dev, ino: s.ino }),
    () => undefined,
  );
  return {
    name: 'job store',
    where: file,
    check: async () => {
      await identity;
      let now: { dev: number; ino: number };
      try {
        now = await fs.stat(file);
      } catch (err) {
        throw new Error(`the file is gone (${codeOf(err)}): it was removed or moved since the api opened it`);
      }
      if (opened && (now.dev !== opened.dev || now.ino !== opened.ino))
        throw new Error('the file was replaced since the api opened it: the api still uses the old one');
      try {
        await fs.access(file, fsConstants.R_OK | fsConstants.W_OK);
      } catch (err) {
        throw new Error(`the file cannot be read and written (${codeOf(err)})`);
      }
      await read(store);
    },
  };
}

async function read(store: JobStore): Promise<void> {
  try {
    await store.get(PROBE_JOB_ID);
  } catch (err) {
    throw new Error(`a read failed: ${messageOf(err)}`);
  }
}

/**
 * The ObsCore store can be opened and read, as DataLink here and the workers' queries need.
 * The file is checked asynchronously first: a hung file system (NFS) then times the check out
 * instead of blocking the api in SQLite's synchronous open.
 */
export function obscoreCheck(file: string): DependencyCheck {
  return {
    name: 'ObsCore store',
    where: file,
    check: async () => {
      try {
        await fs.access(file, fsConstants.R_OK);
      } catch (err) {
        const code = codeOf(err);
        throw new Error(
          code === 'ENOENT' ? 'the file does not exist (OBSCORE_DB; npm run ingest makes it)' : `the file cannot be read (${code})`,
        );
      }
      let db: Database.Database | undefined;
      try {
        db = new Database(file, { readonly: true, fileMustExist: true });
        db.prepare('SELECT 1 FROM ivoa_obscore LIMIT 1').get();
      } catch (err) {
        throw new Error(`a read failed: ${messageOf(err)}`);
      } finally {
        db?.close();
      }
    },
  };
}

/**
 * The queues' depths for the metrics, read at scrape time: each service's job queue (and the
 * parts queue of services that split their jobs) by state, and its list of pending sync
 * requests. Bounded by `timeoutMs`; undefined when Redis did not answer (`onError` hears it).
 */
export function queueDepths(
  queues: JobQueues,
  redis: Redis,
  options: { prefix: string; services: ReadonlyMap<string, UwsService>; timeoutMs: number; onError: () => void },
): () => Promise<QueueDepth[] | undefined> {
  const { prefix, services, timeoutMs, onError } = options;
  return async () => {
    const depths: QueueDepth[] = [];
    const add = (service: string, queue: QueueDepth['queue'], counts: Record<QueueDepth['state'], number>) => {
      for (const [state, count] of Object.entries(counts)) depths.push({ service, queue, state: state as QueueDepth['state'], count });
    };
    const reads: Promise<void>[] = [];
    for (const service of services.values()) {
      if (service.asyncJobs !== false) reads.push(queues.counts(service.name).then((c) => add(service.name, 'jobs', c)));
      if (service.parts) reads.push(queues.counts(service.name, true).then((c) => add(service.name, 'parts', c)));
      // Sent together: one round trip for every service's list.
      reads.push(
        redis.llen(channels(prefix).syncRequests(service.name)).then((n) => {
          depths.push({ service: service.name, queue: 'sync', state: 'waiting', count: n });
        }),
      );
    }
    try {
      await deadline(
        timeoutMs,
        Promise.all(reads).then(() => undefined),
      );
    } catch {
      onError();
      return undefined;
    }
    return depths;
  };
}

/** GET /healthz, /readyz and /metrics. */
export function operatorsRouter(readiness: Readiness, metrics: ApiMetrics, log: Logger): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.type(TEXT).send('ok');
  });
  router.get('/readyz', async (_req, res) => {
    const failures = await readiness.failures();
    if (failures.length === 0) res.type(TEXT).send('ready');
    else res.status(503).type(TEXT).send(failures.map(failureText).join('\n'));
  });
  router.get('/metrics', async (_req, res) => {
    try {
      const text = await metricsText([processMetrics(), metrics.registry]);
      res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
      res.send(text);
    } catch (err) {
      log.error({ err }, 'metrics not collected');
      res.status(500).type(TEXT).send('metrics could not be collected');
    }
  });
  return router;
}

/** Gives the app its Readiness (see readinessOf). */
export function setReadiness(app: Application, readiness: Readiness): void {
  app.locals[READINESS] = readiness;
}
