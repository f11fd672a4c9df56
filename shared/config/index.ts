/**
 * Configuration from environment variables. Their names are part of the project's fixed
 * interface (docs/architecture.md); every limit has a documented default so nothing is needed
 * to start. A bad value stops the process at start with a message naming the variable.
 */
import os from 'node:os';
import path from 'node:path';
import { AllowList, AllowListError } from '../net/address';
import { persistentSigningKey, SIGNING_KEY_FILE } from '../datalink/signing';

/** Where `npm run api` / `npm run worker` look for Redis when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface UwsLimits {
  /** Longest a WAIT request blocks, seconds; WAIT=-1 means this cap (UWS 1.1 §2.2.1.2). */
  waitMaxSeconds: number;
  /** Execution duration given to a job that asks for none, seconds (0 = unlimited). */
  executionDurationDefault: number;
  /** Largest execution duration a client may set, seconds (0 = no cap, unlimited allowed). */
  executionDurationMax: number;
  /** Lifetime of a new job until its destruction, seconds. */
  destructionDefault: number;
  /** Longest lifetime a client may set through /destruction, seconds from now. */
  destructionMax: number;
  /** How often expired jobs are reaped, seconds. */
  reaperInterval: number;
  /** How often the job store and the queues are reconciled, seconds. */
  reconcileInterval: number;
  /** Attempts at executing a job whose worker died, before it ends in ERROR. */
  maxAttempts: number;
  /** BullMQ lock duration: a worker that stops renewing it for this long is declared dead, ms. */
  lockMs: number;
  /** BullMQ stalled-job check interval, ms. */
  stalledIntervalMs: number;
  /** Largest job list answered without LAST; longer lists redirect to `?LAST=<this>`. */
  listMax: number;
  /** Characters of long jobs' rendered result lists the api keeps (api/uws/results-cache.ts); 0 keeps none. */
  resultsCacheBytes: number;
  /**
   * Largest total of a request's parameter values (query string, urlencoded body or the
   * multipart fields together; uploads apart), and of one job's stored parameters, bytes.
   */
  paramsMaxBytes: number;
  /** Largest inline upload (all files of one request), bytes. */
  uploadMaxBytes: number;
  /** Parameters per job. */
  paramsMaxCount: number;
  /** How long a stopping worker lets running jobs finish before releasing them, seconds. */
  shutdownGrace: number;
}

