/** RESPONSEFORMAT → serialiser (DALI 1.1 §3.4.3, TAP 1.1 §2.7.3). */
import type { ResultFormat } from './types';

export interface ResolvedFormat {
  format: ResultFormat;
  contentType: string;
}

export const DEFAULT_CONTENT_TYPES: Readonly<Record<ResultFormat, string>> = {
  votable: 'application/x-votable+xml',
  'votable-binary2': 'application/x-votable+xml;serialization=BINARY2',
  csv: 'text/csv;header=present',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
};

/** What RESPONSEFORMAT accepts, for error messages. */
export const RESPONSE_FORMATS_HINT = 'votable, votable/b2, csv, tsv, json or their media types';

/** File name extension of a result file in each format. */
export const FILE_EXTENSIONS: Readonly<Record<ResultFormat, string>> = {
  votable: 'xml',
  'votable-binary2': 'xml',
  csv: 'csv',
  tsv: 'tsv',
  json: 'json',
};

/** Short names (DALI 1.1 §3.4.3 lists votable, csv, tsv; the others are customary aliases). */
const SHORT: Readonly<Record<string, ResultFormat>> = {
  votable: 'votable',
  'votable-binary2': 'votable-binary2',
  'votable/b2': 'votable-binary2',
  binary2: 'votable-binary2',
  csv: 'csv',
  tsv: 'tsv',
  json: 'json',
};

/**
 * Maps a RESPONSEFORMAT value; `undefined` means unsupported (the service answers with an
 * error). Absent/empty → TABLEDATA VOTable. Media types match case-insensitively with their
 * parameters tolerated; DALI 1.1 §3.4.3: when the client named a media type, the response
 * Content-Type is that value.
 */
export function resolveFormat(responseFormat?: string): ResolvedFormat | undefined {
  const raw = (responseFormat ?? '').trim();
  if (raw === '') return { format: 'votable', contentType: DEFAULT_CONTENT_TYPES.votable };
  // Anything not plain printable ASCII cannot be echoed into a header.
  if (!/^[\x20-\x7e]+$/.test(raw)) return undefined;
  const lower = raw.toLowerCase();
  const short = SHORT[lower];
  if (short) return { format: short, contentType: DEFAULT_CONTENT_TYPES[short] };

  const [typePart, ...paramParts] = lower.split(';');
  const type = (typePart ?? '').trim();
  const params = new Map<string, string>();
  for (const p of paramParts) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params.set(
        p.slice(0, eq).trim(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  let format: ResultFormat | undefined;
  switch (type) {
    case 'application/x-votable+xml':
    case 'application/votable+xml':
    case 'text/xml': {
      // VOTable 1.4 §5: serialization selects TABLEDATA (default) or BINARY2; others unsupported.
      const ser = params.get('serialization');
      if (ser === undefined || ser === 'tabledata') format = 'votable';
      else if (ser === 'binary2') format = 'votable-binary2';
      break;
    }
    case 'text/csv':
      format = 'csv';
      break;
    case 'text/tab-separated-values':
      format = 'tsv';
      break;
    case 'application/json':
      format = 'json';
      break;
  }
  return format ? { format, contentType: raw } : undefined;
}
