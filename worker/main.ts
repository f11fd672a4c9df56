/** `npm run worker`: one worker process; start as many as there are cores, on any machine. */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config';
import { createLogger, type Logger } from '../shared/log';
import { countingFailures, METRICS_CONTENT_TYPE, metricsText, processMetrics, WorkerMetrics } from '../shared/metrics';
import { UwsEvents } from '../shared/uws/events';
import { loadServices } from '../shared/services';
import { JobStore } from '../shared/uws/store';
import { configOrExit, runUntilSignal } from '../shared/lifecycle';
import { cancellationBuilt } from '../shared/db/cancel';
import { rowEncodersBuilt } from '../shared/votable/native';
import { fitsRowsBuilt } from '../shared/fits/native';
import { lineThreadCounts, settleLineThreads } from './line-threads';
import { observeWork, threadCounts } from './pool';
import { JobRunner } from './runner';

/**
 * The worker's own metrics endpoint (GET /metrics, and /healthz: the process is alive) on
 * METRICS_PORT + WORKER_INDEX, so every worker on a host has a port of its own and Prometheus
 * scrapes each directly (docs/operating.md says why not through the api). A port that cannot
 * be had is logged and the worker works on without it: metrics never stop the work.
 */
async function serveMetrics(config: Config, metrics: WorkerMetrics, log: Logger): Promise<Server | undefined> {
  if (config.metricsPort === 0) return undefined;
  const port = config.metricsPort + config.workerIndex;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => res.writeHead(status, { 'Content-Type': type }).end(body);
    if (req.method !== 'GET' && req.method !== 'HEAD') send(405, 'text/plain; charset=utf-8', 'GET only');
    else if (path === '/healthz') send(200, 'text/plain; charset=utf-8', 'ok');
    else if (path !== '/metrics') send(404, 'text/plain; charset=utf-8', `no resource ${path}`);
    else
      metricsText([processMetrics(), metrics.registry]).then(
        (text) => send(200, METRICS_CONTENT_TYPE, text),
        (err: unknown) => {
          log.error({ err }, 'metrics not collected');
          send(500, 'text/plain; charset=utf-8', 'metrics could not be collected');
        },
      );
  });
  return new Promise((resolve) => {
    server.once('error', (err) => {
      log.error(
        { err, host: config.metricsHost, port },
        'metrics endpoint not started (METRICS_PORT + WORKER_INDEX); working on without it',
      );
      resolve(undefined);
    });
    server.listen(port, config.metricsHost, () => {
      log.info({ url: `http://${config.metricsHost}:${(server.address() as AddressInfo).port}/metrics` }, 'metrics endpoint listening');
      resolve(server);
    });
  });
}

const config = configOrExit();
const log = createLogger('worker', config.logLevel);
runUntilSignal(log, async () => {
  const metrics = new WorkerMetrics({ threads: () => [...threadCounts(), ...lineThreadCounts()], settle: settleLineThreads });
  // Before the connections: a worker waiting for Redis or its store can be scraped already.
  const metricsServer = await serveMetrics(config, metrics, log);
  observeWork((task, work) => metrics.work(task, work));
  const store = countingFailures(await JobStore.open(config.databaseUrl), (operation) => metrics.storeErrors.inc({ operation }));
  const events = new UwsEvents(config.redisUrl, config.queuePrefix);
  const services = loadServices(config);
  const runner = new JobRunner({ config, store, events, services, log, metrics });
  await runner.start();
  // Where the encoders were not built (no C++ compiler), large results take 2–3× the CPU.
  const rowEncoders = !config.nativeRows ? 'off (NATIVE_ROWS=0)' : rowEncodersBuilt() ? 'native' : 'not built: JavaScript';
  // Without the addon a cutout's rows cost Node's fs.readSync wrapper each.
  const fitsRows = !config.fitsNativeRows ? 'off (FITS_NATIVE_ROWS=0)' : fitsRowsBuilt() ? 'native' : 'not built: JavaScript';
  // Without the cancel extension a stopped query runs on inside SQLite until it ends.
  const cancellation = cancellationBuilt() ? 'statements interrupted' : 'not built: statements run to their end';
  log.info({ services: [...services.keys()], concurrency: config.workerConcurrency, rowEncoders, fitsRows, cancellation }, 'worker ready');
  process.send?.({ ready: true });
  return async () => {
    await runner.stop();
    await events.close();
    await store.close();
    observeWork(undefined);
    if (metricsServer) {
      const closed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      metricsServer.closeAllConnections(); // a scraper's kept-alive connection would hold close() open
      await closed;
    }
  };
});