/** TAP 1.1 limits (§2.7.4 MAXREC, §2.5.7 UPLOAD). */
export interface TapLimits {
  /** Rows returned when the request gives no MAXREC. */
  maxrecDefault: number;
  /** The hard limit: a larger MAXREC is reduced to it. */
  maxrecMax: number;
  /** Uploaded tables per query and rows per uploaded table. */
  uploadMaxTables: number;
  uploadMaxRows: number;
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  /** REDIS_URL, else DEFAULT_REDIS_URL (see EnvConfig for npm start's own redis-server). */
  redisUrl: string;
  databaseUrl: string;
  obscoreDb: string;
  dataDir: string;
  resultsDir: string;
  varDir: string;
  workers: number;
  workerConcurrency: number;
  /** Seconds a processor thread may stay idle before it is ended (WORKER_THREAD_IDLE). */
  threadIdleSeconds: number;
  /**
   * Pool threads a worker keeps however long they are idle (WORKER_THREADS_WARM; default 0:
   * the thread lines are the threads kept ready for sync requests; without them, 1 spares the
   * first sync request after a pause a new thread, ~120–170 ms).
   */
  threadsWarm: number;
  /**
   * First port of the workers' metrics endpoints (METRICS_PORT; 0 = none): a worker serves
   * /metrics and /healthz on METRICS_PORT + WORKER_INDEX. The api serves its /metrics on PORT.
   */
  metricsPort: number;
  /** Address the workers' metrics endpoints bind to (METRICS_HOST; default HOST's default, every interface). */
  metricsHost: string;
  /** This worker's number among the workers of its host (WORKER_INDEX; npm start gives 0 … WORKERS−1). */
  workerIndex: number;
  /** Milliseconds each dependency check of /readyz and VOSI availability may take (READY_TIMEOUT_MS). */
  readyTimeoutMs: number;
  /** token → owner; undefined = anonymous single-user mode. */
  authTokens: ReadonlyMap<string, string> | undefined;
  signingKey: string;
  logLevel: string;
  queuePrefix: string;
  /** Extra UWS service modules (compiled JS paths) loaded besides the built-in services. */
  serviceModules: string[];
  uws: UwsLimits;
  tap: TapLimits;
  /** Seconds a synchronous request may run in a worker before it is stopped (SYNC_TIMEOUT). */
  syncTimeout: number;
  /** Seconds a synchronous request may wait for a free worker before it is refused (SYNC_QUEUE_TIMEOUT). */
  syncQueueTimeout: number;
  /** Sync results up to this many bytes return inside the reply instead of a file (SYNC_INLINE_BYTES; 0 = always a file). */
  syncInlineBytes: number;
  /**
   * Sync requests go straight from an api to a worker over a TCP connection of their own (a
   * sync line, shared/dali/sync-lines.ts) when a worker has a free slot, through the Redis
   * list otherwise (SYNC_LINES=1, default; 0 = always through Redis).
   */
  syncLines: boolean;
  /**
   * Processor threads per worker that take sync requests from the apis on ports of their own
   * and run them themselves, one at a time (SYNC_THREAD_LINES; default 1; needs SYNC_LINES).
   */
  syncThreadLines: number;
  /** Address a worker's sync-line listener binds to (WORKER_SYNC_HOST; default 127.0.0.1: apis on the same host only). */
  workerSyncHost: string;
  /** Port of a worker's sync-line listener: WORKER_SYNC_PORT + WORKER_INDEX, or any free port when WORKER_SYNC_PORT is 0 (default). */
  workerSyncPort: number;
  /**
   * Host name or address the apis dial to reach this worker's sync lines (WORKER_SYNC_ADDRESS;
   * default WORKER_SYNC_HOST, or this machine's host name when that is a wildcard address).
   */
  workerSyncAddress: string;
  /**
   * Large results are encoded inside SQLite by the compiled row encoders where they are built
   * (NATIVE_ROWS=1, default); 0 encodes every row in JavaScript (same bytes, slower).
   */
  nativeRows: boolean;
  /**
   * A cutout's rows are read in one call of the compiled addon where it is built
   * (FITS_NATIVE_ROWS=1, default); 0 reads them with one fs.readSync each (same bytes, slower).
   */
  fitsNativeRows: boolean;
  /** IDs answered per DataLink request; more → overflow indicator (DATALINK_MAX_IDS). */
  datalinkMaxIds: number;
  /** Seconds a signed file URL stays valid (SIGNED_URL_TTL). */
  signedUrlTtl: number;
  /** Most bytes the DataLink #preview/#thumbnail cache under RESULTS_DIR/previews keeps (PREVIEW_CACHE_BYTES). */
  previewCacheBytes: number;
  /**
   * Milliseconds a DataLink request waits for the pictures of datasets not yet in the preview
   * cache (DATALINK_PREVIEW_WAIT_MS): those done by then get their content_length, the others
   * are listed without it and finish in the background.
   */
  datalinkPreviewWaitMs: number;
  /**
   * Hosts and networks that uploads by URL may reach although they are loopback, private,
   * link-local, multicast or unspecified (UPLOAD_URL_ALLOW: comma-separated addresses,
   * CIDR ranges or host names; empty = none, the default).
   */
  uploadUrlAllow: string[];
  /** Largest total size of one job's result files, bytes (JOB_MAX_BYTES). */
  jobMaxBytes: number;
  /** New work is refused (503) while the free space under RESULTS_DIR is below this, bytes (RESULTS_MIN_FREE_BYTES). */
  resultsMinFreeBytes: number;
  /** Largest cutout, in pixels over all its HDUs (CUTOUT_MAX_PIXELS). */
  cutoutMaxPixels: number;
  /** Most cutouts (ID × region × BAND × TIME combinations) in one async job (CUTOUT_MAX_COMBINATIONS). */
  cutoutMaxCombinations: number;
  /** Threads one large cutout job is split over (CUTOUT_THREADS; default the cores, at most 4). */
  cutoutThreads: number;
  /** Combinations each thread must get before a cutout job is split (CUTOUT_SPLIT_MIN). */
  cutoutSplitMin: number;
  bulk: BulkLimits;
}

