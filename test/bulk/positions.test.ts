/**
 * Positions tables of the bulk service: format from content (VOTable TABLEDATA and BINARY2,
 * CSV per RFC 4180 with quotes, CRLF and a BOM, TSV, UTF-16 text), columns by name, by UCD and
 * by RA_COL/DEC_COL/ID_COL, invalid rows kept with the reason, per-row overrides, the row
 * limit (TooManyRows, 413), every table-level rejection with its message, file-name stems of
 * hostile ids, and the time 100,000 CSV rows take.
 */
import { createHash } from 'node:crypto';
import { TooManyRows } from '../../shared/bulk/errors';
import { parseBand } from '../../shared/bulk/params';
import { positionsFromRequest, readPositionsTable, safeMemberStem, type PositionsTable } from '../../shared/bulk/positions';
import { SodaError } from '../../shared/soda/errors';
import type { FieldDef } from '../../shared/votable';
import { render } from '../votable/helpers';

type Columns = { ra?: string; dec?: string; id?: string };

function read(
  text: string | Buffer,
  columns: Columns = {},
  options: { maxRows?: number; unit?: 'pix' | 'arcsec' | 'deg' } = {},
): PositionsTable {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return readPositionsTable(
    bytes,
    { columns, ...(options.unit ? { size: { unit: options.unit } } : {}) },
    { maxRows: options.maxRows ?? 100_000 },
  );
}

/** The error readPositionsTable fails with, checking it is a SodaError. */
function error(text: string | Buffer, columns: Columns = {}, maxRows = 100_000): SodaError {
  try {
    read(text, columns, { maxRows });
  } catch (e) {
    if (e instanceof SodaError) return e;
    throw e;
  }
  throw new Error('readPositionsTable did not fail');
}

function failure(text: string | Buffer, columns: Columns = {}, maxRows = 100_000): string {
  return error(text, columns, maxRows).message;
}

const NAMESPACE = 'http://www.ivoa.net/xml/VOTable/v1.3';

/** A one-table VOTable 1.4 document around FIELD declarations and DATA content. */
function votable(fields: string, data: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" xmlns="${NAMESPACE}">\n<RESOURCE type="results">\n` +
    `<TABLE name="positions">\n${fields}\n<DATA>${data}</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n`
  );
}

