/**
 * DataLink, signed files and SODA cutouts over HTTP against a real stack on the demo data:
 * link rows and service descriptors, the #this link's bytes and ranges, sync cutouts (pixels
 * equal to the source at the offset, 204 without overlap, SODA errors) and async cutouts
 * (one result per combination, each with an entry).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openFitsBuffer, openFitsSync } from '../../shared/fits';
import { Client, unescapeXml } from '../helpers/http';
import { fieldNames, startTapStack, tableRows, type TapFixture } from '../tap/fixture';

let fx: TapFixture;
let client: Client;
const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
const TARGET = { ra: 55.7467376, dec: -32.2861552 };

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { DATALINK_MAX_IDS: '3', CUTOUT_THREADS: '2', CUTOUT_SPLIT_MIN: '200' } });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

const links = async (...ids: string[]) => {
  const reply = await client.get('/api/datalink/links', ids.map((id): [string, string] => ['ID', id]));
  const names = fieldNames(reply.text);
  return { reply, rows: tableRows(reply.text).map((r) => Object.fromEntries(names.map((n, i) => [n, unescapeXml(r[i]!)]))) };
};

describe('DataLink {links}', () => {
  test('the coadd: #this (signed file URL with size), #cutout rows for both SODA descriptors', async () => {
    const { reply, rows } = await links(I_COADD);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-votable+xml;content=datalink');
    expect(reply.text).toContain('<INFO name="standardID" value="ivo://ivoa.net/std/DataLink#links-1.1"/>');
    expect(rows.map((r) => [r.ID, r.semantics, r.service_def, r.error_message])).toEqual([
      [I_COADD, '#this', '', ''],
      [I_COADD, '#cutout', 'cutout-sync', ''],
      [I_COADD, '#cutout', 'cutout-async', ''],
    ]);
    const dataset = fx.datasets.find((d) => d.id === I_COADD.slice('butler://dp02/'.length))!;
    expect(rows[0]!.access_url).toMatch(new RegExp(`^${fx.stack.url}/api/files/${dataset.relativePath}\\?expires=\\d+&signature=[\\w-]+$`));
    expect(rows[0]!.content_type).toBe('application/fits');
    const bytes = await (await fetch(rows[0]!.access_url!)).arrayBuffer();
    expect(Number(rows[0]!.content_length)).toBe(bytes.byteLength);
    expect(Buffer.from(bytes).toString('latin1', 0, 30)).toBe('SIMPLE  =                    T');
    for (const id of ['cutout-sync', 'cutout-async']) {
      expect(reply.text).toContain(`<RESOURCE type="meta" utype="adhoc:service" ID="${id}">`);
    }
    expect(reply.text).toContain(`<PARAM name="accessURL" datatype="char" arraysize="*" value="${fx.stack.url}/api/cutout/sync"/>`);
    expect(reply.text).toMatch(/<PARAM name="ID" [^>]*ref="datalink_id"/);
  });

  test('several IDs in order, unknown ones as NotFoundFault rows; past DATALINK_MAX_IDS the overflow INFO', async () => {
    const { rows } = await links('butler://dp02/00000000-0000-0000-0000-000000000000', I_COADD);
    expect(rows.map((r) => r.ID)).toEqual(['butler://dp02/00000000-0000-0000-0000-000000000000', I_COADD, I_COADD, I_COADD]);
    expect(rows[0]!.error_message).toBe('NotFoundFault: no dataset with ID butler://dp02/00000000-0000-0000-0000-000000000000');
    const capped = await links(I_COADD, I_COADD, I_COADD, I_COADD);
    expect(capped.rows).toHaveLength(9);
    expect(capped.reply.text).toMatch(/<\/TABLE>\s*<INFO name="QUERY_STATUS" value="OVERFLOW"\/>/);
    const none = await links();
    expect(none.reply.status).toBe(200);
    expect(none.rows).toEqual([]);
  });

  test('RESPONSEFORMAT: VOTable forms accepted (echoed), others a VOTable error', async () => {
    const votable = await client.get('/api/datalink/links', { ID: I_COADD, RESPONSEFORMAT: 'application/x-votable+xml' });
    expect(votable.headers.get('content-type')).toBe('application/x-votable+xml');
    const csv = await client.get('/api/datalink/links', { ID: I_COADD, RESPONSEFORMAT: 'csv' });
    expect(csv.status).toBe(400);
    expect(csv.text).toContain('<INFO name="QUERY_STATUS" value="ERROR">UsageFault: RESPONSEFORMAT=csv is not supported');
  });
});

describe('signed files', () => {
  const fileUrl = async () => (await links(I_COADD)).rows[0]!.access_url!;

  test('byte ranges (206) and HEAD', async () => {
    const url = await fileUrl();
    const range = await fetch(url, { headers: { Range: 'bytes=2880-2959' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toMatch(/^bytes 2880-2959\/\d+$/);
    expect((await range.arrayBuffer()).byteLength).toBe(80);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/fits');
  });

  test('a changed path, signature or expiry is refused; paths never leave DATA_DIR', async () => {
    const url = new URL(await fileUrl());
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1));
    const bad = await client.get(tampered.pathname + tampered.search);
    expect([bad.status, bad.text]).toEqual([403, 'AuthorizationError: this file link is not signed by this service\n']);
    const other = await client.get(url.pathname.replace('/i/', '/r/').replace('_i.fits', '_r.fits') + url.search);
    expect(other.status).toBe(403);
    const escape = await client.get(`/api/files/..%2F..%2Fetc%2Fpasswd${url.search}`);
    expect(escape.status).toBe(403);
    const unsigned = await client.get(url.pathname);
    expect(unsigned.status).toBe(403);
  });
});

describe('SODA sync', () => {
  const cutout = (params: Record<string, string> | Array<[string, string]>) => client.request('GET', `/api/cutout/sync?${new URLSearchParams(params as Record<string, string>).toString()}`);

  test('a circle around the cluster: FITS whose pixels are the source pixels at the offset', async () => {
    const reply = await fetch(`${fx.stack.url}/api/cutout/sync?${new URLSearchParams({ ID: I_COADD, CIRCLE: `${TARGET.ra} ${TARGET.dec} 0.03` })}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/fits');
    const cut = openFitsBuffer(Buffer.from(await reply.arrayBuffer()));
    const dataset = fx.datasets.find((d) => d.id === I_COADD.slice('butler://dp02/'.length))!;
    const source = openFitsSync(path.join(fx.stack.config.dataDir, dataset.relativePath));
    try {
      expect(cut.hdus.map((h) => h.header.get('EXTNAME') ?? 'PRIMARY')).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
      expect(cut.hdus[0]!.header.get('SODA_ID')).toBe(I_COADD);
      for (const name of ['IMAGE', 'MASK', 'VARIANCE']) {
        const hdu = cut.hdu(name);
        const x0 = -Number(hdu.header.get('LTV1')) + Number(source.hdu(name).header.get('LTV1') ?? 0);
        const y0 = -Number(hdu.header.get('LTV2')) + Number(source.hdu(name).header.get('LTV2') ?? 0);
        const width = Number(hdu.header.get('NAXIS1'));
        const height = Number(hdu.header.get('NAXIS2'));
        expect(width).toBeGreaterThan(100);
        const mine = cut.readImage(hdu);
        const theirs = source.readRect(source.hdu(name), { x0, y0, width, height });
        expect(Buffer.from(mine.data.buffer)).toEqual(Buffer.from(theirs.data.buffer));
      }
    } finally {
      cut.close();
      source.close();
    }
  });

  test('no overlap → 204 with no body', async () => {
    const reply = await cutout({ ID: I_COADD, CIRCLE: '10 10 0.1' });
    expect([reply.status, reply.text]).toEqual([204, '']);
  });

  const errors: [string, Array<[string, string]>, string][] = [
    ['no ID', [['CIRCLE', '1 2 3']], 'UsageError: missing parameter ID'],
    ['two IDs', [['ID', I_COADD], ['ID', 'butler://dp02/00000000-0000-0000-0000-000000000000'], ['CIRCLE', '1 2 3']], 'MultiValuedParamNotSupported: '],
    ['two circles', [['ID', I_COADD], ['CIRCLE', '1 2 3'], ['CIRCLE', '4 5 6']], 'MultiValuedParamNotSupported: '],
    ['unknown ID', [['ID', 'butler://dp02/00000000-0000-0000-0000-000000000000'], ['CIRCLE', '1 2 3']], 'UsageError: no dataset with ID butler://dp02/00000000-0000-0000-0000-000000000000'],
    ['bad circle', [['ID', I_COADD], ['CIRCLE', '1 95 3']], 'UsageError: '],
  ];
  test.each(errors)('%s → 400 text/plain with the SODA label', async (_, params, prefix) => {
    const reply = await client.request('GET', `/api/cutout/sync?${new URLSearchParams(params).toString()}`);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(reply.text.startsWith(prefix)).toBe(true);
  });

  test('the same ID repeated (as pyvo sends it) is one dataset; a bare UUID is accepted', async () => {
    const reply = await client.request('GET', `/api/cutout/sync?${new URLSearchParams([['ID', I_COADD], ['ID', I_COADD], ['POS', `CIRCLE ${TARGET.ra} ${TARGET.dec} 0.01`]]).toString()}`);
    expect(reply.status).toBe(200);
    const bare = await cutout({ ID: I_COADD.slice('butler://dp02/'.length), POS: `RANGE ${TARGET.ra - 0.01} ${TARGET.ra + 0.01} ${TARGET.dec - 0.01} ${TARGET.dec + 0.01}` });
    expect(bare.status).toBe(200);
  });
});

describe('SODA async', () => {
  test('one result per combination; a combination without pixels still has its (text/plain) entry', async () => {
    const job = await client.create('cutout', [
      ['ID', I_COADD], ['CIRCLE', `${TARGET.ra} ${TARGET.dec} 0.01`], ['CIRCLE', '10 10 0.1'], ['POLYGON', `${TARGET.ra} ${TARGET.dec} ${TARGET.ra + 0.02} ${TARGET.dec} ${TARGET.ra} ${TARGET.dec + 0.02}`], ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job)).toBe('COMPLETED');
    const doc = (await client.get(`${job}/results`)).text;
    expect([...doc.matchAll(/<uws:result id="([^"]+)"[^>]*mime-type="([^"]+)"/g)].map((m) => [m[1], m[2]])).toEqual([
      ['cutout-1', 'application/fits'], ['cutout-2', 'text/plain'], ['cutout-3', 'application/fits'],
    ]);
    const none = await client.get(`${job}/results/cutout-2`);
    expect(none.text).toBe(`UsageError: no overlap: the region, BAND or TIME does not overlap ${I_COADD}\n`);
    const fits = await fetch(`${job}/results/cutout-3`);
    expect(Buffer.from(await fits.arrayBuffer()).toString('latin1', 0, 6)).toBe('SIMPLE');
  });

  test('a large job is cut by two threads: 400 results in order, each served from its pack', async () => {
    const circles = Array.from({ length: 400 }, (_, i): [string, string] => ['CIRCLE', `${TARGET.ra + (i % 20) * 0.001} ${TARGET.dec + Math.floor(i / 20) * 0.001} 0.002`]);
    const job = await client.create('cutout', [['ID', I_COADD], ...circles, ['PHASE', 'RUN']]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const doc = (await client.get(`${job}/results`)).text;
    const ids = [...doc.matchAll(/<uws:result id="([^"]+)"[^>]*mime-type="application\/fits"/g)].map((m) => m[1]);
    expect(ids).toEqual(circles.map((_, i) => `cutout-${i + 1}`));
    const jobId = job.slice(job.lastIndexOf('/') + 1);
    expect(fs.readdirSync(path.join(fx.stack.config.resultsDir, jobId, 'results', '1')).sort()).toEqual(['cutouts-2.pack', 'cutouts.pack']);
    for (const n of [1, 200, 201, 400]) {
      const reply = await fetch(`${job}/results/cutout-${n}`);
      const cut = openFitsBuffer(Buffer.from(await reply.arrayBuffer()));
      try {
        expect(String(cut.hdus[0]!.header.get('SODA_POS'))).toBe(`CIRCLE ${circles[n - 1]![1]}`);
      } finally {
        cut.close();
      }
    }
  }, 90000);

  test('a parameter error fails the job with a SODA-labelled /error', async () => {
    const job = await client.create('cutout', { CIRCLE: '1 2 3', PHASE: 'RUN' });
    expect(await client.settle(job)).toBe('ERROR');
    const error = await client.get(`${job}/error`);
    expect(error.text).toBe('UsageError: missing parameter ID (the identifier of the dataset to cut out)\n');
  });
});

test('capabilities name the SODA and DataLink standards', async () => {
  const soda = await client.get('/api/cutout/capabilities');
  expect(soda.text).toContain('standardID="ivo://ivoa.net/std/SODA#sync-1.0"');
  expect(soda.text).toContain(`<accessURL use="full">${fx.stack.url}/api/cutout/async</accessURL>`);
  expect((await client.get('/api/cutout/availability')).text).toContain('<available>true</available>');
  expect((await client.get('/api/datalink/capabilities')).text).toContain('standardID="ivo://ivoa.net/std/DataLink#links-1.1"');
});