/** Limits of bulk cutout batches (/api/bulk), published in its /capabilities. */
export interface BulkLimits {
  /** Rows of one positions table (BULK_MAX_ROWS; more is a 413 at creation). */
  maxRows: number;
  /** POSITION parameters of one job (BULK_MAX_POSITIONS). */
  maxPositions: number;
  /** Stamps of one job (BULK_MAX_STAMPS); rows past it are `not_run`, with the reason. */
  maxStamps: number;
  /** Bytes of stamps of one job (BULK_MAX_BYTES); stamps past it are `not_run`. */
  maxBytes: number;
  /** Bulk jobs of one owner executing at once (BULK_MAX_JOBS_PER_OWNER); others wait QUEUED. */
  maxJobsPerOwner: number;
  /**
   * Stamps of 64×64 pixels in one part of a batch (BULK_PART_STAMPS; larger stamps make
   * fewer): about a second of one thread's work, so a batch spreads over every worker.
   */
  partStamps: number;
  /** Parts of batches one worker process cuts at once, each in a low-priority thread (BULK_PART_CONCURRENCY; default 1: npm start runs a worker per core). */
  partConcurrency: number;
}

/**
 * The configuration as the environment gives it, before a Redis is settled on: REDIS_URL
 * unset leaves `redisUrl` open, and npm start then runs a redis-server of its own.
 */
export type EnvConfig = Omit<Config, 'redisUrl'> & { redisUrl: string | undefined };

/** Base URL for links when no request supplied one: PUBLIC_URL, else this host's address. */
export function fallbackBaseUrl(config: Pick<Config, 'publicUrl' | 'port'>): string {
  return config.publicUrl ?? `http://127.0.0.1:${config.port}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** A listener's address as others dial it: this machine's host name for the wildcard addresses. */
function wildcardToHostname(host: string): string {
  return host === '0.0.0.0' || host === '::' ? os.hostname() : host;
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name}=${raw}: expected an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name}=${raw}: expected ${min}..${max}`);
  return value;
}

function parseAuthTokens(raw: string | undefined): Map<string, string> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const tokens = new Map<string, string>();
  for (const entry of raw.split(',')) {
    const item = entry.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    if (colon <= 0 || colon === item.length - 1) {
      throw new ConfigError(`AUTH_TOKENS: "${item}" is not token:owner`);
    }
    tokens.set(item.slice(0, colon), item.slice(colon + 1));
  }
  return tokens;
}

/** The configuration of a process that connects to Redis: REDIS_URL, else the default local one. */
export function loadConfig(env: Env = process.env): Config {
  const config = readConfig(env);
  return { ...config, redisUrl: config.redisUrl ?? DEFAULT_REDIS_URL };
}