describe('CSV', () => {
  test('rows in input order with ids, ra normalised, unusable rows kept with the reason', () => {
    const table = read('id,ra,dec\nM31,10.6847,41.2690\nNGC 253, -348.5 ,-25.2883\nbad,12:30:00,95\n');
    expect(table).toEqual({
      format: 'csv',
      columns: { ra: 'ra', dec: 'dec', id: 'id' },
      rows: [
        { row: 1, id: 'M31', ra: 10.6847, dec: 41.269 },
        { row: 2, id: 'NGC 253', ra: 11.5, dec: -25.2883 },
        { row: 3, id: 'bad', ra: NaN, dec: NaN, invalid: 'ra "12:30:00" is not a number in decimal degrees; dec 95 is outside [-90, 90]' },
      ],
    });
  });

  test('RFC 4180: BOM, CRLF, quoted delimiters, "" escapes, quoted line breaks; trailing blank lines dropped', () => {
    const text = '\ufeff"name",RA,Dec\r\n"M 31, the ""Andromeda"" galaxy",10,41\r\n"two\r\nlines" ,20,-30\r\n\r\n\r\n';
    expect(read(text, { id: 'NAME' })).toEqual({
      format: 'csv',
      columns: { ra: 'RA', dec: 'Dec', id: 'name' },
      rows: [
        { row: 1, id: 'M 31, the "Andromeda" galaxy', ra: 10, dec: 41 },
        { row: 2, id: 'two\r\nlines', ra: 20, dec: -30 },
      ],
    });
  });

  test('no newline at the end, LF only, an empty last field', () => {
    expect(read('ra,dec,id\n1,2,').rows).toEqual([{ row: 1, id: '1', ra: 1, dec: 2 }]);
    expect(read('ra,dec\r\n5,6').rows).toEqual([{ row: 1, id: '1', ra: 5, dec: 6 }]);
  });

  test('a blank line inside the table is a row (row numbers stay the file’s); blank and ",," lines at the end are not', () => {
    expect(read('ra,dec\n1,2\n\n3,4\n,\n \n').rows).toEqual([
      { row: 1, id: '1', ra: 1, dec: 2 },
      { row: 2, id: '2', ra: NaN, dec: NaN, invalid: 'the row is empty' },
      { row: 3, id: '3', ra: 3, dec: 4 },
    ]);
  });

  test('a record with more or fewer fields than the header is invalid (RFC 4180 §2.4)', () => {
    expect(read('ra,dec,id\n1,2\n3,4,x,y\n').rows).toEqual([
      { row: 1, id: '1', ra: 1, dec: 2, invalid: 'the row has 2 fields, the header 3' },
      { row: 2, id: 'x', ra: 3, dec: 4, invalid: 'the row has 4 fields, the header 3' },
    ]);
  });

  test('empty, non-numeric and out-of-range positions', () => {
    expect(read('ra,dec\n,5\nabc,-91\n1e999,90\n-0,-90\nnan,0\n').rows).toEqual([
      { row: 1, id: '1', ra: NaN, dec: 5, invalid: 'ra is empty' },
      { row: 2, id: '2', ra: NaN, dec: NaN, invalid: 'ra "abc" is not a number in decimal degrees; dec -91 is outside [-90, 90]' },
      { row: 3, id: '3', ra: NaN, dec: 90, invalid: 'ra "1e999" is not finite' },
      { row: 4, id: '4', ra: 0, dec: -90 },
      { row: 5, id: '5', ra: NaN, dec: 0, invalid: 'ra "nan" is not a number in decimal degrees' },
    ]);
  });

  test('an empty id cell falls back to the row number', () => {
    expect(read('id,ra,dec\n,1,2\n" ",3,4\n').rows.map((r) => r.id)).toEqual(['1', '2']);
  });

  test('malformed quoting is an error naming the row', () => {
    expect(failure('ra,dec,id\n1,2,"abc\n')).toBe('UsageError: the positions table (row 1): a quoted field is not closed');
    expect(failure('ra,dec,id\n1,2,ok\n3,4,"a"b\n')).toBe(
      'UsageError: the positions table (row 2): text follows a closing quote; a quote inside a quoted field is written ""',
    );
    expect(failure('"ra,dec\n1,2\n')).toBe('UsageError: the positions table (header): a quoted field is not closed');
  });
});

describe('TSV and other text', () => {
  test('TSV: tabs in the header, commas inside values', () => {
    expect(read('ra\tdec\tid\tband\n10\t20\ta,b\tG\n')).toEqual({
      format: 'tsv',
      columns: { ra: 'ra', dec: 'dec', id: 'id', band: 'band' },
      rows: [{ row: 1, id: 'a,b', ra: 10, dec: 20, band: 'g', bandSpec: parseBand('g', 'band') }],
    });
  });

  test('UTF-16 with a byte order mark (spreadsheets’ "Unicode text"), little- and big-endian', () => {
    const body = 'ra\tdec\tid\r\n1\t2\tÅngström\r\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(body, 'utf16le').swap16()]);
    for (const bytes of [le, be]) expect(read(bytes).rows).toEqual([{ row: 1, id: 'Ångström', ra: 1, dec: 2 }]);
  });

  test('text that is no table', () => {
    expect(failure('  \n\n')).toBe('UsageError: the positions table is empty');
    expect(failure('')).toBe('UsageError: the positions table is empty');
    expect(failure('ra dec\n1 2\n')).toBe(
      'UsageError: the positions table\'s first line, "ra dec", is not a header of several columns: ' +
        'send a VOTable, or CSV or TSV whose first line names the columns (at least ra and dec)',
    );
    expect(failure('# %ECSV 1.0\n# ---\nra dec\n1 2\n')).toBe(
      'UsageError: the positions table is ECSV, which is not supported; send it as CSV (astropy: format="ascii.csv") or VOTable',
    );
    expect(failure('ra,dec\n')).toBe('UsageError: the positions table (CSV) has no rows');
    expect(failure(Buffer.from([0x72, 0x61, 0x2c, 0x64, 0x65, 0x63, 0x0a, 0xe9, 0x2c, 0x31, 0x0a]))).toBe(
      'UsageError: the positions table is not valid UTF-8 text; save it as UTF-8',
    );
    expect(failure('<!DOCTYPE html>\n<html><body>Not found</body></html>\n')).toBe(
      'UsageError: the positions table (VOTable): not a VOTable: the document is <html>, not <VOTABLE>; send a VOTable, CSV or TSV table',
    );
  });
});

