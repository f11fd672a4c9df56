import { csvQuote, resolveFormat, tsvEscape, type Cell, type FieldDef } from '../../shared/votable';
import { render } from './helpers';

const fields: FieldDef[] = [
  { name: 'obs_id', datatype: 'char', arraysize: '*', description: 'id' },
  { name: 's_ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra' },
  { name: 'n', datatype: 'long' },
  { name: 'ok', datatype: 'boolean' },
];

const rows: Cell[][] = [
  ['plain', 0.1 + 0.2, 9007199254740993n, true],
  ['a,b', NaN, -1, false],
  ['say "hi"', Infinity, null, null],
  ['two\nlines\r\nx', null, 0, 1],
  ['tab\there\\', 1e21, 42, 0],
  ['', -0.5, 3, null],
  [null, 123456789.12345679, 5, true],
];

it('CSV: header, RFC 4180 quoting, nulls empty, "" for empty strings, full precision', async () => {
  const csv = await render('csv', fields, rows);
  expect(csv).toBe(
    'obs_id,s_ra,n,ok\r\n' +
      'plain,0.30000000000000004,9007199254740993,true\r\n' +
      '"a,b",NaN,-1,false\r\n' +
      '"say ""hi""",+Inf,,\r\n' +
      '"two\nlines\r\nx",,0,true\r\n' +
      'tab\there\\,1e+21,42,false\r\n' +
      '"",-0.5,3,\r\n' +
      ',123456789.12345679,5,true\r\n',
  );
  expect(Number('0.30000000000000004')).toBe(0.1 + 0.2);
});

it('TSV: header, backslash escapes for tab, newline, CR and backslash', async () => {
  const tsv = await render('tsv', fields, rows);
  expect(tsv).toBe(
    'obs_id\ts_ra\tn\tok\n' +
      'plain\t0.30000000000000004\t9007199254740993\ttrue\n' +
      'a,b\tNaN\t-1\tfalse\n' +
      'say "hi"\t+Inf\t\t\n' +
      'two\\nlines\\r\\nx\t\t0\ttrue\n' +
      'tab\\there\\\\\t1e+21\t42\tfalse\n' +
      '\t-0.5\t3\t\n' +
      '\t123456789.12345679\t5\ttrue\n',
  );
});

it('quoting helpers', () => {
  expect(csvQuote('x')).toBe('x');
  expect(csvQuote('x y')).toBe('x y');
  expect(csvQuote('"')).toBe('""""');
  expect(csvQuote('a\rb')).toBe('"a\rb"');
  expect(tsvEscape('a\tb\nc\\')).toBe('a\\tb\\nc\\\\');
});

it('JSON: metadata, data rows, NaN/Infinity as null, exact bigints, overflow flag', async () => {
  const json = await render('json', fields, rows, { overflow: true });
  expect(json).toContain('9007199254740993'); // not rounded through a double
  const doc = JSON.parse(json) as { metadata: unknown[]; data: unknown[][]; overflow: boolean };
  expect(doc.metadata).toEqual([
    { name: 'obs_id', datatype: 'char', arraysize: '*', description: 'id' },
    { name: 's_ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra' },
    { name: 'n', datatype: 'long' },
    { name: 'ok', datatype: 'boolean' },
  ]);
  expect(doc.data).toEqual([
    ['plain', 0.30000000000000004, 9007199254740992, true], // JSON.parse itself rounds the long
    ['a,b', null, -1, false],
    ['say "hi"', null, null, null],
    ['two\nlines\r\nx', null, 0, true],
    ['tab\there\\', 1e21, 42, false],
    ['', -0.5, 3, null],
    [null, 123456789.12345679, 5, true],
  ]);
  expect(doc.overflow).toBe(true);
});

it('JSON with no rows is still valid', async () => {
  const doc = JSON.parse(await render('json', fields, [])) as { data: unknown[]; overflow: boolean };
  expect(doc.data).toEqual([]);
  expect(doc.overflow).toBe(false);
});

describe('resolveFormat', () => {
  it.each([
    [undefined, 'votable', 'application/x-votable+xml'],
    ['', 'votable', 'application/x-votable+xml'],
    ['votable', 'votable', 'application/x-votable+xml'],
    ['VOTable', 'votable', 'application/x-votable+xml'],
    ['application/x-votable+xml', 'votable', 'application/x-votable+xml'],
    ['Application/X-VOTable+XML', 'votable', 'Application/X-VOTable+XML'],
    ['text/xml', 'votable', 'text/xml'],
    ['application/x-votable+xml;serialization=TABLEDATA', 'votable', 'application/x-votable+xml;serialization=TABLEDATA'],
    ['application/x-votable+xml;serialization=BINARY2', 'votable-binary2', 'application/x-votable+xml;serialization=BINARY2'],
    ['application/x-votable+xml; serialization="binary2"', 'votable-binary2', 'application/x-votable+xml; serialization="binary2"'],
    ['votable-binary2', 'votable-binary2', 'application/x-votable+xml;serialization=BINARY2'],
    ['csv', 'csv', 'text/csv;header=present'],
    ['text/csv', 'csv', 'text/csv'],
    ['text/csv;header=present', 'csv', 'text/csv;header=present'],
    ['tsv', 'tsv', 'text/tab-separated-values'],
    ['text/tab-separated-values', 'tsv', 'text/tab-separated-values'],
    ['json', 'json', 'application/json'],
    ['application/json; charset=utf-8', 'json', 'application/json; charset=utf-8'],
    ['  csv  ', 'csv', 'text/csv;header=present'],
  ])('%j → %s (%s)', (input, format, contentType) => {
    expect(resolveFormat(input)).toEqual({ format, contentType });
  });

  it.each([
    'fits',
    'application/fits',
    'text/html',
    'application/x-votable+xml;serialization=BINARY',
    'application/x-votable+xml;serialization=FITS',
    'text/plain',
    'csv\r\nX-Injected: 1',
    'votablé',
  ])('rejects %j', (input) => {
    expect(resolveFormat(input)).toBeUndefined();
  });
});
