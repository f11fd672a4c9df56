/**
 * Runs fixed, parameterised SQL (`?` placeholders, values always bound) on either backend.
 * On SQLite it keeps prepared better-sqlite3 statements, so a hot query is parsed once per
 * process; on PostgreSQL it goes through knex (which maps `?` to `$n`). Query builders are
 * not used on hot paths: building and preparing a statement per call costs more than
 * running it.
 */
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { configureSqlite, isPostgres, sqlitePath } from './sqlite';

export type SqlValue = string | number | null | Buffer;

export interface SqlStatement {
  sql: string;
  bindings: readonly SqlValue[];
}

export interface SqlExecutor {
  /** Rows of a SELECT, or of a statement with RETURNING. */
  all<T>(sql: string, bindings?: readonly SqlValue[]): Promise<T[]>;
  /**
   * Rows of a SELECT as arrays of their columns' values, in the SELECT's order: for long
   * results (a bulk job's 27,000 results: ~20 ms as arrays, ~45 ms as objects on SQLite).
   */
  tuples(sql: string, bindings?: readonly SqlValue[]): Promise<unknown[][]>;
  /** Number of rows changed. */
  run(sql: string, bindings?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs the statements in one transaction, in order. The first is a guard: when it changes
   * no row (e.g. a conditional phase change that lost a race) nothing is done and the
   * answer is false.
   */
  atomically(statements: readonly SqlStatement[]): Promise<boolean>;
  close(): Promise<void>;
}

/** `?, ?, ?` for an IN list of n values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** How long a statement keeps retrying while another process holds the write lock, ms. */
const BUSY_DEADLINE_MS = 10000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Several processes (api, workers) write the same SQLite file. SQLite's own busy handler
 * sleeps in whole milliseconds inside the call, which blocks the event loop of a process
 * using the synchronous better-sqlite3; so busy_timeout is 0 on this connection and a
 * statement that meets the lock is retried asynchronously, first on the next turn of the
 * event loop, then with short back-offs. Only single statements (autocommit) run here, so
 * a retry repeats exactly the statement that did not happen.
 */
class SqliteExecutor implements SqlExecutor {
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements in raw mode (rows as arrays): a mode of the statement, so kept apart. */
  private readonly rawStatements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  private statement(sql: string, raw = false): Database.Statement {
    const cache = raw ? this.rawStatements : this.statements;
    let statement = cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (raw) statement.raw(true);
      cache.set(sql, statement);
    }
    return statement;
  }

  private async retrying<T>(work: () => T): Promise<T> {
    let deadline = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return work();
      } catch (err) {
        if (!isBusy(err)) throw err;
        const now = Date.now();
        if (deadline === 0) deadline = now + BUSY_DEADLINE_MS;
        else if (now > deadline) throw err;
        await (attempt < 4
          ? new Promise((r) => setImmediate(r))
          : new Promise((r) => setTimeout(r, Math.min(20, attempt - 3) * (0.5 + Math.random()))));
      }
    }
  }

  all<T>(sql: string, bindings: readonly SqlValue[] = []): Promise<T[]> {
    const statement = this.statement(sql);
    return this.retrying(() => statement.all(...bindings) as T[]);
  }

  tuples(sql: string, bindings: readonly SqlValue[] = []): Promise<unknown[][]> {
    const statement = this.statement(sql, true);
    return this.retrying(() => statement.all(...bindings) as unknown[][]);
  }

  run(sql: string, bindings: readonly SqlValue[] = []): Promise<number> {
    const statement = this.statement(sql);
    return this.retrying(() => statement.run(...bindings).changes);
  }

  atomically(statements: readonly SqlStatement[]): Promise<boolean> {
    // IMMEDIATE: the write lock is taken first, so the transaction cannot fail half-way
    // with SQLITE_BUSY_SNAPSHOT; meeting the lock, the whole transaction is retried.
    const transaction = this.db.transaction(() => {
      for (const [i, { sql, bindings }] of statements.entries()) {
        const changes = this.statement(sql).run(...bindings).changes;
        if (i === 0 && changes === 0) return false;
      }
      return true;
    });
    return this.retrying(() => transaction.immediate());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class KnexExecutor implements SqlExecutor {
  constructor(private readonly knex: Knex) {}

  async all<T>(sql: string, bindings: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.knex.raw<{ rows: T[] }>(sql, bindings as SqlValue[])).rows;
  }

  async tuples(sql: string, bindings: readonly SqlValue[] = []): Promise<unknown[][]> {
    // node-postgres keeps the columns' order in each row object's keys.
    return (await this.all<Record<string, unknown>>(sql, bindings)).map((row) => Object.values(row));
  }

  async run(sql: string, bindings: readonly SqlValue[] = []): Promise<number> {
    return (await this.knex.raw<{ rowCount: number }>(sql, bindings as SqlValue[])).rowCount;
  }

  async atomically(statements: readonly SqlStatement[]): Promise<boolean> {
    const guardFailed = new Error('guard');
    try {
      await this.knex.transaction(async (tx) => {
        for (const [i, { sql, bindings }] of statements.entries()) {
          const changed = (await tx.raw<{ rowCount: number }>(sql, bindings as SqlValue[])).rowCount;
          if (i === 0 && changed === 0) throw guardFailed; // rolls back
        }
      });
      return true;
    } catch (err) {
      if (err === guardFailed) return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    // the knex pool is closed by its owner
  }
}

/** An SQLite connection set up by configureSqlite; busy timeout 0 by default, for SqliteExecutor's non-blocking retries. */
export function openSqlite(file: string, busyTimeoutMs = 0): Database.Database {
  const db = new Database(file);
  configureSqlite(db, { busyTimeoutMs });
  return db;
}

export function createExecutor(url: string, knex: Knex): SqlExecutor {
  return isPostgres(url) ? new KnexExecutor(knex) : new SqliteExecutor(openSqlite(sqlitePath(url)));
}
