/** VOTables written by shared/votable as astropy reads them. Needs astropy (test/helpers/tools.ts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell, FieldDef } from '../../shared/votable';
import { PYTHON } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { render } from './helpers';

interface Parsed {
  version: string;
  resourceType: string;
  infos: [string, string][];
  fields: [string, string, string | null, string | null, string | null, string | null][];
  rows: unknown[][];
}

const dir = mkdtempSync(join(tmpdir(), 'votable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function astropy(xml: string): Parsed {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync(PYTHON, [join(__dirname, 'read_votable.py'), file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`astropy failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Parsed;
}

const fields: FieldDef[] = [
  { name: 'flag', datatype: 'boolean' },
  { name: 'calib_level', datatype: 'short' },
  { name: 'n', datatype: 'int', ucd: 'meta.number' },
  { name: 'big', datatype: 'long' },
  { name: 'f', datatype: 'float', unit: 'mag' },
  { name: 's_ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra;meta.main', id: 'ra' },
  { name: 'obs_id', datatype: 'char', arraysize: '*', description: 'Observation id' },
  { name: 'code', datatype: 'char', arraysize: '4' },
  { name: 'title', datatype: 'unicodeChar', arraysize: '*' },
  { name: 'pos', datatype: 'double', arraysize: '2', xtype: 'point', unit: 'deg' },
  { name: 'poly', datatype: 'double', arraysize: '*', xtype: 'polygon', unit: 'deg' },
];

const rows: Cell[][] = [
  [true, 1, 42, 9007199254740993n, 1.5, 10.123456789012344, 'obs<1>&"x"', 'ABCD', 'Ωmega ☃', '10.5 -20.25', '1 2 3 4 5 6'],
  [false, -2, -2147483648, -5, -0.25, -0.000001, 'b', 'AB', 'plain', '0 0', '0 0 1 0 1 1'],
  [null, null, null, null, null, null, null, null, null, null, null],
  [1, 32767, 2147483647, 1234567890123, NaN, NaN, 'c d', 'ZZZZ', 'x', '1 2', '1 1 2 2 3 3'],
];

const expected: unknown[][] = [
  [true, 1, 42, 9007199254740992, 1.5, 10.123456789012344, 'obs<1>&"x"', 'ABCD', 'Ωmega ☃', [10.5, -20.25], [1, 2, 3, 4, 5, 6]],
  [false, -2, -2147483648, -5, -0.25, -0.000001, 'b', 'AB', 'plain', [0, 0], [0, 0, 1, 0, 1, 1]],
  [null, null, null, null, null, null, null, null, null, null, null],
  // astropy masks floating NaN (VOTable 1.4 §6: NaN is the floating-point null).
  [true, 32767, 2147483647, 1234567890123, null, null, 'c d', 'ZZZZ', 'x', [1, 2], [1, 1, 2, 2, 3, 3]],
];

describeWith('astropy', 'astropy reads what shared/votable writes', () => {
  describe.each(['votable', 'votable-binary2'] as const)('astropy reads %s', (format) => {
    let parsed: Parsed;
    beforeAll(async () => {
      const xml = await render(format, fields, rows, {
        overflow: true,
        info: { infos: [{ name: 'QUERY', value: 'SELECT * FROM ivoa.obscore', content: 'SELECT * FROM ivoa.obscore' }] },
      });
      expect(xml.includes('<BINARY2>')).toBe(format === 'votable-binary2');
      parsed = astropy(xml);
    });

    it('parses with verify=exception and keeps the metadata', () => {
      expect(parsed.version).toBe('1.4');
      expect(parsed.resourceType).toBe('results');
      expect(parsed.infos).toEqual([
        ['QUERY_STATUS', 'OK'],
        ['QUERY', 'SELECT * FROM ivoa.obscore'],
        ['QUERY_STATUS', 'OVERFLOW'],
      ]);
      expect(parsed.fields.map((f) => [f[0], f[1], f[2]])).toEqual(fields.map((f) => [f.name, f.datatype, f.arraysize ?? null]));
      expect(parsed.fields[5]).toEqual(['s_ra', 'double', null, 'deg', 'pos.eq.ra;meta.main', null]);
      expect(parsed.fields[9]![5]).toBe('point');
    });

    it('round-trips every value, nulls masked', () => {
      const got = parsed.rows.map((r) => r.slice());
      const want = expected.map((r) => r.slice());
      // astropy never masks char/unicodeChar (astropy issue 8995: it ignores the BINARY2 flag for
      // strings; TABLEDATA cannot tell "" from null anyway), so null strings read back as "".
      for (const i of [6, 7, 8]) want[2]![i] = '';
      // TABLEDATA: an empty variable-length array is the same text as null (VOTable 1.4 §6).
      if (format === 'votable') want[2]![10] = [];
      // Float values go through float32 in the 'f' column: compare approximately.
      for (let i = 0; i < got.length; i++) {
        const g = got[i]![4];
        const w = want[i]![4];
        if (typeof g === 'number' && typeof w === 'number') {
          expect(g).toBeCloseTo(w, 6);
          got[i]![4] = w;
        }
      }
      expect(got).toEqual(want);
    });
  });

  it('astropy reads a BINARY2 table spanning many base64 chunks (remainder carried across rows)', async () => {
    const f: FieldDef[] = [
      { name: 'i', datatype: 'int' },
      { name: 's', datatype: 'char', arraysize: '*' },
    ];
    const many: Cell[][] = [];
    for (let i = 0; i < 5000; i++) many.push([i, i % 7 === 0 ? null : 'x'.repeat(i % 11)]);
    // A tiny chunk size forces thousands of chunk boundaries at every byte offset mod 3.
    const xml = await render('votable-binary2', f, many, { writer: { chunkSize: 7 } });
    const parsed = astropy(xml);
    expect(parsed.rows.length).toBe(5000);
    expect(parsed.rows[4999]).toEqual([4999, 'x'.repeat(4999 % 11)]);
    expect(parsed.rows[7]).toEqual([7, '']); // see astropy issue 8995 above
    expect(parsed.rows.every((r, i) => r[0] === i)).toBe(true);
  });
});
