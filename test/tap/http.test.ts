/**
 * TAP 1.1 over HTTP against a real stack: the tutorial's queries verbatim on the demo data,
 * sync (GET and POST) and async, output formats, MAXREC and overflow, uploads, and every
 * kind of error as a DALI VOTable error document.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { seededRandom } from '../../shared/random';
import { channels, connectRedis } from '../../shared/redis';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { CORPUS } from '../adql/corpus';
import { Client, sleep, textOf, unescapeXml } from '../helpers/http';
import { serveLocal } from '../net/server';
import { fieldNames, startTapStack, tableRows, type TapFixture } from './fixture';

let fx: TapFixture;
let client: Client;
const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';

beforeAll(async () => {
  // Results over 8 kB go through a file (the spill path), smaller ones inside the reply.
  // Uploads by URL may come from 127.0.0.1 (test servers); everything else non-public is
  // still refused (test/tap/ssrf.test.ts runs a stack without the allowance).
  fx = await startTapStack({ workers: 1, env: { SYNC_TIMEOUT: '2', SYNC_INLINE_BYTES: '8000', UPLOAD_URL_ALLOW: '127.0.0.1' } });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

const sync = (query: string, extra: Record<string, string> = {}) => client.post('/api/tap/sync', { LANG: 'ADQL', QUERY: query, ...extra });
const errorText = (xml: string) => {
  const text = /<INFO name="QUERY_STATUS" value="ERROR">([^<]*)<\/INFO>/.exec(xml)?.[1];
  return text === undefined ? undefined : unescapeXml(text);
};

describe('the tutorial queries, verbatim, on the demo data', () => {
  const circle =
    "SELECT * FROM ivoa.ObsCore WHERE 1=CONTAINS( POINT('ICRS', ivoa.ObsCore.s_ra, ivoa.ObsCore.s_dec), CIRCLE('ICRS', 55.74673760481304, -32.286155241413624, 10) )";
  const cases: [string, () => number][] = [
    [CORPUS[0]!, () => PUBLISHED_TABLES.length],
    [CORPUS[1]!, () => 2],
    [CORPUS[2]!, () => 1],
    [CORPUS[3]!, () => OBSCORE_COLUMNS.length],
    [CORPUS[4]!, () => 1],
    [CORPUS[5]!, () => new Set(fx.datasets.map((d) => d.datasetType)).size],
    [circle, () => fx.datasets.length],
    [CORPUS[6]!, () => fx.datasets.filter((d) => d.datasetType === 'deepCoadd_calexp' && d.band === 'r').length],
    [CORPUS[7]!, () => 1],
    [CORPUS[8]!, () => 1],
  ];
  test.each(cases)('%s', async (query, expected) => {
    const reply = await sync(query);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-votable+xml');
    expect(reply.text).toContain('<INFO name="QUERY_STATUS" value="OK"/>');
    expect(tableRows(reply.text)).toHaveLength(expected());
  });

  test('the i-band patch 17 coadd: absolute access_url, DataLink format, FIELD metadata pyvo looks for', async () => {
    const reply = await client.get('/api/tap/sync', { LANG: 'ADQL', QUERY: CORPUS[7]! });
    expect(reply.status).toBe(200);
    const names = fieldNames(reply.text);
    const row = tableRows(reply.text)[0]!;
    const cell = (name: string) => row[names.indexOf(name)];
    expect(cell('obs_publisher_did')).toBe(I_COADD);
    expect(cell('access_url')).toBe(`${fx.stack.url}/api/datalink/links?ID=${I_COADD}`);
    expect(cell('access_format')).toBe('application/x-votable+xml;content=datalink');
    expect(cell('lsst_patch')).toBe('17');
    expect(reply.text).toMatch(
      /<FIELD name="access_url" datatype="char" arraysize="\*" ucd="meta.ref.url" utype="obscore:Access.reference"/,
    );
    expect(reply.text).toMatch(
      /<FIELD name="access_format" datatype="char" arraysize="\*" ucd="meta.code.mime" utype="obscore:Access.format"/,
    );
    expect(reply.text).toMatch(/<FIELD name="s_ra" datatype="double" unit="deg" ucd="pos.eq.ra"/);
  });

  test('access_url is absolute in WHERE, ORDER BY, expressions and derived tables too, as the results show it', async () => {
    const url = `${fx.stack.url}/api/datalink/links?ID=${I_COADD}`;
    const ids = async (query: string) => {
      const reply = await sync(query);
      expect(reply.status).toBe(200);
      return tableRows(reply.text).map((r) => r[0]);
    };
    expect(await ids(`SELECT obs_publisher_did FROM ivoa.ObsCore WHERE access_url = '${url}'`)).toEqual([I_COADD]);
    expect(await ids(`SELECT COUNT(*) FROM ivoa.ObsCore WHERE access_url LIKE '${fx.stack.url}/api/datalink/links?ID=%'`)).toEqual([
      String(fx.datasets.length),
    ]);
    expect(await ids("SELECT COUNT(*) FROM ivoa.ObsCore WHERE access_url LIKE '/%'")).toEqual(['0']);
    expect(await ids(`SELECT UPPER(access_url) FROM ivoa.ObsCore WHERE obs_publisher_did = '${I_COADD}'`)).toEqual([url.toUpperCase()]);
    expect(
      await ids(
        `SELECT d.u FROM (SELECT access_url AS u FROM ivoa.ObsCore WHERE obs_publisher_did = '${I_COADD}') AS d WHERE d.u = '${url}'`,
      ),
    ).toEqual([url]);
    const sorted = await ids('SELECT access_url FROM ivoa.ObsCore ORDER BY access_url DESC');
    expect(sorted).toEqual([...sorted].sort().reverse());
    expect(sorted.every((u) => String(u).startsWith(`${fx.stack.url}/`))).toBe(true);
  });
});

describe('sync results in memory and through files', () => {
  test('a large result spills to a file, a small one does not; nothing is left behind', async () => {
    const large = await sync('SELECT * FROM ivoa.ObsCore', { RESPONSEFORMAT: 'csv' });
    expect(large.text.length).toBeGreaterThan(8000);
    expect(large.text.trim().split('\n')).toHaveLength(fx.datasets.length + 1);
    const small = await sync('SELECT TOP 1 obs_id FROM ivoa.ObsCore', { RESPONSEFORMAT: 'csv' });
    expect(small.text.trim().split('\n')).toHaveLength(2);
    // The request's directory is removed once the response went out.
    const syncRoot = path.join(fx.stack.config.resultsDir, '.sync');
    const left = () => (fs.existsSync(syncRoot) ? fs.readdirSync(syncRoot) : []);
    for (let i = 0; i < 50 && left().length > 0; i++) await sleep(20);
    expect(left()).toEqual([]);
  });
});

describe('sync results streamed while they are produced', () => {
  /** POSTs a query with node:http and records when bytes arrive and how the body ends. */
  function timedSync(query: string, extra: Record<string, string>) {
    const body = new URLSearchParams({ LANG: 'ADQL', QUERY: query, ...extra }).toString();
    const started = Date.now();
    return new Promise<{ status: number; firstByteMs: number; bytes: number; complete: boolean; ms: number; head: string }>(
      (resolve, reject) => {
        const request = http.request(
          `${fx.stack.url}/api/tap/sync`,
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (response) => {
            let firstByteMs = -1;
            let bytes = 0;
            let head = '';
            response.on('data', (chunk: Buffer) => {
              if (firstByteMs < 0) firstByteMs = Date.now() - started;
              if (head.length < 2000) head += chunk.toString('utf8', 0, 2000);
              bytes += chunk.length;
            });
            const finish = (complete: boolean) =>
              resolve({ status: response.statusCode ?? 0, firstByteMs, bytes, complete, ms: Date.now() - started, head });
            response.on('end', () => finish(response.complete));
            response.on('aborted', () => finish(false));
            response.on('error', () => finish(false));
          },
        );
        request.on('error', reject);
        request.end(body);
      },
    );
  }
  // Every row of ObsCore with every other, several times over: far more rows than 2 s can
  // write, so the query is still running when SYNC_TIMEOUT (2 s here) stops it.
  const endless = `SELECT a.obs_id, b.obs_id AS b_id FROM ${['a', 'b', 'c', 'd', 'e', 'f'].map((t) => `ivoa.ObsCore AS ${t}`).join(', ')}`;

  test('the first bytes of a large result arrive long before it is complete', async () => {
    const reply = await timedSync(`${endless.replace('SELECT', 'SELECT TOP 300000')}`, { MAXREC: '300000', RESPONSEFORMAT: 'csv' });
    expect(reply.status).toBe(200);
    expect(reply.complete).toBe(true);
    expect(reply.head.startsWith('obs_id,b_id\r\n')).toBe(true);
    expect(reply.bytes).toBeGreaterThan(300000 * 10);
    expect(reply.firstByteMs).toBeLessThan(reply.ms / 2);
  });

  test('a query stopped by SYNC_TIMEOUT after its output started ends the body early (200, incomplete)', async () => {
    const reply = await timedSync(endless, { MAXREC: '10000000' });
    expect(reply.status).toBe(200);
    expect(reply.head).toContain('<TABLEDATA>');
    expect(reply.complete).toBe(false);
    expect(reply.ms).toBeGreaterThan(1900);
    expect(reply.ms).toBeLessThan(10000);
    // The worker is usable again at once, and nothing is left under RESULTS_DIR/.sync.
    expect((await sync('SELECT COUNT(*) FROM ivoa.ObsCore')).status).toBe(200);
    const syncRoot = path.join(fx.stack.config.resultsDir, '.sync');
    const left = () => (fs.existsSync(syncRoot) ? fs.readdirSync(syncRoot) : []);
    for (let i = 0; i < 50 && left().length > 0; i++) await sleep(20);
    expect(left()).toEqual([]);
  });
});

