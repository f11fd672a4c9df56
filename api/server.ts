/**
 * The api process: Express app with one UWS job tree per service, the WAIT hub fed by the
 * Redis phase events, and the maintenance loops (destruction reaper, reconciliation of the
 * store with the queues). It records and dispatches; it never does a job's work.
 */
import type { Server } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Config } from '../shared/config';
import { createLogger, type Logger } from '../shared/log';
import { ApiMetrics, countConnectionLosses, countingFailures } from '../shared/metrics';
import { DEFAULT_REDIS_URL, redisState, within } from '../shared/redis';
import { DatasetLookup } from '../shared/obscore/lookup';
import { PROJECT_ROOT } from '../shared/runtime';
import { UwsEngine } from '../shared/uws/engine';
import { UwsEvents } from '../shared/uws/events';
import { JobQueues } from '../shared/uws/queue';
import type { UwsService } from '../shared/uws/service';
import { sweepStale } from '../shared/storage';
import { previewCacheDir, trimPreviewCache } from '../shared/datalink/previews';
import { JobStore } from '../shared/uws/store';
import { WaitHub } from '../shared/uws/wait';
import { authenticate } from './auth';
import { refuseWhenSpaceLow } from './disk';
import { errorHandler, sendText } from './http/errors';
import { bulkRouter } from './bulk/router';
import { datalinkRouter } from './datalink/router';
import { PreviewMaker } from './datalink/previews';
import { filesRouter } from './files/router';
import { landingPage } from './landing';
import { jobStoreCheck, obscoreCheck, operatorsRouter, queueDepths, Readiness, redisCheck, setReadiness } from './operators';
import { pagesRouter } from './pages/router';
import { siaRouter } from './sia/router';
import { sodaRouter } from './soda/router';
import { SyncDispatcher } from './sync-dispatcher';
import { tapRouter } from './tap/router';
import { baseUrl } from './http/base-url';
import { uwsRouter } from './uws/router';
import { ResultsCache } from './uws/results-cache';

const SERVER_NAME = `vo-image-services/${(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`;

/** Seconds past SYNC_TIMEOUT after which a sync request's directory is surely abandoned. */
const STALE_GRACE_S = 600;
/** Seconds after which a temporary upload file not taken by a request is surely abandoned. */
const STALE_UPLOAD_S = 3600;
/**
 * How long the api waits at start for its Redis subscriptions (WAIT events, sync replies)
 * before it serves anyway, ms: jobs can be created, listed and read without Redis.
 */
const REDIS_START_WAIT_MS = 5000;

export interface ApiServerOptions {
  config: Config;
  services: ReadonlyMap<string, UwsService>;
  log?: Logger;
}

export function createApp(
  config: Config,
  engine: UwsEngine,
  hub: WaitHub,
  sync: SyncDispatcher,
  lookup: DatasetLookup,
  log: Logger,
  operators: { readiness: Readiness; metrics: ApiMetrics },
): Express {
  const app = express();
  setReadiness(app, operators.readiness);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('Server', SERVER_NAME);
    next();
  });
  app.get('/', (req, res) => {
    res.type('text/html; charset=utf-8').send(landingPage(baseUrl(config, req), engine.services.values()));
  });
  // /healthz, /readyz, /metrics: anonymous, outside /api.
  app.use(operatorsRouter(operators.readiness, operators.metrics, log));
  app.use('/pages', pagesRouter(config));
  app.use('/api', authenticate(config));
  app.use(refuseWhenSpaceLow(config));
  const resultsCache = new ResultsCache(config.uws.resultsCacheBytes);
  for (const service of engine.services.values()) {
    if (service.asyncJobs !== false) app.use(`/api/${service.name}/async`, uwsRouter({ config, engine, hub, service, log, resultsCache }));
  }
  if (engine.services.has('tap')) app.use('/api/tap', tapRouter({ config, sync, log }));
  if (engine.services.has('cutout')) app.use('/api/cutout', sodaRouter(config, sync, log));
  if (engine.services.has('sia')) app.use('/api/sia', siaRouter(config, sync, log));
  if (engine.services.has('bulk')) app.use('/api/bulk', bulkRouter(config, log));
  const previews = new PreviewMaker(config, sync);
  app.use('/api/datalink', datalinkRouter(config, lookup, previews, log));
  app.use('/api/files', filesRouter(config, previews));
  app.use((req, res) => sendText(res, 404, `no resource ${req.path}`));
  app.use(errorHandler(log));
  return app;
}

/** What ApiServer.start opens, and so what close() closes (the logger is the caller's when given). */
interface Opened {
  store: JobStore;
  events: UwsEvents;
  queues: JobQueues;
  lookup: DatasetLookup;
  sync: SyncDispatcher;
}

