/**
 * The ObsCore migrations are frozen (they write out their schema instead of deriving it from
 * today's definitions), so this checks that a store migrated from empty still matches what
 * the code publishes and queries: the table, its indexes, the sky index cone.ts reads and the
 * TAP_SCHEMA tables. A column added to the definitions without a migration fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OBSCORE_TABLE, obscoreIndexes, PRIVATE_COLUMNS } from '../../shared/obscore/columns';
import { SKY_INDEX, SKY_INDEX_KEY } from '../../shared/obscore/cone';
import { ObscoreStore } from '../../shared/obscore/store';
import { createTableSql, TAP_SCHEMA_TABLES } from '../../shared/tapschema';

let dir: string;
let db: Database.Database;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obscore-migrate-'));
  const file = path.join(dir, 'obscore.sqlite');
  (await ObscoreStore.open(file)).close();
  db = new Database(file, { readonly: true });
});
afterAll(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The CREATE statement SQLite keeps for an object (normalised: no IF NOT EXISTS). */
const schemaSql = (name: string) =>
  (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck(true).get(name) as string | undefined) ?? `(no ${name})`;

test('ivoa_obscore has exactly the published columns, types and NOT NULLs, after the private ones', () => {
  expect(schemaSql('ivoa_obscore')).toBe(createTableSql(OBSCORE_TABLE, PRIVATE_COLUMNS));
});

test('every index the definitions ask for exists on its column, and the sky index has the key cone.ts queries', () => {
  for (const [index, column] of obscoreIndexes()) expect(schemaSql(index)).toBe(`CREATE INDEX ${index} ON ivoa_obscore (${column})`);
  expect(schemaSql(SKY_INDEX)).toBe(`CREATE INDEX ${SKY_INDEX} ON ivoa_obscore (${SKY_INDEX_KEY})`);
  expect(schemaSql('ivoa_obscore_did')).toBe('CREATE UNIQUE INDEX ivoa_obscore_did ON ivoa_obscore (obs_publisher_did)');
});

test('the TAP_SCHEMA tables match their definitions', () => {
  expect(TAP_SCHEMA_TABLES).toHaveLength(5);
  for (const table of TAP_SCHEMA_TABLES) expect(schemaSql(table.sqlName)).toBe(createTableSql(table));
});
