/**
 * Bulk cutout batches over HTTP against a real stack on the demo repository: every row × band
 * has its manifest row with the right status; stamps equal astropy's Cutout2D of the source
 * image (pixels and WCS); the archive read back with Python's zipfile and tarfile; uploads as
 * CSV and VOTable; parameters refused at creation; DRYRUN; byte ranges; progress and partial
 * results while EXECUTING; ABORT keeping what was cut; pyvo 1.2.1 reading the job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/tools';
import { Client } from '../helpers/http';
import { runPython } from '../helpers/python';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { coadds, datasetOf, insideEdgeOutside, manifestOf, manifestRecords, positionsInside, skyAt, TARGET, until } from './helpers';

let fx: TapFixture;
let client: Client;
let scratch: string;

beforeAll(async () => {
  fx = await startTapStack({
    workers: 1,
    env: { BULK_PART_STAMPS: '4', BULK_PART_CONCURRENCY: '1', BULK_MAX_ROWS: '2000', BULK_MAX_POSITIONS: '50' },
  });
  client = new Client(fx.stack.url);
  scratch = fs.mkdtempSync(path.join(fx.stack.dir, 'bulk-'));
}, 60000);
afterAll(() => fx?.close());

function multipart(params: Array<[string, string]>, files: Record<string, { text: string; type: string }>): FormData {
  const body = new FormData();
  for (const [k, v] of params) body.append(k, v);
  for (const [k, { text, type }] of Object.entries(files)) body.append(k, new Blob([text], { type }), `${k}.dat`);
  return body;
}

async function createWithUpload(params: Array<[string, string]>, files: Record<string, { text: string; type: string }>): Promise<string> {
  const reply = await client.request('POST', '/api/bulk/async', multipart(params, files));
  if (reply.status !== 303 || !reply.location) throw new Error(`create answered ${reply.status}: ${reply.text}`);
  return reply.location;
}

async function download(url: string, file: string): Promise<Buffer> {
  const reply = await fetch(url);
  expect(reply.status).toBe(200);
  const bytes = Buffer.from(await reply.arrayBuffer());
  fs.writeFileSync(file, bytes);
  return bytes;
}

/** Reads an archive with Python and compares each stamp with Cutout2D of its source image. */
const CHECK_ARCHIVE = String.raw`
import io, json, sys, tarfile, zipfile, warnings
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

spec = json.load(open(sys.argv[1]))
out = {'stamps': {}}
if spec['format'] == 'zip':
    archive = zipfile.ZipFile(spec['archive'])
    out['bad'] = archive.testzip()
    out['names'] = archive.namelist()
    read = lambda name: archive.read(name)
else:
    archive = tarfile.open(spec['archive'])
    out['names'] = archive.getnames()
    read = lambda name: archive.extractfile(name).read()
out['manifestCsv'] = read('manifest.csv').decode('utf-8')
for row in spec['rows']:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        stamp = fits.open(io.BytesIO(read(row['member'])))
        stamp.verify('exception')
        result = {'names': [h.name for h in stamp], 'bulkId': stamp[0].header.get('BULK_ID'), 'planes': {}}
        with fits.open(row['source']) as src:
            for name in row['planes']:
                data = src[name].data
                wcs = WCS(src[name].header)
                fill = np.nan if data.dtype.kind == 'f' else 2 ** src[name].header.get('MP_NO_DATA', 8)
                mode = 'trim' if row['edge'] == 'clip' else 'partial'
                cut = Cutout2D(data, SkyCoord(row['ra'] * u.deg, row['dec'] * u.deg), size=row['size'], wcs=wcs,
                               mode=mode, fill_value=fill, copy=True)
                mine = stamp[name].data
                sw = WCS(stamp[name].header)
                ny, nx = mine.shape
                pixels = np.array([[0, 0], [nx - 1, ny - 1], [nx / 3, ny / 2]], dtype=float)
                result['planes'][name] = {
                    'shape': list(mine.shape),
                    'cutoutShape': list(cut.data.shape),
                    'sameData': bool(mine.shape == cut.data.shape and np.array_equal(mine, cut.data, equal_nan=mine.dtype.kind == 'f')),
                    'maxSkyDiff': float(np.max(np.abs(sw.all_pix2world(pixels, 0) - cut.wcs.all_pix2world(pixels, 0)))),
                }
        stamp.close()
    result['warnings'] = [str(w.message) for w in caught]
    out['stamps'][row['member']] = result
json.dump(out, sys.stdout)
`;