/** The configuration `env` gives, REDIS_URL left open when unset (for npm start, scripts/start.ts). */
export function readConfig(env: Env = process.env): EnvConfig {
  const varDir = path.resolve(env.VAR_DIR ?? 'var');
  const publicUrl = env.PUBLIC_URL?.trim() ? env.PUBLIC_URL.trim().replace(/\/+$/, '') : undefined;
  if (publicUrl !== undefined && !/^https?:\/\//.test(publicUrl)) {
    throw new ConfigError(`PUBLIC_URL=${publicUrl}: expected an http(s) URL`);
  }
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const executionDurationMax = integer(env, 'UWS_EXECUTION_DURATION_MAX', 3600, 0);
  const config: EnvConfig = {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    publicUrl,
    redisUrl: env.REDIS_URL?.trim() || undefined,
    databaseUrl: env.DATABASE_URL?.trim() || path.join(varDir, 'jobs.sqlite'),
    obscoreDb: path.resolve(env.OBSCORE_DB?.trim() || path.join(varDir, 'obscore.sqlite')),
    dataDir: path.resolve(env.DATA_DIR?.trim() || path.join(varDir, 'data')),
    resultsDir: path.resolve(env.RESULTS_DIR?.trim() || path.join(varDir, 'results')),
    varDir,
    workers: integer(env, 'WORKERS', cores, 0, 256),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 16, 1, 1024),
    threadIdleSeconds: integer(env, 'WORKER_THREAD_IDLE', 30, 1, 86400),
    threadsWarm: integer(env, 'WORKER_THREADS_WARM', 0, 0, 1024),
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65535),
    metricsHost: env.METRICS_HOST?.trim() || '0.0.0.0',
    workerIndex: integer(env, 'WORKER_INDEX', 0, 0, 1023),
    readyTimeoutMs: integer(env, 'READY_TIMEOUT_MS', 1000, 10, 60000),
    authTokens: parseAuthTokens(env.AUTH_TOKENS),
    // Unset: filled in below, once every other value is known to be good.
    signingKey: env.SIGNING_KEY?.trim() ?? '',
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    queuePrefix: env.QUEUE_PREFIX?.trim() || 'vo',
    serviceModules: (env.SERVICE_MODULES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => path.resolve(s)),
    uws: {
      waitMaxSeconds: integer(env, 'UWS_WAIT_MAX', 60, 1, 3600),
      executionDurationDefault: integer(env, 'UWS_EXECUTION_DURATION', Math.min(600, executionDurationMax || 600), 0),
      executionDurationMax,
      destructionDefault: integer(env, 'UWS_DESTRUCTION', 7 * 86400, 1),
      destructionMax: integer(env, 'UWS_DESTRUCTION_MAX', 30 * 86400, 1),
      reaperInterval: integer(env, 'UWS_REAPER_INTERVAL', 30, 1),
      reconcileInterval: integer(env, 'UWS_RECONCILE_INTERVAL', 60, 1),
      maxAttempts: integer(env, 'UWS_MAX_ATTEMPTS', 2, 1, 100),
      lockMs: integer(env, 'UWS_LOCK_MS', 30000, 500),
      stalledIntervalMs: integer(env, 'UWS_STALLED_INTERVAL_MS', 15000, 100),
      listMax: integer(env, 'UWS_LIST_MAX', 10000, 1),
      resultsCacheBytes: integer(env, 'UWS_RESULTS_CACHE_BYTES', 64 << 20, 0),
      paramsMaxBytes: integer(env, 'PARAMS_MAX_BYTES', 1 << 20, 1024),
      uploadMaxBytes: integer(env, 'UPLOAD_MAX_BYTES', 100 << 20, 0),
      paramsMaxCount: integer(env, 'PARAMS_MAX_COUNT', 10000, 1),
      shutdownGrace: integer(env, 'SHUTDOWN_GRACE', 10, 0, 3600),
    },
    tap: {
      maxrecDefault: integer(env, 'TAP_MAXREC', 100000, 0),
      maxrecMax: integer(env, 'TAP_MAXREC_MAX', 10000000, 1),
      uploadMaxTables: integer(env, 'TAP_UPLOAD_MAX_TABLES', 10, 0, 1000),
      uploadMaxRows: integer(env, 'TAP_UPLOAD_MAX_ROWS', 100000, 1),
    },
    syncTimeout: integer(env, 'SYNC_TIMEOUT', 300, 1, 86400),
    syncQueueTimeout: integer(env, 'SYNC_QUEUE_TIMEOUT', 30, 1, 86400),
    syncInlineBytes: integer(env, 'SYNC_INLINE_BYTES', 1 << 20, 0, 16 << 20),
    syncLines: integer(env, 'SYNC_LINES', 1, 0, 1) === 1,
    syncThreadLines: integer(env, 'SYNC_THREAD_LINES', 1, 0, 64),
    workerSyncHost: env.WORKER_SYNC_HOST?.trim() || '127.0.0.1',
    workerSyncPort: integer(env, 'WORKER_SYNC_PORT', 0, 0, 65535),
    workerSyncAddress: env.WORKER_SYNC_ADDRESS?.trim() || wildcardToHostname(env.WORKER_SYNC_HOST?.trim() || '127.0.0.1'),
    nativeRows: integer(env, 'NATIVE_ROWS', 1, 0, 1) === 1,
    fitsNativeRows: integer(env, 'FITS_NATIVE_ROWS', 1, 0, 1) === 1,
    datalinkMaxIds: integer(env, 'DATALINK_MAX_IDS', 1000, 1),
    signedUrlTtl: integer(env, 'SIGNED_URL_TTL', 3600, 1),
    previewCacheBytes: integer(env, 'PREVIEW_CACHE_BYTES', 1 << 30, 0),
    datalinkPreviewWaitMs: integer(env, 'DATALINK_PREVIEW_WAIT_MS', 2000, 0),
    uploadUrlAllow: (env.UPLOAD_URL_ALLOW ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    jobMaxBytes: integer(env, 'JOB_MAX_BYTES', 10 * 2 ** 30, 1),
    resultsMinFreeBytes: integer(env, 'RESULTS_MIN_FREE_BYTES', 256 * 2 ** 20, 0),
    cutoutMaxPixels: integer(env, 'CUTOUT_MAX_PIXELS', 1 << 26, 1),
    cutoutMaxCombinations: integer(env, 'CUTOUT_MAX_COMBINATIONS', 10000, 1),
    cutoutThreads: integer(env, 'CUTOUT_THREADS', Math.min(4, cores), 1, 64),
    cutoutSplitMin: integer(env, 'CUTOUT_SPLIT_MIN', 2000, 1),
    bulk: {
      maxRows: integer(env, 'BULK_MAX_ROWS', 100_000, 1),
      maxPositions: integer(env, 'BULK_MAX_POSITIONS', 1000, 1),
      maxStamps: integer(env, 'BULK_MAX_STAMPS', 1_000_000, 1),
      maxBytes: integer(env, 'BULK_MAX_BYTES', 10 * 2 ** 30, 1),
      maxJobsPerOwner: integer(env, 'BULK_MAX_JOBS_PER_OWNER', 4, 1),
      partStamps: integer(env, 'BULK_PART_STAMPS', 2048, 1),
      partConcurrency: integer(env, 'BULK_PART_CONCURRENCY', 1, 1, 64),
    },
  };
  const { uws } = config;
  if (uws.executionDurationMax > 0 && (uws.executionDurationDefault === 0 || uws.executionDurationDefault > uws.executionDurationMax)) {
    throw new ConfigError('UWS_EXECUTION_DURATION must be 1..UWS_EXECUTION_DURATION_MAX when a maximum is set');
  }
  if (config.tap.maxrecDefault > config.tap.maxrecMax) throw new ConfigError('TAP_MAXREC must not exceed TAP_MAXREC_MAX');
  try {
    new AllowList(config.uploadUrlAllow);
  } catch (err) {
    if (err instanceof AllowListError) throw new ConfigError(`UPLOAD_URL_ALLOW: ${err.message}`);
    throw err;
  }
  if (config.metricsPort > 0 && config.metricsPort + config.workerIndex > 65535) {
    throw new ConfigError(`METRICS_PORT + WORKER_INDEX = ${config.metricsPort + config.workerIndex}: expected a port, at most 65535`);
  }
  if (uws.destructionDefault > uws.destructionMax) {
    throw new ConfigError('UWS_DESTRUCTION must not exceed UWS_DESTRUCTION_MAX');
  }
  if (config.signingKey === '') config.signingKey = defaultSigningKey(config);
  return config;
}