describe('columns', () => {
  test('ra/dec preferred to s_ra/s_dec; s_ra/s_dec when there is no ra/dec', () => {
    expect(read('s_ra,s_dec,ra,dec\n1,2,3,4\n').rows[0]).toEqual({ row: 1, id: '1', ra: 3, dec: 4 });
    const obscore = read('obs_id,S_RA,s_dec\nx,1,2\n');
    expect(obscore.columns).toEqual({ ra: 'S_RA', dec: 's_dec' });
    expect(obscore.rows[0]).toEqual({ row: 1, id: '1', ra: 1, dec: 2 });
  });

  test('RA_COL, DEC_COL, ID_COL choose other columns (any case)', () => {
    const table = read('RAJ2000,DEJ2000,ra,dec,Name\n1,2,3,4,x\n', { ra: 'raj2000', dec: 'DEJ2000', id: 'name' });
    expect(table.columns).toEqual({ ra: 'RAJ2000', dec: 'DEJ2000', id: 'Name' });
    expect(table.rows).toEqual([{ row: 1, id: 'x', ra: 1, dec: 2 }]);
  });

  test('a named column the table lacks: named, with the table’s columns', () => {
    const text = 'RAJ2000,DEJ2000,ra,dec\n1,2,3,4\n';
    expect(failure(text, { ra: 'alpha' })).toBe(
      'UsageError: RA_COL="alpha" names no column of the positions table; its columns are: "RAJ2000", "DEJ2000", "ra", "dec"',
    );
    expect(failure(text, { dec: 'delta' })).toBe(
      'UsageError: DEC_COL="delta" names no column of the positions table; its columns are: "RAJ2000", "DEJ2000", "ra", "dec"',
    );
    expect(failure(text, { id: 'objid' })).toBe(
      'UsageError: ID_COL="objid" names no column of the positions table; its columns are: "RAJ2000", "DEJ2000", "ra", "dec"',
    );
  });

  test('no ra/dec columns: what was looked for, and the columns found', () => {
    expect(failure('x,y\n1,2\n')).toBe(
      'UsageError: the positions table has no ra and dec columns: looked for columns named ra/dec or s_ra/s_dec ' +
        '(or name them with RA_COL and DEC_COL); its columns are: "x", "y"',
    );
    expect(failure('ra,decl\n1,2\n')).toBe(
      'UsageError: the positions table has no dec column: looked for columns named ra/dec or s_ra/s_dec ' +
        '(or name them with RA_COL and DEC_COL); its columns are: "ra", "decl"',
    );
    const wide = Array.from({ length: 40 }, (_, i) => `c${i}`).join(',');
    expect(failure(`${wide}\n${'1,'.repeat(39)}1\n`)).toMatch(/its columns are: "c0", "c1", .*"c29", … \(40 in all\)$/);
  });

  test('the same name in the same case wins; in different cases only, the column is ambiguous', () => {
    expect(read('RA,ra,dec\n1,2,3\n').rows[0]).toEqual({ row: 1, id: '1', ra: 2, dec: 3 });
    expect(failure('RA,Ra,dec\n1,2,3\n')).toBe(
      'UsageError: the positions table has 2 columns named "ra" ("RA", "Ra"); name the one to use with RA_COL',
    );
  });
});

