/**
 * The fixed cost of a DALI-sync request (`npm run bench:sync`): what the path api → sync line →
 * worker thread → sync line → api adds to the work itself, beside the route it replaced (api →
 * Redis list → worker thread → Redis channel → api, a second api process with SYNC_LINES=0). For a one-row TAP query and a 64×64
 * three-plane SODA cutout of the demo repository, in the same run:
 *  - in process: the service's processor called directly in this process, as its worker
 *    thread calls it (sync mode, the answer inline), p50 over BENCH_SYNC_N (300) requests;
 *  - over HTTP: the same requests to the real system (api + workers + Redis), one at a time,
 *    to each api;
 *  - the api alone: GET /healthz (an answer that never leaves the api process; VOSI availability now asks Redis and the stores).
 * Fixed cost = HTTP p50 − in-process p50  [target ≤ 1 ms]; and the sync cutout over HTTP against
 * the same cutout in process plus the one-row query's HTTP round trip [≤ 2×]. Interleaved rounds (in process,
 * then HTTP, BENCH_SYNC_ROUNDS times) so both sides see the same machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../shared/config';
import type { JobParameter } from '../shared/uws/model';
import type { ProcessorInput, ProducedResult } from '../shared/uws/service';
import { process as sodaProcess } from '../worker/soda/processor';
import { process as tapProcess } from '../worker/tap/processor';
import { circle, demoRepository, stamps } from './cutout';
import { machineLine, percentile } from './machine';
import { request, startBenchStack } from './stack';

const N = Number(process.env.BENCH_SYNC_N ?? 300);
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 3);
const WARM = 30;
const ONE_ROW = 'SELECT TOP 1 obs_id FROM ivoa.ObsCore';

type Processor = (input: ProcessorInput, config: Config) => Promise<ProducedResult[]>;

interface Case {
  name: string;
  processor: Processor;
  parameters: (i: number) => JobParameter[];
  http: (i: number) => { method: string; url: string; body?: string };
}

const p50 = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** p50 of `n` calls of the processor in this process, as a worker thread makes them. */
async function inProcess(c: Case, config: Config, dir: string): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < N + WARM; i++) {
    const input: ProcessorInput = {
      jobId: `bench-${i}`,
      service: c.name,
      owner: null,
      parameters: c.parameters(i),
      jobDir: dir,
      resultsDir: path.join(dir, `r${i}`),
      executionDuration: 0,
      baseUrl: 'http://127.0.0.1',
      mode: 'sync',
      inlineLimit: config.syncInlineBytes,
      maxBytes: config.jobMaxBytes,
    };
    const t0 = performance.now();
    const results = await c.processor(input, config);
    if (i >= WARM) ms.push(performance.now() - t0);
    if (results.length !== 1) throw new Error(`${c.name}: expected one result, got ${results.length}`);
  }
  return p50(ms);
}

