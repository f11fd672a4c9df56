/**
 * The sky index of ivoa.ObsCore (shared/obscore/cone.ts): cones on s_ra/s_dec read half-degree
 * declination bands as ranges of s_ra instead of asking the footprints' R*Tree.
 */
import type { Knex } from 'knex';
import { SKY_INDEX, SKY_INDEX_KEY } from '../../shared/obscore/cone';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX IF NOT EXISTS ${SKY_INDEX} ON ivoa_obscore (${SKY_INDEX_KEY})`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS ${SKY_INDEX}`);
}
