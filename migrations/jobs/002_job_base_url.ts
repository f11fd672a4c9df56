/**
 * The base URL a job was created through, so a worker writes links (e.g. ObsCore access_url,
 * DataLink URLs) that the client can follow even without PUBLIC_URL.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.string('base_url', 1024).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.dropColumn('base_url');
  });
}
