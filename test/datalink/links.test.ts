/**
 * DataLink {links} over HTTP against a real stack on the demo data (api/datalink,
 * shared/datalink/links.ts): link rows and the SODA service descriptors, several IDs and the
 * DATALINK_MAX_IDS overflow, RESPONSEFORMAT; the #preview and #thumbnail pictures (rendered
 * by a worker once, then from the cache); and the signed file URLs of the #this links
 * (shared/datalink/signing.ts, served by api/files): their bytes, ranges, and refusals.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DISPLAY, downsample, planeOfFitsFile, renderPreview } from '../../shared/preview';
import { Client, unescapeXml } from '../helpers/http';
import { decodePng } from '../preview/helpers';
import { fieldNames, startTapStack, tableRows, type TapFixture } from '../tap/fixture';

let fx: TapFixture;
let client: Client;
const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { DATALINK_MAX_IDS: '3' } });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

const links = async (...ids: string[]) => {
  const reply = await client.get(
    '/api/datalink/links',
    ids.map((id): [string, string] => ['ID', id]),
  );
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
      [I_COADD, '#preview', '', ''],
      [I_COADD, '#thumbnail', '', ''],
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
    expect(rows.map((r) => r.ID)).toEqual(['butler://dp02/00000000-0000-0000-0000-000000000000', ...Array<string>(5).fill(I_COADD)]);
    expect(rows[0]!.error_message).toBe('NotFoundFault: no dataset with ID butler://dp02/00000000-0000-0000-0000-000000000000');
    const capped = await links(I_COADD, I_COADD, I_COADD, I_COADD);
    expect(capped.rows).toHaveLength(15);
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

describe('#preview and #thumbnail pictures', () => {
  const pictures = async () => {
    const { rows } = await links(I_COADD);
    return Object.fromEntries(rows.filter((r) => r.semantics === '#preview' || r.semantics === '#thumbnail').map((r) => [r.semantics, r]));
  };

  test('PNG of the whole image at most 1024 / 256 pixels on a side, with their length; drawn as renderPreview draws the image', async () => {
    const rows = await pictures();
    const dataset = fx.datasets.find((d) => d.id === I_COADD.slice('butler://dp02/'.length))!;
    const image = await planeOfFitsFile(path.join(fx.stack.config.dataDir, dataset.relativePath));
    // The thumbnail is drawn from the preview's pixels (one read of the image for both).
    const preview = downsample(image, 1024);
    for (const [semantics, maxSide, source] of [
      ['#preview', 1024, image],
      ['#thumbnail', 256, preview],
    ] as const) {
      const row = rows[semantics]!;
      expect(row.content_type).toBe('image/png');
      expect(row.access_url).toMatch(
        new RegExp(`^${fx.stack.url}/api/files/${dataset.relativePath}\\?expires=\\d+&signature=[\\w-]+&preview=${semantics.slice(1)}$`),
      );
      const reply = await fetch(row.access_url);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await reply.arrayBuffer());
      expect(Number(row.content_length)).toBe(bytes.length);
      const picture = decodePng(bytes);
      const factor = Math.ceil(Math.max(source.width, source.height) / maxSide);
      expect([picture.width, picture.height]).toEqual([Math.ceil(source.width / factor), Math.ceil(source.height / factor)]);
      expect(Math.max(picture.width, picture.height)).toBeLessThanOrEqual(maxSide);
      expect(bytes.equals(renderPreview(source, { ...DEFAULT_DISPLAY, maxSide }, 'png'))).toBe(true);
    }
  });

  test('made once: the next DataLink request and fetch read the cache (same entries, same bytes)', async () => {
    const before = await pictures();
    const cacheDir = path.join(fx.stack.config.resultsDir, 'previews');
    const entries = () =>
      fs
        .readdirSync(cacheDir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => [e.name, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs])
        .sort();
    const cached = entries();
    expect(cached.filter(([name]) => String(name).endsWith('.png'))).toHaveLength(2);
    const after = await pictures();
    expect(after['#preview']!.content_length).toBe(before['#preview']!.content_length);
    await fetch(after['#thumbnail']!.access_url);
    expect(entries()).toEqual(cached);
  });

  test('a bad preview value is a 400; the signature still decides who may read', async () => {
    const url = new URL((await pictures())['#thumbnail']!.access_url);
    url.searchParams.set('preview', 'poster');
    const bad = await client.get(url.pathname + url.search);
    expect([bad.status, bad.text]).toEqual([400, 'UsageError: preview must be preview or thumbnail, not "poster"\n']);
    url.searchParams.set('preview', 'thumbnail');
    const signature = url.searchParams.get('signature')!;
    url.searchParams.set('signature', (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1));
    expect((await client.get(url.pathname + url.search)).status).toBe(403);
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

test('capabilities name the DataLink standard', async () => {
  expect((await client.get('/api/datalink/capabilities')).text).toContain('standardID="ivo://ivoa.net/std/DataLink#links-1.1"');
});
