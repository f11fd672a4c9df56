/** VOTable 1.4 documents: TABLEDATA and BINARY2 result writers and the DALI error document. */
import type { Writable } from 'node:stream';
import { escapeXml, XML_DECLARATION } from '../xml';
import { Binary2Encoder } from './binary2';
import { textFormatter, textKind, type Formatter } from './cells';
import { rowEncoding, type RowEncoding } from './native';
import { finishStream, Sink } from './sink';
import type { BeginInfo, Cell, FieldDef, InfoDef, ParamDef, ResultFormat, ResultWriter, WriterOptions } from './types';

/* VOTable 1.4 keeps the 1.3 namespace (VOTable 1.4 §1.2: the schema is backwards compatible). */
const VOTABLE_OPEN =
  '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3">';

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** escapeXml, skipped for the common case of clean text (keeps TABLEDATA fast). */
export function xmlText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeXml(s) : s;
}

function attr(name: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : ` ${name}="${escapeXml(value)}"`;
}

function infoXml(i: InfoDef): string {
  const head = `<INFO${attr('ID', i.id)} name="${escapeXml(i.name)}" value="${escapeXml(i.value)}"`;
  return i.content === undefined || i.content === '' ? `${head}/>` : `${head}>${escapeXml(i.content)}</INFO>`;
}

function fieldAttrs(f: FieldDef): string {
  return (
    attr('ID', f.id) +
    ` name="${escapeXml(f.name)}" datatype="${f.datatype}"` +
    // VOTable 1.4 §4.1: character data without arraysize is a single character, so strings
    // must say `*`; default to it rather than silently truncating.
    attr('arraysize', f.arraysize ?? (f.datatype === 'char' || f.datatype === 'unicodeChar' ? '*' : undefined)) +
    attr('unit', f.unit) +
    attr('ucd', f.ucd) +
    attr('utype', f.utype) +
    attr('xtype', f.xtype)
  );
}

function fieldXml(f: FieldDef, element: 'FIELD' | 'PARAM', value?: string): string {
  const head = `<${element}${fieldAttrs(f)}${value === undefined ? '' : ` value="${escapeXml(value)}"`}`;
  return f.description ? `${head}>\n<DESCRIPTION>${escapeXml(f.description)}</DESCRIPTION>\n</${element}>` : `${head}/>`;
}

/** Field arraysize default also used by the binary encoder (see fieldAttrs). */
export function effectiveField(f: FieldDef): FieldDef {
  if ((f.datatype === 'char' || f.datatype === 'unicodeChar') && (f.arraysize === undefined || f.arraysize === '')) {
    return { ...f, arraysize: '*' };
  }
  return f;
}

/** Everything up to and including the opening of the serialisation element's parent `<DATA>`. */
export function votableHead(fields: FieldDef[], info: BeginInfo | undefined): string {
  const parts = [XML_DECLARATION, VOTABLE_OPEN, '<RESOURCE type="results">'];
  // DALI 1.1 §4.4.1: QUERY_STATUS goes before the TABLE so clients can read it first.
  parts.push('<INFO name="QUERY_STATUS" value="OK"/>');
  for (const i of info?.infos ?? []) parts.push(infoXml(i));
  for (const p of info?.params ?? []) parts.push(paramXml(p));
  parts.push(`<TABLE${attr('name', info?.tableName)}>`);
  for (const f of fields) parts.push(fieldXml(f, 'FIELD'));
  parts.push('<DATA>');
  return parts.join('\n');
}

function paramXml(p: ParamDef): string {
  return fieldXml(p, 'PARAM', p.value);
}

/** Closing part; DALI 1.1 §4.4.1: an OVERFLOW status follows the TABLE inside the RESOURCE. */
export function votableTail(overflow: boolean, info: BeginInfo | undefined): string {
  return (
    '</DATA>\n</TABLE>\n' +
    (overflow ? '<INFO name="QUERY_STATUS" value="OVERFLOW"/>\n' : '') +
    '</RESOURCE>\n' +
    (info?.extraResources ? `${info.extraResources}\n` : '') +
    '</VOTABLE>\n'
  );
}

