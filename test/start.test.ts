/**
 * `npm start` (dist/scripts/start.js) as a user runs it: a private redis-server, migrations,
 * the demo data set when the repository is empty, the api and the workers; SIGTERM stops all
 * of them. Without redis-server and REDIS_URL it
 * says so in one line. Its private Redis is started again when it dies, and SIGTERM stops
 * everything in bounded time even while Redis is down.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { connectRedis } from '../shared/redis';
import { freePort, REDIS_MISSING, startRedisServer } from '../shared/redis/server';
import { PROJECT_ROOT } from '../shared/runtime';
import { Client, sleep } from './helpers/http';
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
    ...(process.env as Record<string, string>),
    PORT: String(port),
    VAR_DIR: dir,
    WORKERS: '1',
    LOG_LEVEL: 'info',
    SERVICE_MODULES: FIXTURE_SERVICES_MODULE,
    // A small demo set: the launcher generates and ingests it because DATA_DIR is empty.
    DEMO_BINNING: '8',
    DEMO_PATCHES: '17',
    DEMO_BANDS: 'i',
    DEMO_VISITS: '1',
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
    const coadd = obscore
      .prepare(
        "SELECT lsst_tract, lsst_patch, lsst_band, _file FROM ivoa_obscore WHERE obs_publisher_did = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c'",
      )
      .get();
    const files = (obscore.prepare('SELECT count(*) AS n FROM ivoa_obscore').get() as { n: number }).n;
    obscore.close();
    expect(coadd).toEqual({
      lsst_tract: 4431,
      lsst_patch: 17,
      lsst_band: 'i',
      _file: 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits',
    });
    expect(files).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(path.join(dir, 'data', 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits'))).toBe(true);
    const landing = await http.get('/');
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('/api/fixture/async');
    expect(landing.text).toContain('/api/tap/sync');
    // The services answer from the generated and ingested demo data.
    const tap = await http.get('/api/tap/sync', {
      LANG: 'ADQL',
      QUERY:
        "SELECT obs_publisher_did FROM ivoa.ObsCore WHERE lsst_patch = 17 AND lsst_band = 'i' AND dataproduct_subtype = 'lsst.deepCoadd_calexp'",
    });
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

/** The launcher on a free port with a placeholder FITS file (no demo data to generate). */
function launch(dir: string, port: number, extra: Record<string, string>) {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'placeholder.fits'), '');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    VAR_DIR: dir,
    WORKERS: '1',
    LOG_LEVEL: 'info',
    SERVICE_MODULES: FIXTURE_SERVICES_MODULE,
    ...extra,
  };
  if (!('REDIS_URL' in extra)) delete env.REDIS_URL;
  const child = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, ms = 30000): Promise<RegExpExecArray> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${output}`);
      await sleep(50);
    }
  };
  const ready = async () => {
    await waitFor(/"msg":"worker ready"/);
    while (!(await listening(port))) await sleep(50);
  };
  return { child, exited, waitFor, ready, output: () => output };
}

/** The pid of the redis-server answering on `port`, or undefined when none answers. */
async function redisPid(port: number): Promise<number | undefined> {
  if (!(await listening(port))) return undefined;
  const redis = connectRedis(`redis://127.0.0.1:${port}`);
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** Resolves once a file of the append-only directory under `redisDir` contains `text`. */
async function untilAppended(redisDir: string, text: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const aofDir = path.join(redisDir, 'appendonlydir');
    const files = fs.existsSync(aofDir) ? fs.readdirSync(aofDir).map((name) => path.join(aofDir, name)) : [];
    if (files.some((file) => fs.readFileSync(file, 'latin1').includes(text))) return;
    if (Date.now() > deadline) throw new Error(`${text} not in the append-only files of ${redisDir} after ${ms} ms`);
    await sleep(50);
  }
}

/** Stops a launcher left running by a failed test, and what it started, without orphans. */
async function cleanUp(launcher: ReturnType<typeof launch>, redisPort?: number): Promise<void> {
  if (launcher.child.exitCode === null && launcher.child.signalCode === null) {
    launcher.child.kill('SIGTERM');
    await Promise.race([launcher.exited, sleep(20000)]);
    launcher.child.kill('SIGKILL');
  }
  const pid = redisPort === undefined ? undefined : await redisPid(redisPort);
  if (pid) process.kill(pid, 'SIGKILL');
}

