/**
 * What TAP publishes: the ObsCore table and TAP_SCHEMA. Apart from store.ts (the writing side,
 * with knex and the migrations) so that processor threads reading the store load neither.
 */
import { TAP_SCHEMA, TAP_SCHEMA_TABLES, type SchemaDef, type TableDef } from '../tapschema';
import { IVOA_SCHEMA, OBSCORE_TABLE } from './columns';

/** The schemas and tables TAP publishes, in listing order. */
export const PUBLISHED_SCHEMAS: readonly SchemaDef[] = [IVOA_SCHEMA, TAP_SCHEMA];
export const PUBLISHED_TABLES: readonly TableDef[] = [OBSCORE_TABLE, ...TAP_SCHEMA_TABLES];
