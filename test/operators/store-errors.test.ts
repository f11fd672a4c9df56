/**
 * Job store errors are counted by JobStore method (shared/metrics countingFailures), on a real
 * store: a call that fails (here: the store's connection is closed under it) counts once and
 * still fails for its caller with its own error; calls that succeed count nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobMetrics, countingFailures } from '../../shared/metrics';
import { JobStore } from '../../shared/uws/store';
import { parsePrometheus, valueOf } from './prometheus';

test('a failing store call is counted under its method and rejects as before', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operators-store-'));
  const metrics = new JobMetrics();
  const opened = await JobStore.open(path.join(dir, 'jobs.sqlite'));
  const store = countingFailures(opened, (operation) => metrics.storeErrors.inc({ operation }));
  try {
    expect(await store.get('no-such-job')).toBeUndefined();
    expect(await store.attemptsOf(['no-such-job'])).toEqual(new Map());
    await opened.close();
    const direct = await opened.get('no-such-job').then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    await expect(store.get('no-such-job')).rejects.toThrow(direct);
    await expect(store.get('no-such-job')).rejects.toThrow(direct);
    const families = parsePrometheus(await metrics.registry.metrics());
    expect(valueOf(families, 'vo_job_store_errors_total', { operation: 'get' })).toBe(2);
    expect(valueOf(families, 'vo_job_store_errors_total', { operation: 'attemptsOf' })).toBe(0);
    expect(store.knex).toBe(opened.knex); // properties pass through
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
