/**
 * What the query processors (TAP, SIA) share: the thread's read-only ObsCore connection, and
 * the loop that streams a query's rows into a result writer with MAXREC truncation.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { registerAdqlFunctions } from '../shared/adql/translate';
import { configureSqlite } from '../shared/db/sqlite';
import { makeCancellable, querying } from '../shared/db/cancel';
import { JobFailure } from '../shared/uws/service';
import type { Cell, ResultWriter } from '../shared/votable';
import {
  BATCH_END_SQL,
  BATCH_ROWS_SQL,
  encodedRowsQuery,
  loadRowEncoders,
  type EncodedRowsOptions,
  type RowEncoding,
} from '../shared/votable/native';

/** Memory-mapped reads (as far as SQLite's compile-time limit allows) and a 32 MiB page cache. */
const MMAP_BYTES = 2 ** 34;
const CACHE_KIB = 32768;

interface Connection {
  file: string;
  db: Database.Database;
  statements: Map<string, Database.Statement>;
  /** The SQLite row encoders are loaded (shared/votable/native.ts). */
  rowEncoders: boolean;
}

/** One read-only connection per thread, reused by the thread's queries. */
let connection: Connection | undefined;

/** Prepared statements kept per connection, by SQL text (most recently used last). */
const STATEMENT_CACHE = 100;

export function obscoreConnection(file: string): Database.Database {
  if (connection?.file === file) return connection.db;
  connection?.db.close();
  if (!fs.existsSync(file))
    throw new JobFailure(`the ObsCore store is not available (OBSCORE_DB ${file} does not exist; run npm run ingest)`, 'transient');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  configureSqlite(db, { readonly: true, busyTimeoutMs: 10000 });
  // Queries fetch rows scattered over the file: mapped pages skip a system call and a copy each.
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  registerAdqlFunctions(db);
  // A cancelled task's statement stops inside SQLite, not only when it returns to JavaScript.
  makeCancellable(db);
  connection = { file, db, statements: new Map(), rowEncoders: loadRowEncoders(db) };
  return db;
}

/**
 * The connection's prepared statement for `sql`: cones, SIA searches and the tutorial's
 * queries repeat the same text with other bound values, and preparing costs ~0.1 ms.
 * Not for SQL over temporary tables (uploads), which change under the same names.
 */
export function preparedStatement(db: Database.Database, sql: string): Database.Statement {
  const statements = connection?.db === db ? connection.statements : undefined;
  if (statements === undefined) return db.prepare(sql);
  let statement = statements.get(sql);
  if (statement !== undefined) {
    statements.delete(sql);
  } else {
    statement = db.prepare(sql);
    if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
  }
  statements.set(sql, statement);
  return statement;
}

/** A result's query on a thread's ObsCore connection. */
export interface RowsQuery {
  db: Database.Database;
  sql: string;
  params: readonly unknown[];
  /** Columns of the result. */
  columnCount: number;
  /** Whether the statement may be kept for reuse (not SQL over temporary upload tables). */
  cacheable: boolean;
}

export interface RowsOptions {
  maxrec: number;
  /** Let SQLite encode the rows where the writer allows it (Config.nativeRows). */
  nativeRows: boolean;
  /** Hears the rows written so far, now and then (async jobs' progress). */
  onRows?: (written: number) => void;
}

/** Rows between two calls of RowsOptions.onRows. */
const ROWS_PER_REPORT = 4096;

/**
 * Writes the query's rows until `maxrec`; returns whether more were there (the overflow DALI
 * 1.1 §3.4.3 marks). MAXREC=0 runs nothing: metadata only. Links are absolute already (the
 * query makes them so: tapschema publishedLinkSql).
 * Where the writer's format allows it and the connection has the row encoders, SQLite
 * returns the rows encoded (shared/votable/native.ts); the bytes are the same either way.
 */
export function writeRows(query: RowsQuery, writer: ResultWriter, options: RowsOptions): Promise<boolean> {
  // A query may run for long: a cancel interrupts it inside SQLite (shared/db/cancel.ts).
  return querying(() => streamRows(query, writer, options));
}

async function streamRows(query: RowsQuery, writer: ResultWriter, options: RowsOptions): Promise<boolean> {
  const { maxrec } = options;
  if (maxrec === 0) return true;
  const encoding = options.nativeRows && connection?.db === query.db && connection.rowEncoders ? writer.rowEncoding : undefined;
  if (encoding !== undefined) return writeEncodedRows(query, writer, encoding, { token: ++batchTokens, maxrec });
  for (const row of statementFor(query, query.sql)
    .raw(true)
    .iterate(...query.params) as IterableIterator<Cell[]>) {
    if (writer.rowCount >= maxrec) return true;
    const wait = writer.row(row);
    if (wait) await wait;
    if (options.onRows && writer.rowCount % ROWS_PER_REPORT === 0) options.onRows(writer.rowCount);
  }
  return false;
}

/**
 * Prepares the query's statement (kept for writeRows where cacheable), so that a statement
 * SQLite refuses (e.g. more result columns than it allows) fails before the result's header
 * is written: a sync answer is then an error document, never a 200 cut short.
 */
export function prepareRows(query: RowsQuery): void {
  statementFor(query, query.sql);
}

function statementFor(query: RowsQuery, sql: string): Database.Statement {
  return query.cacheable ? preparedStatement(query.db, sql) : query.db.prepare(sql);
}

/** Tokens of the batches this thread's connection encodes (native/rows.cc). */
let batchTokens = 0;

/** writeRows with the rows encoded by SQLite, in batches; the batch is freed whatever happens. */
async function writeEncodedRows(
  query: RowsQuery,
  writer: ResultWriter,
  encoding: RowEncoding,
  options: EncodedRowsOptions,
): Promise<boolean> {
  const { sql, params } = encodedRowsQuery(query, query.columnCount, encoding, options);
  let ended = false;
  try {
    for (const batch of statementFor(query, sql)
      .pluck(true)
      .iterate(...params) as IterableIterator<Buffer | null>) {
      if (batch === null) continue;
      const wait = writer.encoded(batch, 0);
      if (wait) await wait;
    }
    const rows = preparedStatement(query.db, BATCH_ROWS_SQL).pluck(true).get(options.token) as number;
    const rest = preparedStatement(query.db, BATCH_END_SQL).pluck(true).get(options.token) as Buffer;
    ended = true;
    await writer.encoded(rest, Math.min(rows, options.maxrec));
    return rows > options.maxrec;
  } finally {
    if (!ended) preparedStatement(query.db, BATCH_END_SQL).get(options.token);
  }
}
