/**
 * The ObsCore store: `ivoa.ObsCore` (physical `ivoa_obscore`) with its private columns, an
 * R*Tree over the footprints' 3-D unit-vector bounding boxes (so a cone or region query
 * never scans the table), and the five TAP_SCHEMA tables.
 *
 * Frozen: the schema is written out as it was the day this migration was made, not derived
 * from today's definitions (shared/obscore/columns.ts, shared/tapschema), so a column added
 * to the definitions later needs a migration of its own and is never created twice.
 * test/obscore/migrations.test.ts checks that a store migrated from empty matches the
 * published definitions.
 */
import type { Knex } from 'knex';

const OBSCORE =
  'CREATE TABLE "ivoa_obscore" (_id INTEGER PRIMARY KEY, _file TEXT, _file_size INTEGER, _file_mtime REAL, ' +
  '"dataproduct_type" TEXT, "dataproduct_subtype" TEXT, "calib_level" INTEGER NOT NULL, "obs_collection" TEXT NOT NULL, ' +
  '"obs_id" TEXT NOT NULL, "obs_publisher_did" TEXT NOT NULL, "access_url" TEXT, "access_format" TEXT, "access_estsize" INTEGER, ' +
  '"target_name" TEXT, "s_ra" REAL, "s_dec" REAL, "s_fov" REAL, "s_region" TEXT, "s_resolution" REAL, "s_xel1" INTEGER, ' +
  '"s_xel2" INTEGER, "t_min" REAL, "t_max" REAL, "t_exptime" REAL, "t_resolution" REAL, "t_xel" INTEGER, "em_min" REAL, ' +
  '"em_max" REAL, "em_res_power" REAL, "em_xel" INTEGER, "o_ucd" TEXT, "pol_states" TEXT, "pol_xel" INTEGER, ' +
  '"facility_name" TEXT, "instrument_name" TEXT, "lsst_band" TEXT, "lsst_filter" TEXT, "lsst_tract" INTEGER, ' +
  '"lsst_patch" INTEGER, "lsst_visit" INTEGER, "lsst_detector" INTEGER)';

const INDEXED_COLUMNS = [
  'dataproduct_type',
  'dataproduct_subtype',
  's_ra',
  's_dec',
  't_min',
  't_max',
  'em_min',
  'em_max',
  'lsst_band',
  'lsst_tract',
  'lsst_patch',
  'lsst_visit',
];

const TAP_SCHEMA: ReadonlyArray<readonly [string, string]> = [
  ['tap_schema_schemas', '"schema_name" TEXT NOT NULL, "utype" TEXT, "description" TEXT, "schema_index" INTEGER'],
  [
    'tap_schema_tables',
    '"schema_name" TEXT NOT NULL, "table_name" TEXT NOT NULL, "table_type" TEXT NOT NULL, "utype" TEXT, "description" TEXT, "table_index" INTEGER',
  ],
  [
    'tap_schema_columns',
    '"table_name" TEXT NOT NULL, "column_name" TEXT NOT NULL, "datatype" TEXT NOT NULL, "arraysize" TEXT, "xtype" TEXT, "size_" INTEGER, ' +
      '"description" TEXT, "utype" TEXT, "unit" TEXT, "ucd" TEXT, "indexed" INTEGER NOT NULL, "principal" INTEGER NOT NULL, "std" INTEGER NOT NULL, "column_index" INTEGER',
  ],
  ['tap_schema_keys', '"key_id" TEXT NOT NULL, "from_table" TEXT NOT NULL, "target_table" TEXT NOT NULL, "description" TEXT, "utype" TEXT'],
  ['tap_schema_key_columns', '"key_id" TEXT NOT NULL, "from_column" TEXT NOT NULL, "target_column" TEXT NOT NULL'],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(OBSCORE);
  await knex.raw('CREATE UNIQUE INDEX ivoa_obscore_did ON ivoa_obscore (obs_publisher_did)');
  for (const column of INDEXED_COLUMNS) await knex.raw(`CREATE INDEX ivoa_obscore_${column} ON ivoa_obscore (${column})`);
  await knex.raw('CREATE VIRTUAL TABLE ivoa_obscore_rtree USING rtree(id, xmin, xmax, ymin, ymax, zmin, zmax)');
  for (const [name, columns] of TAP_SCHEMA) await knex.raw(`CREATE TABLE "${name}" (${columns})`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of TAP_SCHEMA) await knex.raw(`DROP TABLE "${name}"`);
  await knex.raw('DROP TABLE ivoa_obscore_rtree');
  await knex.raw('DROP TABLE ivoa_obscore');
}
