/**
 * Helpers of the browser page tests: Debian's Chromium driven by playwright-core (headless, a
 * fresh profile each time), a real stack serving the demo repository (test/tap/fixture: its
 * own redis-server, api, worker processes; the fixture services beside the real ones), and
 * screenshots for docs/screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../shared/runtime';
import { inCi } from '../helpers/tools';

/** Debian's package `chromium` (scripts/prerequisites.sh test installs it). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Where the walk-through saves its screenshots: docs/screenshots/ (committed, linked from the
 * README) with UPDATE_SCREENSHOTS=1, else a temporary directory, so that a test run leaves the
 * checkout as it was.
 */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? path.join(PROJECT_ROOT, 'docs', 'screenshots')
  : path.join(os.tmpdir(), 'vo-image-services-screenshots');

/** Small enough for committed PNGs, wide enough for the tables. */
export const VIEWPORT = { width: 1000, height: 700 };

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** describe() for suites that need Chromium: skipped with a message without it, failed with CI=true. */
export function describeWithChromium(name: string, body: () => void): void {
  if (fs.existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  const message = `"${name}" needs Chromium at ${CHROMIUM}: sudo apt-get install -y chromium (or run: bash scripts/prerequisites.sh test)`;
  if (inCi()) {
    describe(name, () => {
      test('needs chromium', () => {
        throw new Error(`CI=true and a tool is missing: ${message}`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! SKIPPED: ${message}. With CI=true this suite fails instead.\n\n`);
  describe.skip(name, body);
}

export interface Browser {
  context: BrowserContext;
  /** Every alert, confirm or prompt a page opened (none should). */
  dialogs: string[];
  /** Uncaught errors of the pages' scripts, and CSP reports in the console. */
  errors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
  });
  const dialogs: string[] = [];
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) errors.push(message.text());
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    dialogs,
    errors,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the viewport as <SCREENSHOTS>/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/**
 * Waits until a JavaScript expression is true in the page. The tests are compiled without the
 * DOM library, so what runs in the page is text; and it is evaluated from here, every 100 ms,
 * because page.waitForFunction compiles text with eval, which the pages' CSP forbids.
 */
export async function waitUntil(page: Page, expression: string, timeoutMs = 30000, state?: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  const check = () =>
    page.evaluate<boolean>(`Boolean(${expression})`).catch((err: Error) => {
      // The page is being replaced (a reload, a form's 303): ask the next one.
      if (/context was destroyed|navigat/i.test(err.message)) return false;
      throw err;
    });
  while (!(await check())) {
    if (Date.now() > end) {
      // What the page showed then (`state`, an expression), to tell a slow server from a stuck page.
      const shown = state === undefined ? '' : `; the page shows ${await page.evaluate<string>(`String(${state})`).catch(() => '?')}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression} in ${page.url()}${shown}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The natural size of an image once it has finished (0×0 when it failed). */
export async function naturalSize(page: Page, selector: string): Promise<{ width: number; height: number }> {
  const img = `document.querySelector(${JSON.stringify(selector)})`;
  await waitUntil(page, `${img} !== null && ${img}.complete`);
  return page.evaluate<{ width: number; height: number }>(`({ width: ${img}.naturalWidth, height: ${img}.naturalHeight })`);
}

/** What a browser sends for a page (Chromium's navigation Accept). */
export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