interface ArchiveCheck {
  bad?: string | null;
  names: string[];
  manifestCsv: string;
  stamps: Record<
    string,
    {
      names: string[];
      bulkId: string;
      planes: Record<string, { shape: number[]; cutoutShape: number[]; sameData: boolean; maxSkyDiff: number }>;
      warnings: string[];
    }
  >;
}

async function checkArchive(
  archive: string,
  format: 'zip' | 'tar',
  rows: readonly Record<string, string>[],
  options: { planes: string[]; edge: 'pad' | 'clip'; size: number },
): Promise<ArchiveCheck> {
  const spec = {
    archive,
    format,
    rows: rows
      .filter((r) => r.member)
      .map((r) => ({
        member: r.member,
        ra: Number(r.ra),
        dec: Number(r.dec),
        source: datasetOf(fx.datasets, r.obs_publisher_did!).path,
        planes: options.planes,
        edge: options.edge,
        size: options.size,
      })),
  };
  const specFile = path.join(scratch, `spec-${Date.now()}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  return JSON.parse(await runPython(CHECK_ARCHIVE, [specFile], 120000)) as ArchiveCheck;
}

describe('creation', () => {
  test('the VOSI resources: capabilities publish the parameters and limits, availability says available', async () => {
    const caps = await client.get('/api/bulk/capabilities');
    expect(caps.status).toBe(200);
    expect(caps.text).toContain(`<accessURL use="full">${fx.stack.url}/api/bulk/async</accessURL>`);
    expect(caps.text).toContain('BULK_MAX_ROWS=2000, BULK_MAX_POSITIONS=50, BULK_MAX_STAMPS=1000000');
    expect(caps.text).toContain('<name>POSITION</name>');
    expect((await client.get('/api/bulk/availability')).text).toContain('<available>true</available>');
    const landing = await client.get('/');
    expect(landing.text).toContain('/api/bulk/async');
  });

  const refused: [string, Array<[string, string]>, number, RegExp][] = [
    ['no positions', [['SIZE', '32']], 400, /^UsageError: .*(POSITION|UPLOAD)/],
    [
      'an unknown parameter',
      [
        ['POSITION', '1 2'],
        ['SIZZE', '3'],
      ],
      400,
      /SIZZE/,
    ],
    [
      'a bad SIZE',
      [
        ['POSITION', '1 2'],
        ['SIZE', '-3'],
      ],
      400,
      /SIZE/,
    ],
    [
      'a bad band',
      [
        ['POSITION', '1 2'],
        ['BAND', 'q'],
      ],
      400,
      /BAND/,
    ],
    ['a position off the sky', [['POSITION', '1 95']], 400, /POSITION/],
    [
      'both UPLOAD and POSITION',
      [
        ['POSITION', '1 2'],
        ['UPLOAD', 'positions,https://example.org/t.csv'],
      ],
      400,
      /UPLOAD|POSITION/,
    ],
    ['more POSITIONs than BULK_MAX_POSITIONS', Array.from({ length: 51 }, (): [string, string] => ['POSITION', '1 2']), 400, /50/],
    [
      'more than 32 different BANDs',
      [['POSITION', '1 2'], ...Array.from({ length: 33 }, (_, i): [string, string] => ['BAND', `${(400 + i) * 1e-9} ${(401 + i) * 1e-9}`])],
      400,
      /BAND is given 33 different values; a batch takes at most 32/,
    ],
    ['a missing upload part', [['UPLOAD', 'positions,param:absent']], 400, /UPLOAD names param:absent, but no file part/],
  ];
  test.each(refused)('%s: refused at creation, with a message naming it', async (_name, params, status, message) => {
    const reply = await client.post('/api/bulk/async', params);
    expect(reply.status).toBe(status);
    expect(reply.text).toMatch(message);
  });

  test('a table without usable ra/dec columns is a 400 naming them; more rows than BULK_MAX_ROWS is a 413', async () => {
    const noColumns = await client.request(
      'POST',
      '/api/bulk/async',
      multipart([['UPLOAD', 'positions,param:t']], { t: { text: 'name,x,y\na,1,2\n', type: 'text/csv' } }),
    );
    expect(noColumns.status).toBe(400);
    expect(noColumns.text).toMatch(/^UsageError: .*\bra\b.*/);
    const rows = ['ra,dec', ...Array.from({ length: 2001 }, () => '55.7,-32.3')].join('\n');
    const tooMany = await client.request(
      'POST',
      '/api/bulk/async',
      multipart([['UPLOAD', 'positions,param:t']], { t: { text: rows, type: 'text/csv' } }),
    );
    expect(tooMany.status).toBe(413);
    expect(tooMany.text).toContain('2000');
  });

  test('a table by URL is read by the worker: a refused address ends the job in ERROR with the reason', async () => {
    const job = await client.create('bulk', [
      ['UPLOAD', 'positions,http://127.0.0.1:1/positions.csv'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job)).toBe('ERROR');
    const error = await client.get(`${job}/error`);
    expect(error.text).toMatch(/^UsageError: UPLOAD positions: /);
  });
});

describe('a batch of POSITIONs: inside, on an edge and outside the coverage', () => {
  let job: string;
  let rows: Record<string, string>[];
  let edge: { ra: number; dec: number };

  beforeAll(async () => {
    const three = insideEdgeOutside(fx.datasets);
    edge = three.edge;
    job = await client.create('bulk', [...three.positions, ['BAND', 'g'], ['BAND', 'r'], ['PHASE', 'RUN']]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    rows = await manifestOf(client, job);
  }, 90000);

  test('one manifest row per position × band, in input order, each with its status', () => {
    expect(rows.map((r) => [r.row, r.id, r.band, r.status])).toEqual([
      ['1', '1', 'g', 'ok'],
      ['1', '1', 'r', 'ok'],
      ['2', '2', 'g', 'partial'],
      ['2', '2', 'r', 'partial'],
      ['3', '3', 'g', 'no_coverage'],
      ['3', '3', 'r', 'no_coverage'],
    ]);
    expect(rows[2]!.message).toMatch(/padded to full size \(EDGE=pad\)/);
    expect(rows[4]!.message).toBe('no lsst.deepCoadd_calexp image in band g covers the position');
    for (const r of rows.slice(0, 4)) {
      expect([r.nx, r.ny, r.dataproduct_subtype]).toEqual(['64', '64', 'lsst.deepCoadd_calexp']);
      expect(r.url).toMatch(new RegExp(`^${job}/results/stamp-\\d+$`));
      expect(Number(r.bytes) % 2880).toBe(0); // whole FITS blocks; equal to the stamp's own result below
    }
    expect(rows.slice(0, 4).map((r) => r.member)).toEqual(['stamps/1_g.fits', 'stamps/1_r.fits', 'stamps/2_g.fits', 'stamps/2_r.fits']);
    expect(rows.slice(4).every((r) => r.member === '' && r.url === '' && r.obs_publisher_did === '')).toBe(true);
    // No PREVIEW, no RGB: the picture columns are there, empty.
    expect(rows.every((r) => r.preview === '' && r.rgb === '')).toBe(true);
  });

  test('the job lists the manifest, the archive, each part archive and each stamp; progress is complete', async () => {
    const xml = (await client.get(job)).text;
    const ids = [...xml.matchAll(/<uws:result id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.slice(0, 2)).toEqual(['manifest', 'archive']);
    expect(ids.filter((id) => id!.startsWith('stamp-')).sort()).toEqual(['stamp-1', 'stamp-2', 'stamp-3', 'stamp-4']);
    expect(ids.filter((id) => id!.startsWith('part-')).length).toBe(3); // 4 stamps, BULK_PART_STAMPS=4: parts of 1, 1 and 2 (the first ones smaller)
    expect(ids.filter((id) => /^(preview|rgb)-/.test(id!))).toEqual([]);
    expect(xml).toMatch(
      /<uws:jobInfo><progress><percentComplete>100<\/percentComplete><itemsProcessed>4<\/itemsProcessed><totalItems>4<\/totalItems><message>3 rows: 4 stamps from \d images in 3 parts<\/message><itemsOk>4<\/itemsOk><itemsFailed>0<\/itemsFailed><bytes>103680<\/bytes><\/progress><\/uws:jobInfo><\/uws:job>$/,
    );
  });

  test('the archive: every stamp and manifest.csv, CRCs right, each stamp equal to astropy Cutout2D (pixels and WCS)', async () => {
    const file = path.join(scratch, 'positions.zip');
    await download(`${job}/results/archive`, file);
    const check = await checkArchive(file, 'zip', rows, { planes: ['IMAGE'], edge: 'pad', size: 64 });
    expect(check.bad).toBeNull();
    // The stamps in the order they lie in the packs (by image and pixel row), then manifest.csv.
    expect(check.names.slice(0, -1).sort()).toEqual(['stamps/1_g.fits', 'stamps/1_r.fits', 'stamps/2_g.fits', 'stamps/2_r.fits']);
    expect(check.names.at(-1)).toBe('manifest.csv');
    const csv = check.manifestCsv.trimEnd().split('\r\n');
    expect(csv[0]).toBe(
      'row,id,ra,dec,band,status,message,obs_publisher_did,dataproduct_subtype,t_min,x0,y0,nx,ny,member,preview,rgb,url,bytes',
    );
    expect(csv.length).toBe(1 + rows.length);
    for (const [member, stamp] of Object.entries(check.stamps)) {
      expect([member, stamp.names, stamp.warnings]).toEqual([member, ['PRIMARY', 'IMAGE'], []]);
      expect([member, stamp.planes.IMAGE!.sameData, stamp.planes.IMAGE!.shape]).toEqual([member, true, [64, 64]]);
      expect(stamp.planes.IMAGE!.maxSkyDiff).toBeLessThan(1e-9);
    }
    // The edge stamps are padded: their lower rows are NaN in both.
    expect(Object.keys(check.stamps)).toHaveLength(4);
  }, 120000);

  test('each stamp is a result of its own, byte for byte the archive member', async () => {
    const archive = fs.readFileSync(path.join(scratch, 'positions.zip'));
    const stamp = Buffer.from(await (await fetch(rows[0]!.url!)).arrayBuffer());
    expect(stamp.length).toBe(Number(rows[0]!.bytes));
    expect(archive.includes(stamp)).toBe(true);
    expect(stamp.subarray(0, 30).toString('latin1')).toBe('SIMPLE  =                    T');
  });

  test('byte ranges of the archive: 206 with the same bytes, a suffix, 416 past the end', async () => {
    const whole = fs.readFileSync(path.join(scratch, 'positions.zip'));
    const part = await fetch(`${job}/results/archive`, { headers: { Range: 'bytes=100-4099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-4099/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100, 4100))).toBe(true);
    const tail = await fetch(`${job}/results/archive`, { headers: { Range: 'bytes=-22' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 22))).toBe(true);
    const past = await fetch(`${job}/results/archive`, { headers: { Range: `bytes=${whole.length}-` } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${whole.length}`]);
  });

  test('the archive is served from the layout the finish step kept, and laid out again without it: the same bytes', async () => {
    const whole = fs.readFileSync(path.join(scratch, 'positions.zip'));
    const kept = path.join(fx.stack.dir, 'results', path.basename(job), 'results', '1', 'archive.layout');
    expect(fs.readFileSync(kept).subarray(0, 10).toString('latin1')).toBe('VOLAYOUT1\n');
    const range = async () =>
      Buffer.from(await (await fetch(`${job}/results/archive`, { headers: { Range: 'bytes=5000-70000' } })).arrayBuffer());
    expect((await range()).equals(whole.subarray(5000, 70001))).toBe(true);
    fs.renameSync(kept, `${kept}.aside`);
    try {
      expect((await range()).equals(whole.subarray(5000, 70001))).toBe(true);
    } finally {
      fs.renameSync(`${kept}.aside`, kept);
    }
  });

  test('DRYRUN: the same boxes and sizes, nothing cut, no archive', async () => {
    const dry = await client.create('bulk', [
      ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
      ['POSITION', `${edge.ra} ${edge.dec}`],
      ['POSITION', '10 10'],
      ['BAND', 'g'],
      ['BAND', 'r'],
      ['DRYRUN', 'true'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(dry)).toBe('COMPLETED');
    const planned = await manifestOf(client, dry);
    const key = (r: Record<string, string>) => [r.row, r.band, r.status, r.obs_publisher_did, r.x0, r.y0, r.nx, r.ny, r.bytes];
    expect(planned.map(key)).toEqual(rows.map(key));
    expect(planned.every((r) => r.member === '' && r.url === '')).toBe(true);
    const ids = [...(await client.get(dry)).text.matchAll(/<uws:result id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['manifest']);
  });
});

describe('uploaded tables', () => {
  test('CSV with ids, per-row sizes and bad rows; PLANES=IMAGE,MASK, EDGE=clip, PACKAGE=tar', async () => {
    const image = coadds(fx.datasets, 'r')[0]!;
    const edge = skyAt(image, image.width / 2, 2);
    const csv = [
      'objectId,RA,Dec,size',
      `a/b c,${TARGET.ra},${TARGET.dec},32`,
      `../../etc/passwd,${edge.ra},${edge.dec},`,
      'bad-ra,abc,-32.3,',
      'bad-dec,55.7,95,',
    ].join('\n');
    const job = await createWithUpload(
      [
        ['UPLOAD', 'positions,param:targets'],
        ['ID_COL', 'objectId'],
        ['BAND', 'r'],
        ['PLANES', 'IMAGE,MASK'],
        ['EDGE', 'clip'],
        ['PACKAGE', 'tar'],
        ['PHASE', 'RUN'],
      ],
      { targets: { text: csv, type: 'text/csv' } },
    );
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const rows = await manifestOf(client, job);
    expect(rows.map((r) => [r.row, r.id, r.status])).toEqual([
      ['1', 'a/b c', 'ok'],
      ['2', '../../etc/passwd', 'partial'],
      ['3', 'bad-ra', 'invalid'],
      ['4', 'bad-dec', 'invalid'],
    ]);
    expect(rows[0]!.nx).toBe('32'); // the row's size overrides the job's 64
    expect(Number(rows[1]!.ny)).toBeLessThan(64); // clipped at the image edge
    expect(rows[2]!.message).toMatch(/ra/i);
    for (const r of rows.slice(0, 2)) expect(r.member).toMatch(/^stamps\/[A-Za-z0-9._-]+_r\.fits$/);
    // Safe whatever the id holds: one directory level, no '..' segment.
    expect(rows[1]!.member!.split('/').length).toBe(2);
    expect(rows[1]!.member!.split('/')).not.toContain('..');
    const file = path.join(scratch, 'upload.tar');
    await download(`${job}/results/archive`, file);
    const check = await checkArchive(file, 'tar', rows.slice(0, 1), { planes: ['IMAGE', 'MASK'], edge: 'clip', size: 32 });
    expect([...check.names.slice(0, -1)].sort()).toEqual([rows[0]!.member, rows[1]!.member].sort());
    expect(check.names.at(-1)).toBe('manifest.csv');
    const stamp = check.stamps[rows[0]!.member!]!;
    expect(stamp.names).toEqual(['PRIMARY', 'IMAGE', 'MASK']);
    expect(stamp.bulkId).toBe('a/b c');
    for (const plane of ['IMAGE', 'MASK']) {
      expect([plane, stamp.planes[plane]!.sameData, stamp.planes[plane]!.shape]).toEqual([plane, true, [32, 32]]);
    }
  }, 120000);

  test('VOTable found by UCD, MATCH=all over calexp visits: one row per image, numbered members, by time', async () => {
    const votable = `<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="alpha" datatype="double" ucd="pos.eq.ra;meta.main"/><FIELD name="delta" datatype="double" ucd="pos.eq.dec;meta.main"/>
<FIELD name="id" datatype="char" arraysize="*"/>
<DATA><TABLEDATA><TR><TD>${TARGET.ra}</TD><TD>${TARGET.dec}</TD><TD>cluster</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>`;
    const job = await createWithUpload(
      [
        ['UPLOAD', 'positions,param:t'],
        ['DPSUBTYPE', 'lsst.calexp'],
        ['MATCH', 'all'],
        ['BAND', 'i'],
        ['SIZE', '20'],
        ['SIZE_UNIT', 'arcsec'],
        ['PHASE', 'RUN'],
      ],
      { t: { text: votable, type: 'application/x-votable+xml' } },
    );
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const rows = await manifestOf(client, job);
    const visits = fx.datasets.filter((d) => d.datasetType === 'calexp' && d.band === 'i');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(visits.length);
    expect(rows.every((r) => r.status === 'ok' && r.dataproduct_subtype === 'lsst.calexp' && r.id === 'cluster')).toBe(true);
    const times = rows.map((r) => Number(r.t_min));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(rows.map((r) => r.member)).toEqual(rows.map((_r, n) => `stamps/cluster_i_${n}.fits`));
    // 20 arcsec at the demo's 0.2"/pixel × binning 8 = 1.6"/pixel: round(12.5) = 12 pixels.
    expect(rows.every((r) => r.nx === '12' && r.ny === '12')).toBe(true);
  }, 60000);
});

/** Parses a job document with the vendored current pyvo (argv: its directory, the document). */
const PARSE_WITH_CURRENT_PYVO = String.raw`
import sys, json, warnings
sys.path.insert(0, sys.argv[1])
from pyvo_current.io.uws import parse_job
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    job = parse_job(sys.argv[2])
p = job.jobinfo['progress']
print(json.dumps({'phase': job.phase, 'keys': p.keys(), 'done': p['itemsProcessed'].value, 'total': p['totalItems'].value,
                  'warnings': [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]}))
`;

describeWith('astropy', 'progress, partial results and ABORT', () => {
  test('a long batch shows progress and its finished parts while EXECUTING; ABORT keeps them', async () => {
    const positions = positionsInside(fx.datasets, 400);
    const csv = ['ra,dec', ...positions.map((p) => `${p.ra},${p.dec}`)].join('\n');
    const job = await createWithUpload(
      [
        ['UPLOAD', 'positions,param:t'],
        ['SIZE', '16'],
        ['PHASE', 'RUN'],
      ],
      { t: { text: csv, type: 'text/csv' } },
    );
    // Parts of 4 stamps, one at a time: the batch takes a while; watch it run.
    let seenXml = '';
    const seen = await until(async () => {
      const xml = (await client.get(job)).text;
      const stamps = [...xml.matchAll(/<uws:result id="stamp-/g)].length;
      return xml.includes('<uws:phase>EXECUTING</uws:phase>') && stamps > 0 ? { xml, stamps } : undefined;
    });
    seenXml = path.join(scratch, 'running-job.xml');
    fs.writeFileSync(seenXml, seen.xml);
    const done = Number(/<itemsProcessed>(\d+)<\/itemsProcessed>/.exec(seen.xml)?.[1]);
    const total = Number(/<totalItems>(\d+)<\/totalItems>/.exec(seen.xml)?.[1]);
    expect(total).toBe(400 * 6);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(total);
    expect(seen.xml).toMatch(/<percentComplete>[\d.]+<\/percentComplete>/);
    expect(seen.xml).toMatch(/<estimatedEnd>\d{4}-\d\d-\d\dT[\d:.]+Z<\/estimatedEnd>/);
    // A current pyvo (its UWS parser, vendored in test/fixtures/pyvo-current) reads the progress.
    const parsed = JSON.parse(
      await runPython(PARSE_WITH_CURRENT_PYVO, [path.join(__dirname, '..', 'fixtures', 'pyvo-current'), seenXml], 60000),
    ) as { phase: string; keys: string[]; done: number; total: number; warnings: string[] };
    expect(parsed).toEqual({
      phase: 'EXECUTING',
      keys: ['percentComplete', 'itemsProcessed', 'totalItems', 'message', 'itemsOk', 'itemsFailed', 'bytes', 'estimatedEnd'],
      done,
      total,
      warnings: [],
    });
    // The manifest is readable while the job runs: rows of parts not done yet are not_run, pending.
    const running = await manifestOf(client, job);
    expect(running.length).toBe(total);
    expect(running.some((r) => r.status === 'ok')).toBe(true);
    expect(running.some((r) => r.status === 'not_run' && r.message!.startsWith('pending'))).toBe(true);
    // A part's archive can be downloaded while the job runs.
    const part = await fetch(`${job}/results/part-1`);
    expect([part.status, part.headers.get('content-type')]).toEqual([200, 'application/zip']);
    expect((await part.arrayBuffer()).byteLength).toBeGreaterThan(0);

    expect((await client.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
    expect(await client.settle(job)).toBe('ABORTED');
    const after = (await client.get(job)).text;
    const kept = [...after.matchAll(/<uws:result id="(stamp-\d+)"/g)].map((m) => m[1]!);
    expect(kept.length).toBeGreaterThanOrEqual(seen.stamps);
    expect(kept.length).toBeLessThan(total);
    const stamp = await fetch(`${job}/results/${kept[0]}`);
    expect([stamp.status, stamp.headers.get('content-type')]).toEqual([200, 'application/fits']);
    // A part that was finishing when the job was aborted removes its outcomes (they were not
    // recorded): the manifest then agrees with the result list.
    const final = await until(async () => {
      const rows = await manifestOf(client, job);
      return rows.filter((r) => r.status === 'ok').length === kept.length ? rows : undefined;
    }, 5000);
    expect(final.filter((r) => r.status === 'not_run').every((r) => r.message === 'not cut: the job ended ABORTED first')).toBe(true);
    // No part runs on after the abort: the list stays as it is.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const later = [...(await client.get(job)).text.matchAll(/<uws:result id="stamp-/g)].length;
    expect(later).toBe(kept.length);
  }, 90000);
});

describeWith('pyvo', 'pyvo 1.2.1 reads a bulk job', () => {
  test('parse_job reads a job document with jobInfo progress; AsyncTAPJob runs and waits on the job URL', async () => {
    const job = await client.create('bulk', [
      ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
      ['BAND', 'g'],
    ]);
    const out = await runPython(
      String.raw`
import sys, io, json, warnings, requests
import pyvo
from pyvo.io.uws import parse_job
from pyvo.dal.tap import AsyncTAPJob
url = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    job = AsyncTAPJob(url)
    job.run()
    job.wait(timeout=60)
    parsed = parse_job(io.BytesIO(requests.get(url).content))
print(json.dumps({'version': pyvo.__version__, 'phase': job.phase, 'parsedPhase': parsed.phase,
                  'results': [r.id_ for r in parsed.results],
                  # Libraries' own deprecation notices (e.g. distutils, once per process) say nothing of the document.
                  'warnings': [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]}))
`,
      [job],
    );
    const parsed = JSON.parse(out) as { version: string; phase: string; parsedPhase: string; results: string[]; warnings: string[] };
    expect([parsed.phase, parsed.parsedPhase]).toEqual(['COMPLETED', 'COMPLETED']);
    expect(parsed.results.slice(0, 3)).toEqual(['manifest', 'archive', 'part-1']);
    // pyvo 1.2.1 does not know uws:jobInfo: it warns about each element of the progress and goes on.
    expect(parsed.warnings.length).toBeGreaterThan(0);
    for (const warning of parsed.warnings) {
      expect(warning).toMatch(
        /^None:1:\d+: UnknownElementWarning: Unknown element (jobInfo|progress|percentComplete|itemsProcessed|totalItems|message|itemsOk|itemsFailed|bytes|estimatedEnd)$/,
      );
    }
    expect((await client.get(job)).text).toContain('<uws:jobInfo><progress>');
  }, 90000);
});

describeWith(['pyvo', 'astropy'], "the README's Python example", () => {
  test('runs as written against the service: manifest read with astropy, a stamp opened from the archive', async () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /\*\*From Python\*\*[^\n]*\n\n```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = fs.mkdtempSync(path.join(scratch, 'readme-'));
    fs.writeFileSync(path.join(dir, 'targets.csv'), `id,ra,dec\ncluster,${TARGET.ra},${TARGET.dec}\nfar,10,10\n`);
    const script = `import os\nos.chdir(${JSON.stringify(dir)})\n${block!.replace('http://127.0.0.1:8080', fx.stack.url)}\nprint('STAMP', stamp[1].data.shape, len(manifest), row['id'])\n`;
    const out = await runPython(script, [], 90000);
    expect(out).toMatch(/STAMP \(64, 64\) 4 cluster\s*$/);
  }, 120000);
});

test('manifestRecords reads null cells as empty text', () => {
  expect(manifestRecords('<FIELD name="a" datatype="int"/><FIELD name="b" datatype="char"/><TR><TD>1</TD><TD/></TR>')).toEqual([
    { a: '1', b: '' },
  ]);
});
