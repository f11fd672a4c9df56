/**
 * The parameters of a TAP 1.1 query (§2.3), read from a job's (or a sync request's)
 * parameter list. TAP 1.1 §2.3: requirements are enforced at execution, not at creation;
 * unknown parameters (and TAP 1.0's REQUEST) are ignored.
 */
import type { TapLimits } from '../config';
import type { JobParameter } from '../uws/model';
import { JobFailure } from '../uws/service';
import { RESPONSE_FORMATS_HINT, resolveFormat, type ResolvedFormat } from '../votable';

/** LANG values accepted (TAP 1.1 §2.3.1; TAPRegExt language versions). */
export const ADQL_LANGS: readonly string[] = ['ADQL', 'ADQL-2.0', 'ADQL-2.1'];

export type UploadSource = { kind: 'inline'; parameter: string } | { kind: 'url'; url: string };

export interface TableUpload {
  /** Table name as given: the table is TAP_UPLOAD.<name>. */
  name: string;
  source: UploadSource;
}

export interface TapRequest {
  query: string;
  format: ResolvedFormat;
  /** Rows to return at most; 0 = metadata only (DALI 1.1 §3.4.4). */
  maxrec: number;
  uploads: TableUpload[];
}

/** TAP_UPLOAD table names must be ADQL regular identifiers (TAP 1.1 §2.7.6). */
const UPLOAD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The single value of a parameter; DALI 1.1 §3.4: RESPONSEFORMAT, MAXREC are single-valued. */
function single(parameters: readonly JobParameter[], name: string): string | undefined {
  const values = parameters.filter((p) => p.name === name && !p.byReference);
  if (values.length > 1) throw new JobFailure(`${name} must be given once, not ${values.length} times`);
  return values[0]?.value;
}

export function parseUploads(values: readonly string[], limits: Pick<TapLimits, 'uploadMaxTables'>): TableUpload[] {
  const uploads: TableUpload[] = [];
  // DALI 1.1 §3.4.5: UPLOAD=name,URI; several tables in one value are separated by ';'.
  for (const value of values) {
    for (const part of value.split(';')) {
      if (part.trim() === '') continue;
      const comma = part.indexOf(',');
      if (comma < 0) throw new JobFailure(`UPLOAD "${part}" is not of the form name,URI`);
      const name = part.slice(0, comma).trim();
      const uri = part.slice(comma + 1).trim();
      if (!UPLOAD_NAME.test(name)) throw new JobFailure(`UPLOAD table name "${name}" is not a valid ADQL identifier`);
      if (uploads.some((u) => u.name.toLowerCase() === name.toLowerCase()))
        throw new JobFailure(`UPLOAD table name "${name}" is given twice`);
      let source: UploadSource;
      if (uri.startsWith('param:')) source = { kind: 'inline', parameter: uri.slice('param:'.length).toUpperCase() };
      else if (/^https?:\/\//i.test(uri)) source = { kind: 'url', url: uri };
      else throw new JobFailure(`UPLOAD "${name}": URI "${uri}" is not supported (use param:<part> or an http(s) URL)`);
      uploads.push({ name, source });
    }
  }
  if (uploads.length > limits.uploadMaxTables)
    throw new JobFailure(`at most ${limits.uploadMaxTables} tables can be uploaded, not ${uploads.length}`);
  return uploads;
}

export function parseTapRequest(parameters: readonly JobParameter[], limits: TapLimits): TapRequest {
  const lang = single(parameters, 'LANG');
  if (lang === undefined) throw new JobFailure('LANG is missing: use LANG=ADQL');
  if (!ADQL_LANGS.includes(lang.trim().toUpperCase()))
    throw new JobFailure(`LANG=${lang} is not supported (supported: ${ADQL_LANGS.join(', ')})`);
  const query = single(parameters, 'QUERY');
  if (query === undefined || query.trim() === '') throw new JobFailure('QUERY is missing');

  const formats = ['RESPONSEFORMAT', 'FORMAT'].map((name) => single(parameters, name));
  const formatText = formats[0] ?? formats[1];
  const format = resolveFormat(formatText);
  if (!format) throw new JobFailure(`RESPONSEFORMAT=${formatText} is not supported (${RESPONSE_FORMATS_HINT})`);

  let maxrec = limits.maxrecDefault;
  const maxrecText = single(parameters, 'MAXREC');
  if (maxrecText !== undefined) {
    if (!/^\s*\d+\s*$/.test(maxrecText)) throw new JobFailure(`MAXREC must be a non-negative integer, not "${maxrecText}"`);
    maxrec = Math.min(Number(maxrecText), limits.maxrecMax);
  }
  const uploads = parseUploads(
    parameters.filter((p) => p.name === 'UPLOAD' && !p.byReference).map((p) => p.value),
    limits,
  );
  return { query, format, maxrec, uploads };
}
