/**
 * The parts of split jobs that have been recorded (JobStore.addResults with a part): a part done
 * again — its worker died after recording it, before BullMQ heard it was done — finds its row
 * and adds neither its results nor its counts a second time.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uws_job_parts', (t) => {
    t.string('job_id', 64).notNullable();
    t.integer('attempt').notNullable();
    t.integer('part').notNullable();
    t.primary(['job_id', 'attempt', 'part']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('uws_job_parts');
}