describe('formats and MAXREC', () => {
  const query = 'SELECT obs_publisher_did, lsst_band, lsst_patch FROM ivoa.ObsCore WHERE lsst_patch = 17 ORDER BY lsst_band';

  test('CSV, TSV, JSON and BINARY2, by short name and media type (echoed)', async () => {
    const csv = await sync(query, { RESPONSEFORMAT: 'csv' });
    expect(csv.headers.get('content-type')).toBe('text/csv;header=present');
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('obs_publisher_did,lsst_band,lsst_patch');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['g', 'i', 'r', 'u', 'y', 'z']);

    const tsv = await sync(query, { FORMAT: 'text/tab-separated-values' });
    expect(tsv.headers.get('content-type')).toBe('text/tab-separated-values');
    expect(tsv.text.split('\n')[1]!.split('\t')[1]).toBe('g');

    const json = await sync(query, { RESPONSEFORMAT: 'json' });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(JSON.stringify(json.text)).toContain('lsst_band');

    const b2 = await sync(query, { RESPONSEFORMAT: 'application/x-votable+xml;serialization=BINARY2' });
    expect(b2.status).toBe(200);
    expect(b2.headers.get('content-type')).toBe('application/x-votable+xml;serialization=BINARY2');
    expect(b2.text).toContain('<BINARY2>');
  });

  test('MAXREC truncates with the overflow INFO after the TABLE; not when nothing was cut', async () => {
    const cut = await sync(query, { MAXREC: '2' });
    expect(tableRows(cut.text)).toHaveLength(2);
    expect(cut.text).toMatch(/<\/TABLE>\s*<INFO name="QUERY_STATUS" value="OVERFLOW"\/>/);
    const exact = await sync(query, { MAXREC: '6' });
    expect(tableRows(exact.text)).toHaveLength(6);
    expect(exact.text).not.toContain('OVERFLOW');
    const top = await sync(query.replace('SELECT', 'SELECT TOP 3'), { MAXREC: '3' });
    expect(tableRows(top.text)).toHaveLength(3);
    expect(top.text).not.toContain('OVERFLOW');
  });

  test('MAXREC=0 gives the metadata only', async () => {
    const reply = await sync(query, { MAXREC: '0' });
    expect(fieldNames(reply.text)).toEqual(['obs_publisher_did', 'lsst_band', 'lsst_patch']);
    expect(tableRows(reply.text)).toHaveLength(0);
    expect(reply.text).toContain('value="OVERFLOW"');
  });

  test('REQUEST (TAP 1.0), VERSION and unknown parameters are ignored; LANG variants accepted', async () => {
    for (const lang of ['ADQL', 'ADQL-2.0', 'ADQL-2.1', 'adql']) {
      const reply = await sync('SELECT TOP 1 obs_id FROM ivoa.ObsCore', { LANG: lang, REQUEST: 'doQuery', VERSION: '1.0', FOO: 'bar' });
      expect(reply.status).toBe(200);
      expect(tableRows(reply.text)).toHaveLength(1);
    }
  });
});

