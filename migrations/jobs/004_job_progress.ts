/**
 * What a running job has done so far, shown in its uws:jobInfo (see shared/uws/xml.ts): the
 * items it has in all and those finished (ok or failed), the bytes written, and a message.
 * Counters rather than one document, so the parts of a batch running on several workers add
 * to them with one conditional UPDATE each, without reading them first.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.bigInteger('progress_total').nullable();
    t.bigInteger('progress_done').notNullable().defaultTo(0);
    t.bigInteger('progress_ok').notNullable().defaultTo(0);
    t.bigInteger('progress_failed').notNullable().defaultTo(0);
    t.bigInteger('progress_bytes').notNullable().defaultTo(0);
    t.string('progress_message', 1024).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uws_jobs', (t) => {
    t.dropColumns('progress_total', 'progress_done', 'progress_ok', 'progress_failed', 'progress_bytes', 'progress_message');
  });
}
