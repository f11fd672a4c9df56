/**
 * The ObsCore store (OBSCORE_DB, an SQLite file): migrations, TAP_SCHEMA kept equal to the
 * published definitions, and upserts of ObsCore rows with their R*Tree entries. Queries
 * (TAP, SIA) open it read-only.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../db';
import { openSqlite } from '../db/executor';
import { migrateObscore } from '../../migrations';
import { cartesianBoundingBox, type Shape } from '../sky';
import { columnSqlName, tapSchemaRows, TAP_SCHEMA, TAP_SCHEMA_TABLES, type Row, type SchemaDef, type TableDef } from '../tapschema';
import { IVOA_SCHEMA, OBSCORE_COLUMNS, OBSCORE_TABLE, obscoreIndexes, type ObscoreRecord } from './columns';

/** The schemas and tables TAP publishes, in listing order. */
export const PUBLISHED_SCHEMAS: readonly SchemaDef[] = [IVOA_SCHEMA, TAP_SCHEMA];
export const PUBLISHED_TABLES: readonly TableDef[] = [OBSCORE_TABLE, ...TAP_SCHEMA_TABLES];

export interface ObscoreEntry {
  record: ObscoreRecord;
  /** Where the dataset's file is, relative to DATA_DIR (null for metadata-only rows). */
  file: string | null;
  fileSize: number | null;
  fileMtime: number | null;
  /** The footprint, for the spatial index. */
  region: Shape;
}

const ROW_COLUMNS = [...OBSCORE_COLUMNS.map(columnSqlName), '_file', '_file_size', '_file_mtime'];

export class ObscoreStore {
  private readonly upsertRow: Database.Statement;
  private readonly deleteBox: Database.Statement;
  private readonly insertBox: Database.Statement;

  private constructor(readonly db: Database.Database) {
    const updates = ROW_COLUMNS.filter((c) => c !== 'obs_publisher_did').map((c) => `"${c}" = excluded."${c}"`);
    this.upsertRow = db.prepare(
      `INSERT INTO ivoa_obscore (${ROW_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${ROW_COLUMNS.map(() => '?').join(', ')}) ` +
        `ON CONFLICT(obs_publisher_did) DO UPDATE SET ${updates.join(', ')} RETURNING _id`,
    );
    this.deleteBox = db.prepare('DELETE FROM ivoa_obscore_rtree WHERE id = ?');
    this.insertBox = db.prepare('INSERT INTO ivoa_obscore_rtree (id, xmin, xmax, ymin, ymax, zmin, zmax) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Opens (creating and migrating) the store, and rewrites TAP_SCHEMA from the definitions. */
  static async open(file: string): Promise<ObscoreStore> {
    const knex = openDatabase(file);
    try {
      await migrateObscore(knex);
    } finally {
      await knex.destroy();
    }
    const store = new ObscoreStore(openSqlite(file, 10000)); // a batch job: waiting for a lock is fine
    // Bulk loads touch a dozen indexes and the R*Tree at random places: with SQLite's default
    // 2 MB page cache they thrash at a few hundred thousand rows (measured: 9k rows/s).
    store.db.pragma('cache_size = -262144');
    store.db.pragma('temp_store = MEMORY');
    store.writeTapSchema();
    return store;
  }

  private writeTapSchema(): void {
    const rows = tapSchemaRows(PUBLISHED_SCHEMAS, PUBLISHED_TABLES);
    const fill = (table: string, list: Row[]) => {
      this.db.prepare(`DELETE FROM ${table}`).run();
      if (list.length === 0) return;
      const columns = Object.keys(list[0]!);
      const insert = this.db.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      for (const row of list) insert.run(...columns.map((c) => row[c] ?? null));
    };
    this.db.transaction(() => {
      fill('tap_schema_schemas', rows.schemas);
      fill('tap_schema_tables', rows.tables);
      fill('tap_schema_columns', rows.columns);
      fill('tap_schema_keys', rows.keys);
      fill('tap_schema_key_columns', rows.keyColumns);
    })();
  }

  /** Inserts or updates rows by obs_publisher_did, with their spatial index entries, in one transaction. */
  upsert(entries: readonly ObscoreEntry[]): void {
    this.db.transaction(() => {
      for (const entry of entries) {
        const values = [...OBSCORE_COLUMNS.map((c) => entry.record[c.name] ?? null), entry.file, entry.fileSize, entry.fileMtime];
        const { _id: id } = this.upsertRow.get(...values) as { _id: number };
        const box = cartesianBoundingBox(entry.region);
        this.deleteBox.run(id);
        this.insertBox.run(id, box.xMin, box.xMax, box.yMin, box.yMax, box.zMin, box.zMax);
      }
    })();
  }

  /**
   * Runs a bulk load with the secondary indexes dropped, then builds them once: maintaining
   * a dozen indexes at random places costs several times the load itself.
   */
  withoutIndexes<T>(load: () => T): T {
    const indexes = obscoreIndexes();
    for (const [index] of indexes) this.db.prepare(`DROP INDEX IF EXISTS ${index}`).run();
    try {
      return load();
    } finally {
      for (const [index, column] of indexes) this.db.prepare(`CREATE INDEX IF NOT EXISTS ${index} ON ivoa_obscore (${column})`).run();
    }
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM ivoa_obscore').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
