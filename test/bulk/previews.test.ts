/**
 * Pictures in bulk batches over HTTP against a real stack on the demo repository: PREVIEW=png
 * draws every stamp cut (ok and partial), as numpy/astropy would draw the stamp's IMAGE plane
 * (levels within ±1; padded NaN and NO_DATA pixels transparent); each picture is an archive
 * member (the archive read back with Python's zipfile, CRCs checked), a result of its own, and
 * the manifest's `preview`; RGB composites equal astropy's make_lupton_rgb of the row's three
 * stamps (±1) though the stamps were cut by different parts; PREVIEW=jpeg with PREVIEW_SIZE;
 * DRYRUN makes none; bad values are refused at creation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '../helpers/http';
import { describeWith } from '../helpers/tools';
import { runPython } from '../helpers/python';
import { encodeJpeg } from '../../shared/preview';
import { decodeJpeg, decodePng, pictureIndex, pythonReference, type DecodedPicture } from '../preview/helpers';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { insideEdgeOutside, manifestOf, TARGET } from './helpers';

let fx: TapFixture;
let client: Client;
let scratch: string;

beforeAll(async () => {
  // Parts of at most 2 stamps: a row's three bands are cut by different parts.
  fx = await startTapStack({ workers: 1, env: { BULK_PART_STAMPS: '2' } });
  client = new Client(fx.stack.url);
  scratch = fs.mkdtempSync(path.join(fx.stack.dir, 'previews-'));
}, 60000);
afterAll(() => fx?.close());

/** The result ids a job lists. */
async function resultIds(job: string): Promise<string[]> {
  return [...(await client.get(job)).text.matchAll(/<uws:result id="([^"]+)"/g)].map((m) => m[1]!);
}

/** Downloads the job's archive and unpacks it with Python (zipfile or tarfile): its member names, and whether the CRCs hold. */
async function unpack(job: string, format: 'zip' | 'tar'): Promise<{ dir: string; names: string[]; bad: string | null }> {
  const dir = fs.mkdtempSync(path.join(scratch, 'archive-'));
  const file = path.join(dir, `archive.${format}`);
  const reply = await fetch(`${job}/results/archive`);
  expect(reply.status).toBe(200);
  fs.writeFileSync(file, Buffer.from(await reply.arrayBuffer()));
  const out = await runPython(
    String.raw`
import json, sys, tarfile, zipfile
file, out = sys.argv[1], sys.argv[2]
if file.endswith('.zip'):
    archive = zipfile.ZipFile(file)
    bad, names = archive.testzip(), archive.namelist()
else:
    archive = tarfile.open(file)
    bad, names = None, archive.getnames()
archive.extractall(out + '/x')
print(json.dumps({'bad': bad, 'names': names}))
`,
    [file, dir],
  );
  return { dir: path.join(dir, 'x'), ...(JSON.parse(out) as { names: string[]; bad: string | null }) };
}

/**
 * numpy/astropy's levels of stamps' IMAGE planes (test/preview/helpers' reference pipeline):
 * each stamp read with astropy from the unpacked archive, its MASK's NO_DATA pixels (when it
 * has a MASK) made NaN, block-averaged to PREVIEW_SIZE when given.
 */
const LEVELS = String.raw`
from astropy.io import fits
RESULTS = []
for _, p in CASES:
    with fits.open(p['stamp']) as f:
        a = f['IMAGE'].data.astype(float)
        if 'MASK' in f:
            a[(f['MASK'].data & (1 << f['MASK'].header['MP_NO_DATA'])) != 0] = np.nan
    if p.get('maxSide'):
        a = downsample(a, p['maxSide'])
    lo, hi, lev = levels(a, p['cuts'], p['stretch'])
    RESULTS.append({'shape': list(a.shape), 'levels': lev.ravel().tolist()})
`;

/** astropy's make_lupton_rgb (astropy 5.2 defaults: minimum 0, stretch 5, Q 8) of three stamps' IMAGE planes. */
const LUPTON = String.raw`
from astropy.io import fits
RESULTS = []
for _, p in CASES:
    planes = []
    for stamp in p['stamps']:
        with fits.open(stamp) as f:
            a = f['IMAGE'].data.astype(np.float32)
            if 'MASK' in f:
                a[(f['MASK'].data & (1 << f['MASK'].header['MP_NO_DATA'])) != 0] = np.nan
            planes.append(a)
    valid = np.isfinite(planes[0]) & np.isfinite(planes[1]) & np.isfinite(planes[2])
    rgb = make_lupton_rgb(*[np.where(valid, a, 0).astype(np.float32) for a in planes])
    RESULTS.append({'shape': list(rgb.shape), 'rgb': rgb.ravel().tolist(), 'valid': valid.ravel().astype(int).tolist()})
`;

