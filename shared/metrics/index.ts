/**
 * Prometheus metrics (prom-client) of the api and worker processes: their definitions, in one
 * place, so both kinds of process name a shared metric (jobs finished, store and Redis errors)
 * alike and Prometheus can add them up across processes and hosts. Every process serves its
 * own (docs/operating.md: the api on its port at /metrics, each worker on METRICS_PORT +
 * WORKER_INDEX); nothing here talks to Redis or the store: the gauges read at scrape time
 * are given their source by the process that owns it.
 */
import type { EventEmitter } from 'node:events';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkCounts } from './work';

export type { WorkCounts } from './work';

/** Every metric of this project starts with this. */
const PREFIX = 'vo_';

/** The phases a job ends in, as the metrics and the per-job log line name them. */
export type EndPhase = 'COMPLETED' | 'ERROR' | 'ABORTED';

/** Job execution times, seconds: a sync-sized job up to the largest execution duration (1 h default). */
export const JOB_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Time in the queue, seconds: a free worker takes a job within milliseconds; a busy service in minutes. */
export const QUEUE_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** Sync requests, seconds: ~3 ms for a cutout or a one-row query, up to SYNC_TIMEOUT (300 s). */
export const SYNC_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, memory, heap, event-loop lag, GC,
 * handles, start time), in a registry of their own made once per process: they belong to the
 * process, not to one server instance (a test may start several apis in one process, and
 * their collectors watch the event loop and GC for as long as the process lives).
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The Prometheus text exposition format (0.0.4), as served at /metrics. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The text of several registries together (their metric names are distinct). */
export async function metricsText(registries: readonly Registry[]): Promise<string> {
  return (await Promise.all(registries.map((r) => r.metrics()))).join('');
}

/**
 * What both kinds of process count: jobs that reached a final phase here (the process whose
 * conditional update won: a worker for COMPLETED and most ERRORs, an api for ABORTED and the
 * jobs its reconciliation gave up on), and the errors of the two stores.
 */
export class JobMetrics {
  readonly registry = new Registry();
  readonly finished: Counter<'service' | 'phase'>;
  readonly duration: Histogram<'service' | 'phase'>;
  readonly redisErrors: Counter<'operation'>;
  readonly storeErrors: Counter<'operation'>;

  constructor() {
    const registers = [this.registry];
    this.finished = new Counter({
      name: `${PREFIX}uws_jobs_finished_total`,
      help: 'UWS jobs that reached a final phase (COMPLETED, ERROR, ABORTED) in this process',
      labelNames: ['service', 'phase'],
      registers,
    });
    this.duration = new Histogram({
      name: `${PREFIX}uws_job_duration_seconds`,
      help: 'Execution time of finished UWS jobs (EXECUTING to final phase; jobs that never started are not observed)',
      labelNames: ['service', 'phase'],
      buckets: JOB_DURATION_BUCKETS,
      registers,
    });
    this.redisErrors = new Counter({
      name: `${PREFIX}redis_errors_total`,
      help: 'Redis connections lost (operation="connection", once per connection and outage) and Redis operations that failed',
      labelNames: ['operation'],
      registers,
    });
    this.storeErrors = new Counter({
      name: `${PREFIX}job_store_errors_total`,
      help: 'Job store operations that failed, by JobStore method',
      labelNames: ['operation'],
      registers,
    });
  }

  /** A job ended here; `durationMs` null when it never executed. */
  jobEnded(service: string, phase: EndPhase, durationMs: number | null): void {
    this.finished.inc({ service, phase });
    if (durationMs !== null) this.duration.observe({ service, phase }, durationMs / 1000);
  }
}

/** One sample of a queue's depth. */
export interface QueueDepth {
  service: string;
  /** 'jobs' (the service's BullMQ queue), 'parts' (its split jobs' parts), 'sync' (pending sync requests). */
  queue: 'jobs' | 'parts' | 'sync';
  state: 'waiting' | 'active' | 'delayed' | 'waiting_children';
  count: number;
}

export interface ApiMetricSources {
  /** The queues' depths, read from Redis at scrape time; undefined when Redis did not answer. */
  queueDepths(): Promise<QueueDepth[] | undefined>;
}

export class ApiMetrics extends JobMetrics {
  readonly created: Counter<'service' | 'phase'>;
  readonly syncDuration: Histogram<'service' | 'status'>;
  readonly waitBlocked: Gauge;
  readonly queueDepth: Gauge<'service' | 'queue' | 'state'>;
  readonly syncLines: Gauge;

  constructor(sources: ApiMetricSources) {
    super();
    const registers = [this.registry];
    this.created = new Counter({
      name: `${PREFIX}uws_jobs_created_total`,
      help: 'UWS jobs created, by the phase they were created in (PENDING, or QUEUED with PHASE=RUN)',
      labelNames: ['service', 'phase'],
      registers,
    });
    this.syncDuration = new Histogram({
      name: `${PREFIX}sync_request_duration_seconds`,
      help: 'DALI-sync requests (TAP sync, SODA sync, SIA query) from arrival to the end of the answer, by HTTP status ("closed": the connection ended first)',
      labelNames: ['service', 'status'],
      buckets: SYNC_DURATION_BUCKETS,
      registers,
    });
    this.syncLines = new Gauge({
      name: `${PREFIX}sync_lines_open`,
      help: 'Workers this api process can send sync requests to directly (open sync lines)',
      registers,
    });
    this.waitBlocked = new Gauge({
      name: `${PREFIX}uws_wait_blocked`,
      help: 'UWS WAIT requests blocked in this api process right now',
      registers,
    });
    const queueDepth: Gauge<'service' | 'queue' | 'state'> = new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Entries in the queues (shared by every process: aggregate with max, not sum), read from Redis at scrape time',
      labelNames: ['service', 'queue', 'state'],
      registers,
      collect: async () => {
        // Stale values would look like a queue that stopped moving: none while Redis is away.
        queueDepth.reset();
        const depths = await sources.queueDepths();
        for (const d of depths ?? []) queueDepth.set({ service: d.service, queue: d.queue, state: d.state }, d.count);
      },
    });
    this.queueDepth = queueDepth;
  }
}

