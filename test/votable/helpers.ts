import { Writable } from 'node:stream';
import { createWriter } from '../../shared/votable';
import type { BeginInfo, Cell, FieldDef, ResultFormat, WriterOptions } from '../../shared/votable';

/** Collects everything written, as text. */
export class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export async function render(
  format: ResultFormat,
  fields: FieldDef[],
  rows: Cell[][],
  opts: { overflow?: boolean; info?: BeginInfo; writer?: WriterOptions } = {},
): Promise<string> {
  const out = new Collector();
  const w = createWriter(format, out, opts.writer);
  await w.begin(fields, opts.info);
  for (const r of rows) {
    const p = w.row(r);
    if (p) await p;
  }
  await w.end(opts.overflow ?? false);
  return out.text();
}

/**
 * A document as text with a BINARY2 STREAM decoded (to hex): where its base64 lines break
 * depends on how rows arrive (whole, cell by cell, in batches), and VOTable 1.4 §5.3 ignores
 * the line breaks. Other documents are returned as they are.
 */
export function comparableDocument(document: string): string {
  return document.replace(
    /(<STREAM encoding="base64">\n)([^<]*)(<\/STREAM>)/,
    (_all, open: string, b64: string, close: string) => open + Buffer.from(b64.replace(/\n/g, ''), 'base64').toString('hex') + close,
  );
}
