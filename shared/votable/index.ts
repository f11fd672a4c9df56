/**
 * Streaming result serialisers for TAP/SIA/DataLink responses: VOTable 1.4 (TABLEDATA,
 * BINARY2), CSV, TSV and JSON. Each writer emits rows as they come, in constant memory,
 * and waits for `drain` only when the destination stream asks for it.
 */
import type { Writable } from 'node:stream';
import { DelimitedWriter, JsonWriter } from './text';
import type { ResultFormat, ResultWriter, WriterOptions } from './types';
import { Binary2Writer, TabledataWriter } from './votable';

export type { BeginInfo, Cell, FieldDef, InfoDef, ParamDef, ResultFormat, ResultWriter, VotableDatatype, WriterOptions } from './types';
export type { ResolvedFormat } from './format';
export { DEFAULT_CONTENT_TYPES, FILE_EXTENSIONS, RESPONSE_FORMATS_HINT, resolveFormat } from './format';
export { columnField } from './types';
export { votableError } from './votable';
export { csvQuote, tsvEscape } from './text';

export function createWriter(format: ResultFormat, out: Writable, options?: WriterOptions): ResultWriter {
  switch (format) {
    case 'votable':
      return new TabledataWriter(out, options);
    case 'votable-binary2':
      return new Binary2Writer(out, options);
    case 'csv':
    case 'tsv':
      return new DelimitedWriter(format, out, options);
    case 'json':
      return new JsonWriter(out, options);
  }
}
