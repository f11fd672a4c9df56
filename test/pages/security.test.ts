/**
 * The pages with AUTH_TOKENS (api/auth.ts): browsers sign in with a token and get a session
 * cookie (HttpOnly, SameSite=Strict, holding no token), which acts only from this origin,
 * expires, and cannot be forged; other clients keep the Bearer header and its 401. Another
 * owner's job is a 404 in the pages too. And every user-supplied text (parameters and their
 * names, RUNID, error messages, the owner, TAP cells, form values) is shown as text: checked in
 * the HTML and in Chromium (no dialog, no injected element, no javascript: link), where the
 * Content-Security-Policy also refuses inline script.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { BrowserSessions, SESSION_TTL_S } from '../../api/auth';
import { escapeXml } from '../../shared/xml';
import { Client, type Reply } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { BROWSER_ACCEPT, describeWithChromium, launchBrowser, screenshot, waitUntil, type Browser } from './helpers';

/** An owner name that is itself an attack on the pages that show it. */
const EVE = `<img src=x onerror=alert('owner')>"'`;
const TOKENS = new Map([
  ['tok-alice', 'alice'],
  ['tok-bob', 'bob'],
  ['tok-eve', EVE],
]);
const SIGNING_KEY = 'pages-security-test-key';
const LIST = '/api/fixture/async';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  'javascript:alert(4)',
  '</script><script>alert(5)</script>',
  '</textarea><script>alert(6)</script>',
];

let fx: TapFixture;
let base: string;
const bearer = (token: string) => new Client(base, { authorization: `Bearer ${token}` });

beforeAll(async () => {
  fx = await startTapStack({
    workers: 1,
    env: { AUTH_TOKENS: [...TOKENS].map(([token, owner]) => `${token}:${owner}`).join(','), SIGNING_KEY },
  });
  base = fx.stack.url;
}, 120000);
afterAll(() => fx?.close());

