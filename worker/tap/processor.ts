/**
 * TAP 1.1 query execution (runs in a worker thread, for async jobs and sync requests alike):
 * parameters → ADQL parse → validation and translation against the published tables (plus
 * TAP_UPLOAD tables) → read-only SQLite → rows streamed into the result file in the
 * requested format. MAXREC truncation is marked with DALI's overflow INFO; every user error
 * becomes a JobFailure whose message the VOTable error document carries (TAP 1.1 §2.9).
 * A query is stopped for good by terminating its thread (execution duration, abort).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { AdqlSyntaxError, parseAdql } from '../../shared/adql';
import { AdqlValidationError, translateAdql } from '../../shared/adql/translate';
import type { Config } from '../../shared/config';
import { reportWork } from '../../shared/metrics/work';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { ShapeError } from '../../shared/sky';
import { parseTapRequest } from '../../shared/tap/params';
import { openResult } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';
import { columnField, createWriter, FILE_EXTENSIONS } from '../../shared/votable';
import { obscoreConnection, prepareRows, writeRows } from '../obscore';
import { createUploadTables } from './uploads';

/** A user's mistake in the query, as the error document shows it. */
function userError(err: unknown): JobFailure | undefined {
  if (err instanceof JobFailure) return err;
  if (err instanceof AdqlSyntaxError || err instanceof AdqlValidationError) return new JobFailure(err.message);
  if (err instanceof ShapeError) return new JobFailure(`invalid geometry: ${err.message}`);
  if (err instanceof Database.SqliteError) return new JobFailure(`query failed: ${err.message}`);
  return undefined;
}

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  try {
    return await runQuery(input, config);
  } catch (err) {
    throw userError(err) ?? err;
  }
}

async function runQuery(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  const request = parseTapRequest(input.parameters, config.tap);
  const ast = parseAdql(request.query);
  const db = obscoreConnection(config.obscoreDb);
  const uploads = await createUploadTables(db, request.uploads, {
    parameters: input.parameters,
    uploadsDir: path.join(input.jobDir, 'uploads'),
    limits: config.tap,
    maxBytes: config.uws.uploadMaxBytes,
    allow: config.uploadUrlAllow,
  });
  try {
    const translated = translateAdql(ast, [...PUBLISHED_TABLES, ...uploads.tables], { baseUrl: input.baseUrl });
    const rows = {
      db,
      sql: translated.sql,
      params: translated.params,
      columnCount: translated.columns.length,
      cacheable: uploads.tables.length === 0,
    };
    prepareRows(rows);
    const output = openResult(input, 'result', `result.${FILE_EXTENSIONS[request.format.format]}`, request.format.contentType);
    const writer = createWriter(request.format.format, output.stream);
    await writer.begin(
      translated.columns.map((c) => columnField(c, c.column?.description)),
      { infos: [{ name: 'QUERY', value: request.query }] },
    );
    input.progress?.({ done: 0, message: 'running the query' });
    const overflow = await writeRows(rows, writer, {
      maxrec: request.maxrec,
      nativeRows: config.nativeRows,
      onRows: input.progress && ((written) => input.progress!({ done: written, message: 'writing the result' })),
    });
    await writer.end(overflow);
    reportWork({ rows: writer.rowCount });
    // Rows are the items of a query: how many there were is known at the end.
    input.progress?.({
      done: writer.rowCount,
      total: writer.rowCount,
      message: `${writer.rowCount} rows${overflow ? ' (MAXREC reached)' : ''}`,
    });
    return [output.result()];
  } finally {
    uploads.drop();
  }
}
