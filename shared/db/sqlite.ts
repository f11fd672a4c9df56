/**
 * Database URLs and SQLite connection settings, without knex or pg: processor threads open the
 * ObsCore store with these and should not load the job store's drivers (about 100 ms a thread).
 */
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

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
