/**
 * TAP 1.1 query execution (runs in a worker thread, for async jobs and sync requests alike):
 * parameters → ADQL parse → validation and translation against the published tables (plus
 * TAP_UPLOAD tables) → read-only SQLite → rows streamed into the result file in the
 * requested format. MAXREC truncation is marked with DALI's overflow INFO; every user error
 * becomes a JobFailure whose message the VOTable error document carries (TAP 1.1 §2.9).
 * A query is stopped for good by terminating its thread (execution duration, abort).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AdqlSyntaxError, parseAdql } from '../../shared/adql';
import { AdqlValidationError, registerAdqlFunctions, translateAdql, type OutputColumn } from '../../shared/adql/translate';
import { loadConfig, type Config } from '../../shared/config';
import { configureSqlite } from '../../shared/db';
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { PUBLISHED_TABLES } from '../../shared/obscore/store';
import { ShapeError } from '../../shared/sky';
import { parseTapRequest } from '../../shared/tap/params';
import { openResult } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';
import { createWriter, type Cell, type FieldDef, type ResultFormat } from '../../shared/votable';
import { createUploadTables } from './uploads';

const EXTENSIONS: Readonly<Record<ResultFormat, string>> = {
  votable: 'xml',
  'votable-binary2': 'xml',
  csv: 'csv',
  tsv: 'tsv',
  json: 'json',
};

const MMAP_BYTES = 2 ** 34;
const CACHE_KIB = 32768;

const ACCESS_URL = OBSCORE_COLUMNS.find((c) => c.name === 'access_url');

let config: Config | undefined;
/** One read-only connection per thread, reused by the thread's queries. */
let connection: { file: string; db: Database.Database } | undefined;

function obscoreConnection(file: string): Database.Database {
  if (connection?.file === file) return connection.db;
  connection?.db.close();
  if (!fs.existsSync(file)) throw new JobFailure(`the ObsCore store is not available (OBSCORE_DB ${file} does not exist; run npm run ingest)`, 'transient');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  configureSqlite(db, { readonly: true, busyTimeoutMs: 10000 });
  // Queries fetch rows scattered over the file: memory-mapped reads (as far as SQLite's
  // compile-time limit allows) skip a system call and a copy per page; plus a larger cache.
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  registerAdqlFunctions(db);
  connection = { file, db };
  return db;
}

function fieldOf(column: OutputColumn): FieldDef {
  const field: FieldDef = { name: column.name, datatype: column.datatype };
  for (const key of ['arraysize', 'xtype', 'unit', 'ucd', 'utype'] as const) if (column[key] !== undefined) field[key] = column[key];
  if (column.column?.description) field.description = column.column.description;
  return field;
}

/** A user's mistake in the query, as the error document shows it. */
function userError(err: unknown): JobFailure | undefined {
  if (err instanceof JobFailure) return err;
  if (err instanceof AdqlSyntaxError || err instanceof AdqlValidationError) return new JobFailure(err.message);
  if (err instanceof ShapeError) return new JobFailure(`invalid geometry: ${err.message}`);
  if (err instanceof Database.SqliteError) return new JobFailure(`query failed: ${err.message}`);
  return undefined;
}

export async function process(input: ProcessorInput): Promise<ProducedResult[]> {
  config ??= loadConfig();
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
  });
  try {
    const translated = translateAdql(ast, [...PUBLISHED_TABLES, ...uploads.tables]);
    const statement = db.prepare(translated.sql).raw(true);
    const fields = translated.columns.map(fieldOf);
    // access_url is stored relative to the service (so PUBLIC_URL can change without a
    // re-ingest); clients need it absolute (pyvo's getdataurl follows it as is).
    const relativeLinks = translated.columns.flatMap((c, i) => (c.column === ACCESS_URL ? [i] : []));

    const output = openResult(input, 'result', `result.${EXTENSIONS[request.format.format]}`, request.format.contentType);
    const writer = createWriter(request.format.format, output.stream);
    await writer.begin(fields, { infos: [{ name: 'QUERY', value: request.query }] });
    let overflow = request.maxrec === 0; // DALI 1.1 §3.4.3: MAXREC=0 → metadata only
    if (!overflow) {
      for (const row of statement.iterate(...translated.params) as IterableIterator<Cell[]>) {
        if (writer.rowCount >= request.maxrec) {
          overflow = true;
          break;
        }
        for (const i of relativeLinks) {
          const link = row[i];
          if (typeof link === 'string' && link.startsWith('/')) row[i] = input.baseUrl + link;
        }
        const wait = writer.row(row);
        if (wait) await wait;
      }
    }
    await writer.end(overflow);
    return [output.result()];
  } finally {
    uploads.drop();
  }
}
