/**
 * The SQLite result encoders (shared/votable/native/rows.cc) against the JavaScript writers
 * they stand in for: whole documents, byte for byte, through the worker's writeRows, on a table
 * whose untyped columns hold every storage class in every column (numbers as text, reals in
 * integer columns, words in boolean ones), text that needs every kind of escape, and
 * thousands of random doubles (JavaScript's shortest number text).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { parseAdql } from '../../shared/adql';
import { translateAdql } from '../../shared/adql/translate';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { seededRandom } from '../../shared/random';
import { createWriter, type FieldDef, type ResultFormat } from '../../shared/votable';
import { BATCH_END_SQL, BATCH_ROWS_SQL, encodedRowsQuery, loadRowEncoders, rowEncoding } from '../../shared/votable/native';
import { obscoreConnection, writeRows } from '../../worker/obscore';
import { comparableDocument } from './helpers';

const FIELDS: FieldDef[] = [
  { name: 'flag', datatype: 'boolean' },
  { name: 'small', datatype: 'short' },
  { name: 'n', datatype: 'int' },
  { name: 'big', datatype: 'long' },
  { name: 'f', datatype: 'float' },
  { name: 'd', datatype: 'double' },
  { name: 'text', datatype: 'char', arraysize: '*' },
  { name: 'bounded', datatype: 'char', arraysize: '32*' },
  { name: 'plain', datatype: 'char' }, // no arraysize: written as `*`
  { name: 'title', datatype: 'unicodeChar', arraysize: '*' },
];
/** Text formats only: arrays are written as their text. */
const ARRAY_FIELD: FieldDef = { name: 'pos', datatype: 'double', arraysize: '2', xtype: 'point' };

const TEXTS = [
  '',
  ' ',
  'plain',
  'a,b',
  'say "hi"',
  'line\nbreak',
  'cr\rlf\r\n',
  'tab\there',
  'back\\slash',
  "<tag> & 'quote'",
  'ctl\u0001\u000b\u001f',
  'non\ufffechar\uffff',
  'é中😀',
  '😀',
  'true',
  ' Yes ',
  'F',
  '0',
  'no',
  'maybe',
  ' 12.5 ',
  '0x1F',
  '0o17',
  '0b101',
  '0x',
  '1e3',
  '-0',
  '+5',
  '.5',
  '5.',
  '.',
  'Infinity',
  '-Infinity',
  'infinity',
  'NaN',
  '1_0',
  '12abc',
  '-12',
  '+',
  '-',
  '9007199254740993',
  '-9223372036854775809',
  '1e400',
  ' \t7\n',
];
const DOUBLES = [
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  1e21,
  1e-7,
  1.5e-7,
  123e-20,
  1e-6,
  123456789012345680000,
  5e-324,
  Number.MAX_VALUE,
  -Number.MIN_VALUE,
  2 ** 53,
  2 ** 63,
  -(2 ** 63),
  2 ** 64 + 4096,
  1e300,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 15,
  32767.9,
  -32768.5,
  3.7,
  -3.7,
  4294967296.5,
  Infinity,
  -Infinity,
  0.000001,
  100,
  1e20,
  1.7976931348623157e308,
];
const INTEGERS = [0, 1, -1, 2, 32767, 32768, -32769, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1234567890123];

let dir: string;
let file: string;
const rowCount = 3000;

/** Any storage class: null, text, integer or real (special or random bits). */
function anyValue(next: () => number): string | number | bigint | null {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const kind = next();
  if (kind < 0.08) return null;
  if (kind < 0.35) return pick(TEXTS);
  if (kind < 0.5) return BigInt(pick(INTEGERS));
  if (kind < 0.65) return pick(DOUBLES);
  const bits = new DataView(new ArrayBuffer(8));
  bits.setUint32(0, Math.floor(next() * 2 ** 32));
  bits.setUint32(4, Math.floor(next() * 2 ** 32));
  const x = bits.getFloat64(0);
  return Number.isNaN(x) ? 1.25 : x;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rows-'));
  file = path.join(dir, 'values.sqlite');
  const db = new Database(file);
  // Untyped columns keep every value in the storage class it was bound with.
  db.exec(`CREATE TABLE v (k INTEGER PRIMARY KEY, ${[...FIELDS, ARRAY_FIELD].map((f) => `"${f.name}"`).join(', ')})`);
  const insert = db.prepare(`INSERT INTO v VALUES (${Array.from({ length: FIELDS.length + 2 }, () => '?').join(', ')})`);
  const next = seededRandom('native-rows');
  db.transaction(() => {
    for (let k = 0; k < rowCount; k++) {
      insert.run(k, ...FIELDS.map(() => anyValue(next)), k % 2 === 0 ? `${next()} ${next()}` : anyValue(next));
    }
  })();
  db.close();
});
afterAll(() => {
  obscoreConnection(file).close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A whole result document written through writeRows, rows encoded in SQLite or not. */
async function document(format: ResultFormat, fields: FieldDef[], sql: string, nativeRows: boolean, maxrec = 1000000) {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void chunks.push(Buffer.from(chunk))) });
  const writer = createWriter(format, out, { chunkSize: 4096 });
  await writer.begin(fields);
  const db = obscoreConnection(file);
  const prepare = jest.spyOn(db, 'prepare');
  const overflow = await writeRows({ db, sql, params: [], columnCount: fields.length, cacheable: false }, writer, { maxrec, nativeRows });
  const encodedInSqlite = prepare.mock.calls.some(([text]) => text.includes('vo_'));
  prepare.mockRestore();
  await writer.end(overflow);
  return { bytes: Buffer.concat(chunks), encodedInSqlite, rows: writer.rowCount, overflow };
}

