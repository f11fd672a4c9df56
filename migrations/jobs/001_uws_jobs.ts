/** The UWS job store: one row per job; parameters and results as ordered JSON lists. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uws_jobs', (t) => {
    t.string('job_id', 64).primary();
    t.string('service', 64).notNullable();
    t.string('owner', 256).nullable();
    t.string('run_id', 1024).nullable();
    t.string('phase', 16).notNullable();
    t.bigInteger('creation_time').notNullable();
    t.bigInteger('start_time').nullable();
    t.bigInteger('end_time').nullable();
    t.integer('execution_duration').notNullable();
    t.bigInteger('destruction').notNullable();
    t.bigInteger('quote').nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('error_type', 16).nullable();
    t.text('error_message').nullable();
    t.text('parameters').notNullable();
    t.text('results').notNullable();
    t.index(['service', 'owner', 'creation_time'], 'uws_jobs_list');
    t.index(['destruction'], 'uws_jobs_destruction');
    t.index(['phase'], 'uws_jobs_phase');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('uws_jobs');
}
