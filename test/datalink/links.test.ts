/**
 * DataLink {links} over HTTP against a real stack on the demo data (api/datalink,
 * shared/datalink/links.ts): link rows and the SODA service descriptors, several IDs and the
 * DATALINK_MAX_IDS overflow, RESPONSEFORMAT; and the signed file URLs of the #this links
 * (shared/datalink/signing.ts, served by api/files): their bytes, ranges, and refusals.
 */
import { Client, unescapeXml } from '../helpers/http';
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

test('capabilities name the DataLink standard', async () => {
  expect((await client.get('/api/datalink/capabilities')).text).toContain('standardID="ivo://ivoa.net/std/DataLink#links-1.1"');
});
