/**
 * The processor thread pool (worker/pool.ts): threads are reused while work keeps coming and
 * ended after WORKER_THREAD_IDLE seconds without a task, so an idle worker gives memory back,
 * but for the threads it keeps warm (WORKER_THREADS_WARM).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../shared/config';
import { cancellationBuilt, StatementCanceller } from '../../shared/db/cancel';
import { compiledModule } from '../../shared/runtime';
import { ThreadPool } from '../../worker/pool';
import type { ThreadTask } from '../../worker/thread';

const THREAD = compiledModule(require.resolve('../../worker/thread'));
const PROCESSOR = compiledModule(require.resolve('../fixtures/processor'));

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function task(n: number): Omit<ThreadTask, 'cancelKey' | 'state'> {
  const resultsDir = path.join(dir, `r${n}`);
  return {
    processorModule: PROCESSOR,
    input: {
      jobId: `job-${n}`,
      service: 'test',
      owner: null,
      parameters: [{ name: 'MODE', value: 'echo' }],
      jobDir: dir,
      resultsDir,
      executionDuration: 0,
      baseUrl: 'http://127.0.0.1',
      mode: 'async',
    },
  };
}

test('threads are reused while busy and ended after WORKER_THREAD_IDLE seconds idle', async () => {
  const config = loadConfig({ VAR_DIR: dir, WORKER_THREAD_IDLE: '1', WORKER_CONCURRENCY: '4' });
  const pool = new ThreadPool(THREAD, config);
  try {
    // Two tasks at once need two threads; both are kept idle afterwards.
    const first = await Promise.all([pool.run(task(1)).promise, pool.run(task(2)).promise]);
    expect(first.map((r) => r.ok)).toEqual([true, true]);
    expect(pool.idleThreads).toBe(2);
    expect(pool.threadsStarted).toBe(2);
    // A task soon after reuses an idle thread instead of starting one.
    const again = await pool.run(task(3)).promise;
    expect(again.ok).toBe(true);
    expect(pool.threadsStarted).toBe(2);
    expect(pool.idleThreads).toBe(2);
    // After the idle time, every thread has been ended…
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(pool.idleThreads).toBe(0);
    expect(pool.liveThreads).toBe(0);
    // …and work still runs, on a thread started on demand.
    const later = await pool.run(task(4)).promise;
    expect(later.ok).toBe(true);
    expect(pool.threadsStarted).toBe(3);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'r4', 'echo.json'), 'utf8')).jobId).toBe('job-4');
  } finally {
    await pool.close();
  }
});

test('keepWarm threads stay however long they are idle, the others are ended; work after the pause starts none', async () => {
  const config = loadConfig({ VAR_DIR: dir, WORKER_THREAD_IDLE: '1', WORKER_CONCURRENCY: '4' });
  const pool = new ThreadPool(THREAD, config, { keepWarm: 1 });
  try {
    const burst = await Promise.all([5, 6, 7].map((n) => pool.run(task(n)).promise));
    expect(burst.map((r) => r.ok)).toEqual([true, true, true]);
    expect(pool.threadsStarted).toBe(3);
    // Three idle times later: one thread left, idle, untimed.
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect(pool.liveThreads).toBe(1);
    expect(pool.idleThreads).toBe(1);
    const later = await pool.run(task(8)).promise;
    expect(later.ok).toBe(true);
    expect(pool.threadsStarted).toBe(3);
    // Parked again, it is still the one kept: another idle time does not end it.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(pool.liveThreads).toBe(1);
  } finally {
    await pool.close();
  }
  expect(pool.liveThreads).toBe(0);
});

test('the pool can give freed C heap back to the system (vo_release_memory, glibc malloc_trim)', () => {
  // The pool calls it when it is down to the threads it keeps warm; here directly: the SQL function exists
  // in the worker's native library (a missing one throws) and answers whether pages were freed.
  expect(cancellationBuilt()).toBe(true);
  const canceller = new StatementCanceller();
  try {
    expect([true, false]).toContain(canceller.releaseMemory());
  } finally {
    canceller.close();
  }
});
