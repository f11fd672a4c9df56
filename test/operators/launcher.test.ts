/**
 * `npm start` (dist/scripts/start.js) with METRICS_PORT: each worker it runs serves its metrics
 * on a port of its own, METRICS_PORT + its index, beside the api's /metrics on PORT (the
 * scrape targets of one host); a METRICS_PORT range that would take PORT is refused at start.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../shared/redis/server';
import { PROJECT_ROOT } from '../../shared/runtime';
import { sleep } from '../helpers/http';
import { FIXTURE_SERVICES_MODULE } from '../helpers/stack';
import { freePorts, scrape, valueOf } from './prometheus';

const START = path.join(PROJECT_ROOT, 'dist/scripts/start.js');

/** The launcher's environment: a placeholder FITS file, so no demo data set is generated. */
function environment(dir: string, extra: Record<string, string>): Record<string, string> {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'placeholder.fits'), '');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAR_DIR: dir,
    LOG_LEVEL: 'warn',
    SERVICE_MODULES: FIXTURE_SERVICES_MODULE,
    ...extra,
  };
  delete env.REDIS_URL;
  delete env.WORKER_INDEX;
  return env;
}

test('two workers: their metrics on METRICS_PORT and METRICS_PORT + 1, the api’s on PORT', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operators-start-'));
  const port = await freePort();
  const metricsPort = await freePorts(2);
  const child = spawn(process.execPath, [START], {
    env: environment(dir, { PORT: String(port), WORKERS: '2', METRICS_PORT: String(metricsPort), WORKER_CONCURRENCY: '2' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const urls = [`http://127.0.0.1:${port}`, `http://127.0.0.1:${metricsPort}`, `http://127.0.0.1:${metricsPort + 1}`];
    const deadline = Date.now() + 40000;
    for (const url of urls) {
      for (;;) {
        const status = await fetch(`${url}/healthz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        if (Date.now() > deadline) throw new Error(`${url} did not answer:\n${output}`);
        await sleep(100);
      }
    }
    const [api, first, second] = await Promise.all(urls.map((url) => scrape(`${url}/metrics`)));
    expect(api!.has('vo_uws_jobs_created_total')).toBe(true);
    for (const w of [first!, second!]) {
      expect(w.has('vo_worker_threads_busy')).toBe(true);
      expect(valueOf(w, 'vo_worker_threads_busy', { pool: 'main' })).toBe(0);
    }
    // Two processes: each its own start time and memory.
    expect(first!.get('process_start_time_seconds')!.samples.length).toBe(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 90000);

test('a METRICS_PORT range that takes PORT is refused at start, naming both', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operators-start-'));
  try {
    const child = spawn(process.execPath, [START], {
      env: environment(dir, { PORT: '9001', WORKERS: '4', METRICS_PORT: '9000' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toBe(
      "configuration error: PORT=9001 is among the workers' metrics ports METRICS_PORT … METRICS_PORT + WORKERS − 1 (9000…9003)\n",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