export class ApiServer {
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  private constructor(
    readonly config: Config,
    readonly engine: UwsEngine,
    readonly hub: WaitHub,
    readonly server: Server,
    readonly log: Logger,
    private readonly opened: Opened,
  ) {}

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const { config } = options;
    const log = options.log ?? createLogger('api', config.logLevel);
    const redisUrl = config.redisUrl ?? DEFAULT_REDIS_URL;
    const opened = await JobStore.open(config.databaseUrl);
    const events = new UwsEvents(redisUrl, config.queuePrefix, log);
    const queues = new JobQueues(events.redis, config.queuePrefix, log);
    const metrics = new ApiMetrics({
      queueDepths: queueDepths(queues, events.redis, {
        prefix: config.queuePrefix,
        services: options.services,
        timeoutMs: config.readyTimeoutMs,
        onError: () => metrics.redisErrors.inc({ operation: 'metrics' }),
      }),
    });
    const store = countingFailures(opened, (operation) => metrics.storeErrors.inc({ operation }));
    countConnectionLosses(events.redis, () => metrics.redisErrors.inc({ operation: 'connection' }));
    const engine = new UwsEngine({ config, store, queues, events, log, metrics }, options.services);
    const hub = new WaitHub();
    const sync = SyncDispatcher.create(config, events, log, metrics);
    // With Redis down, the subscriptions are made when it comes (ioredis keeps them); until
    // then WAIT only waits and sync requests wait for Redis (up to SYNC_QUEUE_TIMEOUT).
    const subscribed = Promise.all([events.onPhase((jobId) => hub.notify(jobId)), sync.subscribed]);
    if (
      !(await within(REDIS_START_WAIT_MS, subscribed).then(
        () => true,
        () => false,
      ))
    ) {
      log.warn({ redis: redisUrl }, 'redis unreachable at start: serving without it; jobs are enqueued when it is back');
    }
    const lookup = new DatasetLookup(config.obscoreDb);
    const readiness = new Readiness(
      [redisCheck(events.redis, redisUrl, config.readyTimeoutMs), jobStoreCheck(store, config.databaseUrl), obscoreCheck(config.obscoreDb)],
      config.readyTimeoutMs,
    );
    const app = createApp(config, engine, hub, sync, lookup, log, { readiness, metrics });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    server.keepAliveTimeout = 65000; // outlive client pools (pyvo's requests keeps connections)
    const api = new ApiServer(config, engine, hub, server, log, { store, events, queues, lookup, sync });
    api.startMaintenance();
    log.info({ url: api.url, services: [...options.services.keys()] }, 'api listening');
    return api;
  }

  /**
   * Reaper and reconciliation loops; reconciliation also runs once at start, and each time
   * the connection to Redis is (re)established, so jobs created while Redis was away are
   * enqueued at once rather than at the next tick.
   */
  private startMaintenance(): void {
    const { uws } = this.config;
    const redis = this.opened.events.redis;
    const loop = (name: string, seconds: number, work: () => Promise<unknown>, now: boolean, needsRedis = false) => {
      let running = false;
      let again = false;
      const tick = async (): Promise<void> => {
        if (this.closing) return;
        if (running) {
          again = true; // e.g. Redis came back during a tick that failed for want of it
          return;
        }
        // Nothing to do without Redis, and nothing worth a warning each tick: the connection
        // has reported the outage once.
        if (needsRedis && redisState(redis) === 'down') return;
        running = true;
        try {
          const outcome = await work();
          this.log.debug({ task: name, outcome }, 'maintenance');
        } catch (err) {
          if (needsRedis && redisState(redis) !== 'up') this.log.debug({ err, task: name }, 'maintenance interrupted: Redis unreachable');
          else this.log.warn({ err, task: name }, 'maintenance failed; will retry');
        } finally {
          running = false;
        }
        if (again) {
          again = false;
          await tick();
        }
      };
      const timer = setInterval(() => void tick(), seconds * 1000);
      timer.unref();
      this.timers.push(timer);
      if (now) void tick();
      return tick;
    };
    loop('reap', uws.reaperInterval, () => this.engine.reap(), true);
    const reconcile = loop('reconcile', uws.reconcileInterval, () => this.engine.reconcile(), true, true);
    redis.on('ready', () => void reconcile());
    // Leftovers of requests whose process died: sync request directories, partial uploads.
    const root = this.config.resultsDir;
    loop(
      'sweep',
      uws.reaperInterval,
      async () => ({
        sync: await sweepStale(path.join(root, '.sync'), (this.config.syncTimeout + STALE_GRACE_S) * 1000),
        uploads: await sweepStale(path.join(root, '.uploads'), STALE_UPLOAD_S * 1000),
        previews: await trimPreviewCache(previewCacheDir(root), this.config.previewCacheBytes),
      }),
      false,
    );
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.timers.forEach(clearInterval);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // Blocked WAIT requests are answered by closing their sockets after a moment.
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
    const { store, events, queues, lookup, sync } = this.opened;
    sync.close();
    await queues.close();
    await events.close();
    await store.close();
    lookup.close();
  }
}
