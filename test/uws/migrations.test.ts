/**
 * Job store migrations carry existing data: a store made before results had a table of
 * their own (003_uws_results) keeps every result of every job, in order, after the upgrade.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../shared/db';
import { JobStore } from '../../shared/uws/store';
import { jobStoreMigrations } from '../../migrations';

const TABLE = 'knex_migrations_jobs';

test("003_uws_results moves each job's JSON result list into uws_results", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-'));
  const file = path.join(dir, 'jobs.sqlite');
  try {
    const knex = openDatabase(file);
    // The store as it was: the first two migrations only.
    await knex.migrate.up({ migrationSource: jobStoreMigrations, tableName: TABLE });
    await knex.migrate.up({ migrationSource: jobStoreMigrations, tableName: TABLE });
    const results = Array.from({ length: 1234 }, (_, i) => ({
      id: `cutout-${i + 1}`,
      file: 'cutouts.pack',
      mimeType: 'application/fits',
      size: 10 + i,
      offset: i * 100,
    }));
    const row = {
      service: 'cutout',
      owner: null,
      run_id: null,
      creation_time: 1,
      execution_duration: 60,
      destruction: 2,
      quote: null,
      attempts: 1,
      parameters: '[]',
      base_url: null,
    };
    await knex('uws_jobs').insert([
      { ...row, job_id: 'done', phase: 'COMPLETED', results: JSON.stringify(results) },
      {
        ...row,
        job_id: 'text',
        phase: 'COMPLETED',
        results: JSON.stringify([{ id: 'result', file: 'r.xml', mimeType: 'text/xml', size: 5 }]),
      },
      { ...row, job_id: 'none', phase: 'PENDING', results: '[]' },
    ]);
    await knex.destroy();

    const store = await JobStore.open(file);
    try {
      expect(await store.results('done')).toEqual(results);
      expect(await store.results('text')).toEqual([{ id: 'result', file: 'r.xml', mimeType: 'text/xml', size: 5 }]);
      expect(await store.results('none')).toEqual([]);
      expect((await store.get('done'))?.phase).toBe('COMPLETED');
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