/** A request as a browser would send it: a page Accept, the session cookie, the fetch metadata. */
function browserRequest(
  method: string,
  path: string,
  options: { cookie?: string; site?: string; origin?: string; form?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { accept: BROWSER_ACCEPT };
  if (options.cookie !== undefined) headers.cookie = `vo_session=${options.cookie}`;
  if (options.site !== undefined) headers['sec-fetch-site'] = options.site;
  if (options.origin !== undefined) headers.origin = options.origin;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  return new Client(base).request(method, path, body, headers);
}

async function signIn(token: string, next = '/'): Promise<{ reply: Reply; cookie: string }> {
  const reply = await browserRequest('POST', '/pages/login', { site: 'same-origin', form: { token, next } });
  const cookie = /^vo_session=([^;]*)/.exec(reply.headers.get('set-cookie') ?? '')?.[1] ?? '';
  return { reply, cookie };
}

describe('browser sessions', () => {
  test('a browser without a session is sent to the sign-in page; other clients get the 401 as before', async () => {
    const page = await browserRequest('GET', `${LIST}?PHASE=COMPLETED`);
    expect(page.status).toBe(303);
    expect(page.location).toBe(`${base}/pages/login?next=%2Fapi%2Ffixture%2Fasync%3FPHASE%3DCOMPLETED`);
    for (const accept of [undefined, '*/*', 'application/xml']) {
      const reply = await new Client(base, accept === undefined ? {} : { accept }).get(LIST);
      expect(reply.status).toBe(401);
      expect(reply.text).toBe('AuthenticationError: this service needs Authorization: Bearer <token>\n');
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="vo-image-services"');
      expect(reply.headers.get('vary')).toBeNull();
      expect(reply.headers.get('set-cookie')).toBeNull();
    }
    // The sign-in page: a token form that comes back to where the browser was going.
    const login = await browserRequest('GET', '/pages/login?next=%2Fapi%2Ffixture%2Fasync');
    expect(login.status).toBe(200);
    expect(login.text).toContain('<input type="hidden" name="next" value="/api/fixture/async">');
    expect(login.text).toContain('type="password" name="token"');
  });

  test('signing in trades a token for a cookie: HttpOnly, SameSite=Strict, 8 hours, no token inside', async () => {
    const { reply, cookie } = await signIn('tok-alice', '/api/fixture/async?PHASE=ERROR');
    expect(reply.status).toBe(303);
    expect(reply.location).toBe(`${base}/api/fixture/async?PHASE=ERROR`);
    expect(reply.headers.get('set-cookie')).toBe(`vo_session=${cookie}; Path=/; Max-Age=${SESSION_TTL_S}; HttpOnly; SameSite=Strict`);
    expect(cookie).toMatch(/^[\w-]{22}\.\d+\.[\w-]{43}$/);
    expect(cookie).not.toContain('tok-alice');
    // Only paths of this service are gone back to.
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      expect((await signIn('tok-alice', next)).reply.location).toBe(`${base}/`);
    }
    const wrong = await signIn('tok-nobody');
    expect(wrong.reply.status).toBe(401);
    expect(wrong.reply.headers.get('set-cookie')).toBeNull();
    expect(wrong.reply.text).toContain('Unknown token.');
  });

  test('sign-in and sign-out forms are taken only from this origin (login CSRF)', async () => {
    const form = { token: 'tok-alice' };
    for (const headers of [{ site: 'cross-site' }, { site: 'same-site' }, { origin: 'http://evil.example' }, {}]) {
      const reply = await browserRequest('POST', '/pages/login', { ...headers, form });
      expect(reply.status).toBe(403);
      expect(reply.headers.get('set-cookie')).toBeNull();
    }
    const byOrigin = await browserRequest('POST', '/pages/login', { origin: base, form });
    expect(byOrigin.status).toBe(303);
    expect(byOrigin.headers.get('set-cookie')).toMatch(/^vo_session=/);
    const out = await browserRequest('POST', '/pages/logout', { site: 'same-origin', form: {} });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toBe('vo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    expect((await browserRequest('POST', '/pages/logout', { site: 'cross-site', form: {} })).headers.get('set-cookie')).toBeNull();
  });

  test('the cookie authenticates pages and documents; what changes something must come from this origin', async () => {
    const { cookie } = await signIn('tok-alice');
    const list = await browserRequest('GET', LIST, { cookie });
    expect(list.status).toBe(200);
    expect(list.text).toContain('Signed in as <b class="owner">alice</b>');
    const xml = await new Client(base, { cookie: `vo_session=${cookie}` }).get(LIST);
    expect(xml.status).toBe(200);
    expect(xml.text).toMatch(/^<\?xml/);
    const create = (headers: { site?: string; origin?: string }) =>
      browserRequest('POST', LIST, { cookie, ...headers, form: { MODE: 'echo', RUNID: 'by cookie' } });
    for (const headers of [{ site: 'cross-site' }, { site: 'same-site' }, { site: 'none' }, { origin: 'http://evil.example' }, {}]) {
      const refused = await create(headers);
      expect(refused.status).toBe(403);
      expect(refused.text).toMatch(/^AuthorizationError: /);
    }
    const made = await create({ site: 'same-origin' });
    expect(made.status).toBe(303);
    expect(await bearer('tok-alice').get(`${made.location!}/owner`)).toMatchObject({ text: 'alice' });
    // The Bearer header needs none of this (no cookie, no CSRF).
    expect((await bearer('tok-alice').post(LIST, { MODE: 'echo' })).status).toBe(303);
  });

  test('forged, altered, expired or revoked sessions are refused', async () => {
    const { cookie } = await signIn('tok-bob');
    const [id, expires, mac] = cookie.split('.') as [string, string, string];
    const flip = (text: string) => text.slice(0, -1) + (text.endsWith('A') ? 'B' : 'A');
    const sessions = new BrowserSessions(TOKENS, SIGNING_KEY);
    const refused = [
      `${id}.${expires}.${flip(mac)}`,
      `${id}.${Number(expires) + 3600}.${mac}`,
      `${flip(id)}.${expires}.${mac}`,
      sessions.create('tok-bob', Date.now() - (SESSION_TTL_S + 1) * 1000), // expired
      new BrowserSessions(TOKENS, 'another key').create('tok-bob'), // SIGNING_KEY changed
      new BrowserSessions(new Map([['tok-gone', 'bob']]), SIGNING_KEY).create('tok-gone'), // token no longer in AUTH_TOKENS
      'tok-bob',
      '',
    ];
    for (const value of refused) {
      expect((await browserRequest('GET', LIST, { cookie: value })).status).toBe(303); // to the sign-in page
      expect((await new Client(base, { cookie: `vo_session=${value}` }).get(LIST)).status).toBe(401);
    }
    expect((await browserRequest('GET', LIST, { cookie: sessions.create('tok-bob') })).status).toBe(200);
  });

  test("another owner's job is a 404 in the pages too, and not in the list", async () => {
    const job = await bearer('tok-alice').create('fixture', { MODE: 'echo', RUNID: 'alice-only', PHASE: 'RUN' });
    await bearer('tok-alice').settle(job);
    const { cookie } = await signIn('tok-bob');
    for (const path of [job, `${job}/results`, `${job}/results/result`, `${job}/results/result?RESPONSEFORMAT=image/png`]) {
      const reply = await browserRequest('GET', path, { cookie });
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
      expect(reply.text).not.toContain('alice');
    }
    const delete_ = await browserRequest('POST', job, { cookie, site: 'same-origin', form: { ACTION: 'DELETE' } });
    expect(delete_.status).toBe(404);
    const list = await browserRequest('GET', LIST, { cookie });
    expect(list.text).not.toContain(job.slice(job.lastIndexOf('/') + 1));
    expect(list.text).not.toContain('alice-only');
    // Alice sees it.
    const { cookie: alice } = await signIn('tok-alice');
    expect((await browserRequest('GET', job, { cookie: alice })).text).toContain('alice-only');
  });
});

describe('hostile values are shown as text', () => {
  let failedJob: string;
  let echoJob: string;
  const hostileName = 'X"><IMG SRC=X ONERROR=ALERT(7)>';

  beforeAll(async () => {
    const eve = bearer('tok-eve');
    const params: [string, string][] = PAYLOADS.map((p, i) => [`P${i}`, p]);
    failedJob = await eve.create('fixture', [
      ['MODE', 'fail'],
      ['MESSAGE', PAYLOADS.join(' ')],
      ['RUNID', PAYLOADS[1]!],
      ['PHASE', 'RUN'],
      ...params,
    ]);
    echoJob = await eve.create('fixture', [
      ['MODE', 'echo'],
      ['RUNID', PAYLOADS[0]!],
      [hostileName, PAYLOADS[4]!],
      ['PHASE', 'RUN'],
      ...params,
    ]);
    await eve.settle(failedJob);
    await eve.settle(echoJob);
  }, 60000);

  test('in the HTML: every payload escaped, none raw', async () => {
    const { cookie } = await signIn('tok-eve');
    const pages = [
      LIST,
      failedJob,
      echoJob,
      `${echoJob}/results`,
      `/api/tap?QUERY=${encodeURIComponent(PAYLOADS[5]!)}`,
      `/api/cutout?ID=${encodeURIComponent(PAYLOADS[1]!)}&RA=1&DEC=2`,
      `/api/sia?RA=${encodeURIComponent(PAYLOADS[1]!)}`,
    ];
    for (const path of pages) {
      const { text } = await browserRequest('GET', path, { cookie });
      expect(text).toContain(`Signed in as <b class="owner">${escapeXml(EVE)}</b>`);
      expect(text).not.toContain(EVE);
      for (const payload of [...PAYLOADS.filter((p) => /[<>"']/.test(p)), hostileName])
        expect({ path, raw: text.includes(payload) }).toEqual({ path, raw: false });
      expect(text).not.toMatch(/<script(?![^>]*\bsrc="[^"]*\/pages\/static\/[a-z]+\.js")/);
      expect(text).not.toMatch(/href="javascript:/i);
    }
    const job = (await browserRequest('GET', failedJob, { cookie })).text;
    expect(job).toContain(`<pre class="errorsummary">${escapeXml(PAYLOADS.join(' '))}</pre>`);
    expect(job).toContain(`<span class="runid">${escapeXml(PAYLOADS[1]!)}</span>`);
    for (const p of PAYLOADS) expect(job).toContain(`<code class="value">${escapeXml(p)}</code>`);
    expect((await browserRequest('GET', echoJob, { cookie })).text).toContain(`<th scope="row">${escapeXml(hostileName)}</th>`);
  });
});

describeWithChromium('in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let attacker: http.Server;
  let attackerPort = 0;
  let failedJob: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
    failedJob = await bearer('tok-eve').create('fixture', [
      ['MODE', 'fail'],
      ['MESSAGE', PAYLOADS.join(' ')],
      ['RUNID', PAYLOADS[1]!],
      ['PHASE', 'RUN'],
      ...PAYLOADS.map((p, i): [string, string] => [`P${i}`, p]),
    ]);
    await bearer('tok-eve').settle(failedJob);
    // Another site's page with a form aimed at this service.
    attacker = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!DOCTYPE html><form method="post" action="${base}${LIST}"><input type="hidden" name="MODE" value="echo">
<input type="hidden" name="RUNID" value="csrf"><input type="hidden" name="PHASE" value="RUN"><button id="go">go</button></form>`);
    });
    // Both loopback addresses (localhost may be ::1).
    await new Promise<void>((resolve) => attacker.listen(0, resolve));
    attackerPort = (attacker.address() as AddressInfo).port;
  }, 60000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  /** What a page must never hold: injected elements, handlers, javascript: links, foreign scripts. */
  async function injected(p: Page): Promise<string[]> {
    return p.evaluate<string[]>(`(() => {
      const found = [];
      for (const e of document.querySelectorAll('img[src="x"], img[src="X"], svg[onload], [onerror], [onload], [onclick]')) found.push(e.outerHTML);
      for (const a of document.querySelectorAll('a[href]')) if (/^\\s*javascript:/i.test(a.getAttribute('href'))) found.push(a.outerHTML);
      for (const s of document.scripts) if (!s.src.startsWith(${JSON.stringify(`${base}/pages/static/`)})) found.push(s.outerHTML);
      return found;
    })()`);
  }

  const bodyText = (p: Page) => p.evaluate<string>('document.body.innerText');

  test('signing in with the form, as an owner whose name is markup', async () => {
    await page.goto(`${base}${LIST}`);
    expect(new URL(page.url()).pathname).toBe('/pages/login');
    await screenshot(page, 'login');
    await page.fill('input[name="token"]', 'tok-eve');
    await page.click('button:has-text("Sign in")');
    await page.waitForURL(`${base}${LIST}`);
    expect(await page.textContent('header .owner')).toBe(EVE);
    expect(await injected(page)).toEqual([]);
    // The cookie is out of reach of scripts.
    expect(await page.evaluate<string>('document.cookie')).toBe('');
  }, 60000);

  test('job list, job and results pages show the payloads as text; nothing runs', async () => {
    for (const path of [LIST, failedJob, `${failedJob}/results`]) {
      await page.goto(path.startsWith('http') ? path : `${base}${path}`);
      await page.waitForLoadState('networkidle');
      expect({ path, injected: await injected(page) }).toEqual({ path, injected: [] });
    }
    await page.goto(failedJob);
    const text = await bodyText(page);
    for (const p of PAYLOADS) expect(text).toContain(p);
    expect(await page.textContent('pre.errorsummary')).toBe(PAYLOADS.join(' '));
    expect(browser.dialogs).toEqual([]);
  }, 60000);

  test('TAP: hostile query text, error messages and cells stay text; a javascript: cell is no link', async () => {
    await page.goto(`${base}/api/tap?QUERY=${encodeURIComponent(`SELECT ${PAYLOADS[5]!}`)}`);
    await page.waitForSelector('#tap-error');
    expect(await page.inputValue('#tap-query')).toBe(`SELECT ${PAYLOADS[5]!}`);
    const query = `SELECT TOP 1 '${PAYLOADS[1]!.replace(/'/g, "''")}' AS evil, '${PAYLOADS[3]!}' AS access_url, '<b>x</b>' AS "<i>name</i>" FROM ivoa.ObsCore`;
    await page.fill('#tap-query', query);
    await page.click('button:has-text("Run query")');
    await page.waitForSelector('#tap-count');
    const cells = await page.locator('#tap-result tbody td').allTextContents();
    expect(cells).toEqual(expect.arrayContaining([PAYLOADS[1], PAYLOADS[3], '<b>x</b>']));
    expect(await page.locator('#tap-result thead th').allTextContents()).toContain('<i>name</i>');
    expect(await injected(page)).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  }, 60000);

  test('the cutout and SIA forms echo hostile values as text', async () => {
    await page.goto(`${base}/api/cutout?ID=${encodeURIComponent(PAYLOADS[1]!)}&RA=1&DEC=2&RADIUS=0.01`);
    expect(await page.inputValue('input[name="ID"]')).toBe(PAYLOADS[1]);
    await waitUntil(page, `document.getElementById('cutout-error') !== null`);
    expect(await injected(page)).toEqual([]);
    await page.goto(`${base}/api/sia?RA=${encodeURIComponent(PAYLOADS[1]!)}&DEC=2`);
    expect(await page.inputValue('input[name="RA"]')).toBe(PAYLOADS[1]);
    expect(await injected(page)).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  }, 60000);

  test('the Content-Security-Policy refuses inline script, even one that gets into the page', async () => {
    await page.goto(`${base}${LIST}`);
    const ran = await page.evaluate<boolean>(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__ran = true';
      document.body.append(s);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__ran = true');
      img.src = 'data:,';
      document.body.append(img);
      return new Promise((resolve) => setTimeout(() => resolve(window.__ran === true), 300));
    })()`);
    expect(ran).toBe(false);
    expect(browser.errors.some((e) => /Content.Security.Policy/i.test(e))).toBe(true);
    browser.errors.length = 0;
  }, 60000);

  test('another site cannot act with the session: cross-site forms carry no cookie, same-site ones are refused', async () => {
    const before = (await bearer('tok-eve').get(LIST)).text;
    // localhost and 127.0.0.1 are different sites: SameSite=Strict keeps the cookie home.
    await page.goto(`http://localhost:${attackerPort}/`);
    await Promise.all([page.waitForNavigation(), page.click('#go')]);
    expect(await bodyText(page)).toMatch(/^AuthenticationError: /);
    // Another port of 127.0.0.1 is the same site (the cookie goes), but not the same origin.
    await page.goto(`http://127.0.0.1:${attackerPort}/`);
    await Promise.all([page.waitForNavigation(), page.click('#go')]);
    expect(await bodyText(page)).toMatch(/^AuthorizationError: /);
    expect((await bearer('tok-eve').get(LIST)).text).toBe(before);
    expect(before).not.toContain('csrf');
  }, 60000);

  test('signing out ends the session', async () => {
    await page.goto(`${base}${LIST}`);
    await Promise.all([page.waitForNavigation(), page.click('header .signout button')]);
    await page.goto(`${base}${LIST}`);
    expect(new URL(page.url()).pathname).toBe('/pages/login');
    expect(browser.dialogs).toEqual([]);
    expect(browser.errors).toEqual([]);
  }, 60000);
});
