/**
 * The VOTable reader behind TAP table uploads (TAP 1.1 §2.7.6, DALI 1.1 UPLOAD): the
 * first TABLE of the first RESOURCE of a VOTable 1.1–1.4 document, its FIELDs as the FieldDefs
 * the writers use and its rows as Cells, from TABLEDATA, BINARY or BINARY2 (inline base64).
 * Every problem is a VotableReadError whose message a client can show its user as it is.
 *
 * The whole document is in memory (the api bounds upload sizes), and reading is synchronous
 * and pure: the same bytes always give the same table or the same message.
 */
import { TextDecoder } from 'node:util';
import { makeColumn, type Column, type FieldDeclaration } from './read-columns';
import { decodeBase64, readBinary, readTabledata, type RowLimit } from './read-data';
import { quoted, VotableReadError } from './read-errors';
import { XmlScanner } from './read-xml';
import type { Cell, FieldDef } from './types';

export { VotableReadError } from './read-errors';

export interface UploadedTable {
  /** The TABLE `name` attribute, when it has one. */
  name?: string;
  fields: FieldDef[];
  rows: Cell[][];
}

export interface ReadVotableOptions {
  /** More rows than this is an error (default: no limit). */
  maxRows?: number;
  /** More FIELDs than this is an error (default: no limit). */
  maxColumns?: number;
  /** The UPLOAD's table name, which every message then starts with (`upload "foo": …`). */
  uploadName?: string;
}

/** Reads the first table of a VOTable document (bytes, or text already decoded). */
export function readVotable(document: string | Buffer, options: ReadVotableOptions = {}): UploadedTable {
  try {
    return readFirstTable(documentText(document), options);
  } catch (e) {
    if (e instanceof VotableReadError && options.uploadName !== undefined) throw e.at(`upload ${quoted(options.uploadName)}`);
    throw e;
  }
}

/** XML 1.0 Appendix F: the encoding from a byte order mark, else from the XML declaration. */
function sniffEncoding(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0x3c && bytes[1] === 0x00)) return 'utf-16le';
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0x00 && bytes[1] === 0x3c)) return 'utf-16be';
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 200));
  return /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][\w.-]*)["']/.exec(head)?.[1]?.toLowerCase() ?? 'utf-8';
}

function documentText(document: string | Buffer): string {
  if (typeof document === 'string') return document.charCodeAt(0) === 0xfeff ? document.slice(1) : document;
  const encoding = sniffEncoding(document);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw new VotableReadError(`the document's character encoding ${quoted(encoding)} is not supported (use UTF-8)`);
  }
  try {
    return decoder.decode(document);
  } catch {
    throw new VotableReadError(`the document is not valid ${encoding} text`);
  }
}

function notVotable(what: string): VotableReadError {
  return new VotableReadError(`not a VOTable: ${what}; TAP uploads must be VOTable documents`);
}

function readFirstTable(text: string, options: ReadVotableOptions): UploadedTable {
  const start = text.search(/[^ \t\r\n]/);
  if (start < 0) throw new VotableReadError('the upload is empty');
  if (text[start] !== '<') throw notVotable(`the upload starts with ${quoted(text.slice(start, start + 30))}, not with XML`);

  const xml = new XmlScanner(text);
  for (;;) {
    let token;
    try {
      token = xml.next();
    } catch (e) {
      // The root tag's name is known before its attributes are read: an HTML page with
      // unquoted attributes is "not a VOTable" rather than "malformed XML".
      if (xml.name !== '' && xml.name !== 'VOTABLE') throw notVotable(`the document is <${xml.name}>, not <VOTABLE>`);
      throw e;
    }
    if (token === 'end') throw new VotableReadError('the document has no root element');
    if (token === 'open') break;
  }
  const root = xml.name;
  if (root !== 'VOTABLE') throw notVotable(`the document is <${root}>, not <VOTABLE>`);

  // VOTable 1.4 §3.3: definitions (DESCRIPTION, INFO, PARAM, GROUP, COOSYS…), then RESOURCEs.
  while (xml.nextChild()) {
    if (xml.name !== 'RESOURCE') {
      xml.skipElement();
      continue;
    }
    const status: ErrorStatus = {};
    const table = findTable(xml, options, status);
    if (table) return table;
    const error = status.message === undefined ? '' : ` (it is an error document: ${quoted(status.message, 200)})`;
    throw new VotableReadError(`the first RESOURCE holds no TABLE${error}`);
  }
  throw new VotableReadError('the VOTable has no RESOURCE, so no table');
}

/** A DALI error document's message (INFO name="QUERY_STATUS" value="ERROR"), if one is seen. */
interface ErrorStatus {
  message?: string;
}

/**
 * The first TABLE of the RESOURCE just opened, in document order, nested RESOURCEs (§3.6)
 * included; undefined, with the scanner past `</RESOURCE>`, when there is none.
 */
function findTable(xml: XmlScanner, options: ReadVotableOptions, status: ErrorStatus): UploadedTable | undefined {
  while (xml.nextChild()) {
    if (xml.name === 'TABLE') return readTable(xml, options);
    if (xml.name === 'RESOURCE') {
      const table = findTable(xml, options, status);
      if (table) return table;
    } else if (xml.name === 'INFO' && xml.attributes.get('name') === 'QUERY_STATUS' && xml.attributes.get('value') === 'ERROR') {
      status.message = xml.readText().trim();
    } else {
      xml.skipElement();
    }
  }
  return undefined;
}

