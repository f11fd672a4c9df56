/**
 * Knex connections for the job store: an SQLite file (better-sqlite3, WAL) by default, or
 * PostgreSQL when DATABASE_URL is a postgres:// URL (several hosts share one store).
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import { configureSqlite, isPostgres, sqlitePath } from './sqlite';

export type { Knex };
// The SQLite helpers live apart so that processor threads use them without loading knex and pg.
export { configureSqlite, isPostgres, sqlitePath };

// BIGINT (int8) columns hold epoch milliseconds: read them as numbers, not strings.
pg.types.setTypeParser(20, (value) => Number(value));

export interface DatabaseOptions {
  /** PostgreSQL schema to use (tests isolate themselves in a schema of their own). */
  searchPath?: string;
  readonly?: boolean;
  /** SQLite page size (bytes) of a file this call creates; an existing file keeps its own. */
  pageSize?: number;
}

export function openDatabase(url: string, options: DatabaseOptions = {}): Knex {
  if (isPostgres(url)) {
    return knexFactory({
      client: 'pg',
      connection: url,
      searchPath: options.searchPath ? [options.searchPath] : undefined,
      pool: { min: 0, max: 10 },
    });
  }
  const file = sqlitePath(url);
  if (!options.readonly) fs.mkdirSync(path.dirname(file), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file, options: { readonly: options.readonly ?? false } },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: BetterSqlite3.Database, done: (err: Error | null, conn: BetterSqlite3.Database) => void) {
        try {
          // Before WAL mode writes the first page; a no-op once the file has pages.
          if (options.pageSize !== undefined && !options.readonly) conn.pragma(`page_size = ${Math.floor(options.pageSize)}`);
          configureSqlite(conn, { readonly: options.readonly, busyTimeoutMs: 10000 });
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
}
