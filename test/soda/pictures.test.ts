/**
 * SODA cutouts as pictures (RESPONSEFORMAT=image/png or image/jpeg) over HTTP against a real
 * stack on the demo data: the picture is the cutout's IMAGE plane as numpy and astropy draw it
 * (same cuts and stretch, ±1 level), NaN and NO_DATA transparent, 204 without overlap like
 * FITS, colour composites of three bands against astropy's make_lupton_rgb, async jobs with
 * picture results; parameters refused rather than ignored (DALI 1.1 §3.4.3).
 */
import { planeOfFits, type Plane } from '../../shared/preview';
import { Client } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { decodeJpeg, decodePng, pictureIndex, pythonReference } from '../preview/helpers';

let fx: TapFixture;
let client: Client;
const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
const CIRCLE = '55.7467376 -32.2861552 0.01';

beforeAll(async () => {
  fx = await startTapStack({ workers: 1 });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

const sync = async (params: Array<[string, string]>) => {
  const reply = await fetch(`${fx.stack.url}/api/cutout/sync?${new URLSearchParams(params).toString()}`);
  return { status: reply.status, type: reply.headers.get('content-type'), bytes: Buffer.from(await reply.arrayBuffer()) };
};

/** The FITS cutout of the same request, its IMAGE plane as the renderer reads it. */
async function fitsPlane(params: Array<[string, string]>): Promise<Plane> {
  const fits = await sync(params);
  expect(fits.type).toBe('application/fits');
  return planeOfFits(fits.bytes);
}

/** The coadds of I_COADD's patch, by band. */
function coaddOfBand(band: string): string {
  const i = fx.datasets.find((d) => d.id === I_COADD.slice('butler://dp02/'.length))!;
  const d = fx.datasets.find((x) => x.datasetType === i.datasetType && x.patch === i.patch && x.tract === i.tract && x.band === band)!;
  return `butler://dp02/${d.id}`;
}

describe('sync pictures', () => {
  test.each([
    ['image/png', 'asinh', 'p0.5,99.5'],
    ['png', 'linear', 'minmax'],
    ['image/png', 'sqrt', 'zscale'],
    ['image/png', 'log', 'p1,99'],
  ])('RESPONSEFORMAT=%s STRETCH=%s CUTS=%s: the IMAGE plane drawn as astropy draws it (±1 level)', async (format, stretch, cuts) => {
    const region: Array<[string, string]> = [
      ['ID', I_COADD],
      ['CIRCLE', CIRCLE],
    ];
    const plane = await fitsPlane(region);
    const reply = await sync([...region, ['RESPONSEFORMAT', format], ['STRETCH', stretch], ['CUTS', cuts]]);
    expect([reply.status, reply.type]).toEqual([200, 'image/png']);
    const picture = decodePng(reply.bytes);
    expect([picture.width, picture.height]).toEqual([plane.width, plane.height]);
    const kind =
      cuts === 'minmax' || cuts === 'zscale'
        ? { kind: cuts }
        : { kind: 'percentile', lo: Number(cuts.slice(1).split(',')[0]), hi: Number(cuts.split(',')[1]) };
    const data = Float64Array.from(plane.data, (v, i) => (plane.masked?.[i] ? NaN : v));
    const [reference] = await pythonReference<number[]>(
      `RESULTS = [levels(a['data'], p['cuts'], p['stretch'])[2].ravel().tolist() for a, p in CASES]`,
      [{ arrays: { data: { data, shape: [plane.height, plane.width] } }, params: { cuts: kind, stretch } }],
    );
    let worst = 0;
    for (let i = 0; i < data.length; i++) {
      const at = pictureIndex(plane.width, plane.height, i) * 4;
      if (reference![i]! < 0) {
        expect(picture.rgba[at + 3]).toBe(0);
        continue;
      }
      expect(picture.rgba[at + 3]).toBe(255);
      worst = Math.max(worst, Math.abs(picture.rgba[at]! - reference![i]!));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  test('JPEG, a colour map and PREVIEW_SIZE: block-averaged to at most that side, never enlarged', async () => {
    const region: Array<[string, string]> = [
      ['ID', I_COADD],
      ['CIRCLE', CIRCLE],
    ];
    const plane = await fitsPlane(region);
    const jpeg = await sync([...region, ['RESPONSEFORMAT', 'image/jpeg'], ['CMAP', 'viridis'], ['PREVIEW_SIZE', '32']]);
    expect([jpeg.status, jpeg.type]).toEqual([200, 'image/jpeg']);
    const factor = Math.ceil(Math.max(plane.width, plane.height) / 32);
    const picture = decodeJpeg(jpeg.bytes, false);
    expect([picture.width, picture.height]).toEqual([Math.ceil(plane.width / factor), Math.ceil(plane.height / factor)]);
    const large = decodePng((await sync([...region, ['RESPONSEFORMAT', 'image/png'], ['PREVIEW_SIZE', '4000']])).bytes);
    expect([large.width, large.height]).toEqual([plane.width, plane.height]);
  });

  test('no overlap → 204, as for FITS', async () => {
    const reply = await sync([
      ['ID', I_COADD],
      ['CIRCLE', '10 10 0.1'],
      ['RESPONSEFORMAT', 'image/png'],
    ]);
    expect([reply.status, reply.bytes.length]).toEqual([204, 0]);
  });

  test('RGB=i,r,g of three coadds of one patch: astropy make_lupton_rgb of the three cutouts (±1 level)', async () => {
    const ids = ['i', 'r', 'g'].map(coaddOfBand);
    const planes = await Promise.all(
      ids.map((id) =>
        fitsPlane([
          ['ID', id],
          ['CIRCLE', CIRCLE],
        ]),
      ),
    );
    // The IDs in another order than the bands: each band is drawn from its own image.
    const reply = await sync([
      ['ID', ids[2]!],
      ['ID', ids[0]!],
      ['ID', ids[1]!],
      ['CIRCLE', CIRCLE],
      ['RESPONSEFORMAT', 'image/png'],
      ['RGB', 'i,r,g'],
    ]);
    expect([reply.status, reply.type]).toEqual([200, 'image/png']);
    const picture = decodePng(reply.bytes);
    const { width, height } = planes[0]!;
    expect([picture.width, picture.height]).toEqual([width, height]);
    const [reference] = await pythonReference<number[][]>(
      `RESULTS = [make_lupton_rgb(a['r'], a['g'], a['b']).reshape(-1, 3).tolist() for a, p in CASES]`,
      [
        {
          arrays: Object.fromEntries(
            ['r', 'g', 'b'].map((name, k) => [name, { data: Float64Array.from(planes[k]!.data), shape: [height, width] }]),
          ),
          params: {},
        },
      ],
    );
    let worst = 0;
    for (let i = 0; i < width * height; i++) {
      const at = pictureIndex(width, height, i) * 4;
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(picture.rgba[at + c]! - reference![i]![c]!));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  test.each<[string, Array<[string, string]>, string]>([
    [
      'an unknown RESPONSEFORMAT',
      [['RESPONSEFORMAT', 'image/gif']],
      'UsageError: unsupported RESPONSEFORMAT image/gif; this service answers application/fits, image/png, image/jpeg\n',
    ],
    ["DaCHS's PIXEL_1", [['PIXEL_1', '1 10']], 'UsageError: unsupported parameter PIXEL_1; this service takes ID, POS, CIRCLE'],
    ["Rubin's CUTOUTDETAIL", [['CUTOUTDETAIL', 'full']], 'UsageError: unsupported parameter CUTOUTDETAIL; '],
    ['a display parameter with FITS', [['STRETCH', 'log']], 'UsageError: STRETCH only applies to RESPONSEFORMAT=image/png or image/jpeg\n'],
    [
      'a bad CMAP',
      [
        ['RESPONSEFORMAT', 'image/png'],
        ['CMAP', 'jet'],
      ],
      'UsageError: ',
    ],
    [
      'RGB with an unknown ID',
      [
        ['ID', 'butler://dp02/00000000-0000-0000-0000-000000000000'],
        ['ID', 'butler://dp02/00000000-0000-0000-0000-000000000001'],
        ['RESPONSEFORMAT', 'png'],
        ['RGB', 'u,r,g'],
      ],
      'UsageError: no dataset with ID butler://dp02/00000000-0000-0000-0000-000000000000',
    ],
  ])('%s → 400 text/plain with the SODA label', async (_, extra, prefix) => {
    const reply = await client.request(
      'GET',
      `/api/cutout/sync?${new URLSearchParams([['ID', I_COADD], ['CIRCLE', CIRCLE], ...extra]).toString()}`,
    );
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(reply.text.slice(0, prefix.length)).toBe(prefix);
  });
});

test('RGB naming a band none of the IDs is in → 400 naming it', async () => {
  const ids = ['i', 'r', 'g'].map(coaddOfBand);
  const reply = await client.request(
    'GET',
    `/api/cutout/sync?${new URLSearchParams([...ids.map((id): [string, string] => ['ID', id]), ['CIRCLE', CIRCLE], ['RESPONSEFORMAT', 'png'], ['RGB', 'u,r,g']]).toString()}`,
  );
  expect([reply.status, reply.text]).toEqual([400, `UsageError: RGB: none of the IDs is an image in band u (${ids.join(', ')})\n`]);
});

describe('async pictures', () => {
  test('each combination a picture; one without pixels still has its text entry', async () => {
    const job = await client.create('cutout', [
      ['ID', I_COADD],
      ['CIRCLE', CIRCLE],
      ['CIRCLE', '10 10 0.1'],
      ['RESPONSEFORMAT', 'image/jpeg'],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job)).toBe('COMPLETED');
    const first = await fetch(`${job}/results/cutout-1`);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    const picture = decodeJpeg(Buffer.from(await first.arrayBuffer()), true);
    const plane = await fitsPlane([
      ['ID', I_COADD],
      ['CIRCLE', CIRCLE],
    ]);
    expect([picture.width, picture.height]).toEqual([plane.width, plane.height]);
    const second = await fetch(`${job}/results/cutout-2`);
    expect(second.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await second.text()).toMatch(/^UsageError: no overlap/);
  });

  test('an unsupported parameter or RESPONSEFORMAT is refused when the job is created (400), not at run time', async () => {
    for (const [name, value, message] of [
      ['KIND', 'x', 'UsageError: unsupported parameter KIND; '],
      ['RESPONSEFORMAT', 'text/csv', 'UsageError: unsupported RESPONSEFORMAT text/csv; '],
    ]) {
      const reply = await client.post('/api/cutout/async', [
        ['ID', I_COADD],
        [name!, value!],
      ]);
      expect(reply.status).toBe(400);
      expect(reply.text.slice(0, message!.length)).toBe(message);
    }
  });
});

test('the SODA descriptors of DataLink declare the RESPONSEFORMAT values', async () => {
  const links = await client.get('/api/datalink/links', { ID: I_COADD });
  expect(links.text).toMatch(
    /<PARAM name="RESPONSEFORMAT" [^>]*><DESCRIPTION>[^<]*<\/DESCRIPTION><VALUES><OPTION value="application\/fits"\/><OPTION value="image\/png"\/><OPTION value="image\/jpeg"\/><\/VALUES><\/PARAM>/,
  );
});
