/**
 * TAP UPLOAD by URL (TAP 1.1 §2.7.6) is not a way into the service's own network: on a stack
 * without UPLOAD_URL_ALLOW, uploads from loopback (a real server with a table on it, the
 * stack's own Redis), from numeric spellings of loopback, from a name resolving to it and from
 * the link-local metadata address are refused, before any connection, with an error that does
 * not show what answered there. (With UPLOAD_URL_ALLOW=127.0.0.1 the same upload works: the
 * UPLOAD tests in http.test.ts.)
 */
import { Client, textOf, unescapeXml } from '../helpers/http';
import { serveLocal, type LocalServer } from '../net/server';
import { startTapStack, type TapFixture } from './fixture';

let fx: TapFixture;
let client: Client;
let tables: LocalServer;
const SECRET = 'row-only-the-inside-sees';
const VOTABLE = `<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results"><TABLE>
<FIELD name="name" datatype="char" arraysize="*"/><DATA><TABLEDATA><TR><TD>${SECRET}</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>`;

beforeAll(async () => {
  [fx, tables] = await Promise.all([
    startTapStack({ workers: 1 }),
    serveLocal((_, res) => res.writeHead(200, { 'content-type': 'application/x-votable+xml' }).end(VOTABLE)),
  ]);
  client = new Client(fx.stack.url);
}, 60000);
afterAll(async () => {
  await tables?.close();
  await fx?.close();
});

const errorText = (xml: string) => {
  const text = /<INFO name="QUERY_STATUS" value="ERROR">([^<]*)<\/INFO>/.exec(xml)?.[1];
  return text === undefined ? undefined : unescapeXml(text);
};
const upload = (url: string) => client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT * FROM TAP_UPLOAD.t', UPLOAD: `t,${url}` });

test('the stack runs without UPLOAD_URL_ALLOW', () => {
  expect(fx.stack.config.uploadUrlAllow).toEqual([]);
});

test('a table served on 127.0.0.1 is refused, by address and by numeric spellings of it; nothing connects', async () => {
  for (const url of [
    `http://127.0.0.1:${tables.port}/t.xml`,
    `http://2130706433:${tables.port}/t.xml`,
    `http://0x7f.1:${tables.port}/t.xml`,
    `http://[::ffff:7f00:1]:${tables.port}/t.xml`,
  ]) {
    const reply = await upload(url);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('application/x-votable+xml');
    expect(errorText(reply.text)).toBe(`UPLOAD "t": cannot fetch ${url}: the address is not allowed`);
    expect(reply.text).not.toContain(SECRET);
  }
  expect(tables.connections).toBe(0);
});

test('a name resolving to 127.0.0.1 (localhost) is refused when the worker connects', async () => {
  const url = `http://localhost:${tables.port}/t.xml`;
  const reply = await upload(url);
  expect(reply.status).toBe(400);
  expect(errorText(reply.text)).toBe(`UPLOAD "t": cannot fetch ${url}: the address is not allowed`);
  expect(reply.text).not.toContain(SECRET);
  expect(tables.connections).toBe(0);
});

test("the stack's own Redis and the cloud metadata address: the same refusal, nothing of their answers", async () => {
  const redisPort = new URL(fx.stack.redis.url).port;
  for (const url of [`http://127.0.0.1:${redisPort}/`, 'http://169.254.169.254/latest/meta-data/']) {
    const reply = await upload(url);
    expect(reply.status).toBe(400);
    expect(errorText(reply.text)).toBe(`UPLOAD "t": cannot fetch ${url}: the address is not allowed`);
    // Redis answers an HTTP request with "-ERR …"; an unchecked fetch would say so.
    expect(reply.text).not.toContain('-ERR');
  }
});

test('an async job ends in ERROR with the same message', async () => {
  const url = `http://2130706433:${tables.port}/t.xml`;
  const job = await client.create('tap', { LANG: 'ADQL', QUERY: 'SELECT * FROM TAP_UPLOAD.t', UPLOAD: `t,${url}`, PHASE: 'RUN' });
  expect(await client.settle(job)).toBe('ERROR');
  expect(unescapeXml(textOf((await client.get(job)).text, 'uws:message') ?? '')).toBe(
    `UPLOAD "t": cannot fetch ${url}: the address is not allowed`,
  );
  expect(tables.connections).toBe(0);
});
