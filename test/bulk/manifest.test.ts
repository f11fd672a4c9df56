/**
 * The bulk manifest: the CSV text exactly; the VOTable as astropy reads it (columns, datatypes,
 * units, UCDs, nulls, values); rows from an async source through a slow stream; member names
 * unique regardless of case, and safe as archive member names.
 */
import { writeFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { checkMemberName } from '../../shared/archive';
import {
  MANIFEST_FIELDS,
  MANIFEST_STATUSES,
  MemberNamer,
  manifestCells,
  memberName,
  previewMemberName,
  rgbMemberName,
  writeManifestCsv,
  writeManifestVotable,
  writeManifests,
  type ManifestRow,
} from '../../shared/bulk/manifest';
import { safeMemberStem } from '../../shared/bulk/positions';
import { describeWith } from '../helpers/tools';
import { runPython, tempDir } from '../soda/helpers';

const ROWS: ManifestRow[] = [
  {
    row: 1,
    id: 'NGC 1275',
    ra: 49.9506671,
    dec: 41.5116943,
    band: 'i',
    status: 'ok',
    obsPublisherDid: 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c',
    dataproductSubtype: 'lsst.deepCoadd_calexp',
    tMin: 59853.0164,
    x0: 1200,
    y0: -3,
    nx: 64,
    ny: 64,
    member: 'stamps/NGC_1275__0123456789ab_i.fits',
    preview: 'previews/NGC_1275__0123456789ab_i.png',
    rgb: 'previews/NGC_1275__0123456789ab_rgb.png',
    url: 'https://example.org/bulk/jobs/abc/results/stamp-1',
    bytes: 40320,
  },
  {
    row: 2,
    id: 'a "quoted", <odd> & id',
    ra: 10,
    dec: -0.5,
    band: '550e-9_700e-9',
    status: 'partial',
    message: 'the box runs off the image: padded with NaN',
    obsPublisherDid: 'butler://dp02/x',
    dataproductSubtype: 'lsst.calexp',
    tMin: 60000.5,
    x0: -10,
    y0: 0,
    nx: 64,
    ny: 64,
    member: 'stamps/x_550e-9_700e-9.fits',
    url: null,
    bytes: 2 ** 40,
  },
  { row: 3, id: '3', ra: 12.5, dec: 89.9, band: 'u', status: 'no_coverage', message: 'no lsst.deepCoadd_calexp image in band u covers it' },
  { row: 4, id: '4', ra: NaN, dec: NaN, status: 'invalid', message: 'ra is empty; dec "abc" is not a number', band: '' },
  { row: 5, id: 'five', ra: 1, dec: 2, band: 'g', status: 'not_run', message: '' },
];

/** Collects what is written, optionally pausing (highWaterMark 1: every write asks for a drain). */
function collector(slow = false): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: slow ? 1 : 16384,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      if (slow) setTimeout(done, 1);
      else done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('columns', () => {
  test('names, datatypes, units and UCDs in order', () => {
    expect(MANIFEST_FIELDS.map((f) => [f.name, f.datatype, f.unit ?? null, f.ucd])).toEqual([
      ['row', 'int', null, 'meta.record'],
      ['id', 'char', null, 'meta.id'],
      ['ra', 'double', 'deg', 'pos.eq.ra;meta.main'],
      ['dec', 'double', 'deg', 'pos.eq.dec;meta.main'],
      ['band', 'char', null, 'instr.bandpass'],
      ['status', 'char', null, 'meta.code.status'],
      ['message', 'char', null, 'meta.note'],
      ['obs_publisher_did', 'char', null, 'meta.ref.ivoid'],
      ['dataproduct_subtype', 'char', null, 'meta.code.class'],
      ['t_min', 'double', 'd', 'time.start;obs.exposure'],
      ['x0', 'int', 'pixel', 'pos.cartesian.x;instr.pixel'],
      ['y0', 'int', 'pixel', 'pos.cartesian.y;instr.pixel'],
      ['nx', 'int', 'pixel', 'meta.number;instr.pixel'],
      ['ny', 'int', 'pixel', 'meta.number;instr.pixel'],
      ['member', 'char', null, 'meta.ref;meta.file'],
      ['preview', 'char', null, 'meta.ref;meta.file'],
      ['rgb', 'char', null, 'meta.ref;meta.file'],
      ['url', 'char', null, 'meta.ref.url'],
      ['bytes', 'long', 'byte', 'phys.size;meta.file'],
    ]);
    expect(MANIFEST_FIELDS.every((f) => f.description)).toBe(true);
    expect(MANIFEST_STATUSES).toEqual(['ok', 'partial', 'no_coverage', 'invalid', 'too_large', 'error', 'not_run']);
  });

  test('cells: absent, null, NaN and empty text are null', () => {
    expect(manifestCells(ROWS[3]!)).toEqual([
      4,
      '4',
      null,
      null,
      null,
      'invalid',
      'ra is empty; dec "abc" is not a number',
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('CSV', () => {
  test('the exact text: a header line, RFC 4180 quoting, CRLF, nulls empty', async () => {
    const out = collector();
    await writeManifestCsv(ROWS, out.stream);
    expect(out.text()).toBe(
      [
        'row,id,ra,dec,band,status,message,obs_publisher_did,dataproduct_subtype,t_min,x0,y0,nx,ny,member,preview,rgb,url,bytes',
        '1,NGC 1275,49.9506671,41.5116943,i,ok,,butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c,lsst.deepCoadd_calexp,59853.0164,1200,-3,64,64,stamps/NGC_1275__0123456789ab_i.fits,previews/NGC_1275__0123456789ab_i.png,previews/NGC_1275__0123456789ab_rgb.png,https://example.org/bulk/jobs/abc/results/stamp-1,40320',
        '2,"a ""quoted"", <odd> & id",10,-0.5,550e-9_700e-9,partial,the box runs off the image: padded with NaN,butler://dp02/x,lsst.calexp,60000.5,-10,0,64,64,stamps/x_550e-9_700e-9.fits,,,,1099511627776',
        '3,3,12.5,89.9,u,no_coverage,no lsst.deepCoadd_calexp image in band u covers it,,,,,,,,,,,,',
        '4,4,,,,invalid,"ra is empty; dec ""abc"" is not a number",,,,,,,,,,,,',
        '5,five,1,2,g,not_run,,,,,,,,,,,,,',
        '',
      ].join('\r\n'),
    );
  });

  test('rows from an async source into a slow stream, which is not ended when endStream is false', async () => {
    async function* rows(): AsyncGenerator<ManifestRow> {
      for (let i = 1; i <= 300; i++) {
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        yield { row: i, id: String(i), ra: i / 10, dec: -i / 10, band: 'r', status: 'ok' };
      }
    }
    const out = collector(true);
    await writeManifestCsv(rows(), out.stream, { chunkSize: 256, endStream: false });
    expect(out.stream.writableEnded).toBe(false);
    const lines = out.text().split('\r\n');
    expect(lines).toHaveLength(302);
    expect(lines[300]).toBe('300,300,30,-30,r,ok,,,,,,,,,,,,,');
  });
});

describe('both formats in one pass (writeManifests)', () => {
  test('each is the bytes its own writer makes, in row order, with one of the two streams slow', async () => {
    const rows = Array.from({ length: 400 }, (_, i): ManifestRow => ({ ...ROWS[i % ROWS.length]!, row: i + 1 }));
    const votable = collector(true);
    const csv = collector();
    let passes = 0;
    function* once(): Generator<ManifestRow> {
      passes++;
      yield* rows;
    }
    await writeManifests(
      once(),
      [
        { format: 'votable', out: votable.stream },
        { format: 'csv', out: csv.stream },
      ],
      { chunkSize: 512 },
    );
    expect(passes).toBe(1);
    const alone = { votable: collector(), csv: collector() };
    await writeManifestVotable(rows, alone.votable.stream);
    await writeManifestCsv(rows, alone.csv.stream);
    expect(votable.text()).toBe(alone.votable.text());
    expect(csv.text()).toBe(alone.csv.text());
    expect(csv.text().split('\r\n')[400]).toMatch(/^400,five,1,2,g,not_run,/);
    expect(votable.text().match(/<TR>/g)).toHaveLength(400);
  });
});

describe('VOTable', () => {
  test('TABLEDATA: FIELDs with units and UCDs, a table named manifest, empty TDs for nulls, escaped text', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeManifestVotable(ROWS, out, { info: { infos: [{ name: 'job', value: 'abc' }] } });
    const xml = Buffer.concat(chunks).toString('utf8');
    expect(xml).toContain('<TABLE name="manifest">');
    expect(xml).toContain('<INFO name="job" value="abc"/>');
    expect(xml).toContain('<FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main">');
    expect(xml).toContain('<FIELD name="bytes" datatype="long" unit="byte" ucd="phys.size;meta.file">');
    expect(xml).toContain('<TD>a &quot;quoted&quot;, &lt;odd&gt; &amp; id</TD>');
    expect(xml).toContain('<TR><TD>4</TD><TD>4</TD><TD/><TD/><TD/><TD>invalid</TD>');
  });
});

describeWith('astropy', 'astropy reads the manifest VOTable', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => dir?.cleanup());

  test('columns, datatypes, units, UCDs, values and nulls (masked)', async () => {
    const out = collector();
    await writeManifestVotable(ROWS, out.stream);
    const path = dir.path('manifest.xml');
    writeFileSync(path, out.text());
    const script = String.raw`
import json, sys, warnings
import numpy as np
from astropy.io.votable import parse
from astropy.table import Table
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    path = json.load(sys.stdin)
    vot = parse(path, verify='warn')
    fields = [[f.name, f.datatype, f.unit.to_string('vounit') if f.unit is not None else None, f.ucd] for f in vot.get_first_table().fields]
    t = Table.read(path, format='votable')
    def cell(col, i):
        v = t[col][i]
        if np.ma.is_masked(v):
            return None
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, str) and v == '':
            return None  # VOTable 1.4 §6: an empty TD of char is null
        return v.item() if hasattr(v, 'item') else v
    rows = [[cell(c, i) for c in t.colnames] for i in range(len(t))]
json.dump({'fields': fields, 'rows': rows, 'warnings': [str(w.message) for w in caught]}, sys.stdout)
`;
    const view = runPython<{ fields: Array<[string, string, string | null, string]>; rows: unknown[][]; warnings: string[] }>(script, path);
    // meta.ref.ivoid (ObsCore 1.1's UCD of obs_publisher_did) joined UCD1+ after astropy 5.2's word list.
    expect(view.warnings.filter((w) => !/W06: Invalid UCD 'meta\.ref\.ivoid'/.test(w))).toEqual([]);
    expect(view.fields).toEqual(MANIFEST_FIELDS.map((f) => [f.name, f.datatype, f.unit ?? null, f.ucd]));
    expect(view.rows).toEqual(ROWS.map((r) => manifestCells(r).map((c) => (typeof c === 'number' && !Number.isFinite(c) ? null : c))));
  });
});

describe('member names', () => {
  test('memberName: stamps/<stem>_<band>[_<n>].fits', () => {
    expect(memberName('NGC_1275', 'i')).toBe('stamps/NGC_1275_i.fits');
    expect(memberName('17', '550e-9_700e-9', 2)).toBe('stamps/17_550e-9_700e-9_2.fits');
    expect(memberName('x', 'a/b')).toBe('stamps/x_a_b.fits');
  });

  test('MemberNamer: repeated ids get _<row>, then _<row>_<k>; unique regardless of case', () => {
    const namer = new MemberNamer();
    const names = [
      namer.name('star', 'g', 1),
      namer.name('star', 'r', 1),
      namer.name('star', 'g', 7), // the same id on another row
      namer.name('STAR', 'G', 9), // differs only in case
      namer.name('star', 'g', 7), // the same row and band again (a second image without n)
      namer.name('star_g', '7', 12), // would be stamps/star_g_7.fits, taken above
      namer.name('star', 'g', 3, 1), // MATCH=all: the first image
      namer.name('star', 'g', 3, 1),
    ];
    expect(names).toEqual([
      'stamps/star_g.fits',
      'stamps/star_r.fits',
      'stamps/star_g_7.fits',
      'stamps/STAR_G_9.fits',
      'stamps/star_g_7_2.fits',
      'stamps/star_g_7_12.fits',
      'stamps/star_g_1.fits',
      'stamps/star_g_1_3.fits',
    ]);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(namer.size).toBe(names.length);
    expect(namer.has('STAMPS/STAR_G.FITS')).toBe(true);
  });

  test('pictures: previews/<stamp file name>.png|jpg; composites previews/<stem>_rgb[_<row>[_<k>]].png|jpg', () => {
    expect(previewMemberName('stamps/NGC_1275_i.fits', 'png')).toBe('previews/NGC_1275_i.png');
    expect(previewMemberName('stamps/a.b_1234.5e-9_2000e-9_3.fits', 'jpeg')).toBe('previews/a.b_1234.5e-9_2000e-9_3.jpg');
    expect(rgbMemberName('NGC_1275', 'png')).toBe('previews/NGC_1275_rgb.png');
    expect(rgbMemberName('x', 'jpeg', '7_2')).toBe('previews/x_rgb_7_2.jpg');
    const namer = new MemberNamer();
    const names = [
      namer.name('star', 'g', 1),
      namer.rgb('star', 1, 'png'),
      namer.rgb('STAR', 2, 'png'), // another row, differing only in case
      namer.name('star', 'rgb', 3), // a stamp whose picture would be previews/star_rgb.png: renamed
      namer.rgb('star', 2, 'png'), // row 2 again (a composite never repeats, but the names stay unique)
    ];
    expect(names).toEqual([
      'stamps/star_g.fits',
      'previews/star_rgb.png',
      'previews/STAR_rgb_2.png',
      'stamps/star_rgb_3.fits',
      'previews/star_rgb_2_2.png',
    ]);
    // A picture shares its stamp's file name, so names unique as stamps are unique as pictures too.
    expect(namer.has('PREVIEWS/STAR_G.PNG')).toBe(true);
    expect(namer.has('stamps/star_rgb.fits')).toBe(true);
  });

  test('odd ids: safe stems, valid archive member names, all distinct', () => {
    const namer = new MemberNamer();
    const ids = ['../../etc/passwd', 'con', '.hidden', '', 'é', 'a b', 'a_b', 'x'.repeat(300), 'A', 'a', '-rf'];
    const names = ids.map((id, i) => namer.name(id, 'z', i + 1));
    for (const name of names) {
      expect(() => checkMemberName(name)).not.toThrow();
      expect(name).toMatch(/^stamps\/[A-Za-z0-9_][A-Za-z0-9._-]*\.fits$/);
      expect(name.length).toBeLessThan(130);
    }
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(ids.length);
    expect(names[1]).toBe(`stamps/${safeMemberStem('con')}_z.fits`);
    expect(names[9]).toBe('stamps/a_z_10.fits');
  });
});
