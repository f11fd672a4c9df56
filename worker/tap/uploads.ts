/**
 * TAP 1.1 §2.5.7 table uploads: each UPLOAD=name,URI becomes a temporary table
 * TAP_UPLOAD.<name> on the query's connection (temporary tables work on a read-only
 * connection and vanish with it), described like a published table so ADQL validation and
 * the output FIELDs treat it the same way. Physical names are generated, never the user's.
 */
import fs from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { TapLimits } from '../../shared/config';
import { FetchError, fetchUpload } from '../../shared/net/fetch';
import type { TableUpload } from '../../shared/tap/params';
import type { ColumnDef, SqlType, TableDef } from '../../shared/tapschema/model';
import { containedPath } from '../../shared/storage';
import { inlineUpload } from '../../shared/uws/files';
import type { JobParameter } from '../../shared/uws/model';
import { JobFailure } from '../../shared/uws/service';
import { readVotable, VotableReadError } from '../../shared/votable/reader';
import type { Cell, FieldDef } from '../../shared/votable';

export const UPLOAD_SCHEMA = 'TAP_UPLOAD';

export interface UploadContext {
  parameters: readonly JobParameter[];
  /** Directory holding the request's inline uploads (multipart parts). */
  uploadsDir: string;
  limits: TapLimits;
  maxBytes: number;
  /** Non-public addresses, CIDR ranges and host names uploads by URL may reach (UPLOAD_URL_ALLOW). */
  allow: readonly string[];
}

/**
 * An upload by URL (TAP 1.1 §2.5.7 allows http(s) URIs): fetched by fetchUpload (fetchPublic), so a user
 * cannot make the worker read from loopback, private or link-local addresses (Redis, cloud
 * metadata, …) unless UPLOAD_URL_ALLOW lets them, and its messages never show what such an
 * address would have answered.
 */
async function fetchTable(url: string, context: UploadContext, name: string): Promise<Buffer> {
  try {
    return await fetchUpload(url, { maxBytes: context.maxBytes, allow: context.allow });
  } catch (err) {
    if (err instanceof FetchError) throw new JobFailure(`UPLOAD "${name}": ${err.message}`);
    throw err;
  }
}

async function uploadBytes(upload: TableUpload, context: UploadContext): Promise<Buffer> {
  if (upload.source.kind === 'url') return fetchTable(upload.source.url, context, upload.name);
  const { parameter } = upload.source;
  const part = inlineUpload(context.parameters, parameter);
  const file = part && containedPath(context.uploadsDir, part.file);
  if (!file) throw new JobFailure(`UPLOAD "${upload.name}": no uploaded part named ${parameter} (param:${parameter})`);
  return fs.readFile(file);
}

function sqlTypeOf(field: FieldDef): SqlType {
  if (field.arraysize !== undefined && field.datatype !== 'char' && field.datatype !== 'unicodeChar') return 'TEXT';
  switch (field.datatype) {
    case 'boolean':
    case 'short':
    case 'int':
    case 'long':
      return 'INTEGER';
    case 'float':
    case 'double':
      return 'REAL';
    default:
      return 'TEXT';
  }
}

function tableDef(name: string, fields: readonly FieldDef[]): TableDef {
  const columns: ColumnDef[] = fields.map((field, i) => ({
    name: field.name,
    datatype: field.datatype,
    // VOTable 1.3 Erratum 3: arraysize="1" is the scalar's deprecated spelling.
    arraysize: field.arraysize === '1' ? undefined : field.arraysize,
    xtype: field.xtype,
    unit: field.unit,
    ucd: field.ucd,
    utype: field.utype,
    description: field.description ?? '',
    sqlName: `c${i + 1}`,
    sqlType: sqlTypeOf(field),
  }));
  return {
    schema: UPLOAD_SCHEMA,
    name: `${UPLOAD_SCHEMA}.${name}`,
    sqlName: `tap_upload_${name.toLowerCase()}`,
    type: 'table',
    description: `uploaded table ${name}`,
    columns,
  };
}

const sqlCell = (cell: Cell): string | number | bigint | null =>
  cell === undefined ? null : typeof cell === 'boolean' ? (cell ? 1 : 0) : cell;

/** Reads every upload and creates its temporary table; returns the definitions and a cleanup. */
export async function createUploadTables(
  db: BetterSqlite3.Database,
  uploads: readonly TableUpload[],
  context: UploadContext,
): Promise<{ tables: TableDef[]; drop(): void }> {
  const tables: TableDef[] = [];
  const drop = () => {
    for (const table of tables) db.exec(`DROP TABLE IF EXISTS temp."${table.sqlName}"`);
  };
  try {
    for (const upload of uploads) {
      const bytes = await uploadBytes(upload, context);
      let parsed: ReturnType<typeof readVotable>;
      try {
        parsed = readVotable(bytes, { maxRows: context.limits.uploadMaxRows });
      } catch (err) {
        if (err instanceof VotableReadError) throw new JobFailure(`UPLOAD "${upload.name}": ${err.message}`);
        throw err;
      }
      if (parsed.fields.length === 0) throw new JobFailure(`UPLOAD "${upload.name}": the table has no columns`);
      const table = tableDef(upload.name, parsed.fields);
      const columns = table.columns.map((c) => `"${c.sqlName}" ${c.sqlType}`);
      db.exec(`CREATE TEMP TABLE "${table.sqlName}" (${columns.join(', ')})`);
      tables.push(table);
      const insert = db.prepare(`INSERT INTO temp."${table.sqlName}" VALUES (${table.columns.map(() => '?').join(', ')})`);
      db.transaction(() => {
        for (const row of parsed.rows) insert.run(row.map(sqlCell));
      })();
    }
  } catch (err) {
    drop();
    throw err;
  }
  return { tables, drop };
}