/** §3.8 TABLE: DESCRIPTION, INFO, FIELD/PARAM/GROUP, LINK, DATA, INFO; only FIELD and DATA matter here. */
function readTable(xml: XmlScanner, options: ReadVotableOptions): UploadedTable {
  const name = xml.attributes.get('name');
  const ref = xml.attributes.get('ref');
  const maxColumns = options.maxColumns ?? Infinity;
  const limit: RowLimit = {
    maxRows: options.maxRows ?? Infinity,
    tooMany: () => new VotableReadError(`the table has more than ${options.maxRows} rows, the limit for uploads`),
  };
  const declarations: FieldDeclaration[] = [];
  let columns: Column[] | undefined;
  let rows: Cell[][] = [];
  while (xml.nextChild()) {
    if (xml.name === 'FIELD' && columns === undefined) {
      if (declarations.length >= maxColumns)
        throw new VotableReadError(`the table has more than ${maxColumns} columns, the limit for uploads`);
      declarations.push(readField(xml));
    } else if (xml.name === 'DATA' && columns === undefined) {
      columns = makeColumns(declarations, ref);
      rows = readData(xml, columns, limit);
    } else {
      xml.skipElement();
    }
  }
  columns ??= makeColumns(declarations, ref);
  return { ...(name === undefined || name === '' ? {} : { name }), fields: columns.map((c) => c.field), rows };
}

/** §4 FIELD: its attributes (§4.1), DESCRIPTION text and VALUES null (§4.7). */
function readField(xml: XmlScanner): FieldDeclaration {
  const declaration: FieldDeclaration = { attributes: xml.attributes };
  while (xml.nextChild()) {
    if (xml.name === 'DESCRIPTION') {
      declaration.description = xml.readText().trim();
    } else {
      if (xml.name === 'VALUES') declaration.nullValue = xml.attributes.get('null');
      xml.skipElement();
    }
  }
  return declaration;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Readers for the FIELDs, whose names must work as column names: present, printable and
 * unique regardless of case (ADQL regular identifiers and SQLite names ignore case).
 */
function makeColumns(declarations: readonly FieldDeclaration[], ref: string | undefined): Column[] {
  if (declarations.length === 0) {
    throw new VotableReadError(
      ref ? `the TABLE takes its FIELDs from ref="${ref}", which uploads do not support` : 'the TABLE has no FIELD',
    );
  }
  const seen = new Map<string, string>();
  return declarations.map((declaration, i) => {
    // §4.1: a FIELD has a name and/or an ID; the schema requires the name, but not every writer.
    const name = (declaration.attributes.get('name') ?? declaration.attributes.get('ID') ?? '').trim();
    if (name === '') throw new VotableReadError(`FIELD ${i + 1} has no name`);
    if (CONTROL_CHARACTERS.test(name)) throw new VotableReadError(`FIELD ${i + 1} has a name with control characters, ${quoted(name)}`);
    const previous = seen.get(name.toLowerCase());
    if (previous !== undefined) {
      throw new VotableReadError(
        previous === name
          ? `two FIELDs are named ${quoted(name)}; column names must be unique`
          : `FIELDs ${quoted(previous)} and ${quoted(name)} differ only in case; column names must be unique regardless of case`,
      );
    }
    seen.set(name.toLowerCase(), name);
    try {
      return makeColumn(declaration, name);
    } catch (e) {
      throw e instanceof VotableReadError ? e.at(`column ${quoted(name)}`) : e;
    }
  });
}

/** §5 DATA: one serialization element (§5.1–5.4); FITS and remote streams (§5.7) are not for uploads. */
function readData(xml: XmlScanner, columns: readonly Column[], limit: RowLimit): Cell[][] {
  let rows: Cell[][] = [];
  while (xml.nextChild()) {
    const serialization = xml.name;
    if (serialization === 'TABLEDATA') {
      rows = readTabledata(xml, columns, limit);
    } else if (serialization === 'BINARY' || serialization === 'BINARY2') {
      rows = readBinary(decodeBase64(readStream(xml, serialization)), serialization, columns, limit);
    } else if (serialization === 'FITS') {
      throw new VotableReadError('FITS-serialized VOTable data is not supported in uploads; send TABLEDATA, BINARY or BINARY2');
    } else {
      xml.skipElement();
    }
  }
  return rows;
}

/** The base64 text of the inline STREAM (§5.6) of the BINARY or BINARY2 element just opened. */
function readStream(xml: XmlScanner, serialization: string): string {
  let text = '';
  while (xml.nextChild()) {
    if (xml.name !== 'STREAM') {
      xml.skipElement();
      continue;
    }
    const href = xml.attributes.get('href');
    if (href !== undefined) {
      throw new VotableReadError(
        `the ${serialization} data is remote (STREAM href=${quoted(href, 100)}), which uploads do not support; send the data inline`,
      );
    }
    // §5.6: inline data can only be base64 (a missing encoding is read as base64 too).
    const encoding = xml.attributes.get('encoding')?.trim() ?? 'base64';
    if (encoding !== 'base64' && encoding !== '') {
      throw new VotableReadError(`STREAM encoding=${quoted(encoding)} is not supported; inline ${serialization} data must be base64`);
    }
    text = xml.readText();
  }
  return text;
}