test('the private Redis is started again when it dies, with its data; jobs keep running', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-start-redis-'));
  const port = await freePort();
  const launcher = launch(dir, port, {});
  let redisPort: number | undefined;
  try {
    await launcher.ready();
    const http = new Client(`http://127.0.0.1:${port}`);
    redisPort = Number(/"url":"redis:\/\/127\.0\.0\.1:(\d+)"/.exec(launcher.output())?.[1]);
    const firstPid = await redisPid(redisPort);
    expect(firstPid).toBeGreaterThan(0);
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    // A key of our own, to see that the Redis started again has the data of the one that died.
    const before = connectRedis(`redis://127.0.0.1:${redisPort}`);
    await before.set('outage-test', 'kept');
    await before.quit();
    // Redis acknowledges a write before its append-only file has it when a background fsync
    // is slow (appendfsync everysec postpones the write up to 2 s), so a SIGKILL just after
    // the reply could lose it: wait until the file holds the key, as older data would.
    await untilAppended(path.join(dir, 'redis'), 'outage-test');

    process.kill(firstPid!, 'SIGKILL');
    const deadline = Date.now() + 15000;
    let secondPid: number | undefined;
    while ((secondPid = await redisPid(redisPort)) === undefined || secondPid === firstPid) {
      if (Date.now() > deadline) throw new Error(`redis-server not started again:\n${launcher.output()}`);
      await sleep(50);
    }
    await launcher.waitFor(
      new RegExp(`"url":"redis://127\\.0\\.0\\.1:${redisPort}","redisPid":${secondPid},"msg":"private redis-server started again"`),
      5000,
    );
    const after = connectRedis(`redis://127.0.0.1:${redisPort}`);
    expect(await after.get('outage-test')).toBe('kept');
    await after.quit();

    // The api and the worker reconnected by themselves: a job submitted now completes.
    const started = Date.now();
    const next = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(next)).toBe('COMPLETED');
    console.log(`private redis restarted: a new job completed in ${Date.now() - started} ms`);
    // One line per state change of each connection (a restart this quick is one 'dropped and
    // restored'), not one per retry; no error event left unhandled or logged per retry.
    const apiPid = /"component":"api","pid":(\d+)/.exec(launcher.output())?.[1];
    const apiRecovered = launcher
      .output()
      .split('\n')
      .filter(
        (line) => line.includes(`"component":"api","pid":${apiPid},`) && /"msg":"redis connection (dropped and )?restored"/.test(line),
      )
      .map((line) => /"connection":"([^"]+)"/.exec(line)?.[1])
      .sort();
    expect(apiRecovered).toEqual(['commands', 'subscriber']);
    expect(launcher.output()).not.toContain('Unhandled error event');
    expect(launcher.output()).not.toContain('"msg":"queue worker error"');

    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toBe(0);
    expect(await listening(redisPort)).toBe(false);
  } finally {
    await cleanUp(launcher, redisPort);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 90000);

test('SIGTERM while Redis is down stops everything within SHUTDOWN_GRACE + 5 s; the running job is kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-start-down-'));
  const port = await freePort();
  const redisDir = path.join(dir, 'own-redis');
  let redis = await startRedisServer({ dir: redisDir, appendOnly: true });
  const grace = 2;
  // Short locks: the entry of the job its killed worker held is handed on soon after.
  const env = { REDIS_URL: redis.url, SHUTDOWN_GRACE: String(grace), UWS_LOCK_MS: '2000', UWS_STALLED_INTERVAL_MS: '500' };
  let launcher = launch(dir, port, env);
  try {
    await launcher.ready();
    const http = new Client(`http://127.0.0.1:${port}`);
    const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '8', PHASE: 'RUN' });
    const end = Date.now() + 15000;
    while ((await http.phase(job)) !== 'EXECUTING' && Date.now() < end) await http.get(job, { WAIT: '1', PHASE: 'QUEUED' });
    expect(await http.phase(job)).toBe('EXECUTING');

    await redis.stop();
    await sleep(500);
    const started = Date.now();
    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toBe(0);
    const took = Date.now() - started;
    console.log(`launcher SIGTERM with Redis down and a job running: exited in ${took} ms`);
    expect(took).toBeLessThan((grace + 5) * 1000);
    expect(await listening(port)).toBe(false);
    // The worker released the job in the store before it was stopped.
    const store = new Database(path.join(dir, 'jobs.sqlite'), { readonly: true });
    const row = store.prepare('SELECT phase FROM uws_jobs WHERE job_id = ?').get(job.split('/').pop()) as { phase: string } | undefined;
    store.close();
    expect(row?.phase).toBe('QUEUED');

    // Everything back: the job runs to its end.
    redis = await startRedisServer({ dir: redisDir, appendOnly: true, port: redis.port });
    launcher = launch(dir, port, env);
    await launcher.ready();
    expect(await new Client(`http://127.0.0.1:${port}`).settle(job, 60000)).toBe('COMPLETED');
    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toBe(0);
  } finally {
    await cleanUp(launcher);
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);
