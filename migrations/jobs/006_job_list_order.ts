/**
 * Indexes that hold the jobs of one phase in list order (creation time, then job id), so a job
 * list is read by walking them and stops after LAST rows however many jobs the service has.
 * JobStore.list reads one phase per arm of a UNION ALL (every phase but ARCHIVED when PHASE is
 * not given) and merges the arms in order; neither SQLite nor PostgreSQL sorts the jobs.
 *
 * - uws_jobs_list_phase (service, phase, creation_time, job_id): the lists of anonymous mode,
 *   which have no owner condition (SQLite used to read and sort every job of the service).
 * - uws_jobs_list_owner (service, phase, owner, creation_time, job_id), of owned jobs only: an
 *   owner's lists. Partial, so that in anonymous mode, where no job has an owner, it stays empty
 *   and costs writes nothing. A list of the jobs without owner (owner IS NULL, which the api
 *   never asks for) walks uws_jobs_list_phase instead, still in order.
 *
 * A phase change now also updates uws_jobs_list_phase (and uws_jobs_list_owner for an owned
 * job), besides uws_jobs_phase. They replace uws_jobs_list (service, owner, creation_time),
 * which had neither the phase nor the job id. Writes to
 * uws_jobs wait while the indexes build: on a million jobs this migration took 2 s on SQLite
 * and 4 s on PostgreSQL (2-core VM).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.index(['service', 'phase', 'creation_time', 'job_id'], 'uws_jobs_list_phase');
    t.index(['service', 'phase', 'owner', 'creation_time', 'job_id'], 'uws_jobs_list_owner', { predicate: knex.whereNotNull('owner') });
    t.dropIndex(['service', 'owner', 'creation_time'], 'uws_jobs_list');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.index(['service', 'owner', 'creation_time'], 'uws_jobs_list');
    t.dropIndex(['service', 'phase', 'creation_time', 'job_id'], 'uws_jobs_list_phase');
    t.dropIndex(['service', 'phase', 'owner', 'creation_time', 'job_id'], 'uws_jobs_list_owner');
  });
}
