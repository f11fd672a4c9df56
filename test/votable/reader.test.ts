/**
 * readVotable (TAP UPLOAD): VOTables written by astropy (every datatype, TABLEDATA, BINARY and
 * BINARY2, VOTable 1.1 and 1.4, what pyvo sends for an astropy Table), by our own writers, by
 * hand (namespaces, a STILTS/taplint-style document, hand-packed binary streams), and every
 * rejection with its message. The astropy part needs astropy (test/helpers/tools.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell, FieldDef } from '../../shared/votable';
import { float32Value } from '../../shared/votable/read-columns';
import { readVotable, VotableReadError, type ReadVotableOptions } from '../../shared/votable/reader';
import { PYTHON } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { render } from './helpers';

/** The message readVotable fails with (and that it fails with a VotableReadError). */
function failure(document: string | Buffer, options?: ReadVotableOptions): string {
  try {
    readVotable(document, options);
  } catch (e) {
    if (e instanceof VotableReadError) return e.message;
    throw e;
  }
  throw new Error('readVotable did not fail');
}

const NAMESPACE = 'http://www.ivoa.net/xml/VOTable/v1.3';

/** A one-table VOTable 1.4 document around FIELD declarations and DATA content. */
function votable(fields: string, data: string, tableAttributes = ' name="t"'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" xmlns="${NAMESPACE}">\n<RESOURCE type="results">\n` +
    `<TABLE${tableAttributes}>\n${fields}\n<DATA>${data}</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n`
  );
}

/** TABLEDATA with one TR per row, cells given as the TD elements' inner XML (null: `<TD/>`). */
function tabledata(rows: (string | null)[][]): string {
  const tr = (cells: (string | null)[]): string => `<TR>${cells.map((c) => (c === null ? '<TD/>' : `<TD>${c}</TD>`)).join('')}</TR>\n`;
  return `<TABLEDATA>\n${rows.map(tr).join('')}</TABLEDATA>`;
}

/** DATA content: the bytes as an inline base64 STREAM, in lines of 76 characters. */
function stream(serialization: 'BINARY' | 'BINARY2', bytes: Buffer): string {
  return `<${serialization}><STREAM encoding="base64">\n${bytes.toString('base64').replace(/.{1,76}/g, '$&\n')}</STREAM></${serialization}>`;
}

/** A big-endian value of `size` bytes, for hand-packed BINARY/BINARY2 streams. */
function packed<T>(size: number, write: (bytes: Buffer, value: T) => unknown): (value: T) => Buffer {
  return (value) => {
    const bytes = Buffer.alloc(size);
    write(bytes, value);
    return bytes;
  };
}

const be = {
  u8: (...values: number[]): Buffer => Buffer.from(values),
  i16: packed(2, (b, x: number) => b.writeInt16BE(x)),
  i32: packed(4, (b, x: number) => b.writeInt32BE(x)),
  i64: packed(8, (b, x: bigint) => b.writeBigInt64BE(x)),
  f32: packed(4, (b, x: number) => b.writeFloatBE(x)),
  f64: packed(8, (b, x: number) => b.writeDoubleBE(x)),
  ascii: (s: string): Buffer => Buffer.from(s, 'latin1'),
  ucs2: (s: string): Buffer => Buffer.from(s, 'utf16le').swap16(),
};

// ---------------------------------------------------------------------------------------------
// astropy

/**
 * Writes, into the directory argv[1]: every-{tabledata,binary,binary2}.xml (every datatype,
 * VOTable 1.4), every-v11.xml (the same as VOTable 1.1 TABLEDATA), and astropy-*.xml /
 * empty-*.xml, what pyvo uploads for an astropy Table (with rows, and with none).
 */
