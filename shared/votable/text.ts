/** CSV (RFC 4180), TSV and DALI-style JSON result writers. */
import type { Writable } from 'node:stream';
import { floatText, textFormatter, textKind, toBool, type Formatter, type Value } from './cells';
import { rowEncoding, type RowEncoding } from './native';
import { finishStream, Sink } from './sink';
import type { BeginInfo, Cell, FieldDef, ResultFormat, ResultWriter, WriterOptions } from './types';

abstract class TextWriterBase implements ResultWriter {
  abstract readonly format: ResultFormat;
  rowCount = 0;
  rowEncoding: RowEncoding | undefined;
  protected readonly sink: Sink;
  private readonly endStream: boolean;

  constructor(out: Writable, options: WriterOptions | undefined) {
    this.sink = new Sink(out, options?.chunkSize ?? 65536);
    this.endStream = options?.endStream ?? true;
  }

  abstract begin(fields: FieldDef[], info?: BeginInfo): Promise<void>;
  abstract row(cells: readonly Cell[]): Promise<void> | void;
  protected abstract tail(overflow: boolean): string;

  encoded(bytes: Uint8Array, rows: number): Promise<void> | void {
    this.rowCount += rows;
    return this.sink.pushBytes(bytes);
  }

  async end(overflow: boolean): Promise<void> {
    await this.sink.push(this.tail(overflow));
    await this.sink.flush();
    if (this.endStream) await finishStream(this.sink.out);
  }
}

const CSV_SPECIAL = /[",\r\n]/;

/** RFC 4180 §2.6–2.7: quote fields holding comma, quote or line breaks; double inner quotes. */
export function csvQuote(s: string): string {
  return CSV_SPECIAL.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const TSV_SPECIAL = /[\\\t\n\r]/;
const TSV_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** TSV has no quoting (IANA text/tab-separated-values); use backslash escapes instead. */
export function tsvEscape(s: string): string {
  return TSV_SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => TSV_ESCAPES[c] ?? c) : s;
}

/**
 * Delimited text. Null is an empty field; in CSV an empty *string* is written `""` so the two
 * stay distinguishable. Booleans are `true`/`false`; floats `NaN`, `+Inf`, `-Inf` as in VOTable.
 */
export class DelimitedWriter extends TextWriterBase {
  private formatters: Formatter[] = [];
  /** Text columns: numbers and booleans never hold a separator, quote or line break. */
  private escaped: boolean[] = [];
  private readonly sep: string;
  private readonly eol: string;
  private readonly escape: (s: string) => string;

  constructor(
    readonly format: 'csv' | 'tsv',
    out: Writable,
    options: WriterOptions | undefined,
  ) {
    super(out, options);
    this.sep = format === 'csv' ? ',' : '\t';
    // RFC 4180 §2.1 asks for CRLF; TSV conventionally uses LF.
    this.eol = format === 'csv' ? '\r\n' : '\n';
    this.escape = format === 'csv' ? csvQuote : tsvEscape;
  }

  async begin(fields: FieldDef[]): Promise<void> {
    this.formatters = fields.map((f) => textFormatter(f, 'true', 'false'));
    this.escaped = fields.map((f) => textKind(f) === 'text');
    this.rowEncoding = rowEncoding(this.format, fields);
    await this.sink.push(fields.map((f) => this.escape(f.name)).join(this.sep) + this.eol);
  }

  row(cells: readonly Cell[]): Promise<void> | void {
    const fmts = this.formatters;
    const csv = this.format === 'csv';
    let s = '';
    for (let i = 0; i < fmts.length; i++) {
      if (i > 0) s += this.sep;
      const v = cells[i];
      if (v === null || v === undefined) continue;
      const t = fmts[i]!(v);
      s += t === '' && csv && typeof v === 'string' ? '""' : this.escaped[i] || typeof v === 'string' ? this.escape(t) : t;
    }
    this.rowCount++;
    return this.sink.push(s + this.eol);
  }

  protected tail(): string {
    return '';
  }
}

function jsonFormatter(f: FieldDef): Formatter {
  const kind = textKind(f);
  if (kind === 'boolean') {
    return (v) => {
      const b = toBool(v);
      return b === undefined ? 'null' : b ? 'true' : 'false';
    };
  }
  if (kind === 'integer' || kind === 'float') {
    return (v) => {
      if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'; // JSON has no NaN/Inf
      if (typeof v === 'bigint') return String(v); // JSON numbers are arbitrary precision
      if (typeof v === 'boolean') return v ? '1' : '0';
      const x = Number(v);
      return v.trim() !== '' && Number.isFinite(x) ? v.trim() : 'null';
    };
  }
  return (v: Value) => jsonString(typeof v === 'string' ? v : typeof v === 'number' ? floatText(v) : String(v));
}

// eslint-disable-next-line no-control-regex
const JSON_SPECIAL = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** JSON.stringify only when the string needs escapes; most cells are plain text. */
function jsonString(s: string): string {
  return JSON_SPECIAL.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** `{"metadata":[…],"data":[[…],…],"overflow":false}`, streamed row by row. */
export class JsonWriter extends TextWriterBase {
  readonly format = 'json' as const;
  private formatters: Formatter[] = [];

  async begin(fields: FieldDef[]): Promise<void> {
    this.formatters = fields.map(jsonFormatter);
    const metadata = fields.map((f) => ({
      name: f.name,
      datatype: f.datatype,
      arraysize: f.arraysize,
      xtype: f.xtype,
      unit: f.unit,
      ucd: f.ucd,
      utype: f.utype,
      description: f.description,
    }));
    // JSON.stringify drops the undefined members.
    await this.sink.push(`{"metadata":${JSON.stringify(metadata)},\n"data":[`);
  }

  row(cells: readonly Cell[]): Promise<void> | void {
    const fmts = this.formatters;
    let s = this.rowCount === 0 ? '\n[' : ',\n[';
    for (let i = 0; i < fmts.length; i++) {
      if (i > 0) s += ',';
      const v = cells[i];
      s += v === null || v === undefined ? 'null' : fmts[i]!(v);
    }
    this.rowCount++;
    return this.sink.push(s + ']');
  }

  protected tail(overflow: boolean): string {
    return `${this.rowCount === 0 ? '' : '\n'}],\n"overflow":${overflow}}\n`;
  }
}
