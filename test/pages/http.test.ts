/**
 * The pages over HTTP against a real stack (fixture services): clients that do not prefer
 * HTML (no Accept, `*\/*` as pyvo and curl send, Java's default as STILTS sends, an XML type) get exactly the bytes
 * the UWS documents were before the pages existed (built here with the same functions the
 * router used, from the same job rows) and the same headers, with `Vary: Accept` added where
 * the negotiation happens; browsers get pages with the Content-Security-Policy. Result data
 * stays data; only FITS results are drawn as pictures; the static files are served.
 */
import type { Job } from '../../shared/uws/model';
import { jobListXml, jobXml, resultsXml, type JobUrls } from '../../shared/uws/xml';
import { Client, type Reply } from '../helpers/http';
import { TestStack } from '../helpers/stack';
import { BROWSER_ACCEPT } from './helpers';

let stack: TestStack;
let client: Client;
const LIST = '/api/fixture/async';
let done: string; // a COMPLETED echo job
let many: string; // a COMPLETED job with 3 results
let failed: string;
let pending: string;

beforeAll(async () => {
  stack = await TestStack.start();
  client = new Client(stack.url);
  done = await client.create('fixture', { MODE: 'echo', RUNID: 'first', X: 'a b', PHASE: 'RUN' });
  many = await client.create('fixture', { MODE: 'many', COUNT: '3', PHASE: 'RUN' });
  failed = await client.create('fixture', { MODE: 'fail', MESSAGE: 'no luck', PHASE: 'RUN' });
  pending = await client.create('fixture', { MODE: 'echo' });
  for (const job of [done, many, failed]) await client.settle(job);
}, 60000);
afterAll(() => stack?.stop());

/**
 * Accept headers of clients that must see no change: none, pyvo's and curl's, XML clients',
 * Java's HttpURLConnection default (STILTS, TOPCAT), ties.
 */
const NOT_HTML: (string | undefined)[] = [
  undefined,
  '*/*',
  'text/html, image/gif, image/jpeg, */*; q=0.2',
  'text/xml',
  'application/xml',
  'application/xml, text/html',
  'text/html;q=0.5, */*',
];

function get(path: string, accept: string | undefined): Promise<Reply> {
  return client.request('GET', path, undefined, accept === undefined ? {} : { accept });
}

/** Headers but Date (and the connection's own), in order. */
function headersOf(reply: Reply): [string, string][] {
  return [...reply.headers.entries()].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name));
}

const idOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const urls = (): JobUrls => ({ job: (jobId) => `${stack.url}${LIST}/${jobId}` });

async function jobOf(url: string): Promise<Job> {
  const job = await stack.api!.engine.job(idOf(url), { service: 'fixture', owner: undefined });
  if (!job) throw new Error(`no job ${url}`);
  return job;
}