describe('per-row overrides', () => {
  const text =
    'ra,dec,size,band,dpsubtype,t_min,t_max\n' +
    '1,2,32,r,lsst.calexp,60000,60001\n' +
    '1,2,,,,,\n' +
    '1,2,10.5,q,,60002,60001\n' +
    '1,2,-3,5e-7 6e-7,,x,\n';

  test('size, band, dpsubtype, t_min, t_max; blank cells keep the job’s values', () => {
    const table = read(text, {}, { unit: 'pix' });
    expect(table.columns).toEqual({
      ra: 'ra',
      dec: 'dec',
      size: 'size',
      band: 'band',
      dpsubtype: 'dpsubtype',
      tMin: 't_min',
      tMax: 't_max',
    });
    expect(table.rows).toEqual([
      {
        row: 1,
        id: '1',
        ra: 1,
        dec: 2,
        size: 32,
        band: 'r',
        bandSpec: { kind: 'letter', label: 'r', lo: 552e-9, hi: 691e-9 },
        dpsubtype: 'lsst.calexp',
        tMin: 60000,
        tMax: 60001,
      },
      { row: 2, id: '2', ra: 1, dec: 2 },
      {
        row: 3,
        id: '3',
        ra: 1,
        dec: 2,
        tMin: 60002,
        tMax: 60001,
        invalid:
          'size 10.5 is not a whole number of pixels (SIZE_UNIT=pix); ' +
          'band must be a band letter (u g r i z y) or a wavelength interval in metres "lo hi", not "q"; t_min 60002 is after t_max 60001',
      },
      {
        row: 4,
        id: '4',
        ra: 1,
        dec: 2,
        band: '500e-9_600e-9',
        bandSpec: { kind: 'interval', label: '500e-9_600e-9', lo: 5e-7, hi: 6e-7 },
        invalid: 'size -3 is not a positive number; t_min "x" is not a number (MJD)',
      },
    ]);
  });

  test('a fractional size is fine when the job’s SIZE_UNIT is not pix', () => {
    expect(read(text, {}, { unit: 'arcsec' }).rows[2]?.size).toBe(10.5);
    expect(read(text).rows[2]?.size).toBe(10.5);
  });
});

