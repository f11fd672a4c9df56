import { votableError, type FieldDef } from '../../shared/votable';
import { render } from './helpers';

const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.3">\n';

const fields: FieldDef[] = [
  {
    name: 's_ra',
    datatype: 'double',
    unit: 'deg',
    ucd: 'pos.eq.ra',
    utype: 'obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1',
    id: 'ra',
    description: 'RA <ICRS> & more',
  },
  { name: 'obs_id', datatype: 'char', arraysize: '*' },
  { name: 'ok', datatype: 'boolean' },
  { name: 'n', datatype: 'long' },
  { name: 't_min', datatype: 'double', xtype: 'timestamp' },
  { name: 'label', datatype: 'char' },
];

it('writes exact TABLEDATA with INFO placement, escaping, nulls, NaN and booleans', async () => {
  const xml = await render(
    'votable',
    fields,
    [
      [10.5, 'a<b & "c"', true, 12345678901234567890n, 60000.25, 'x'],
      [NaN, null, false, -3, Infinity, ''],
      [null, 'plain', null, null, -Infinity, null],
      [1e-300, 'ctl\u0001char', 0, 7.9, 1, 'y'],
    ],
    {
      overflow: true,
      info: {
        infos: [
          { name: 'QUERY', value: 'SELECT TOP 3 * FROM t WHERE a < 1', content: 'SELECT TOP 3 * FROM t WHERE a < 1' },
          { name: 'standardID', value: 'ivo://ivoa.net/std/DataLink#links-1.1' },
        ],
        params: [{ name: 'maxrec', datatype: 'int', value: '3' }],
        tableName: 'results',
        extraResources: '<RESOURCE type="meta" utype="adhoc:service"/>',
      },
    },
  );
  expect(xml).toBe(
    HEAD +
      '<RESOURCE type="results">\n' +
      '<INFO name="QUERY_STATUS" value="OK"/>\n' +
      '<INFO name="QUERY" value="SELECT TOP 3 * FROM t WHERE a &lt; 1">SELECT TOP 3 * FROM t WHERE a &lt; 1</INFO>\n' +
      '<INFO name="standardID" value="ivo://ivoa.net/std/DataLink#links-1.1"/>\n' +
      '<PARAM name="maxrec" datatype="int" value="3"/>\n' +
      '<TABLE name="results">\n' +
      '<FIELD ID="ra" name="s_ra" datatype="double" unit="deg" ucd="pos.eq.ra" utype="obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1">\n' +
      '<DESCRIPTION>RA &lt;ICRS&gt; &amp; more</DESCRIPTION>\n' +
      '</FIELD>\n' +
      '<FIELD name="obs_id" datatype="char" arraysize="*"/>\n' +
      '<FIELD name="ok" datatype="boolean"/>\n' +
      '<FIELD name="n" datatype="long"/>\n' +
      '<FIELD name="t_min" datatype="double" xtype="timestamp"/>\n' +
      // A char FIELD without arraysize would be a single character (VOTable 1.4 §2.2): `*` added.
      '<FIELD name="label" datatype="char" arraysize="*"/>\n' +
      '<DATA>\n<TABLEDATA>\n' +
      '<TR><TD>10.5</TD><TD>a&lt;b &amp; &quot;c&quot;</TD><TD>T</TD><TD>12345678901234567890</TD><TD>60000.25</TD><TD>x</TD></TR>\n' +
      '<TR><TD>NaN</TD><TD/><TD>F</TD><TD>-3</TD><TD>+Inf</TD><TD/></TR>\n' +
      '<TR><TD/><TD>plain</TD><TD/><TD/><TD>-Inf</TD><TD/></TR>\n' +
      '<TR><TD>1e-300</TD><TD>ctlchar</TD><TD>F</TD><TD>7</TD><TD>1</TD><TD>y</TD></TR>\n' +
      '</TABLEDATA>\n</DATA>\n</TABLE>\n' +
      '<INFO name="QUERY_STATUS" value="OVERFLOW"/>\n' +
      '</RESOURCE>\n' +
      '<RESOURCE type="meta" utype="adhoc:service"/>\n' +
      '</VOTABLE>\n',
  );
});

it('writes no OVERFLOW INFO for a complete result, and an empty TABLEDATA for no rows', async () => {
  const xml = await render('votable', [{ name: 'a', datatype: 'int' }], []);
  expect(xml).toBe(
    HEAD +
      '<RESOURCE type="results">\n<INFO name="QUERY_STATUS" value="OK"/>\n<TABLE>\n' +
      '<FIELD name="a" datatype="int"/>\n<DATA>\n<TABLEDATA>\n</TABLEDATA>\n</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n',
  );
});