describe('clients that do not prefer HTML get the bytes and headers of before', () => {
  test('job list, job, WAIT, results: the UWS documents as the router wrote them, plus Vary: Accept', async () => {
    const engine = stack.api!.engine;
    const listed = async (phases: Job['phase'][] = []) => {
      const list = await engine.list({ service: 'fixture', owner: undefined, phases });
      if (list.kind !== 'jobs') throw new Error('bounded');
      return list.jobs;
    };
    const cases: [string, () => Promise<string>][] = [
      [LIST, async () => jobListXml(await listed(), urls())],
      [`${LIST}?PHASE=COMPLETED`, async () => jobListXml(await listed(['COMPLETED']), urls())],
      [done, async () => jobXml(await jobOf(done), await engine.results(await jobOf(done)), urls())],
      [`${done}?WAIT=1`, async () => jobXml(await jobOf(done), await engine.results(await jobOf(done)), urls())],
      [failed, async () => jobXml(await jobOf(failed), [], urls())],
      [`${many}/results`, async () => resultsXml(await jobOf(many), await engine.results(await jobOf(many)), urls())],
    ];
    for (const [path, expected] of cases) {
      const body = await expected();
      for (const accept of NOT_HTML) {
        const reply = await get(path, accept);
        expect({ path, accept, status: reply.status }).toEqual({ path, accept, status: 200 });
        expect(reply.text).toBe(body);
        expect(headersOf(reply)).toEqual([
          ['content-length', String(Buffer.byteLength(body))],
          ['content-type', 'text/xml; charset=utf-8'],
          ['server', expect.stringMatching(/^vo-image-services\//) as string],
          ['vary', 'Accept'],
        ]);
      }
    }
  });

  test('service URLs stay a 404 (with Vary: Accept); other resources are untouched', async () => {
    for (const service of ['tap', 'cutout', 'sia', 'bulk']) {
      for (const accept of NOT_HTML) {
        const reply = await get(`/api/${service}`, accept);
        expect(reply.status).toBe(404);
        expect(reply.text).toBe(`no resource /api/${service}\n`);
        expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(reply.headers.get('vary')).toBe('Accept');
      }
    }
    // Atomic values, parameters and results: no negotiation, not even for a browser.
    for (const [path, type] of [
      [`${done}/phase`, 'text/plain; charset=utf-8'],
      [`${done}/parameters`, 'text/xml; charset=utf-8'],
      [`${done}/results/result`, 'application/json'],
      [`${failed}/error`, 'text/plain; charset=utf-8'],
    ] as const) {
      const plain = await get(path, undefined);
      for (const accept of [...NOT_HTML, BROWSER_ACCEPT]) {
        const reply = await get(path, accept);
        expect(reply.status).toBe(200);
        expect(reply.text).toBe(plain.text);
        expect(reply.headers.get('content-type')).toBe(type);
        expect(reply.headers.get('vary')).toBeNull();
        expect(headersOf(reply)).toEqual(headersOf(plain));
      }
    }
  });

  test('a result asked for in a format that is not a picture is its data, as before', async () => {
    const plain = await get(`${done}/results/result`, undefined);
    const reply = await get(`${done}/results/result?RESPONSEFORMAT=application/json`, undefined);
    expect(reply.text).toBe(plain.text);
    expect(headersOf(reply).filter(([n]) => n !== 'last-modified')).toEqual(headersOf(plain).filter(([n]) => n !== 'last-modified'));
  });
});

describe('browsers get pages', () => {
  const page = async (path: string) => {
    const reply = await get(path, BROWSER_ACCEPT);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.headers.get('vary')).toBe('Accept');
    expect(reply.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self'; style-src 'self'/);
    expect(reply.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.text).toMatch(/^<!DOCTYPE html>/);
    // No inline script or style anywhere: every script is a file of /pages/static.
    expect(reply.text).not.toMatch(/<script(?![^>]*\bsrc=")/);
    expect(reply.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    return reply.text;
  };

  test('the job list: every job, linked, with the phase filters', async () => {
    const html = await page(LIST);
    for (const job of [done, many, failed, pending]) expect(html).toContain(`href="${job}"`);
    expect(html).toContain('4 jobs');
    const completed = await page(`${LIST}?PHASE=COMPLETED&PHASE=ERROR`);
    expect(completed).toContain('3 jobs');
    expect(completed).not.toContain(`href="${pending}"`);
    expect(completed).toMatch(/name="PHASE" value="COMPLETED" checked/);
    expect(await page(`${LIST}?LAST=1`)).toContain(`href="${pending}"`);
    expect(await page(`${LIST}?LAST=1`)).toContain('1 job,');
    // A bad filter is the same 400 as for any client.
    const bad = await get(`${LIST}?PHASE=NOPE`, BROWSER_ACCEPT);
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('PHASE=NOPE is not a UWS phase\n');
  });

  test('a job: parameters, phase, times, error, actions, results', async () => {
    const html = await page(done);
    expect(html).toContain('<span class="phase phase-completed">COMPLETED</span>');
    expect(html).toContain('<span class="runid">first</span>');
    expect(html).toMatch(/<th scope="row">X<\/th><td><code class="value">a b<\/code>/);
    expect(html).toContain(`href="${done}/results/result"`);
    expect(html).toContain(`<form method="post" action="${done}"><input type="hidden" name="ACTION" value="DELETE">`);
    expect(html).not.toContain('value="RUN"');
    const error = await page(failed);
    expect(error).toContain('<pre class="errorsummary">no luck</pre>');
    expect(error).toContain(`href="${failed}/error"`);
    const waiting = await page(pending);
    expect(waiting).toContain(`<form method="post" action="${pending}/phase"><input type="hidden" name="PHASE" value="RUN">`);
    expect(waiting).toContain(`id="progress" data-job-url="${pending}" data-phase="PENDING"`);
    // A browser opening a WAIT URL gets the page at once.
    const started = Date.now();
    await page(`${pending}?WAIT=30`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a long list: the job page shows the first 50 and the count, the results page 200 a page, clamped to the pages there are', async () => {
    const long = await client.create('fixture', { MODE: 'many', COUNT: '450', PHASE: 'RUN' });
    expect(await client.settle(long)).toBe('COMPLETED');
    const ids = (html: string) => [...html.matchAll(/href="[^"]*\/results\/(r-\d+)"/g)].map((m) => m[1]);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `r-${from + i}`);
    const job = await page(long);
    expect(job).toContain('All 450 results');
    expect(ids(job)).toEqual(range(1, 50));
    const third = await page(`${long}/results?PAGE=3`);
    expect(third).toContain('<p class="count">450 results.</p>');
    expect(third).toContain('Page 3 of 3');
    expect(ids(third)).toEqual(range(401, 450));
    expect(ids(await page(`${long}/results?PAGE=99`))).toEqual(range(401, 450));
    const first = await page(`${long}/results?PAGE=abc`);
    expect(first).toContain('Page 1 of 3');
    expect(ids(first)).toEqual(range(1, 200));
  });

  test('results page; results without a picture are refused as pictures', async () => {
    const html = await page(`${many}/results`);
    for (const id of ['r-1', 'r-2', 'r-3']) expect(html).toContain(`href="${many}/results/${id}"`);
    // Not FITS: no thumbnail.
    expect(html).not.toContain('<img');
    for (const format of ['image/png', 'image/jpeg']) {
      const reply = await get(`${done}/results/result?RESPONSEFORMAT=${encodeURIComponent(format)}&PREVIEW_SIZE=128`, BROWSER_ACCEPT);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(reply.text).toMatch(/^UsageError: result result is application\/json, not a FITS file/);
    }
  });

  test('phase actions by form: run, abort, delete bring the browser back to the pages', async () => {
    const job = await client.create('fixture', { MODE: 'sleep', SECONDS: '30' });
    const form = (path: string, fields: Record<string, string>) =>
      client.request('POST', path, new URLSearchParams(fields).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        accept: BROWSER_ACCEPT,
      });
    const run = await form(`${job}/phase`, { PHASE: 'RUN' });
    expect(run.status).toBe(303);
    expect(run.location).toBe(job);
    const abort = await form(`${job}/phase`, { PHASE: 'ABORT' });
    expect(abort.status).toBe(303);
    expect(await client.phase(job)).toBe('ABORTED');
    const removed = await form(job, { ACTION: 'DELETE' });
    expect(removed.status).toBe(303);
    expect(removed.location).toBe(`${stack.url}${LIST}`);
    expect((await get(job, BROWSER_ACCEPT)).status).toBe(404);
  });

  test("the job's event stream: phase and progress as they change, then the end", async () => {
    const events = async (path: string) => {
      const started = Date.now();
      const reply = await get(path, 'text/event-stream');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(reply.headers.get('vary')).toBe('Accept');
      const data = reply.text
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map((e) => JSON.parse(e.slice(6)) as { phase: string; percent: number | null; text: string });
      return { data, ms: Date.now() - started, text: reply.text };
    };
    // A finished job: its state once, and the stream ends.
    const finished = await events(done);
    expect(finished.text.startsWith('retry: 2000\n\n')).toBe(true);
    expect(finished.data).toEqual([{ phase: 'COMPLETED', percent: null, text: '' }]);
    // A running one: each change once, the last its final phase.
    const job = await client.create('fixture', { MODE: 'sleep', SECONDS: '2', PHASE: 'RUN' });
    const running = await events(job);
    expect(running.data.at(-1)?.phase).toBe('COMPLETED');
    expect(new Set(running.data.map((d) => JSON.stringify(d))).size).toBe(running.data.length);
    expect(running.data.length).toBeLessThanOrEqual(4);
    // Another owner's or an unknown job: the 404 as for any request.
    expect((await get(`${LIST}/nosuchjob`, 'text/event-stream')).status).toBe(404);
  });

  test('service forms: TAP, cutout, SIA, bulk', async () => {
    const tap = await page('/api/tap?QUERY=SELECT%201');
    expect(tap).toContain('The i-band deep coadd of tract 4431, patch 17');
    expect(tap).toMatch(/<textarea name="QUERY"[^>]*>SELECT 1<\/textarea>/);
    const cutout = await page('/api/cutout?ID=butler://dp02/x&RA=10&DEC=20&RADIUS=0.01');
    expect(cutout).toContain(
      `src="${stack.url}/api/cutout/sync?ID=butler%3A%2F%2Fdp02%2Fx&amp;CIRCLE=10%2020%200.01&amp;RESPONSEFORMAT=image%2Fpng"`,
    );
    expect(cutout).toContain(`href="${stack.url}/api/cutout/sync?ID=butler%3A%2F%2Fdp02%2Fx&amp;CIRCLE=10%2020%200.01"`);
    expect(await page('/api/cutout?ID=x&RA=ten&DEC=20')).toContain('class="problem"');
    expect(await page('/api/sia')).toContain('name="BAND"');
    const bulk = await page('/api/bulk/');
    expect(bulk).toContain(`action="${stack.url}/api/bulk/async"`);
    expect(bulk).toContain('name="UPLOAD" value="positions,param:positions"');
    expect(bulk).toContain('name="PHASE" value="RUN"');
  });

  test('the landing page links the pages', async () => {
    const reply = await get('/', BROWSER_ACCEPT);
    for (const path of ['/api/tap', '/api/cutout', '/api/sia', '/api/bulk', '/api/bulk/async'])
      expect(reply.text).toContain(`href="${stack.url}${path}"`);
  });
});

test('static files: the style sheet and scripts, nothing else', async () => {
  const css = await get('/pages/static/site.css', undefined);
  expect(css.status).toBe(200);
  expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  expect(css.headers.get('x-content-type-options')).toBe('nosniff');
  for (const script of ['common.js', 'job.js', 'manifest.js', 'tap.js', 'sia.js', 'cutout.js']) {
    const reply = await get(`/pages/static/${script}`, undefined);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
  }
  for (const path of ['/pages/static/nope.js', '/pages/static/../router.ts', '/pages/static/%2e%2e/router.ts', '/pages/static/']) {
    expect((await get(path, undefined)).status).toBe(404);
  }
});