describe('VOTable', () => {
  const fields =
    '<FIELD name="ID" datatype="long"/>\n' +
    '<FIELD name="alpha" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"/>\n' +
    '<FIELD name="delta" datatype="double" unit="deg" ucd="POS.EQ.DEC;META.MAIN"/>\n' +
    '<FIELD name="comment" datatype="char" arraysize="*"/>';

  test('TABLEDATA: columns by UCD, ids from a long column, nulls and NaN are empty', () => {
    const data =
      '<TABLEDATA>\n' +
      '<TR><TD>1234567890123</TD><TD>10.5</TD><TD>-5</TD><TD>a</TD></TR>\n' +
      '<TR><TD>2</TD><TD/><TD>3</TD><TD/></TR>\n' +
      '<TR><TD/><TD>NaN</TD><TD>91</TD><TD>c</TD></TR>\n' +
      '<TR><TD>1234567890123456789</TD><TD>-0.25</TD><TD>+0</TD><TD/></TR>\n' +
      '</TABLEDATA>';
    const table = read(votable(fields.replace('"long"', '"char" arraysize="*"'), data));
    expect(table).toEqual({
      format: 'votable',
      columns: { ra: 'alpha', dec: 'delta', id: 'ID' },
      rows: [
        { row: 1, id: '1234567890123', ra: 10.5, dec: -5 },
        { row: 2, id: '2', ra: NaN, dec: 3, invalid: 'alpha is empty' },
        { row: 3, id: '3', ra: NaN, dec: NaN, invalid: 'alpha is empty; delta 91 is outside [-90, 90]' },
        { row: 4, id: '1234567890123456789', ra: 359.75, dec: 0 },
      ],
    });
    // The same table with a long ID: numbers (bigint beyond 2^53) as text.
    expect(read(votable(fields, data)).rows.map((r) => r.id)).toEqual(['1234567890123', '2', '3', '1234567890123456789']);
  });

  test('BINARY2 (as our writer writes it): names in any case, ID_COL, a null float', async () => {
    const binaryFields: FieldDef[] = [
      { name: 'name', datatype: 'char', arraysize: '*' },
      { name: 'RA', datatype: 'double' },
      { name: 'DEC', datatype: 'float' },
    ];
    const document = await render('votable-binary2', binaryFields, [
      ['a', 10, 20.5],
      [null, 30.25, null],
      ['c', 370, -45],
    ]);
    expect(document).toContain('<BINARY2>');
    expect(read(document, { id: 'name' })).toEqual({
      format: 'votable',
      columns: { ra: 'RA', dec: 'DEC', id: 'name' },
      rows: [
        { row: 1, id: 'a', ra: 10, dec: 20.5 },
        { row: 2, id: '2', ra: 30.25, dec: NaN, invalid: 'DEC is empty' },
        { row: 3, id: 'c', ra: 10, dec: -45 },
      ],
    });
  });

  test('a char column of positions is read like CSV text', () => {
    const document = votable(
      '<FIELD name="ra" datatype="char" arraysize="*"/><FIELD name="dec" datatype="char" arraysize="*"/>',
      '<TABLEDATA><TR><TD> 12.5 </TD><TD>1h</TD></TR></TABLEDATA>',
    );
    expect(read(document).rows).toEqual([{ row: 1, id: '1', ra: 12.5, dec: NaN, invalid: 'dec "1h" is not a number in decimal degrees' }]);
  });

  test('without names or UCDs: the error mentions the UCDs looked for', () => {
    const document = votable(
      '<FIELD name="x" datatype="double"/><FIELD name="y" datatype="double"/>',
      '<TABLEDATA><TR><TD>1</TD><TD>2</TD></TR></TABLEDATA>',
    );
    expect(failure(document)).toBe(
      'UsageError: the positions table has no ra and dec columns: looked for columns named ra/dec or s_ra/s_dec, or with UCDs ' +
        'pos.eq.ra;meta.main/pos.eq.dec;meta.main (or name them with RA_COL and DEC_COL); its columns are: "x", "y"',
    );
  });

  test('a VOTable the reader rejects, and one without rows', () => {
    expect(failure('<?xml version="1.0"?>\n<VOTABLE version="1.4"></VOTABLE>')).toBe(
      'UsageError: the positions table (VOTable): the VOTable has no RESOURCE, so no table',
    );
    expect(failure(votable('<FIELD name="ra" datatype="double"/><FIELD name="dec" datatype="double"/>', '<TABLEDATA></TABLEDATA>'))).toBe(
      'UsageError: the positions table (VOTable) has no rows',
    );
  });
});

