/**
 * Knex connections for the job store: an SQLite file (better-sqlite3, WAL) by default, or
 * PostgreSQL when DATABASE_URL is a postgres:// URL (several hosts share one store).
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';

export type { Knex };

// BIGINT (int8) columns hold epoch milliseconds: read them as numbers, not strings.
pg.types.setTypeParser(20, (value) => Number(value));

export interface DatabaseOptions {
  /** PostgreSQL schema to use (tests isolate themselves in a schema of their own). */
  searchPath?: string;
  readonly?: boolean;
  /** SQLite page size (bytes) of a file this call creates; an existing file keeps its own. */
  pageSize?: number;
}

export function isPostgres(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function sqlitePath(url: string): string {
  return path.resolve(url.replace(/^sqlite:(\/\/)?/, ''));
}

/**
 * Several processes (api, workers) share an SQLite file: WAL lets readers run beside the one
 * writer. The pragmas run with a generous busy timeout (they may wait for a lock); then the
 * connection keeps `busyTimeoutMs` (0 where the caller retries without blocking).
 */
export function configureSqlite(db: BetterSqlite3.Database, options: { readonly?: boolean; busyTimeoutMs: number }): void {
  db.pragma('busy_timeout = 10000');
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
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
