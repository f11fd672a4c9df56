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
import { columnSqlName, createTableSql, tapSchemaRows, type Row } from '../tapschema';
import { SKY_INDEX, SKY_INDEX_KEY } from './cone';
import { PUBLISHED_SCHEMAS, PUBLISHED_TABLES } from './published';
import { OBSCORE_COLUMNS, OBSCORE_TABLE, obscoreIndexes, PRIVATE_COLUMNS, type ObscoreRecord } from './columns';

export interface ObscoreEntry {
  record: ObscoreRecord;
  /** Where the dataset's file is, relative to DATA_DIR (null for metadata-only rows). */
  file: string | null;
  fileSize: number | null;
  fileMtime: number | null;
  /** The footprint, for the spatial index. */
  region: Shape;
}

/**
 * Page size of new stores. Queries read runs of rows in sky order from files far larger than
 * SQLite's 2 GiB memory map: bigger pages mean fewer reads, but R*Tree nodes fill a page and
 * are scanned whole. 1° cone on 10M rows, in the TAP processor: 4.1–4.5 ms with 4 KiB pages,
 * 3.9–4.0 ms with 16 KiB and with 64 KiB; the R*Tree search alone: 1.0, 0.8 and 1.7 ms.
 */
export const OBSCORE_PAGE_SIZE = 16384;

/** The page cache of bulk loads (KiB). */
const LOAD_CACHE_KIB = 2 * 2 ** 20;

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
    const knex = openDatabase(file, { pageSize: OBSCORE_PAGE_SIZE });
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
      const insert = this.db.prepare(
        `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
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
    const indexes: [string, string][] = [...obscoreIndexes(), [SKY_INDEX, SKY_INDEX_KEY]];
    for (const [index] of indexes) this.db.prepare(`DROP INDEX IF EXISTS ${index}`).run();
    try {
      return load();
    } finally {
      for (const [index, column] of indexes) this.db.prepare(`CREATE INDEX IF NOT EXISTS ${index} ON ivoa_obscore (${column})`).run();
    }
  }

  /**
   * Runs a bulk load with a 2 GiB page cache: the unique obs_publisher_did index takes rows
   * at random places, and once it outgrows the cache every insert waits on a read (measured:
   * 10M rows loaded at 5k rows/s with 256 MiB).
   */
  withLoadCache<T>(load: () => T): T {
    const before = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = -${LOAD_CACHE_KIB}`);
    try {
      return load();
    } finally {
      this.db.pragma(`cache_size = ${before}`);
    }
  }

  /**
   * Rewrites the table in sky order — 1° declination bands, right ascension within a band —
   * with new row ids in that order, and the R*Tree with them. The rows a cone or region query
   * reads then sit on a few runs of pages instead of one page each (measured on 10M synthetic
   * rows inserted in random order: see bench/tap). Like PostgreSQL's CLUSTER; run it after
   * large loads (`npm run ingest -- --cluster`, and the synthetic loader does).
   */
  cluster(): void {
    const columns = ROW_COLUMNS.map((c) => `"${c}"`).join(', ');
    const indexes = (
      this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ivoa_obscore' AND sql IS NOT NULL").all() as {
        sql: string;
      }[]
    ).map((r) => r.sql);
    this.db.transaction(() => {
      this.db.exec('CREATE TEMP TABLE obscore_order (old_id INTEGER NOT NULL)');
      this.db.exec('INSERT INTO obscore_order (old_id) SELECT _id FROM ivoa_obscore ORDER BY CAST(s_dec + 90 AS INTEGER), s_ra, _id');
      this.db.exec(createTableSql({ ...OBSCORE_TABLE, sqlName: 'ivoa_obscore_clustered' }, PRIVATE_COLUMNS));
      // Row ids of the new table are 1, 2, … in insertion order: the order table's rowids.
      this.db.exec(
        `INSERT INTO ivoa_obscore_clustered (_id, ${columns}) SELECT t.rowid, ${ROW_COLUMNS.map((c) => `o."${c}"`).join(', ')} FROM obscore_order AS t JOIN ivoa_obscore AS o ON o._id = t.old_id ORDER BY t.rowid`,
      );
      this.db.exec('CREATE VIRTUAL TABLE ivoa_obscore_rtree_clustered USING rtree(id, xmin, xmax, ymin, ymax, zmin, zmax)');
      this.db.exec(
        'INSERT INTO ivoa_obscore_rtree_clustered SELECT t.rowid, r.xmin, r.xmax, r.ymin, r.ymax, r.zmin, r.zmax FROM obscore_order AS t JOIN ivoa_obscore_rtree AS r ON r.id = t.old_id ORDER BY t.rowid',
      );
      this.db.exec('DROP TABLE ivoa_obscore');
      this.db.exec('DROP TABLE ivoa_obscore_rtree');
      this.db.exec('ALTER TABLE ivoa_obscore_clustered RENAME TO ivoa_obscore');
      this.db.exec('ALTER TABLE ivoa_obscore_rtree_clustered RENAME TO ivoa_obscore_rtree');
      for (const sql of indexes) this.db.exec(sql);
      this.db.exec('DROP TABLE temp.obscore_order');
    })();
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM ivoa_obscore').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