/**
 * Compares a gray picture with reference levels (−1: no data): the same size, pixels without
 * data transparent (PNG) or black (JPEG), the others within `tolerance` levels (JPEG: also
 * on average within `meanTolerance`). Returns how many pixels have no data.
 */
function expectLevels(
  picture: DecodedPicture,
  ref: { shape: number[]; levels: number[] },
  tolerance: number,
  meanTolerance = tolerance,
): number {
  const [height, width] = ref.shape as [number, number];
  expect([picture.width, picture.height]).toEqual([width, height]);
  let missing = 0;
  let worst = 0;
  let sum = 0;
  ref.levels.forEach((level, i) => {
    const o = 4 * pictureIndex(width, height, i);
    const [gray, alpha] = [picture.rgba[o]!, picture.rgba[o + 3]!];
    if (level < 0) {
      missing++;
      expect(picture.colorType < 0 ? gray : alpha).toBe(0);
      return;
    }
    expect(alpha).toBe(255);
    worst = Math.max(worst, Math.abs(gray - level));
    sum += Math.abs(gray - level);
  });
  expect(worst).toBeLessThanOrEqual(tolerance);
  expect(sum / Math.max(1, ref.levels.length - missing)).toBeLessThanOrEqual(meanTolerance);
  return missing;
}