describe('errors are DALI VOTable error documents', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['no LANG', { QUERY: 'SELECT 1 FROM ivoa.ObsCore' }, 'LANG is missing: use LANG=ADQL'],
    [
      'unknown LANG',
      { LANG: 'SQL', QUERY: 'SELECT 1 FROM ivoa.ObsCore' },
      'LANG=SQL is not supported (supported: ADQL, ADQL-2.0, ADQL-2.1)',
    ],
    ['no QUERY', { LANG: 'ADQL' }, 'QUERY is missing'],
    ['syntax', { LANG: 'ADQL', QUERY: 'SELECT FROM ivoa.ObsCore' }, 'ADQL syntax error at line 1, column 8'],
    ['unknown table', { LANG: 'ADQL', QUERY: 'SELECT * FROM sqlite_master' }, 'unknown table "sqlite_master"'],
    ['private column', { LANG: 'ADQL', QUERY: 'SELECT "_file" FROM ivoa.ObsCore' }, 'unknown column "_file"'],
    ['format', { LANG: 'ADQL', QUERY: 'SELECT 1 FROM ivoa.ObsCore', RESPONSEFORMAT: 'fits' }, 'RESPONSEFORMAT=fits is not supported'],
    ['MAXREC', { LANG: 'ADQL', QUERY: 'SELECT 1 FROM ivoa.ObsCore', MAXREC: '-1' }, 'MAXREC must be a non-negative integer, not "-1"'],
    [
      'geometry',
      { LANG: 'ADQL', QUERY: "SELECT 1 FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT('', s_ra, s_dec), CIRCLE('', 10, 95, 1))" },
      'invalid geometry',
    ],
  ];
  test.each(cases)('%s → 400', async (_, params, message) => {
    const reply = await client.post('/api/tap/sync', params);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('application/x-votable+xml');
    expect(reply.text).toContain('<RESOURCE type="results">');
    expect(errorText(reply.text)).toContain(message);
  });

  test('a query running past SYNC_TIMEOUT is stopped and reported', async () => {
    const tables = Array.from({ length: 8 }, (_, i) => `ivoa.ObsCore AS t${i}`).join(', ');
    const started = Date.now();
    const reply = await sync(`SELECT COUNT(*) FROM ${tables}`);
    expect(reply.status).toBe(400);
    expect(errorText(reply.text)).toBe('the request ran longer than 2 s and was stopped; use the async endpoint for long work');
    expect(Date.now() - started).toBeLessThan(10000);
    // The worker is usable again at once.
    expect((await sync('SELECT COUNT(*) FROM ivoa.ObsCore')).status).toBe(200);
  });
});

