/**
 * The ObsCore store: `ivoa.ObsCore` (physical `ivoa_obscore`) with its private columns, an
 * R*Tree over the footprints' 3-D unit-vector bounding boxes (so a cone or region query
 * never scans the table), and the five TAP_SCHEMA tables. Tables are created from the
 * published definitions as they are at this migration; later column changes need a
 * migration of their own.
 */
import type { Knex } from 'knex';
import { OBSCORE_TABLE, obscoreIndexes, PRIVATE_COLUMNS } from '../../shared/obscore/columns';
import { createTableSql, TAP_SCHEMA_TABLES } from '../../shared/tapschema';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(createTableSql(OBSCORE_TABLE, PRIVATE_COLUMNS));
  await knex.raw('CREATE UNIQUE INDEX ivoa_obscore_did ON ivoa_obscore (obs_publisher_did)');
  for (const [index, column] of obscoreIndexes()) await knex.raw(`CREATE INDEX ${index} ON ivoa_obscore (${column})`);
  await knex.raw('CREATE VIRTUAL TABLE ivoa_obscore_rtree USING rtree(id, xmin, xmax, ymin, ymax, zmin, zmax)');
  for (const table of TAP_SCHEMA_TABLES) await knex.raw(createTableSql(table));
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TAP_SCHEMA_TABLES) await knex.raw(`DROP TABLE "${table.sqlName}"`);
  await knex.raw('DROP TABLE ivoa_obscore_rtree');
  await knex.raw('DROP TABLE ivoa_obscore');
}