/** The DALI 1.1 §4.4.1 error document (also what TAP 1.1 §3.3 returns on failure). */
export function votableError(message: string): string {
  return (
    `${XML_DECLARATION}\n${VOTABLE_OPEN}\n<RESOURCE type="results">\n` +
    `<INFO name="QUERY_STATUS" value="ERROR">${escapeXml(message)}</INFO>\n</RESOURCE>\n</VOTABLE>\n`
  );
}

abstract class VotableWriterBase implements ResultWriter {
  abstract readonly format: ResultFormat;
  rowCount = 0;
  rowEncoding: RowEncoding | undefined;
  protected readonly sink: Sink;
  protected info: BeginInfo | undefined;
  protected readonly chunkSize: number;
  private readonly endStream: boolean;

  constructor(out: Writable, options: WriterOptions | undefined) {
    this.chunkSize = options?.chunkSize ?? 65536;
    this.sink = new Sink(out, this.chunkSize);
    this.endStream = options?.endStream ?? true;
  }

  protected abstract dataOpen(fields: FieldDef[]): string;
  protected abstract dataClose(): string;
  abstract row(cells: readonly Cell[]): Promise<void> | void;

  encoded(bytes: Uint8Array, rows: number): Promise<void> | void {
    this.rowCount += rows;
    return this.sink.pushBytes(bytes);
  }

  async begin(fields: FieldDef[], info?: BeginInfo): Promise<void> {
    this.info = info;
    await this.sink.push(votableHead(fields, info) + '\n' + this.dataOpen(fields));
  }

  async end(overflow: boolean): Promise<void> {
    await this.sink.push(this.dataClose() + votableTail(overflow, this.info));
    await this.sink.flush();
    if (this.endStream) await finishStream(this.sink.out);
  }
}

/** VOTable 1.4 §5.1 TABLEDATA: one `<TR>` per row, empty `<TD/>` for null. */
export class TabledataWriter extends VotableWriterBase {
  readonly format = 'votable' as const;
  private formatters: Formatter[] = [];
  /** Scalar numbers and booleans format to XML-safe text: skip the escape scan for them. */
  private escaped: boolean[] = [];

  protected dataOpen(fields: FieldDef[]): string {
    this.formatters = fields.map((f) => textFormatter(f, 'T', 'F'));
    this.escaped = fields.map((f) => textKind(f) === 'text');
    this.rowEncoding = rowEncoding(this.format, fields);
    return '<TABLEDATA>\n';
  }

  protected dataClose(): string {
    return '</TABLEDATA>\n';
  }

  row(cells: readonly Cell[]): Promise<void> | void {
    const fmts = this.formatters;
    let s = '<TR>';
    for (let i = 0; i < fmts.length; i++) {
      const v = cells[i];
      // VOTable 1.4 §6: an empty TD is null for every datatype (no magic values needed).
      const t = v === null || v === undefined ? '' : fmts[i]!(v);
      s += t === '' ? '<TD/>' : `<TD>${this.escaped[i] || typeof v === 'string' ? xmlText(t) : t}</TD>`;
    }
    this.rowCount++;
    return this.sink.push(s + '</TR>\n');
  }
}

/** VOTable 1.4 §5.4 BINARY2 inside a base64 STREAM (§5.3 encoding). */
export class Binary2Writer extends VotableWriterBase {
  readonly format = 'votable-binary2' as const;
  private encoder: Binary2Encoder | undefined;

  protected dataOpen(fields: FieldDef[]): string {
    const effective = fields.map(effectiveField);
    this.rowEncoding = rowEncoding(this.format, effective);
    this.encoder = new Binary2Encoder(
      effective,
      (b64) => this.sink.push(b64 + '\n'),
      // 3 input bytes become 4 base64 characters: size the byte buffer to one output chunk.
      Math.floor((this.chunkSize * 3) / 4),
    );
    return '<BINARY2>\n<STREAM encoding="base64">\n';
  }

  protected dataClose(): string {
    // Emit the final partial base64 group (with padding) before closing the STREAM.
    const rest = this.encoder?.finish() ?? '';
    return `${rest === '' ? '' : rest + '\n'}</STREAM>\n</BINARY2>\n`;
  }

  row(cells: readonly Cell[]): Promise<void> | void {
    if (!this.encoder) throw new Error('begin() must be called before row()');
    this.rowCount++;
    return this.encoder.row(cells);
  }
}