const WRITE_REFERENCE = String.raw`
import sys, numpy as np
from astropy.io.votable.tree import VOTableFile, Resource, Table, Field
from astropy.io.votable import from_table
from astropy.table import Table as AstropyTable, MaskedColumn

out = sys.argv[1]

def every_type(version):
    vt = VOTableFile(version=version)
    res = Resource()
    vt.resources.append(res)
    t = Table(vt, name='every_type')
    res.tables.append(t)
    def f(name, datatype, arraysize=None, **kw):
        field = Field(vt, name=name, datatype=datatype, arraysize=arraysize, **kw)
        t.fields.append(field)
        return field
    f('flag', 'boolean')
    f('bit', 'bit')
    # BINARY has no null flags: integer nulls need magic values (VOTable 1.4 §5.5).
    f('u8', 'unsignedByte').values.null = 99
    f('i2', 'short').values.null = -1
    f('i4', 'int', ucd='meta.id').values.null = -1
    f('i8', 'long').values.null = -1
    f('f4', 'float', unit='mag')
    f('f8', 'double', unit='deg', ucd='pos.eq.ra;meta.main', utype='obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1')
    f('s', 'char', '*').description = 'free text'
    f('code', 'char', '4')
    f('u', 'unicodeChar', '*')
    f('pos', 'double', '2', xtype='point', unit='deg')
    f('poly', 'double', '*', xtype='polygon', unit='deg')
    f('iarr', 'int', '3')
    f('t', 'char', '*', xtype='timestamp')
    t.create_arrays(4)
    a = t.array
    a[0] = (True, True, 200, -32768, -2147483648, 9007199254740993, 1.1, 10.123456789012345, 'obs<1>&"x"', 'ABCD', 'Ωmega ☃',
            [10.5, -20.25], np.ma.array([1., 2, 3, 4, 5, 6], mask=[False] * 6), [1, 2, 3], '2024-01-02T03:04:05.678')
    a[1] = (False, False, 255, 32767, 2147483647, -9223372036854775808, -0.25, np.nan, ' two  words ', 'AB', 'é',
            [0, 0], np.ma.array([0., 0, 1, 0, 1, 1], mask=[False] * 6), [4, 5, 6], '')
    a[2] = (True, False, 0, 0, 0, 0, 0, 0, '', '', '', [0, 0], np.ma.array([], mask=[]), [7, 8, 9], '')
    for name in a.dtype.names:
        if name not in ('bit', 'iarr'):
            a.mask[2][name] = True
    a[3] = (False, True, 7, 1, 1, 9223372036854775807, np.inf, -np.inf, 'line 1\nline 2', 'WXYZ', '日本',
            [1e-300, 1e300], np.ma.array([1.5], mask=[False]), [-1, 0, 1], '1999-12-31')
    return vt

for fmt in ['tabledata', 'binary', 'binary2']:
    every_type('1.4').to_xml(f'{out}/every-{fmt}.xml', tabledata_format=fmt)
every_type('1.1').to_xml(f'{out}/every-v11.xml', tabledata_format='tabledata')

at = AstropyTable()
at['id'] = np.array([1, 2, 3], dtype=np.int64)
at['ra'] = MaskedColumn([10.5, 20.25, 30.0], mask=[False, False, True], unit='deg')
at['name'] = MaskedColumn(['a', 'bcd', 'x'], mask=[False, False, True])
at['ok'] = [True, False, True]
for fmt in ['tabledata', 'binary', 'binary2']:
    from_table(at).to_xml(f'{out}/astropy-{fmt}.xml', tabledata_format=fmt)
    from_table(at[:0]).to_xml(f'{out}/empty-{fmt}.xml', tabledata_format=fmt)
`;