it('writes the DALI error document', () => {
  expect(votableError('Syntax error near "<" & more')).toBe(
    HEAD +
      '<RESOURCE type="results">\n' +
      '<INFO name="QUERY_STATUS" value="ERROR">Syntax error near &quot;&lt;&quot; &amp; more</INFO>\n' +
      '</RESOURCE>\n</VOTABLE>\n',
  );
});

function streamBytes(xml: string): Buffer {
  const m = /<STREAM encoding="base64">\n([\s\S]*?)<\/STREAM>/.exec(xml);
  if (!m) throw new Error('no STREAM');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

it('encodes BINARY2 rows byte for byte: null mask, big-endian values, null widths kept', async () => {
  const xml = await render(
    'votable-binary2',
    [
      { name: 'b', datatype: 'boolean' },
      { name: 'h', datatype: 'short' },
      { name: 'i', datatype: 'int' },
      { name: 'l', datatype: 'long' },
      { name: 'f', datatype: 'float' },
      { name: 'd', datatype: 'double' },
      { name: 's', datatype: 'char', arraysize: '*' },
      { name: 'c', datatype: 'char', arraysize: '3' },
      { name: 'u', datatype: 'unicodeChar', arraysize: '*' },
    ],
    [
      [true, -2, 258, -1, 1.5, 2, 'ab', 'x', 'Ω'],
      [null, null, null, null, null, null, null, null, null],
    ],
  );
  const b = streamBytes(xml);
  const row1 = Buffer.concat([
    Buffer.from([0x00, 0x00]), // 9 fields → 2 mask bytes, none null
    Buffer.from('T'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from([0, 0, 1, 2]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x3f, 0xc0, 0, 0]),
    Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 0, 0, 2, 0x61, 0x62]),
    Buffer.from([0x78, 0, 0]),
    Buffer.from([0, 0, 0, 1, 0x03, 0xa9]),
  ]);
  const row2 = Buffer.concat([
    Buffer.from([0xff, 0x80]), // all nine flagged
    Buffer.from('?'),
    Buffer.alloc(2),
    Buffer.alloc(4),
    Buffer.alloc(8),
    Buffer.from([0x7f, 0xc0, 0, 0]), // float NaN
    Buffer.from([0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // double NaN
    Buffer.alloc(4), // empty variable string
    Buffer.alloc(3),
    Buffer.alloc(4),
  ]);
  expect(b.toString('hex')).toBe(Buffer.concat([row1, row2]).toString('hex'));
});

it('keeps base64 output identical whatever the chunk size (3-byte groups carried across rows)', async () => {
  const f: FieldDef[] = [
    { name: 's', datatype: 'char', arraysize: '*' },
    { name: 'x', datatype: 'double' },
  ];
  const rows = Array.from({ length: 500 }, (_, i) => [i % 5 === 0 ? null : 'y'.repeat(i % 13), i / 7]);
  const ref = streamBytes(await render('votable-binary2', f, rows));
  for (const chunkSize of [1, 2, 3, 4, 5, 100, 4096]) {
    const xml = await render('votable-binary2', f, rows, { writer: { chunkSize } });
    // No '=' padding anywhere but at the very end of the stream.
    const text = /<STREAM encoding="base64">\n([\s\S]*?)<\/STREAM>/.exec(xml)![1]!.replace(/\s+/g, '');
    expect(text.replace(/=+$/, '')).not.toContain('=');
    expect(streamBytes(xml).equals(ref)).toBe(true);
  }
});

it('BINARY2 char cells hold UTF-8 of any length, multi-byte text included, and read back the same', async () => {
  const { readVotable } = await import('../../shared/votable/reader');
  const long = 'Ω'.repeat(40000); // 80 kB of UTF-8: more than the encoder's buffer holds
  const texts = ['café Ω 日本', '', 'plain ascii', long, '𝛼 outside the BMP'];
  const fields: FieldDef[] = [
    { name: 't', datatype: 'char', arraysize: '*' },
    { name: 'n', datatype: 'int' },
  ];
  const xml = await render(
    'votable-binary2',
    fields,
    texts.map((t, i) => [t, i]),
  );
  expect(readVotable(xml).rows).toEqual(texts.map((t, i) => [t, i]));
});