/** The processor threads of one pool of a worker (worker/pool.ts). */
export interface ThreadCount {
  /** 'main' (jobs and sync requests), 'low-priority' (parts of split jobs, at a higher nice value) or 'line' (thread lines). */
  pool: string;
  busy: number;
  live: number;
}

export interface WorkerMetricSources {
  threads(): ThreadCount[];
  /** Brings counts kept elsewhere (thread lines' tallies in shared memory) into the counters, before they are read. */
  settle?(): void;
}

/** What a task was: its service, and whether a UWS job (or a part of one) or a sync request. */
export interface TaskLabels {
  service: string;
  mode: 'async' | 'sync';
}

export class WorkerMetrics extends JobMetrics {
  readonly queueWait: Histogram<'service'>;
  readonly cutouts: Counter<'service' | 'mode'>;
  readonly cutoutBytes: Counter<'service' | 'mode'>;
  readonly rows: Counter<'service' | 'mode'>;
  readonly syncTaken: Counter<'route'>;

  constructor(sources: WorkerMetricSources) {
    super();
    const registers = [this.registry];
    const settle = () => sources.settle?.();
    this.queueWait = new Histogram({
      name: `${PREFIX}uws_queue_wait_seconds`,
      help: 'Time UWS jobs waited QUEUED before a worker started them (first attempts)',
      labelNames: ['service'],
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    });
    this.cutouts = new Counter({
      name: `${PREFIX}cutouts_total`,
      help: 'Cutouts made (SODA cutouts and bulk stamps with pixels)',
      labelNames: ['service', 'mode'],
      registers,
      collect: settle,
    });
    this.cutoutBytes = new Counter({
      name: `${PREFIX}cutout_bytes_total`,
      help: 'Bytes of the cutouts made',
      labelNames: ['service', 'mode'],
      registers,
      collect: settle,
    });
    this.rows = new Counter({
      name: `${PREFIX}rows_streamed_total`,
      help: 'Rows written into query results (TAP)',
      labelNames: ['service', 'mode'],
      registers,
      collect: settle,
    });
    this.syncTaken = new Counter({
      name: `${PREFIX}sync_requests_taken_total`,
      help: 'DALI-sync requests this worker took, by the way they came: "thread" (a thread line, straight from an api to the processor thread), "line" (straight from an api to the worker) or "queue" (the Redis list)',
      labelNames: ['route'],
      registers,
      collect: settle,
    });
    const busy: Gauge<'pool'> = new Gauge({
      name: `${PREFIX}worker_threads_busy`,
      help: 'Processor threads running a task (job, part or sync request)',
      labelNames: ['pool'],
      registers,
      collect: () => set(busy, 'busy'),
    });
    const live: Gauge<'pool'> = new Gauge({
      name: `${PREFIX}worker_threads_live`,
      help: 'Processor threads that exist (busy, idle kept for reuse, or being ended)',
      labelNames: ['pool'],
      registers,
      collect: () => set(live, 'live'),
    });
    const set = (gauge: Gauge<'pool'>, which: 'busy' | 'live') => {
      const totals = new Map<string, number>([
        ['main', 0],
        ['low-priority', 0],
      ]);
      for (const t of sources.threads()) totals.set(t.pool, (totals.get(t.pool) ?? 0) + t[which]);
      for (const [pool, n] of totals) gauge.set({ pool }, n);
    };
  }

  /** What a task reported it produced (shared/metrics/work.ts). */
  work(task: TaskLabels, work: Partial<WorkCounts>): void {
    const labels = { service: task.service, mode: task.mode };
    if (work.cutouts) this.cutouts.inc(labels, work.cutouts);
    if (work.cutoutBytes) this.cutoutBytes.inc(labels, work.cutoutBytes);
    if (work.rows) this.rows.inc(labels, work.rows);
  }
}

/**
 * Calls `onLoss` each time `connection` (an ioredis connection) closes after it was ready:
 * once per outage, however many reconnection attempts fail meanwhile (as the connection's
 * 'redis connection lost' log line). A process closing its connection at exit counts one too.
 */
export function countConnectionLosses(connection: Pick<EventEmitter, 'on'>, onLoss: () => void): void {
  let up = false;
  connection.on('ready', () => (up = true));
  connection.on('close', () => {
    if (!up) return;
    up = false;
    onLoss();
  });
}

/**
 * `target` with every method call watched: a call that throws or returns a promise that
 * rejects is counted under its method's name (the job store: JobStore's methods). The
 * wrappers are made once per method; a call costs one more function call and, for an async
 * method, one more promise.
 */
export function countingFailures<T extends object>(target: T, onFailure: (method: string) => void): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      // Methods only (on the prototype): an own property that is a function (a knex instance) passes as it is.
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor' || Object.hasOwn(object, property))
        return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = function (this: unknown, ...args: unknown[]): unknown {
          let result: unknown;
          try {
            result = method.apply(object, args);
          } catch (err) {
            onFailure(property);
            throw err;
          }
          // The caller gets a promise that settles as the method's did (a rejection it does
          // not handle is still reported as unhandled).
          if (result instanceof Promise)
            return result.catch((err: unknown) => {
              onFailure(property);
              throw err;
            });
          return result;
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