describeWith('astropy', 'PREVIEW=png and RGB=i,r,g: inside, on an edge and outside the coverage', () => {
  let job: string;
  let rows: Record<string, string>[];
  let archive: Awaited<ReturnType<typeof unpack>>;

  beforeAll(async () => {
    job = await client.create('bulk', [
      ...insideEdgeOutside(fx.datasets).positions,
      ['BAND', 'g'],
      ['BAND', 'r'],
      ['BAND', 'i'],
      ['PLANES', 'IMAGE,MASK'],
      ['PREVIEW', 'png'],
      ['RGB', 'i,r,g'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    rows = await manifestOf(client, job);
    archive = await unpack(job, 'zip');
  }, 120000);

  test('the manifest: each stamp cut has its picture, each row of three stamps its composite; the others none', () => {
    expect(rows.map((r) => [r.id, r.band, r.status, r.member, r.preview, r.rgb])).toEqual([
      ['1', 'g', 'ok', 'stamps/1_g.fits', 'previews/1_g.png', 'previews/1_rgb.png'],
      ['1', 'r', 'ok', 'stamps/1_r.fits', 'previews/1_r.png', 'previews/1_rgb.png'],
      ['1', 'i', 'ok', 'stamps/1_i.fits', 'previews/1_i.png', 'previews/1_rgb.png'],
      ['2', 'g', 'partial', 'stamps/2_g.fits', 'previews/2_g.png', 'previews/2_rgb.png'],
      ['2', 'r', 'partial', 'stamps/2_r.fits', 'previews/2_r.png', 'previews/2_rgb.png'],
      ['2', 'i', 'partial', 'stamps/2_i.fits', 'previews/2_i.png', 'previews/2_rgb.png'],
      ['3', 'g', 'no_coverage', '', '', ''],
      ['3', 'r', 'no_coverage', '', '', ''],
      ['3', 'i', 'no_coverage', '', '', ''],
    ]);
    // A picture's message would say why it is missing: there is none to say.
    expect(rows.slice(0, 3).every((r) => r.message === '')).toBe(true);
    expect(rows[3]!.message).toMatch(/padded to full size \(EDGE=pad\)$/);
  });

  test('the archive: stamps each followed by its picture (in pack order), then the composites, then manifest.csv', () => {
    expect(archive.bad).toBeNull();
    const stamps = rows.filter((r) => r.member).map((r) => r.member);
    expect(archive.names.filter((n) => n.startsWith('stamps/')).sort()).toEqual([...stamps].sort());
    expect(archive.names.filter((n) => n.startsWith('previews/') && !n.includes('_rgb')).sort()).toEqual(
      rows
        .filter((r) => r.preview)
        .map((r) => r.preview)
        .sort(),
    );
    const pairs = archive.names.slice(0, 12);
    for (let k = 0; k < 12; k += 2) expect(pairs[k + 1]).toBe(pairs[k]!.replace(/^stamps\/(.*)\.fits$/, 'previews/$1.png'));
    expect(archive.names.slice(12)).toEqual(['previews/1_rgb.png', 'previews/2_rgb.png', 'manifest.csv']);
    const csv = fs.readFileSync(path.join(archive.dir, 'manifest.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe(
      'row,id,ra,dec,band,status,message,obs_publisher_did,dataproduct_subtype,t_min,x0,y0,nx,ny,member,preview,rgb,url,bytes',
    );
    expect(csv[1]).toContain(',stamps/1_g.fits,previews/1_g.png,previews/1_rgb.png,');
  });

  test('each picture is a result of its own (preview-<k>, rgb-<row>): image/png, the archive member byte for byte', async () => {
    const ids = await resultIds(job);
    expect(ids.filter((id) => id.startsWith('preview-'))).toEqual([
      'preview-1',
      'preview-2',
      'preview-3',
      'preview-4',
      'preview-5',
      'preview-6',
    ]);
    expect(ids.filter((id) => id.startsWith('rgb-'))).toEqual(['rgb-1', 'rgb-2']);
    for (const [id, member] of [
      ['preview-5', rows[4]!.preview!],
      ['rgb-2', 'previews/2_rgb.png'],
    ] as const) {
      const reply = await fetch(`${job}/results/${id}`);
      expect([id, reply.status, reply.headers.get('content-type')]).toEqual([id, 200, 'image/png']);
      expect(Buffer.from(await reply.arrayBuffer()).equals(fs.readFileSync(path.join(archive.dir, member)))).toBe(true);
    }
  });

  test("pictures: the stamp's size, levels as numpy/astropy draw its IMAGE plane (±1), padded pixels transparent", async () => {
    const cut = rows.filter((r) => r.preview);
    const refs = await pythonReference<{ shape: number[]; levels: number[] }>(
      LEVELS,
      cut.map((r) => ({
        arrays: {},
        params: { stamp: path.join(archive.dir, r.member!), cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 }, stretch: 'asinh' },
      })),
    );
    cut.forEach((r, k) => {
      const picture = decodePng(fs.readFileSync(path.join(archive.dir, r.preview!)));
      expect([r.preview, refs[k]!.shape]).toEqual([r.preview, [Number(r.ny), Number(r.nx)]]);
      const missing = expectLevels(picture, refs[k]!, 1);
      // The edge stamps are padded below the image: those rows have no data, and an alpha channel says so.
      if (r.status === 'partial') {
        expect(missing).toBeGreaterThanOrEqual(Number(r.nx) * 20);
        expect(picture.colorType).toBe(4);
      }
    });
  }, 60000);

  test("composites: astropy's make_lupton_rgb of the row's i, r, g stamps (±1), pixels without data transparent", async () => {
    const composites = [1, 2].map((row) => ({
      member: `previews/${row}_rgb.png`,
      stamps: ['i', 'r', 'g'].map((band) => path.join(archive.dir, rows.find((r) => r.row === String(row) && r.band === band)!.member!)),
    }));
    const refs = await pythonReference<{ shape: number[]; rgb: number[]; valid: number[] }>(
      LUPTON,
      composites.map((c) => ({ arrays: {}, params: { stamps: c.stamps } })),
    );
    composites.forEach((c, k) => {
      const ref = refs[k]!;
      const [height, width] = ref.shape as [number, number];
      const picture = decodePng(fs.readFileSync(path.join(archive.dir, c.member)));
      expect([c.member, picture.width, picture.height]).toEqual([c.member, width, height]);
      let worst = 0;
      let missing = 0;
      for (let i = 0; i < width * height; i++) {
        const o = 4 * pictureIndex(width, height, i);
        if (!ref.valid[i]) {
          missing++;
          expect(picture.rgba[o + 3]).toBe(0);
          continue;
        }
        expect(picture.rgba[o + 3]).toBe(255);
        for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(picture.rgba[o + ch]! - ref.rgb[3 * i + ch]!));
      }
      expect([c.member, worst <= 1]).toEqual([c.member, true]);
      if (k === 1) expect(missing).toBeGreaterThan(width * 20);
    });
  }, 60000);
});

describeWith('astropy', 'PREVIEW=jpeg with PREVIEW_SIZE and display parameters; PACKAGE=tar', () => {
  test('16×16 pictures (64 pixels in blocks of 4) as numpy/astropy draw the block means, image/jpeg results', async () => {
    const job = await client.create('bulk', [
      ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
      ['BAND', 'g'],
      ['BAND', 'r'],
      ['PREVIEW', 'image/jpeg'],
      ['PREVIEW_SIZE', '20'],
      ['STRETCH', 'sqrt'],
      ['CUTS', 'minmax'],
      ['PACKAGE', 'tar'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const rows = await manifestOf(client, job);
    expect(rows.map((r) => [r.status, r.preview, r.rgb])).toEqual([
      ['ok', 'previews/1_g.jpg', ''],
      ['ok', 'previews/1_r.jpg', ''],
    ]);
    const archive = await unpack(job, 'tar');
    expect(archive.names).toEqual(['stamps/1_g.fits', 'previews/1_g.jpg', 'stamps/1_r.fits', 'previews/1_r.jpg', 'manifest.csv']);
    const refs = await pythonReference<{ shape: number[]; levels: number[] }>(
      LEVELS,
      rows.map((r) => ({
        arrays: {},
        params: { stamp: path.join(archive.dir, r.member!), cuts: { kind: 'minmax' }, stretch: 'sqrt', maxSide: 20 },
      })),
    );
    rows.forEach((r, k) => {
      const ref = refs[k]!;
      expect(ref.shape).toEqual([16, 16]);
      // JPEG is lossy (ringing next to stars reaches a dozen levels in 16 × 16 pixels), so the
      // reference levels go through the same encoder (quality 90) before they are compared.
      const raster = new Uint8Array(16 * 16);
      ref.levels.forEach((level, i) => (raster[pictureIndex(16, 16, i)] = Math.max(0, level)));
      const expected = decodeJpeg(encodeJpeg({ width: 16, height: 16, channels: 1, data: raster }), true);
      const picture = decodeJpeg(fs.readFileSync(path.join(archive.dir, r.preview!)), true);
      expectLevels(picture, { shape: ref.shape, levels: ref.levels.map((_, i) => expected.rgba[4 * pictureIndex(16, 16, i)]!) }, 3, 1);
    });
    const reply = await fetch(`${job}/results/preview-1`);
    expect([reply.status, reply.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
  }, 90000);
});

describe('what does not draw', () => {
  test('DRYRUN: no picture is made or named', async () => {
    const job = await client.create('bulk', [
      ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
      ['BAND', 'g'],
      ['BAND', 'r'],
      ['BAND', 'i'],
      ['PREVIEW', 'png'],
      ['RGB', 'i,r,g'],
      ['DRYRUN', 'true'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const rows = await manifestOf(client, job);
    expect(rows.map((r) => [r.status, r.member, r.preview, r.rgb])).toEqual([
      ['ok', '', '', ''],
      ['ok', '', '', ''],
      ['ok', '', '', ''],
    ]);
    expect(await resultIds(job)).toEqual(['manifest']);
  });

  test('bad values are refused at creation: 400 with the message naming the parameter', async () => {
    const refused: [Array<[string, string]>, string][] = [
      [[['PREVIEW', 'gif']], 'UsageError: PREVIEW must be png or jpeg (or image/png, image/jpeg), not "gif"'],
      [
        [
          ['RGB', 'i,r,z'],
          ['BAND', 'g'],
          ['BAND', 'r'],
          ['BAND', 'i'],
        ],
        "UsageError: RGB band z is not one of the job's bands (BAND=g,r,i): add BAND=z",
      ],
      [
        [['CMAP', 'viridis']],
        "UsageError: CMAP is only used with PREVIEW (each stamp's picture; RGB composites are drawn with the Lupton asinh stretch): add PREVIEW=png or PREVIEW=jpeg",
      ],
      [
        [
          ['PREVIEW', 'png'],
          ['CUTS', 'p5'],
        ],
        'UsageError: CUTS must be zscale, minmax or p<lo>,<hi> (percentiles, 0 <= lo < hi <= 100, e.g. p0.5,99.5), not "p5"',
      ],
    ];
    for (const [params, message] of refused) {
      const reply = await client.post('/api/bulk/async', [['POSITION', `${TARGET.ra} ${TARGET.dec}`], ...params]);
      expect([reply.status, reply.text.trim()]).toEqual([400, message]);
    }
  });
});