describe('the row limit', () => {
  test('CSV: as many rows as the limit (trailing blank lines not counted), not one more', () => {
    expect(read('ra,dec\n1,2\n3,4\n\n\n', {}, { maxRows: 2 }).rows).toHaveLength(2);
    const tooMany = error('ra,dec\n1,2\n\n3,4\n', {}, 2);
    expect(tooMany).toBeInstanceOf(TooManyRows);
    expect(tooMany instanceof TooManyRows && [tooMany.httpStatus, tooMany.limit, tooMany.code]).toEqual([413, 2, 'UsageError']);
    expect(tooMany.message).toBe('UsageError: the positions table has more than 2 rows, the limit of one job; split it into several jobs');
  });

  test('VOTable: the reader’s limit becomes TooManyRows', () => {
    const document = votable(
      '<FIELD name="ra" datatype="double"/><FIELD name="dec" datatype="double"/>',
      '<TABLEDATA><TR><TD>1</TD><TD>2</TD></TR><TR><TD>3</TD><TD>4</TD></TR><TR><TD>5</TD><TD>6</TD></TR></TABLEDATA>',
    );
    expect(read(document, {}, { maxRows: 3 }).rows).toHaveLength(3);
    const tooMany = error(document, {}, 2);
    expect(tooMany).toBeInstanceOf(TooManyRows);
    expect(tooMany.message).toBe('UsageError: the positions table has more than 2 rows, the limit of one job; split it into several jobs');
  });

  test('100,000 CSV rows parse in well under a second', () => {
    const lines = ['id,ra,dec,size,band'];
    for (let i = 0; i < 100_000; i++) lines.push(`obj${i},${((i * 0.0037) % 360).toFixed(6)},${((i * 0.0011) % 180) - 90},32,r`);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    read(bytes, {}, { maxRows: 100_000 }); // warm-up (JIT)
    const start = process.hrtime.bigint();
    const table = read(bytes, {}, { maxRows: 100_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`100,000 CSV rows (${(bytes.length / 1e6).toFixed(1)} MB): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(table.rows).toHaveLength(100_000);
    expect(table.rows.filter((r) => r.invalid !== undefined)).toEqual([]);
    expect(table.rows[99_999]).toEqual({
      row: 100_000,
      id: 'obj99999',
      ra: Number(((99_999 * 0.0037) % 360).toFixed(6)),
      dec: ((99_999 * 0.0011) % 180) - 90,
      size: 32,
      band: 'r',
      bandSpec: parseBand('r', 'band'),
    });
  });
});

describe('POSITION values', () => {
  test('row n is the n-th POSITION, its id n', () => {
    expect(
      positionsFromRequest([
        { ra: 10, dec: 20 },
        { ra: 350, dec: -90 },
      ]),
    ).toEqual({
      format: 'positions',
      columns: { ra: 'ra', dec: 'dec' },
      rows: [
        { row: 1, id: '1', ra: 10, dec: 20 },
        { row: 2, id: '2', ra: 350, dec: -90 },
      ],
    });
  });
});

describe('safeMemberStem', () => {
  const hash = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 12);

  test('a safe id is its own stem', () => {
    for (const id of ['M31', 'obj_1', 'NGC-253', '2024.01', 'a', '9'.repeat(100)]) expect(safeMemberStem(id)).toBe(id);
  });

  test('hostile and odd ids: sanitised, with a hash of the original', () => {
    expect(safeMemberStem('../x')).toBe(`_._x__${hash('../x')}`);
    expect(safeMemberStem('/etc/passwd')).toBe(`_etc_passwd__${hash('/etc/passwd')}`);
    expect(safeMemberStem('a/b')).toBe(`a_b__${hash('a/b')}`);
    expect(safeMemberStem('')).toBe(`___${hash('')}`);
    expect(safeMemberStem('.')).toBe(`___${hash('.')}`);
    expect(safeMemberStem('..')).toBe(`_.__${hash('..')}`);
    expect(safeMemberStem('.hidden')).toBe(`_hidden__${hash('.hidden')}`);
    expect(safeMemberStem('-rf')).toBe(`_rf__${hash('-rf')}`);
    expect(safeMemberStem('NGC 253')).toBe(`NGC_253__${hash('NGC 253')}`);
    expect(safeMemberStem('Ångström 🌌')).toBe(`_ngstr_m____${hash('Ångström 🌌')}`);
    expect(safeMemberStem('CON')).toBe(`CON__${hash('CON')}`);
    expect(safeMemberStem('nul.txt')).toBe(`nul.txt__${hash('nul.txt')}`);
    expect(safeMemberStem('a\u0000b')).toBe(`a_b__${hash('a\u0000b')}`);
  });

  test('300 characters: cut to 100 with the hash', () => {
    const long = 'x'.repeat(300);
    const stem = safeMemberStem(long);
    expect(stem).toBe(`${'x'.repeat(86)}__${hash(long)}`);
    expect(stem).toHaveLength(100);
    expect(safeMemberStem('x'.repeat(101))).not.toBe(stem);
  });

  test('different ids never share a stem, even when one is written like another’s stem', () => {
    const ids = [
      'a/b',
      'a_b',
      'a b',
      'a:b',
      `a_b__${hash('a/b')}`,
      'A_B',
      '',
      '_',
      '.',
      '..',
      '../x',
      '_._x',
      'x'.repeat(300),
      'x'.repeat(301),
    ];
    const stems = ids.map(safeMemberStem);
    expect(new Set(stems).size).toBe(ids.length);
    // An id that looks like a hashed stem is hashed itself, so it cannot take a/b's stem.
    const lookalike = `a_b__${hash('a/b')}`;
    expect(safeMemberStem(lookalike)).toBe(`${lookalike}__${hash(lookalike)}`);
    for (const stem of stems) {
      expect(stem).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
      expect(stem.length).toBeLessThanOrEqual(100);
    }
  });
});
