/**
 * The rows of an uploaded TABLE: TABLEDATA (VOTable 1.4 §5.1) read from the XML scanner, and
 * BINARY (§5.3) and BINARY2 (§5.4) decoded from the base64 text of an inline STREAM (§5.6).
 */
import { ByteReader, type Column } from './read-columns';
import { quoted, VotableReadError } from './read-errors';
import { isBlank, type XmlScanner } from './read-xml';
import type { Cell } from './types';

/** How many rows may be read, and the error when there are more. */
export interface RowLimit {
  maxRows: number;
  tooMany(): VotableReadError;
}

/**
 * §5.1: `<TR>` elements of `<TD>` elements, one per FIELD; an empty TD is null. The scanner is
 * just past `<TABLEDATA>` and is left just past `</TABLEDATA>`.
 */
export function readTabledata(xml: XmlScanner, columns: readonly Column[], limit: RowLimit): Cell[][] {
  const rows: Cell[][] = [];
  while (nextElement(xml, 'TR', 'TABLEDATA')) {
    if (rows.length >= limit.maxRows) throw limit.tooMany();
    const row = readTr(xml, columns, rows.length + 1);
    if (row.length !== columns.length) {
      throw new VotableReadError(
        `row ${rows.length + 1} has ${row.length} cell${row.length === 1 ? '' : 's'}, but the table has ${columns.length} FIELDs`,
      );
    }
    rows.push(row);
  }
  return rows;
}

/** The cells of TR number `rowNumber`; the scanner is left just past `</TR>`. */
function readTr(xml: XmlScanner, columns: readonly Column[], rowNumber: number): Cell[] {
  const row: Cell[] = [];
  while (nextElement(xml, 'TD', 'TR')) {
    const column = columns[row.length];
    if (column === undefined) {
      // More cells than FIELDs: count them for the message.
      xml.skipElement();
      row.push(null);
      continue;
    }
    const text = xml.readText();
    try {
      row.push(column.fromText(text));
    } catch (e) {
      throw located(e, `row ${rowNumber}, column ${quoted(column.field.name)}`);
    }
  }
  return row;
}

/** Moves to the next `<child>` of `parent`; false at the parent's end. Only blank text may be between. */
function nextElement(xml: XmlScanner, child: 'TR' | 'TD', parent: string): boolean {
  for (;;) {
    const token = xml.next();
    if (token === 'close') return false;
    if (token === 'end') throw xml.truncated();
    if (token === 'open') {
      if (xml.name !== child) throw xml.invalid(`<${xml.name}> inside ${parent}, where only ${child} may be`);
      return true;
    }
    if (!isBlank(xml.text)) throw xml.invalid(`text ${quoted(xml.text.trim())} outside a ${child}`);
  }
}

/** A cell's error (which says what is wrong with the value) with where the cell is. */
function located(e: unknown, where: string): unknown {
  return e instanceof VotableReadError ? e.at(where) : e;
}

/** Inline STREAM text to bytes; §5.6: base64 is the only encoding inline data can have. */
export function decodeBase64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/\s]*=?=?\s*$/.test(text)) {
    throw new VotableReadError('the STREAM content is not valid base64');
  }
  return Buffer.from(text, 'base64');
}

/**
 * §5.3 BINARY: rows of cells back to back, no header, no padding. §5.4 BINARY2: the same, each
 * row led by ceil(n/8) null-flag bytes, most significant bit first for the first column.
 */
export function readBinary(bytes: Buffer, serialization: 'BINARY' | 'BINARY2', columns: readonly Column[], limit: RowLimit): Cell[][] {
  const input = new ByteReader(bytes);
  const flagBytes = serialization === 'BINARY2' ? Math.ceil(columns.length / 8) : 0;
  const inBandNulls = serialization === 'BINARY';
  const n = columns.length;
  const rows: Cell[][] = [];
  while (!input.done) {
    if (rows.length >= limit.maxRows) throw limit.tooMany();
    const row: Cell[] = [];
    const start = input.pos;
    let i = 0;
    try {
      const flags = input.take(flagBytes);
      for (; i < n; i++) {
        const column = columns[i]!;
        if (flagBytes > 0 && (bytes[flags + (i >> 3)]! & (0x80 >> (i & 7))) !== 0) {
          column.skipBytes(input);
          row.push(null);
        } else {
          row.push(column.fromBytes(input, inBandNulls));
        }
      }
    } catch (e) {
      const column = columns[i];
      throw located(e, `${serialization} row ${rows.length + 1}${column ? `, column ${quoted(column.field.name)}` : ''}`);
    }
    // Only possible when every FIELD is a zero-length array: the stream would never advance.
    if (input.pos === start) throw new VotableReadError(`the FIELDs of this table take no bytes in ${serialization}`);
    rows.push(row);
  }
  return rows;
}