test('fuzz: mutated queries over HTTP get a result or a VOTable error, never a 500 or a hang', async () => {
  const next = seededRandom(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const pieces = [
    "'",
    '(',
    ')',
    ',',
    ' AND ',
    ' OR ',
    '*',
    'ivoa.ObsCore',
    's_region',
    '1e309',
    '--',
    '"',
    ' WHERE ',
    'CIRCLE(',
    'POINT(',
    ' 0 ',
    ';',
    '\\',
    'NULL',
  ];
  const statuses = new Set<number>();
  for (let i = 0; i < 150; i++) {
    let query = pick([...CORPUS.slice(0, 9), ...CORPUS.slice(9)]);
    for (let m = 0; m < 1 + Math.floor(next() * 3); m++) {
      const at = Math.floor(next() * (query.length + 1));
      query =
        next() < 0.5
          ? query.slice(0, at) + pick(pieces) + query.slice(at)
          : query.slice(0, at) + query.slice(at + 1 + Math.floor(next() * 5));
    }
    const reply = await sync(query, { MAXREC: '5' });
    statuses.add(reply.status);
    expect([200, 400]).toContain(reply.status);
    expect(reply.headers.get('content-type')).toBe('application/x-votable+xml');
    if (reply.status === 400) expect(errorText(reply.text)).toBeTruthy();
  }
  expect(statuses).toEqual(new Set([200, 400]));
}, 60000);

describe('async (UWS) TAP jobs', () => {
  test('result id "result" holds the VOTable; the job records the query', async () => {
    const job = await client.create('tap', { LANG: 'ADQL', QUERY: CORPUS[7]!, PHASE: 'RUN', RUNID: 'tutorial' });
    expect(await client.settle(job)).toBe('COMPLETED');
    const doc = (await client.get(job)).text;
    expect(doc).toMatch(
      /<uws:result id="result" xlink:type="simple" xlink:href="[^"]+\/results\/result" size="\d+" mime-type="application\/x-votable\+xml"\/>/,
    );
    expect(textOf(doc, 'uws:runId')).toBe('tutorial');
    const result = await client.get(`${job}/results/result`);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('application/x-votable+xml');
    expect(tableRows(result.text)).toHaveLength(1);
    expect(result.text).toContain(`${fx.stack.url}/api/datalink/links?ID=${I_COADD}`);
    // Progress in uws:jobInfo: the rows are the items, counted when the job ends.
    expect(doc).toContain(
      '<uws:jobInfo><progress><percentComplete>100</percentComplete><itemsProcessed>1</itemsProcessed><totalItems>1</totalItems><message>1 rows</message>',
    );
  });

  test('a failing query ends in ERROR with the message in errorSummary and a VOTable /error', async () => {
    const job = await client.create('tap', { LANG: 'ADQL', QUERY: 'SELECT nope FROM ivoa.ObsCore', PHASE: 'RUN' });
    expect(await client.settle(job)).toBe('ERROR');
    const doc = (await client.get(job)).text;
    expect(doc).toContain('<uws:errorSummary type="fatal" hasDetail="true">');
    expect(textOf(doc, 'uws:message')).toContain('unknown column "nope"');
    const error = await client.get(`${job}/error`);
    expect(error.status).toBe(200);
    expect(error.headers.get('content-type')).toBe('application/x-votable+xml');
    expect(errorText(error.text)).toContain('unknown column "nope"');
  });
});

