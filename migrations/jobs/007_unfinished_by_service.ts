/**
 * Drops uws_jobs_phase (phase): every query by phase now names its service too and is served by
 * uws_jobs_list_phase (service, phase, creation_time, job_id) from 006, including the
 * reconciliation's scan of QUEUED and EXECUTING jobs (JobStore.unfinished). One index fewer to
 * update on every phase change: 006 had made a no-op job's lifecycle ~14% dearer in the store.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.dropIndex(['phase'], 'uws_jobs_phase');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.index(['phase'], 'uws_jobs_phase');
  });
}