const comparable = (bytes: Buffer): string => comparableDocument(bytes.toString());

const select = (fields: FieldDef[], tail = 'ORDER BY k') => `SELECT ${fields.map((f) => `"${f.name}"`).join(', ')} FROM v ${tail}`;

/** Every batch of an encoded query, then its rest, as one text; and the rows it saw. */
function encodeAll(db: Database.Database, sql: string, params: unknown[], token: number): { text: string; rows: number } {
  const batches = db
    .prepare(sql)
    .pluck()
    .all(...params) as (Buffer | null)[];
  const rows = db.prepare(BATCH_ROWS_SQL).pluck().get(token) as number;
  const rest = db.prepare(BATCH_END_SQL).pluck().get(token) as Buffer;
  return { text: Buffer.concat([...batches.filter((b) => b !== null), rest]).toString(), rows };
}

test('the encoders are built and load into the worker connection; batches, MAXREC, tokens', () => {
  const db = new Database(':memory:');
  expect(loadRowEncoders(db)).toBe(true);
  db.exec("CREATE TABLE t (x, y); INSERT INTO t VALUES (0.1, 7), (1e21, 'a,b'), (NULL, -0.0)");
  const query = (token: number, maxrec: number) =>
    encodedRowsQuery(
      { sql: 'SELECT x, y FROM t ORDER BY rowid', params: [] },
      2,
      { sqlFunction: 'vo_csv_batch', spec: 'fi' },
      { token, maxrec },
    );
  const all = query(1, 10);
  expect(encodeAll(db, all.sql, all.params, 1)).toEqual({ text: '0.1,7\r\n1e+21,"a,b"\r\n,0\r\n', rows: 3 });
  // MAXREC 2: the third row is seen (the overflow) and not written.
  const two = query(2, 2);
  expect(encodeAll(db, two.sql, two.params, 2)).toEqual({ text: '0.1,7\r\n1e+21,"a,b"\r\n', rows: 3 });
  // Two results of one connection at once keep their rows apart; an ended batch is gone.
  const [a, b] = [query(3, 10), query(4, 10)];
  db.prepare(a.sql).all(...a.params);
  db.prepare(b.sql).all(...b.params);
  const end = (token: number) => (db.prepare(BATCH_END_SQL).pluck().get(token) as Buffer).toString();
  expect(end(3)).toBe('0.1,7\r\n1e+21,"a,b"\r\n,0\r\n');
  expect(db.prepare(BATCH_ROWS_SQL).pluck().get(3)).toBe(0);
  expect(end(3)).toBe('');
  expect(end(4)).toBe('0.1,7\r\n1e+21,"a,b"\r\n,0\r\n');
  expect(() => db.prepare("SELECT vo_csv_batch(5, 10, 'f', 1, 2)").get()).toThrow('one spec letter per column');
  // Not callable from a view (SQLITE_DIRECTONLY).
  db.exec("CREATE VIEW v AS SELECT vo_csv_batch(6, 10, 'f', x) FROM t");
  expect(() => db.prepare('SELECT * FROM v').all()).toThrow(/unsafe use of vo_csv_batch/);
  // Not built (no compiler): the writers do all the work.
  expect(loadRowEncoders(db, path.join(dir, 'missing.so'))).toBe(false);
  db.close();
});

