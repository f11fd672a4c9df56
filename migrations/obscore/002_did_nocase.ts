/** SIA 2.0 compares ID case-insensitively (IVOIDs): an index that serves `COLLATE NOCASE`. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS ivoa_obscore_did_nocase ON ivoa_obscore (obs_publisher_did COLLATE NOCASE)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ivoa_obscore_did_nocase');
}
