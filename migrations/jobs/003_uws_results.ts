/**
 * A job's results in a table of their own, one row per result in order, instead of a JSON
 * list in the job's row: a request about a job (its phase, one result) no longer parses every
 * result (a cutout job with 10,000 results carried about 1 MB of JSON into each request), and
 * a batch of 100,000 stamps is read a page at a time. Existing lists are moved over.
 */
import type { Knex } from 'knex';

interface StoredResult {
  id: string;
  file: string;
  mimeType: string;
  size: number;
  offset?: number;
}

/** Rows per INSERT: knex writes a multi-row SQLite insert as a compound SELECT (at most 500 terms). */
const INSERT_ROWS = 400;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uws_results', (t) => {
    t.string('job_id', 64).notNullable();
    t.integer('seq').notNullable();
    t.string('result_id', 256).notNullable();
    t.string('file', 1024).notNullable();
    t.string('mime_type', 256).notNullable();
    t.bigInteger('size').notNullable();
    t.bigInteger('byte_offset').nullable();
    t.primary(['job_id', 'seq']);
    // With seq: the first result of an id is found in the index, without reading the job's other results.
    t.index(['job_id', 'result_id', 'seq'], 'uws_results_by_id');
  });
  let after = '';
  for (;;) {
    const rows = (await knex('uws_jobs').select('job_id', 'results').where('job_id', '>', after).orderBy('job_id').limit(500)) as {
      job_id: string;
      results: string;
    }[];
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.job_id;
    for (const row of rows) {
      const results = JSON.parse(row.results) as StoredResult[];
      for (let start = 0; start < results.length; start += INSERT_ROWS) {
        await knex('uws_results').insert(
          results.slice(start, start + INSERT_ROWS).map((r, i) => ({
            job_id: row.job_id,
            seq: start + i,
            result_id: r.id,
            file: r.file,
            mime_type: r.mimeType,
            size: r.size,
            byte_offset: r.offset ?? null,
          })),
        );
      }
    }
  }
  await knex.raw('ALTER TABLE uws_jobs DROP COLUMN results');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.text('results').notNullable().defaultTo('[]');
  });
  await knex.schema.dropTable('uws_results');
}