describe.each(['votable', 'votable-binary2', 'csv', 'tsv'] as const)('%s', (format) => {
  const fields = format === 'votable-binary2' ? FIELDS : [...FIELDS, ARRAY_FIELD];

  test(`${rowCount} rows of mixed storage classes: the same bytes as the JavaScript writer`, async () => {
    const js = await document(format, fields, select(fields), false);
    const native = await document(format, fields, select(fields), true);
    expect(js.encodedInSqlite).toBe(false);
    expect(native.encodedInSqlite).toBe(true);
    expect(native.rows).toBe(rowCount);
    expect(native.bytes.length).toBeGreaterThan(rowCount * 20);
    const [a, b] = [comparable(js.bytes), comparable(native.bytes)];
    // On a difference, show the first differing line (or hex) rather than two megabytes.
    if (a !== b) {
      const i = [...a].findIndex((c, n) => c !== b[n]);
      expect(b.slice(Math.max(0, i - 100), i + 100)).toBe(a.slice(Math.max(0, i - 100), i + 100));
    }
    expect(b).toBe(a);
    if (format !== 'votable-binary2') expect(native.bytes.equals(js.bytes)).toBe(true);
  });

  test('ORDER BY kept, repeated column names, MAXREC overflow', async () => {
    const twice = [fields[5]!, { ...fields[5]! }, fields[6]!];
    const sql = `SELECT d, d, text FROM v ORDER BY d DESC, k LIMIT 500`;
    const js = await document(format, twice, sql, false, 400);
    const native = await document(format, twice, sql, true, 400);
    expect(native.encodedInSqlite).toBe(true);
    expect([native.rows, native.overflow]).toEqual([400, true]);
    expect(comparable(native.bytes)).toBe(comparable(js.bytes));
  });
});

test('100k random doubles: the shortest text, as JavaScript writes it', () => {
  const db = new Database(':memory:');
  loadRowEncoders(db);
  const next = seededRandom('doubles');
  const values: number[] = [];
  const bits = new DataView(new ArrayBuffer(8));
  while (values.length < 100000) {
    bits.setUint32(0, Math.floor(next() * 2 ** 32));
    bits.setUint32(4, Math.floor(next() * 2 ** 32));
    const x = bits.getFloat64(0);
    // Half of them of a usual size: decimals with up to 17 digits, integers, small fractions.
    if (Number.isFinite(x))
      values.push(
        values.length % 2 === 0 ? x : Number((next() * 10 ** Math.floor(next() * 30 - 10)).toPrecision(1 + Math.floor(next() * 17))),
      );
  }
  db.exec('CREATE TABLE x (v REAL)');
  const insert = db.prepare('INSERT INTO x VALUES (?)');
  db.transaction(() => values.forEach((v) => insert.run(v)))();
  const query = encodedRowsQuery(
    { sql: 'SELECT v FROM x ORDER BY rowid', params: [] },
    1,
    { sqlFunction: 'vo_tsv_batch', spec: 'f' },
    { token: 1, maxrec: 1e6 },
  );
  const { text, rows } = encodeAll(db, query.sql, query.params, 1);
  expect(rows).toBe(values.length);
  const texts = text.split('\n');
  const mismatches = texts.slice(0, -1).flatMap((t, i) => (t !== String(values[i]) ? [`${values[i]} → ${t}`] : []));
  expect(mismatches.slice(0, 5)).toEqual([]);
  db.close();
});

test('formats and columns the encoders leave to JavaScript', () => {
  expect(rowEncoding('json', FIELDS)).toBeUndefined();
  expect(rowEncoding('votable-binary2', [{ name: 'code', datatype: 'char', arraysize: '4' }])).toBeUndefined();
  expect(rowEncoding('votable-binary2', [ARRAY_FIELD])).toBeUndefined();
  expect(rowEncoding('csv', [ARRAY_FIELD])).toEqual({ sqlFunction: 'vo_csv_batch', spec: 't' });
  expect(rowEncoding('votable-binary2', FIELDS.slice(0, 8))).toEqual({ sqlFunction: 'vo_binary2_batch', spec: 'BSILFDCC' });
  expect(
    rowEncoding(
      'csv',
      Array.from({ length: 998 }, (_, i) => ({ name: `c${i}`, datatype: 'int' as const })),
    ),
  ).toBeUndefined();
  expect(
    encodedRowsQuery(
      { sql: 'SELECT a, a FROM t WHERE b = ?', params: [5] },
      2,
      { sqlFunction: 'vo_csv_batch', spec: 'it' },
      { token: 9, maxrec: 100 },
    ),
  ).toEqual({
    sql: "WITH vo_rows(c0, c1) AS (SELECT a, a FROM t WHERE b = ?) SELECT vo_csv_batch(?, ?, 'it', c0, c1) FROM vo_rows LIMIT ?",
    params: [5, 9, 100, 101],
  });
});

test('ADQL cannot call the encoders: they are no published function', () => {
  for (const name of ['vo_csv_batch', 'vo_binary2_batch', 'vo_batch_rows', 'vo_batch_end']) {
    expect(() => translateAdql(parseAdql(`SELECT ${name}(1, 2, 'f', s_ra) FROM ivoa.ObsCore`), PUBLISHED_TABLES)).toThrow(
      `unknown function "${name}"`,
    );
  }
});