/**
 * SIGNING_KEY unset. With AUTH_TOKENS the service holds private data, so a key nobody chose
 * is refused (a built-in one would let anyone sign links). Without, the key generated at the
 * first start is kept under VAR_DIR and read by every later start and every process sharing
 * VAR_DIR (npm start also hands it to its children as SIGNING_KEY); processes on several
 * machines need SIGNING_KEY set to one value.
 */
function defaultSigningKey(config: EnvConfig): string {
  if (config.authTokens)
    throw new ConfigError('SIGNING_KEY must be set when AUTH_TOKENS is (the key of signed file URLs; e.g. `openssl rand -base64 32`)');
  const file = path.join(config.varDir, SIGNING_KEY_FILE);
  try {
    return persistentSigningKey(file);
  } catch (err) {
    throw new ConfigError(`SIGNING_KEY is not set and the generated key in ${file} cannot be read or created: ${(err as Error).message}`);
  }
}

/** The environment a child process needs to see the same configuration. */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: config.databaseUrl,
    OBSCORE_DB: config.obscoreDb,
    DATA_DIR: config.dataDir,
    RESULTS_DIR: config.resultsDir,
    VAR_DIR: config.varDir,
    REDIS_URL: config.redisUrl,
    WORKER_CONCURRENCY: String(config.workerConcurrency),
    WORKER_THREAD_IDLE: String(config.threadIdleSeconds),
    WORKER_THREADS_WARM: String(config.threadsWarm),
    // Not WORKER_INDEX: each worker's own (scripts/start.ts).
    METRICS_PORT: String(config.metricsPort),
    METRICS_HOST: config.metricsHost,
    READY_TIMEOUT_MS: String(config.readyTimeoutMs),
    SIGNING_KEY: config.signingKey,
    LOG_LEVEL: config.logLevel,
    QUEUE_PREFIX: config.queuePrefix,
    SERVICE_MODULES: config.serviceModules.join(','),
    UWS_WAIT_MAX: String(config.uws.waitMaxSeconds),
    UWS_EXECUTION_DURATION: String(config.uws.executionDurationDefault),
    UWS_EXECUTION_DURATION_MAX: String(config.uws.executionDurationMax),
    UWS_DESTRUCTION: String(config.uws.destructionDefault),
    UWS_DESTRUCTION_MAX: String(config.uws.destructionMax),
    UWS_REAPER_INTERVAL: String(config.uws.reaperInterval),
    UWS_RECONCILE_INTERVAL: String(config.uws.reconcileInterval),
    UWS_MAX_ATTEMPTS: String(config.uws.maxAttempts),
    UWS_LOCK_MS: String(config.uws.lockMs),
    UWS_STALLED_INTERVAL_MS: String(config.uws.stalledIntervalMs),
    UWS_LIST_MAX: String(config.uws.listMax),
    UWS_RESULTS_CACHE_BYTES: String(config.uws.resultsCacheBytes),
    PARAMS_MAX_BYTES: String(config.uws.paramsMaxBytes),
    UPLOAD_MAX_BYTES: String(config.uws.uploadMaxBytes),
    PARAMS_MAX_COUNT: String(config.uws.paramsMaxCount),
    SHUTDOWN_GRACE: String(config.uws.shutdownGrace),
    TAP_MAXREC: String(config.tap.maxrecDefault),
    TAP_MAXREC_MAX: String(config.tap.maxrecMax),
    TAP_UPLOAD_MAX_TABLES: String(config.tap.uploadMaxTables),
    TAP_UPLOAD_MAX_ROWS: String(config.tap.uploadMaxRows),
    SYNC_TIMEOUT: String(config.syncTimeout),
    SYNC_QUEUE_TIMEOUT: String(config.syncQueueTimeout),
    SYNC_INLINE_BYTES: String(config.syncInlineBytes),
    SYNC_LINES: config.syncLines ? '1' : '0',
    SYNC_THREAD_LINES: String(config.syncThreadLines),
    WORKER_SYNC_HOST: config.workerSyncHost,
    WORKER_SYNC_PORT: String(config.workerSyncPort),
    WORKER_SYNC_ADDRESS: config.workerSyncAddress,
    NATIVE_ROWS: config.nativeRows ? '1' : '0',
    FITS_NATIVE_ROWS: config.fitsNativeRows ? '1' : '0',
    DATALINK_MAX_IDS: String(config.datalinkMaxIds),
    SIGNED_URL_TTL: String(config.signedUrlTtl),
    PREVIEW_CACHE_BYTES: String(config.previewCacheBytes),
    DATALINK_PREVIEW_WAIT_MS: String(config.datalinkPreviewWaitMs),
    UPLOAD_URL_ALLOW: config.uploadUrlAllow.join(','),
    JOB_MAX_BYTES: String(config.jobMaxBytes),
    RESULTS_MIN_FREE_BYTES: String(config.resultsMinFreeBytes),
    CUTOUT_MAX_PIXELS: String(config.cutoutMaxPixels),
    CUTOUT_MAX_COMBINATIONS: String(config.cutoutMaxCombinations),
    CUTOUT_THREADS: String(config.cutoutThreads),
    CUTOUT_SPLIT_MIN: String(config.cutoutSplitMin),
    BULK_MAX_ROWS: String(config.bulk.maxRows),
    BULK_MAX_POSITIONS: String(config.bulk.maxPositions),
    BULK_MAX_STAMPS: String(config.bulk.maxStamps),
    BULK_MAX_BYTES: String(config.bulk.maxBytes),
    BULK_MAX_JOBS_PER_OWNER: String(config.bulk.maxJobsPerOwner),
    BULK_PART_STAMPS: String(config.bulk.partStamps),
    BULK_PART_CONCURRENCY: String(config.bulk.partConcurrency),
  };
  if (config.publicUrl) env.PUBLIC_URL = config.publicUrl;
  if (config.authTokens) {
    env.AUTH_TOKENS = [...config.authTokens].map(([token, owner]) => `${token}:${owner}`).join(',');
  }
  return env;
}
