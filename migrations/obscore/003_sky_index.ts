/**
 * The sky index of ivoa.ObsCore (shared/obscore/cone.ts): cones on s_ra/s_dec read half-degree
 * declination bands as ranges of s_ra instead of asking the footprints' R*Tree. Frozen (the
 * key written out, as cone.ts had it that day); test/obscore/migrations.test.ts checks that
 * cone.ts's queries still match it.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS ivoa_obscore_sky ON ivoa_obscore (CAST((s_dec + 90) * 2 AS INTEGER), s_ra, s_dec)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ivoa_obscore_sky');
}