/** Waits until the api has a sync line open to each worker (its vo_sync_lines_open gauge). */
async function waitForLines(port: number, workers: number): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const metrics = (await request(port, 'GET', '/metrics')).text;
    const open = Number(/^vo_sync_lines_open (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (open >= workers) return;
    if (Date.now() > deadline) throw new Error(`the api opened ${open} sync lines to ${workers} workers in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function overHttp(port: number, make: (i: number) => { method: string; url: string; body?: string }): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < N + WARM; i++) {
    const { method, url, body } = make(i);
    const t0 = performance.now();
    const reply = await request(port, method, url, body, false);
    if (i >= WARM) ms.push(performance.now() - t0);
    if (reply.status !== 200) throw new Error(`${method} ${url} answered ${reply.status}`);
  }
  return p50(ms);
}

export async function benchSync(): Promise<void> {
  const { dataDir, obscoreDb, datasets } = await demoRepository();
  const coadds = datasets.filter((d) => d.datasetType === 'deepCoadd_calexp' && d.patch === 17 && d.band !== 'u');
  const cutouts = stamps(coadds, 60, 21);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
  const env = { DATA_DIR: dataDir, OBSCORE_DB: obscoreDb };
  const config = loadConfig({ ...process.env, VAR_DIR: dir, ...env });
  const cases: Case[] = [
    {
      name: 'tap',
      processor: tapProcess,
      parameters: () => [
        { name: 'LANG', value: 'ADQL' },
        { name: 'QUERY', value: ONE_ROW },
      ],
      http: () => ({ method: 'POST', url: '/api/tap/sync', body: new URLSearchParams({ LANG: 'ADQL', QUERY: ONE_ROW }).toString() }),
    },
    {
      name: 'cutout',
      processor: sodaProcess,
      parameters: (i) => {
        const s = cutouts[i % cutouts.length]!;
        return [
          { name: 'ID', value: s.id },
          { name: 'CIRCLE', value: circle(s) },
        ];
      },
      http: (i) => {
        const s = cutouts[i % cutouts.length]!;
        return { method: 'GET', url: `/api/cutout/sync?${new URLSearchParams({ ID: s.id, CIRCLE: circle(s) }).toString()}` };
      },
    },
  ];
  // A second api on the same Redis and workers sends every request through the Redis list:
  // the route sync lines replaced, measured beside them.
  const stack = await startBenchStack('sync', env, { moreApis: [{ SYNC_LINES: '0' }] });
  const queuePort = stack.morePorts[0]!;
  try {
    console.log(machineLine());
    console.log(
      `sync: 2 api processes (one with sync lines, one through the Redis list), ${stack.workers} worker process(es); ` +
        `${ROUNDS} rounds of ${N} requests per side, one at a time`,
    );
    await waitForLines(stack.port, stack.workers);
    // One unrecorded round first: a fresh processor thread runs its first few hundred requests
    // with cold code (JIT), which made the first recorded round the slowest in every run.
    for (const c of cases) {
      await inProcess(c, config, dir);
      await overHttp(stack.port, c.http);
      await overHttp(queuePort, c.http);
    }
    const figures = new Map<string, { inProcess: number[]; http: number[]; queue: number[] }>();
    const apiAlone: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const f = figures.get(c.name) ?? { inProcess: [], http: [], queue: [] };
        figures.set(c.name, f);
        f.inProcess.push(await inProcess(c, config, dir));
        f.http.push(await overHttp(stack.port, c.http));
        f.queue.push(await overHttp(queuePort, c.http));
      }
      apiAlone.push(await overHttp(stack.port, () => ({ method: 'GET', url: '/healthz' })));
    }
    const median = (values: number[]) => p50(values);
    for (const c of cases) {
      const f = figures.get(c.name)!;
      const fixed = f.http.map((h, i) => h - f.inProcess[i]!);
      const what = c.name === 'tap' ? `one-row TAP query (${ONE_ROW})` : '64×64 × 3 planes SODA cutout';
      const fixedQueue = f.queue.map((h, i) => h - f.inProcess[i]!);
      console.log(
        `sync ${what}: HTTP p50 ${median(f.http).toFixed(2)} ms, in process ${median(f.inProcess).toFixed(2)} ms → fixed cost ` +
          `${median(fixed).toFixed(2)} ms (rounds: ${fixed.map((x) => x.toFixed(2)).join(', ')})  [target ≤ 1 ms]`,
      );
      console.log(
        `  the same through the Redis list (SYNC_LINES=0): HTTP p50 ${median(f.queue).toFixed(2)} ms → fixed cost ` +
          `${median(fixedQueue).toFixed(2)} ms; sync lines take ${(median(f.http) / median(f.queue)).toFixed(2)}× its time`,
      );
    }
    // Issue 14's yardstick for sync cutouts: HTTP p50 against the cutout cut in process plus
    // the sync round trip of a one-row query (what any sync request costs).
    const tap = figures.get('tap')!;
    const cutout = figures.get('cutout')!;
    const budget = median(cutout.inProcess) + median(tap.http);
    console.log(
      `sync cutout over HTTP against (in process + one-row sync round trip): ${median(cutout.http).toFixed(2)} ms / ` +
        `(${median(cutout.inProcess).toFixed(2)} + ${median(tap.http).toFixed(2)}) ms = ${(median(cutout.http) / budget).toFixed(2)}×  [target ≤ 2×]`,
    );
    console.log(`sync api alone (GET /healthz, never leaves the api): HTTP p50 ${median(apiAlone).toFixed(2)} ms`);
    console.log(machineLine());
  } finally {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchSync().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
