/**
 * `npm start` (dist/scripts/start.js) as a user runs it: a private redis-server, migrations,
 * the demo data set when the repository is empty, the api and the workers; SIGTERM stops all
 * of them. Without redis-server and REDIS_URL it
 * says so in one line.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, REDIS_MISSING } from '../shared/redis/server';
import { PROJECT_ROOT } from '../shared/runtime';
import { Client } from './helpers/http';
import { FIXTURE_SERVICES_MODULE } from './helpers/stack';

const START = path.join(PROJECT_ROOT, 'dist/scripts/start.js');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('starts redis, the api and a worker; runs a job; SIGTERM stops everything', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-start-'));
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>), PORT: String(port), VAR_DIR: dir, WORKERS: '1', LOG_LEVEL: 'info', SERVICE_MODULES: FIXTURE_SERVICES_MODULE,
    // A small demo set: the launcher generates and ingests it because DATA_DIR is empty.
    DEMO_BINNING: '8', DEMO_PATCHES: '17', DEMO_BANDS: 'i', DEMO_VISITS: '1',
  };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const http = new Client(`http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30000;
    while (!output.includes('worker ready') || !(await listening(port))) {
      if (Date.now() > deadline) throw new Error(`did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The empty repository was filled with the demo set and ingested before the api started.
    const obscore = new Database(path.join(dir, 'obscore.sqlite'), { readonly: true });
    const coadd = obscore.prepare("SELECT lsst_tract, lsst_patch, lsst_band, _file FROM ivoa_obscore WHERE obs_publisher_did = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c'").get();
    const files = (obscore.prepare('SELECT count(*) AS n FROM ivoa_obscore').get() as { n: number }).n;
    obscore.close();
    expect(coadd).toEqual({ lsst_tract: 4431, lsst_patch: 17, lsst_band: 'i', _file: 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits' });
    expect(files).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(path.join(dir, 'data', 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits'))).toBe(true);
    const landing = await http.get('/');
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('/api/fixture/async');
    expect(landing.text).toContain('/api/tap/sync');
    // The services answer from the generated and ingested demo data.
    const tap = await http.get('/api/tap/sync', { LANG: 'ADQL', QUERY: "SELECT obs_publisher_did FROM ivoa.ObsCore WHERE lsst_patch = 17 AND lsst_band = 'i' AND dataproduct_subtype = 'lsst.deepCoadd_calexp'" });
    expect(tap.text).toContain('<TD>butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c</TD>');
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    // A worker that dies is replaced, and jobs keep running.
    const workerPid = Number(/"component":"worker","pid":(\d+)[^\n]*"msg":"worker ready"/.exec(output)?.[1]);
    expect(workerPid).toBeGreaterThan(0);
    process.kill(workerPid, 'SIGKILL');
    const replaced = Date.now() + 20000;
    while (!new RegExp(`"component":"worker","pid":(?!${workerPid}\\b)\\d+[^\\n]*"msg":"worker ready"`).test(output)) {
      if (Date.now() > replaced) throw new Error(`worker not replaced:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const again = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(again)).toBe('COMPLETED');

    const redisPort = Number(/"url":"redis:\/\/127\.0\.0\.1:(\d+)"/.exec(output)?.[1]);
    expect(await listening(redisPort)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'redis'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'jobs.sqlite'))).toBe(true);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await listening(port)).toBe(false);
    expect(await listening(redisPort)).toBe(false);
    // Redis kept its data in an append-only file.
    expect(fs.readdirSync(path.join(dir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without redis-server and REDIS_URL it says so in one clear line', async () => {
  const env: Record<string, string> = { PATH: '/nonexistent', VAR_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'uws-start-')) };
  const child = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  expect(code).toBe(1);
  expect(stderr).toBe(`${REDIS_MISSING}\n`);
});