describe('UPLOAD', () => {
  const votable = (rows: [string, number, number][]) => `<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results"><TABLE>
<FIELD name="name" datatype="char" arraysize="*"/><FIELD name="ra" datatype="double" unit="deg"/><FIELD name="dec" datatype="double" unit="deg"/>
<DATA><TABLEDATA>${rows.map(([n, ra, dec]) => `<TR><TD>${n}</TD><TD>${ra}</TD><TD>${dec}</TD></TR>`).join('')}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>`;

  const multipart = (params: Record<string, string>, files: Record<string, string>) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(params)) body.append(k, v);
    for (const [k, v] of Object.entries(files)) body.append(k, new Blob([v], { type: 'application/x-votable+xml' }), `${k}.xml`);
    return body;
  };

  test('an inline table joins the ObsCore table as TAP_UPLOAD.<name>', async () => {
    const targets = votable([
      ['cluster', 55.7467376, -32.2861552],
      ['nowhere', 10, 10],
    ]);
    const query =
      "SELECT u.name, o.lsst_band FROM TAP_UPLOAD.targets AS u JOIN ivoa.ObsCore AS o ON 1 = CONTAINS(POINT('ICRS', u.ra, u.dec), o.s_region) WHERE o.dataproduct_subtype = 'lsst.deepCoadd_calexp' ORDER BY o.lsst_band";
    const reply = await client.request(
      'POST',
      '/api/tap/sync',
      multipart({ LANG: 'ADQL', QUERY: query, UPLOAD: 'targets,param:tbl' }, { tbl: targets }),
    );
    expect(reply.status).toBe(200);
    const rows = tableRows(reply.text);
    expect(rows.every((r) => r[0] === 'cluster')).toBe(true);
    expect(rows.map((r) => r[1])).toEqual(['g', 'i', 'r', 'u', 'y', 'z']);
    expect(fieldNames(reply.text)).toEqual(['name', 'lsst_band']);
  });

  test('upload errors name the table', async () => {
    const missing = await client.request(
      'POST',
      '/api/tap/sync',
      multipart({ LANG: 'ADQL', QUERY: 'SELECT * FROM TAP_UPLOAD.t', UPLOAD: 't,param:absent' }, {}),
    );
    expect(missing.status).toBe(400);
    expect(errorText(missing.text)).toBe('UPLOAD "t": no uploaded part named ABSENT (param:ABSENT)');
    const bad = await client.request(
      'POST',
      '/api/tap/sync',
      multipart({ LANG: 'ADQL', QUERY: 'SELECT * FROM TAP_UPLOAD.t', UPLOAD: 't,param:x' }, { x: 'a,b\n1,2\n' }),
    );
    expect(bad.status).toBe(400);
    expect(errorText(bad.text)).toMatch(/^UPLOAD "t": /);
    const scheme = await sync('SELECT 1 FROM ivoa.ObsCore', { UPLOAD: 't,ftp://example.org/t.xml' });
    expect(errorText(scheme.text)).toBe('UPLOAD "t": URI "ftp://example.org/t.xml" is not supported (use param:<part> or an http(s) URL)');
  });

  test('a table by URL from an allowed address (UPLOAD_URL_ALLOW=127.0.0.1); other loopback addresses stay refused', async () => {
    const targets = votable([['cluster', 55.7467376, -32.2861552]]);
    const server = await serveLocal((req, res) => {
      if (req.url === '/t.xml') res.writeHead(200, { 'content-type': 'application/x-votable+xml' }).end(targets);
      else if (req.url === '/moved') res.writeHead(302, { location: '/t.xml' }).end();
      else if (req.url === '/elsewhere') res.writeHead(302, { location: `http://127.0.0.2:${server.port}/t.xml` }).end();
      else res.writeHead(404).end('not-this-text');
    });
    try {
      const query =
        "SELECT u.name, o.lsst_band FROM TAP_UPLOAD.targets AS u JOIN ivoa.ObsCore AS o ON 1 = CONTAINS(POINT('ICRS', u.ra, u.dec), o.s_region) WHERE o.dataproduct_subtype = 'lsst.deepCoadd_calexp' ORDER BY o.lsst_band";
      for (const url of [`${server.origin}/t.xml`, `http://2130706433:${server.port}/t.xml`, `${server.origin}/moved`]) {
        const reply = await sync(query, { UPLOAD: `targets,${url}` });
        expect(reply.status).toBe(200);
        expect(tableRows(reply.text)).toEqual(['g', 'i', 'r', 'u', 'y', 'z'].map((band) => ['cluster', band]));
      }
      // One connection per request, the redirect's two hops included (no pooled sockets).
      expect(server.connections).toBe(4);
      const missing = await sync('SELECT * FROM TAP_UPLOAD.t', { UPLOAD: `t,${server.origin}/absent.xml` });
      expect(errorText(missing.text)).toBe(`UPLOAD "t": cannot fetch ${server.origin}/absent.xml: HTTP 404`);
      // 127.0.0.2 is loopback too, and not allowed: refused, also after a redirect.
      const other = await sync('SELECT * FROM TAP_UPLOAD.t', { UPLOAD: `t,http://127.0.0.2:${server.port}/t.xml` });
      expect(errorText(other.text)).toBe(`UPLOAD "t": cannot fetch http://127.0.0.2:${server.port}/t.xml: the address is not allowed`);
      const redirected = await sync('SELECT * FROM TAP_UPLOAD.t', { UPLOAD: `t,${server.origin}/elsewhere` });
      expect(errorText(redirected.text)).toBe(
        `UPLOAD "t": cannot fetch ${server.origin}/elsewhere (redirected to http://127.0.0.2:${server.port}/t.xml): the address is not allowed`,
      );
    } finally {
      await server.close();
    }
  });
});

test('with no worker running, a sync request is withdrawn after SYNC_QUEUE_TIMEOUT: 503, nothing left queued', async () => {
  const idle = await startTapStack({ workers: 0, env: { SYNC_QUEUE_TIMEOUT: '1' } });
  try {
    const started = Date.now();
    const reply = await new Client(idle.stack.url).post('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT TOP 1 obs_id FROM ivoa.ObsCore' });
    expect(reply.status).toBe(503);
    expect(errorText(reply.text)).toBe('no worker took the request within 1 s; the service is busy or has no worker running');
    expect(Date.now() - started).toBeLessThan(5000);
    const redis = connectRedis(idle.stack.redis.url);
    try {
      expect(await redis.llen(channels(idle.stack.config.queuePrefix).syncRequests('tap'))).toBe(0);
    } finally {
      await redis.quit();
    }
  } finally {
    await idle.close();
  }
}, 30000);