describeWith('astropy', 'VOTables written by astropy', () => {
  let dir = '';
  const file = (name: string): Buffer => readFileSync(join(dir, name));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'votable-read-'));
    const run = spawnSync(PYTHON, ['-W', 'ignore', '-c', WRITE_REFERENCE, dir], { encoding: 'utf8', timeout: 60000 });
    if (run.status !== 0) throw new Error(`astropy could not write the reference VOTables: ${run.stderr}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const everyTypeFields: FieldDef[] = [
    { name: 'flag', datatype: 'boolean' },
    // bit is published as boolean, unsignedByte as short (the TAP_SCHEMA types that hold them).
    { name: 'bit', datatype: 'boolean' },
    { name: 'u8', datatype: 'short' },
    { name: 'i2', datatype: 'short' },
    { name: 'i4', datatype: 'int', ucd: 'meta.id' },
    { name: 'i8', datatype: 'long' },
    { name: 'f4', datatype: 'float', unit: 'mag' },
    {
      name: 'f8',
      datatype: 'double',
      unit: 'deg',
      ucd: 'pos.eq.ra;meta.main',
      utype: 'obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1',
    },
    { name: 's', datatype: 'char', arraysize: '*', description: 'free text' },
    { name: 'code', datatype: 'char', arraysize: '4' },
    { name: 'u', datatype: 'unicodeChar', arraysize: '*' },
    { name: 'pos', datatype: 'double', arraysize: '2', xtype: 'point', unit: 'deg' },
    { name: 'poly', datatype: 'double', arraysize: '*', xtype: 'polygon', unit: 'deg' },
    { name: 'iarr', datatype: 'int', arraysize: '3' },
    { name: 't', datatype: 'char', arraysize: '*', xtype: 'timestamp' },
  ];
  const first: Cell[] = [
    true,
    true,
    200,
    -32768,
    -2147483648,
    9007199254740993n, // beyond 2^53: a bigint, exact
    1.1, // a float read from BINARY is the shortest decimal of the 32-bit value, as in TABLEDATA
    10.123456789012344,
    'obs<1>&"x"',
    'ABCD',
    'Ωmega ☃',
    '10.5 -20.25',
    '1 2 3 4 5 6',
    '1 2 3',
    '2024-01-02T03:04:05.678',
  ];
  const last: Cell[] = [
    false,
    true,
    7,
    1,
    1,
    9223372036854775807n,
    Infinity,
    -Infinity,
    'line 1\nline 2',
    'WXYZ',
    '日本',
    '1e-300 1e+300',
    '1.5',
    '-1 0 1',
    '1999-12-31',
  ];
  /** Row 2: unmasked NaN and empty string. Row 3: every column masked except bit and iarr. */
  const second = (nan: number | null, empty: string | null): Cell[] => [
    false,
    false,
    255,
    32767,
    2147483647,
    -9223372036854775808n,
    -0.25,
    nan,
    ' two  words ',
    'AB',
    'é',
    '0 0',
    '0 0 1 0 1 1',
    '4 5 6',
    empty,
  ];
  const masked = (pos: string | null): Cell[] => [
    null,
    false,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    pos,
    null,
    '7 8 9',
    null,
  ];

  it('reads TABLEDATA: empty TD is null, NaN stays NaN, white space of strings is kept', () => {
    const table = readVotable(file('every-tabledata.xml'));
    expect(table.name).toBe('every_type');
    expect(table.fields).toEqual(everyTypeFields);
    // §5.5: in TABLEDATA an empty string and null are the same thing.
    expect(table.rows).toEqual([first, second(NaN, null), masked(null), last]);
  });

  it('reads BINARY2: null flags give null, NaN and empty strings stay what they are', () => {
    const table = readVotable(file('every-binary2.xml'));
    expect(table.fields).toEqual(everyTypeFields);
    expect(table.rows).toEqual([first, second(NaN, ''), masked(null), last]);
  });

  it('reads BINARY: magic values, NaN and empty strings are its nulls; a fixed array cannot be null', () => {
    const table = readVotable(file('every-binary.xml'));
    expect(table.fields).toEqual(everyTypeFields);
    expect(table.rows).toEqual([first, second(null, null), masked('NaN NaN'), last]);
  });

  it('reads VOTable 1.1 (its own namespace, no xtype, nulls written as magic values and NaN)', () => {
    const table = readVotable(file('every-v11.xml'));
    expect(table.fields.map((f) => f.xtype)).toEqual(everyTypeFields.map(() => undefined)); // astropy drops xtype for 1.1
    expect(table.rows).toEqual([first, second(NaN, null), masked('NaN NaN'), last]);
  });

  it.each(['votable', 'votable-binary2'] as const)('gives cells our writers write back unchanged (%s)', async (format) => {
    const table = readVotable(file('every-binary2.xml'));
    const again = readVotable(await render(format, table.fields, table.rows));
    expect(again.fields).toEqual(everyTypeFields);
    expect(again.rows).toEqual(format === 'votable' ? [first, second(NaN, null), masked(null), last] : table.rows);
  });

  it.each(['tabledata', 'binary', 'binary2'])('reads what pyvo uploads for an astropy Table (%s)', (format) => {
    const table = readVotable(file(`astropy-${format}.xml`));
    expect(table.name).toBeUndefined();
    expect(table.fields).toEqual([
      { name: 'id', datatype: 'long' },
      { name: 'ra', datatype: 'double', unit: 'deg' },
      { name: 'name', datatype: 'unicodeChar', arraysize: '3' },
      { name: 'ok', datatype: 'boolean' }, // astropy writes numpy bool as datatype="bit"
    ]);
    expect(table.rows).toEqual([
      [1, 10.5, 'a', true],
      [2, 20.25, 'bcd', false],
      [3, null, null, true],
    ]);
  });

  it.each(['tabledata', 'binary', 'binary2'])('reads a table with FIELDs and no rows (%s)', (format) => {
    const table = readVotable(file(`empty-${format}.xml`));
    expect(table.fields.map((f) => f.name)).toEqual(['id', 'ra', 'name', 'ok']);
    expect(table.rows).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Our own writers

describe('VOTables written by shared/votable', () => {
  // An uploaded table as a client might have got it from our own TAP service.
  const fields: FieldDef[] = [
    { name: 'obs_id', datatype: 'char', arraysize: '*', description: 'Observation id' },
    { name: 'ok', datatype: 'boolean' },
    { name: 'level', datatype: 'short' },
    { name: 'visit', datatype: 'int', ucd: 'meta.id' },
    { name: 'big', datatype: 'long' },
    { name: 'mag', datatype: 'float', unit: 'mag' },
    { name: 'ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra;meta.main' },
    { name: 'band', datatype: 'char', arraysize: '4' },
    { name: 'title', datatype: 'unicodeChar', arraysize: '*' },
    { name: 'center', datatype: 'double', arraysize: '2', xtype: 'point', unit: 'deg' },
    { name: 'region', datatype: 'double', arraysize: '*', xtype: 'polygon', unit: 'deg' },
    { name: 't_min', datatype: 'char', arraysize: '*', xtype: 'timestamp' },
  ];
  const rows: Cell[][] = [
    [
      'obs<1>&"x"',
      true,
      1,
      42,
      9007199254740993n,
      1.5,
      10.123456789012344,
      'ABCD',
      'Ωmega ☃',
      '10.5 -20.25',
      '1 2 3 4 5 6',
      '2024-01-01T00:00:00Z',
    ],
    ['b', false, -2, -2147483648, -5, -0.25, -0.000001, 'AB', 'tab\there', '0 0', '0 0 1 0 1 1', ''],
    [null, null, null, null, null, null, null, null, null, null, null, null],
    [' c d ', true, 32767, 2147483647, -9223372036854775808n, NaN, -Infinity, 'ZZZZ', '𝄞 clef', '1 2', '1 1 2 2 3 3', 'x'],
  ];
  /** What comes back: the same, but for an empty string, which TABLEDATA cannot tell from null. */
  const expected = (empty: string | null): Cell[][] => rows.map((row, i) => (i === 1 ? [...row.slice(0, -1), empty] : row));

  it('reads TABLEDATA back', async () => {
    const table = readVotable(await render('votable', fields, rows, { info: { tableName: 'results' } }));
    expect(table).toEqual({ name: 'results', fields, rows: expected(null) });
  });

  it('reads BINARY2 back, across base64 chunk boundaries', async () => {
    const table = readVotable(await render('votable-binary2', fields, rows, { writer: { chunkSize: 16 } }));
    expect(table).toEqual({ fields, rows: expected('') });
  });

  it('reads 20,000 rows of BINARY2 and TABLEDATA identically', async () => {
    const many: Cell[][] = Array.from({ length: 20000 }, (_, i) => [
      i,
      i * 0.5,
      `row ${i}`,
      i % 7 === 0 ? null : BigInt(i) * 1000000000000n,
    ]);
    const columns: FieldDef[] = [
      { name: 'i', datatype: 'int' },
      { name: 'x', datatype: 'double' },
      { name: 's', datatype: 'char', arraysize: '*' },
      { name: 'l', datatype: 'long' },
    ];
    const fromBinary2 = readVotable(await render('votable-binary2', columns, many)).rows;
    const fromTabledata = readVotable(await render('votable', columns, many)).rows;
    expect(fromBinary2).toHaveLength(20000);
    expect(fromBinary2).toEqual(fromTabledata);
    expect(fromBinary2[19998]).toEqual([19998, 9999, 'row 19998', 19998000000000000n]);
    expect(fromBinary2[7]).toEqual([7, 3.5, 'row 7', null]);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written documents

describe('hand-written documents', () => {
  it('reads a prefixed VOTable (any prefix may be bound to the namespace)', () => {
    const table = readVotable(
      `<?xml version="1.0"?>\n<vot:VOTABLE version="1.3" xmlns:vot="${NAMESPACE}">\n` +
        '<vot:RESOURCE><vot:TABLE name="prefixed"><vot:FIELD name="ra" datatype="double"/><vot:FIELD name="n" datatype="int"/>' +
        '<vot:DATA><vot:TABLEDATA><vot:TR><vot:TD>1.5</vot:TD><vot:TD>7</vot:TD></vot:TR></vot:TABLEDATA></vot:DATA>' +
        '</vot:TABLE></vot:RESOURCE></vot:VOTABLE>',
    );
    expect(table).toEqual({
      name: 'prefixed',
      fields: [
        { name: 'ra', datatype: 'double' },
        { name: 'n', datatype: 'int' },
      ],
      rows: [[1.5, 7]],
    });
  });

  it('reads a VOTable without namespace, with a DOCTYPE, definitions and nested RESOURCEs', () => {
    const table = readVotable(
      '<!DOCTYPE VOTABLE [ <!ELEMENT VOTABLE ANY> ]>\n<VOTABLE version="1.2">\n<DESCRIPTION>Targets</DESCRIPTION>\n' +
        '<COOSYS ID="sys" system="ICRS"/><PARAM name="epoch" datatype="double" value="2000"/><INFO name="note" value="x"/>\n' +
        '<RESOURCE type="results"><INFO name="QUERY_STATUS" value="OK"/><RESOURCE name="inner">' +
        '<TABLE name="first"><FIELD name="id" datatype="char" arraysize="*"/><DATA><TABLEDATA><TR><TD>a</TD></TR></TABLEDATA></DATA></TABLE>' +
        '<TABLE name="second"><FIELD name="other" datatype="int"/></TABLE></RESOURCE></RESOURCE>\n' +
        '<RESOURCE type="meta"><TABLE name="third"><FIELD name="x" datatype="int"/></TABLE></RESOURCE>\n</VOTABLE>',
    );
    expect(table).toEqual({ name: 'first', fields: [{ name: 'id', datatype: 'char', arraysize: '*' }], rows: [['a']] });
  });

  it('reads a STILTS/taplint-style upload: magic nulls, hex, entities, CDATA, comments, padding', () => {
    const document = `<?xml version='1.0'?>
<VOTABLE version="1.3"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns="${NAMESPACE}"
 xsi:schemaLocation="${NAMESPACE} ${NAMESPACE}">
<!--
 !  VOTable written by STIL version 4.2 (uk.ac.starlink.votable.VOSerializer)
 !-->
<RESOURCE>
<TABLE name="taplint_upload" nrows="3">
<DESCRIPTION>Upload test table</DESCRIPTION>
<PARAM arraysize="*" datatype="char" name="origin" value="taplint"/>
<FIELD datatype="int" name="i_index">
  <VALUES null="-2147483648"/>
</FIELD>
<FIELD datatype="short" name="s_short">
  <VALUES null="-32768"><MIN value="-10"/></VALUES>
</FIELD>
<FIELD datatype="double" name="d_ra" ucd="pos.eq.ra" unit="deg">
  <DESCRIPTION>Right
 ascension <b>(ICRS)</b></DESCRIPTION>
  <LINK href="http://example.org/doc"/>
</FIELD>
<FIELD arraysize="*" datatype="char" name="c_text"/>
<FIELD datatype="boolean" name="b_flag"/>
<FIELD arraysize="*" datatype="unicodeChar" name="u_text"/>
<FIELD arraysize="*" datatype="unsignedByte" name="bytes"/>
<DATA>
<TABLEDATA>
<TR>
  <TD>1</TD>
  <TD>0x7FFF</TD>
  <TD>  12.5\n </TD>
  <TD>a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;</TD>
  <TD>T</TD>
  <TD>&#x42F;&#233; <![CDATA[<raw> & more]]></TD>
  <TD>0 0xff 17</TD>
</TR>
<TR>
  <TD>-2147483648</TD>
  <TD>-32768</TD>
  <TD>nan</TD>
  <TD></TD>
  <TD>?</TD>
  <TD/>
  <TD>   </TD>
</TR>
<TR>
  <TD>+3</TD>
  <TD>0xFFFF</TD>
  <TD>-1E3</TD>
  <TD> spaced\r\nout </TD>
  <TD>tRUe</TD>
  <TD>x<!-- a comment -->y</TD>
  <TD>
    1
    2
  </TD>
</TR>
</TABLEDATA>
</DATA>
</TABLE>
<INFO name="QUERY_STATUS" value="OK"/>
</RESOURCE>
</VOTABLE>
`;
    const table = readVotable(document);
    expect(table.name).toBe('taplint_upload');
    expect(table.fields).toEqual([
      { name: 'i_index', datatype: 'int' },
      { name: 's_short', datatype: 'short' },
      { name: 'd_ra', datatype: 'double', ucd: 'pos.eq.ra', unit: 'deg', description: 'Right\n ascension (ICRS)' },
      { name: 'c_text', datatype: 'char', arraysize: '*' },
      { name: 'b_flag', datatype: 'boolean' },
      { name: 'u_text', datatype: 'unicodeChar', arraysize: '*' },
      { name: 'bytes', datatype: 'short', arraysize: '*' },
    ]);
    expect(table.rows).toEqual([
      [1, 32767, 12.5, 'a < b && c > "d" \'e\'', true, 'Яé <raw> & more', '0 255 17'],
      [null, null, NaN, null, null, null, null],
      [3, -1, -1000, ' spaced\nout ', true, 'xy', '1 2'],
    ]);
  });

  it('reads hand-packed BINARY2: null-flag bytes, garbage under a flag, NUL-ended strings, bits', () => {
    const fields =
      '<FIELD name="b" datatype="boolean"/><FIELD name="c4" datatype="char" arraysize="4"/>' +
      '<FIELD name="u3" datatype="unicodeChar" arraysize="3"/><FIELD name="bits" datatype="bit" arraysize="10"/>' +
      '<FIELD name="vbits" datatype="bit" arraysize="*"/><FIELD name="m" datatype="short" arraysize="2x*"/>' +
      '<FIELD name="l" datatype="long"/><FIELD name="f" datatype="float"/><FIELD name="u8" datatype="unsignedByte"/>';
    const bytes = Buffer.concat([
      // Row 1: nothing null (9 columns: 2 flag bytes).
      be.u8(0x00, 0x00),
      be.ascii('t'),
      be.ascii('ab\0z'),
      be.ucs2('Ω\0\0'),
      be.u8(0b10100000, 0b01000000),
      be.i32(3),
      be.u8(0b01100000),
      be.i32(2),
      be.i16(1),
      be.i16(2),
      be.i16(3),
      be.i16(-4),
      be.i64(-1n),
      be.f32(0.1),
      be.u8(255),
      // Row 2: b, m and u8 (columns 1, 6, 9) flagged: their bytes are skipped, whatever they hold.
      be.u8(0b10000100, 0b10000000),
      be.u8(0x05),
      be.ascii('abcd'),
      be.ucs2('xyz'),
      be.u8(0xff, 0xc0),
      be.i32(0),
      be.i32(1),
      be.i16(9),
      be.i16(9),
      be.i64(-(2n ** 62n)),
      be.f32(NaN),
      be.u8(0x42),
    ]);
    const table = readVotable(votable(fields, stream('BINARY2', bytes)));
    expect(table.fields.map((f) => [f.name, f.datatype, f.arraysize])).toEqual([
      ['b', 'boolean', undefined],
      ['c4', 'char', '4'],
      ['u3', 'unicodeChar', '3'],
      ['bits', 'boolean', '10'],
      ['vbits', 'boolean', '*'],
      ['m', 'short', '2x*'],
      ['l', 'long', undefined],
      ['f', 'float', undefined],
      ['u8', 'short', undefined],
    ]);
    expect(table.rows).toEqual([
      [true, 'ab', 'Ω', 'T F T F F F F F F T', 'F T T', '1 2 3 -4', -1, 0.1, 255],
      [null, 'abcd', 'xyz', 'T T T T T T T T T T', null, null, -4611686018427387904n, NaN, null],
    ]);
  });

  it('reads hand-packed BINARY: magic values, NaN, empty strings and boolean nulls', () => {
    const fields =
      '<FIELD name="i" datatype="int"><VALUES null="-99"/></FIELD><FIELD name="d" datatype="double"/>' +
      '<FIELD name="s" datatype="char" arraysize="*"/><FIELD name="b" datatype="boolean"/><FIELD name="v" datatype="int" arraysize="*"/>';
    const bytes = Buffer.concat([
      be.i32(-99),
      be.f64(NaN),
      be.i32(0),
      be.ascii('?'),
      be.i32(0),
      be.i32(5),
      be.f64(2.5),
      be.i32(2),
      be.ascii('hi'),
      be.ascii('F'),
      be.i32(2),
      be.i32(7),
      be.i32(-99),
      be.i32(6),
      be.f64(-0.5),
      be.i32(1),
      be.ascii('\0'),
      be.ascii(' '),
      be.i32(0),
    ]);
    expect(readVotable(votable(fields, stream('BINARY', bytes))).rows).toEqual([
      [null, null, null, null, null],
      // Magic values mark single array elements (§5.5), which stay in the text.
      [5, 2.5, 'hi', false, '7 -99'],
      [6, -0.5, null, null, null],
    ]);
  });

  it('reads a table with FIELDs and no DATA, and a STREAM with nothing in it', () => {
    const field = '<FIELD name="x" datatype="int"/>';
    expect(readVotable(votable(field, '')).rows).toEqual([]);
    expect(readVotable(votable(field, '<BINARY2><STREAM encoding="base64"/></BINARY2>')).rows).toEqual([]);
    expect(readVotable(votable(field, '<TABLEDATA/>')).rows).toEqual([]);
  });

  it('decodes bytes as the document says: BOMs, UTF-16, ISO-8859-1', () => {
    const body = (declaration: string): string =>
      `${declaration}<VOTABLE><RESOURCE><TABLE><FIELD name="s" datatype="unicodeChar" arraysize="*"/>` +
      '<DATA><TABLEDATA><TR><TD>café Ω</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>';
    const rows = [['café Ω']];
    expect(readVotable(Buffer.from(`\ufeff${body('<?xml version="1.0"?>')}`, 'utf8')).rows).toEqual(rows);
    expect(readVotable(Buffer.from(`\ufeff${body('<?xml version="1.0" encoding="UTF-16"?>')}`, 'utf16le')).rows).toEqual(rows);
    expect(readVotable(Buffer.from(`\ufeff${body('')}`, 'utf16le').swap16()).rows).toEqual(rows);
    expect(readVotable(`\ufeff${body('')}`).rows).toEqual(rows);
    const latin1 = body('<?xml version="1.0" encoding="ISO-8859-1"?>').replace('Ω', '&#937;');
    expect(readVotable(Buffer.from(latin1, 'latin1')).rows).toEqual(rows);
  });

  it('honours limits at the limit itself', () => {
    const document = votable(
      '<FIELD name="a" datatype="int"/><FIELD name="b" datatype="int"/>',
      tabledata([
        ['1', '2'],
        ['3', '4'],
      ]),
    );
    expect(readVotable(document, { maxRows: 2, maxColumns: 2 }).rows).toHaveLength(2);
  });
});

describe('float32Value', () => {
  /** The definition: the fewest significant digits whose decimal reads back as the same float. */
  function shortest(x: number): number {
    for (let digits = 1; digits <= 9; digits++) {
      const candidate = Number(x.toPrecision(digits));
      if (Math.fround(candidate) === x) return candidate;
    }
    return x;
  }

  it('gives the shortest round-tripping decimal for any 32-bit float', () => {
    const bytes = Buffer.alloc(4);
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // a fixed LCG: the same floats every run
      bytes.writeUInt32BE(seed);
      const x = bytes.readFloatBE(0);
      if (Number.isNaN(x)) continue;
      expect(float32Value(x)).toBe(shortest(x));
    }
  });

  it.each([1.1, 0.1, -2.5, 3.4028234663852886e38, 1.401298464324817e-45, 1e-40, 123456.789, 16777217, -0.3])('%p', (value) => {
    const x = Math.fround(value);
    expect(float32Value(x)).toBe(shortest(x));
    expect(Math.fround(float32Value(x))).toBe(x);
  });
});

// ---------------------------------------------------------------------------------------------
// Rejections

describe('rejections say what is wrong and where', () => {
  const int = (name: string): string => `<FIELD name="${name}" datatype="int"/>`;
  const one = int('n');

  it.each([
    [
      'CSV',
      'ra,dec\n1,2\n',
      'not a VOTable: the upload starts with "ra,dec\\n1,2\\n", not with XML; TAP uploads must be VOTable documents',
    ],
    [
      'HTML',
      '<!DOCTYPE html>\n<html lang=en><body>Not found</body></html>',
      'not a VOTable: the document is <html>, not <VOTABLE>; TAP uploads must be VOTable documents',
    ],
    [
      'other XML',
      '<?xml version="1.0"?><rss version="2.0"/>',
      'not a VOTable: the document is <rss>, not <VOTABLE>; TAP uploads must be VOTable documents',
    ],
    ['an empty upload', ' \n', 'the upload is empty'],
    ['a comment only', '<!-- nothing -->', 'the document has no root element'],
    ['no RESOURCE', '<VOTABLE version="1.4"><INFO name="a" value="b"/></VOTABLE>', 'the VOTable has no RESOURCE, so no table'],
    ['an empty VOTABLE', '<VOTABLE/>', 'the VOTable has no RESOURCE, so no table'],
    [
      'a RESOURCE without TABLE',
      '<VOTABLE><RESOURCE type="meta"/><RESOURCE><TABLE/></RESOURCE></VOTABLE>',
      'the first RESOURCE holds no TABLE',
    ],
    [
      'an error document',
      '<VOTABLE><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Query failed: no such table</INFO></RESOURCE></VOTABLE>',
      'the first RESOURCE holds no TABLE (it is an error document: "Query failed: no such table")',
    ],
    ['a TABLE without FIELD', votable('', ''), 'the TABLE has no FIELD'],
    ['a TABLE by reference', votable('', '', ' ref="other"'), 'the TABLE takes its FIELDs from ref="other", which uploads do not support'],
  ])('%s', (_what, document, message) => {
    expect(failure(document)).toBe(message);
  });

  it.each([
    ['no name', `${one}<FIELD datatype="int"/>`, 'FIELD 2 has no name'],
    ['a control character in the name', '<FIELD name="a&#9;b" datatype="int"/>', 'FIELD 1 has a name with control characters, "a\\tb"'],
    ['the same name twice', `${int('ra')}${int('dec')}${int('ra')}`, 'two FIELDs are named "ra"; column names must be unique'],
    [
      'names differing in case',
      `${int('ra')}${int('RA')}`,
      'FIELDs "ra" and "RA" differ only in case; column names must be unique regardless of case',
    ],
    ['no datatype', '<FIELD name="x"/>', 'column "x": the FIELD has no datatype'],
    ['an unknown datatype', '<FIELD name="x" datatype="float64"/>', 'column "x": unknown datatype "float64"'],
    [
      'a complex datatype',
      '<FIELD name="z" datatype="doubleComplex"/>',
      'column "z": datatype "doubleComplex" is not supported in uploads (store the real and imaginary parts as two columns)',
    ],
    [
      'a bad arraysize',
      '<FIELD name="x" datatype="int" arraysize="2x"/>',
      'column "x": arraysize "2x" is not valid (expected e.g. 8, *, 8* or 2x3)',
    ],
    [
      'an array of strings',
      '<FIELD name="x" datatype="char" arraysize="8x2"/>',
      'column "x": arrays of strings (arraysize "8x2") are not supported in uploads',
    ],
    [
      'a bad VALUES null',
      '<FIELD name="x" datatype="short"><VALUES null="abc"/></FIELD>',
      'column "x": VALUES null="abc" is not a valid short',
    ],
  ])('a FIELD with %s', (_what, fields, message) => {
    expect(failure(votable(fields, ''))).toBe(message);
  });

  it('names the upload, the row and the column of a bad cell', () => {
    const document = votable(
      '<FIELD name="id" datatype="int"/><FIELD name="ra" datatype="double"/>',
      tabledata([
        ['1', '10.5'],
        ['2', '11'],
        ['3', 'abc'],
      ]),
    );
    expect(failure(document, { uploadName: 'foo' })).toBe('upload "foo": row 3, column "ra": "abc" is not a double');
  });

  it.each([
    ['int', '2147483648', '"2147483648" is out of range for an int'],
    ['int', '1.5', '"1.5" is not an int'],
    ['int', '0x123456789', '"0x123456789" is not an int'],
    ['short', '0x12345', '"0x12345" is not a short'],
    ['short', '-32769', '"-32769" is out of range for a short'],
    ['unsignedByte', '256', '"256" is out of range for an unsignedByte'],
    ['unsignedByte', '-1', '"-1" is out of range for an unsignedByte'],
    ['long', '9223372036854775808', '"9223372036854775808" is out of range for a long'],
    ['long', '12e3', '"12e3" is not a long'],
    ['float', '1,5', '"1,5" is not a float'],
    ['double', '0x10', '"0x10" is not a double'],
    ['double', 'Infinite', '"Infinite" is not a double'],
    ['boolean', 'yes', '"yes" is not a boolean'],
    ['bit', '2', '"2" is not a bit'],
  ])('rejects a %s cell %s', (datatype, text, message) => {
    expect(failure(votable(`<FIELD name="x" datatype="${datatype}"/>`, tabledata([[text]])))).toBe(`row 1, column "x": ${message}`);
  });

  it('rejects arrays of the wrong size or with bad elements', () => {
    const point = '<FIELD name="pos" datatype="double" arraysize="2" xtype="point"/>';
    expect(failure(votable(point, tabledata([['1 2 3']])))).toBe('row 1, column "pos": 3 values where arraysize "2" needs 2');
    expect(failure(votable(point, tabledata([['1 x']])))).toBe('row 1, column "pos": "x" is not a double');
    const pairs = '<FIELD name="m" datatype="int" arraysize="2x*"/>';
    expect(failure(votable(pairs, tabledata([['1 2 3']])))).toBe('row 1, column "m": 3 values where arraysize "2x*" needs a multiple of 2');
  });

  it('rejects rows with too few or too many cells, and stray content', () => {
    const two = `${int('a')}${int('b')}`;
    expect(failure(votable(two, tabledata([['1', '2'], ['3']])))).toBe('row 2 has 1 cell, but the table has 2 FIELDs');
    expect(failure(votable(two, tabledata([['1', '2', '3']])))).toBe('row 1 has 3 cells, but the table has 2 FIELDs');
    expect(failure(votable(two, '<TABLEDATA>\n<TR><TD>1</TD><X/></TR></TABLEDATA>'))).toBe(
      'invalid VOTable at line 7: <X> inside TR, where only TD may be',
    );
    expect(failure(votable(two, '<TABLEDATA>\n<TD>1</TD></TABLEDATA>'))).toBe(
      'invalid VOTable at line 7: <TD> inside TABLEDATA, where only TR may be',
    );
    expect(failure(votable(two, '<TABLEDATA>\n<TR>1</TR></TABLEDATA>'))).toBe('invalid VOTable at line 7: text "1" outside a TD');
  });

  it('honours maxRows and maxColumns, naming the limit', async () => {
    const threeRows = tabledata([['1'], ['2'], ['3']]);
    expect(failure(votable(one, threeRows), { maxRows: 2, uploadName: 'big' })).toBe(
      'upload "big": the table has more than 2 rows, the limit for uploads',
    );
    const binary2 = await render('votable-binary2', [{ name: 'n', datatype: 'int' }], [[1], [2], [3]]);
    expect(failure(binary2, { maxRows: 2 })).toBe('the table has more than 2 rows, the limit for uploads');
    expect(failure(votable(`${int('a')}${int('b')}${int('c')}${int('d')}`, ''), { maxColumns: 3 })).toBe(
      'the table has more than 3 columns, the limit for uploads',
    );
  });

  it.each([
    [
      'remote data',
      '<BINARY2><STREAM href="http://example.org/data.bin"/></BINARY2>',
      'the BINARY2 data is remote (STREAM href="http://example.org/data.bin"), which uploads do not support; send the data inline',
    ],
    [
      'gzip',
      '<BINARY><STREAM encoding="gzip">AAAA</STREAM></BINARY>',
      'STREAM encoding="gzip" is not supported; inline BINARY data must be base64',
    ],
    [
      'FITS',
      '<FITS extnum="1"><STREAM href="file:///x.fits"/></FITS>',
      'FITS-serialized VOTable data is not supported in uploads; send TABLEDATA, BINARY or BINARY2',
    ],
    ['not base64', '<BINARY2><STREAM encoding="base64">AAAA*AAA</STREAM></BINARY2>', 'the STREAM content is not valid base64'],
  ])('rejects %s', (_what, data, message) => {
    expect(failure(votable(one, data))).toBe(message);
  });

  it('rejects truncated or corrupt binary streams, naming the row and column', () => {
    const fields = `${one}<FIELD name="s" datatype="char" arraysize="*"/>`;
    const row = Buffer.concat([be.u8(0), be.i32(1), be.i32(2), be.ascii('ab')]);
    const cut = Buffer.concat([row, row]).subarray(0, 2 * row.length - 1);
    expect(failure(votable(fields, stream('BINARY2', cut)))).toBe(
      'BINARY2 row 2, column "s": the data stream ends in the middle of the row (truncated or corrupt data)',
    );
    const huge = Buffer.concat([be.u8(0), be.i32(1), be.i32(0x7fffffff), be.ascii('ab')]);
    expect(failure(votable(fields, stream('BINARY2', huge)))).toBe(
      'BINARY2 row 1, column "s": the data stream ends in the middle of the row (truncated or corrupt data)',
    );
    expect(failure(votable(fields, stream('BINARY', be.u8(0, 0))))).toBe(
      'BINARY row 1, column "n": the data stream ends in the middle of the row (truncated or corrupt data)',
    );
    const badBoolean = Buffer.concat([be.u8(0), be.u8(0x05)]);
    expect(failure(votable('<FIELD name="b" datatype="boolean"/>', stream('BINARY2', badBoolean)))).toBe(
      'BINARY2 row 1, column "b": byte 0x05 is not a boolean (T, F or ?)',
    );
  });

  it.each([
    [
      'a mismatched end tag',
      votable(one, '<TABLEDATA>\n<TR><TD>1</TR></TABLEDATA>'),
      'malformed XML at line 7: </TR> where </TD> was expected',
    ],
    [
      'a truncated document',
      votable(one, tabledata([['1']])).replace(/<\/TR>[^]*$/, ''),
      'the document ends inside <TR>: the upload is truncated or not well-formed XML',
    ],
    [
      'an HTML entity',
      votable(one, '<TABLEDATA>\n<TR><TD>&nbsp;</TD></TR></TABLEDATA>'),
      'malformed XML at line 7: unknown entity &nbsp; (XML defines only &lt; &gt; &amp; &quot; &apos;)',
    ],
    [
      'a bare ampersand',
      votable(one.replace('"n"', '"a&b"'), ''),
      'malformed XML at line 5: "&" that does not start an entity reference (write it as &amp;)',
    ],
    [
      'a bare less-than',
      votable(one, '<TABLEDATA>\n<TR><TD>1 < 2</TD></TR></TABLEDATA>'),
      'malformed XML at line 7: "<" that does not start a tag (write it as &lt;)',
    ],
    [
      'an unquoted attribute',
      '<VOTABLE version=1.4></VOTABLE>',
      'malformed XML at line 1: the value of attribute version of <VOTABLE> is not quoted',
    ],
    [
      'a bad character reference',
      votable(one, '<TABLEDATA>\n<TR><TD>&#0;</TD></TR></TABLEDATA>'),
      'malformed XML at line 7: &#0; is not a valid character reference',
    ],
    ['an unclosed comment', '<VOTABLE><!-- ', 'the document ends inside a comment: the upload is truncated or not well-formed XML'],
  ])('rejects %s', (_what, document, message) => {
    expect(failure(document)).toBe(message);
  });

  it('rejects bytes that are not text in the declared encoding', () => {
    const document = Buffer.concat([
      Buffer.from('<VOTABLE><RESOURCE><TABLE><FIELD name="'),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from('" datatype="int"/>'),
    ]);
    expect(failure(document)).toBe('the document is not valid utf-8 text');
    expect(failure(Buffer.from('<?xml version="1.0" encoding="x-unheard-of"?><VOTABLE/>'))).toBe(
      'the document\'s character encoding "x-unheard-of" is not supported (use UTF-8)',
    );
  });
});
