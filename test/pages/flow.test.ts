/**
 * The tutorial's flow by clicks in a real browser (Debian's Chromium through playwright-core)
 * on a real stack serving the demo repository: the landing page; the TAP example query with its
 * row's thumbnail; the row's cutout form with the preview and the FITS; an SIA search with the
 * footprints drawn; a bulk batch from a positions file, its progress bar to 100 % and its
 * manifest as a sortable table; the job list with its phase filters; the results page with
 * thumbnails of the FITS stamps. Each page is saved as a screenshot (docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1, else a temporary directory: helpers.ts SCREENSHOTS).
 *
 * Some steps rest on features of other parts of the service: the DataLink #thumbnail links
 * (TAP and SIA thumbnails), SODA's RESPONSEFORMAT=image/png (the cutout preview) and
 * shared/preview (the thumbnails of FITS results). Those assertions are tests of their own.
 */
import type { Page } from 'playwright-core';
import { positionsInside, TARGET } from '../bulk/helpers';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { describeWithChromium, launchBrowser, naturalSize, screenshot, waitUntil, type Browser } from './helpers';

let fx: TapFixture;
let browser: Browser;
let page: Page;
let base: string;
/** The bulk job's page, once submitted. */
let bulkJob = '';
const POSITIONS = 4;
const BANDS = ['g', 'r'];

describeWithChromium('the tutorial in the browser', () => {
  beforeAll(async () => {
    // Small parts, one at a time: the batch takes several steps, which the progress bar shows.
    fx = await startTapStack({ workers: 1, env: { BULK_PART_STAMPS: '2', BULK_PART_CONCURRENCY: '1' } });
    base = fx.stack.url;
    browser = await launchBrowser();
    page = await browser.newPage();
  }, 120000);
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  /** Clicks what loads another page, and waits for it (its scripts have run by its load event). */
  const go = (selector: string) => Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);

  /** The texts of a table's column, found by its heading. */
  const columnTexts = async (table: string, name: string) => {
    const index = (await page.locator(`${table} thead th`).allTextContents()).indexOf(name);
    if (index < 0) throw new Error(`no column ${name} in ${table}`);
    return page.locator(`${table} tbody tr td:nth-child(${index + 1})`).allTextContents();
  };

  /** Waits until the thumbnails looked up from DataLink have settled (an image or a dash each). */
  const thumbnailsSettled = (scope: string) =>
    waitUntil(page, `document.querySelectorAll(${JSON.stringify(`${scope} .thumbslot`)}).length === 0`);

  test('the landing page links the pages', async () => {
    await page.goto(`${base}/`);
    await screenshot(page, 'home');
    expect(await page.locator('main ul.cards a').allTextContents()).toEqual([
      'TAP query',
      'Cutout',
      'Image search',
      'Bulk cutouts',
      'Jobs',
    ]);
  });

  test('TAP: pick the tutorial example, run it: one row, with a cutout link', async () => {
    await go('main ul.cards >> text=TAP query');
    await page.selectOption('#tap-example', { label: 'The i-band deep coadd of tract 4431, patch 17' });
    expect(await page.inputValue('#tap-query')).toMatch(/lsst_tract = 4431 AND lsst_patch = 17 AND lsst_band = 'i'$/);
    await page.click('button:has-text("Run query")');
    await page.waitForSelector('#tap-count');
    expect(await page.textContent('#tap-count')).toMatch(/^1 row in [\d.]+ s\.$/);
    expect(await page.locator('#tap-result tbody tr').count()).toBe(1);
    expect(await page.locator('#tap-result thead th').first().textContent()).toBe('Preview');
    expect(await page.getAttribute('#tap-result a.cutout-link', 'href')).toMatch(
      /\/api\/cutout\?ID=butler%3A%2F%2Fdp02%2F20d28216-534a-4102-b8a7-1c7f32a9b78c&RA=/,
    );
    // The address keeps the query: the result can be bookmarked.
    expect(new URL(page.url()).searchParams.get('QUERY')).toMatch(/^SELECT \* FROM ivoa\.ObsCore/);
    await thumbnailsSettled('#tap-result').catch(() => undefined);
    await screenshot(page, 'tap');
  }, 60000);

  test('TAP: the row shows its thumbnail (DataLink #thumbnail)', async () => {
    expect(await page.locator('#tap-result tbody tr img.thumb').count()).toBe(1);
    const size = await naturalSize(page, '#tap-result tbody tr img.thumb');
    expect(size.width).toBeGreaterThan(0);
    expect(size.height).toBeGreaterThan(0);
  }, 60000);

  test("cutout: the row's cutout form, around the cluster; the FITS link is the SODA cutout", async () => {
    await go('#tap-result a.cutout-link');
    await page.waitForSelector('input[name="ID"]');
    expect(await page.inputValue('input[name="ID"]')).toBe('butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c');
    await page.fill('input[name="RA"]', String(TARGET.ra));
    await page.fill('input[name="DEC"]', String(TARGET.dec));
    await page.fill('input[name="RADIUS"]', '0.03');
    await go('button:has-text("Cut out")');
    await page.waitForSelector('#cutout-fits');
    const fits = await page.getAttribute('#cutout-fits', 'href');
    expect(fits).toBe(
      `${base}/api/cutout/sync?ID=butler%3A%2F%2Fdp02%2F20d28216-534a-4102-b8a7-1c7f32a9b78c&CIRCLE=${TARGET.ra}%20${TARGET.dec}%200.03`,
    );
    const reply = await page.request.get(fits!);
    expect(reply.status()).toBe(200);
    expect(reply.headers()['content-type']).toBe('application/fits');
    expect((await reply.body()).subarray(0, 9).toString()).toBe('SIMPLE  =');
    await waitUntil(page, `(() => { const i = document.getElementById('cutout-preview'); return i === null || i.complete; })()`);
    await screenshot(page, 'cutout');
  }, 60000);

  test('cutout: the preview (SODA RESPONSEFORMAT=image/png) is drawn', async () => {
    expect(await page.locator('#cutout-error').count()).toBe(0);
    const size = await naturalSize(page, '#cutout-preview');
    expect(size.width).toBeGreaterThan(0);
    expect(size.height).toBeGreaterThan(0);
  }, 60000);

  test('SIA: the images over the cluster in the i band, each footprint drawn around the search circle', async () => {
    await go('header nav >> text=Image search');
    await page.selectOption('select[name="BAND"]', { label: 'i (755 nm)' });
    await go('button:has-text("Search")');
    await page.waitForSelector('#sia-count');
    const rows = await page.locator('#sia-result tbody tr').count();
    expect(rows).toBeGreaterThan(0);
    expect(await page.textContent('#sia-count')).toBe(`${rows} image${rows === 1 ? '' : 's'}.`);
    expect(await page.locator('#sia-result svg polygon').count()).toBe(rows);
    expect(await page.locator('#sia-result svg circle').count()).toBe(1);
    // Every row is an i-band image.
    expect(new Set(await columnTexts('#sia-result', 'lsst_band'))).toEqual(new Set(['i']));
    await thumbnailsSettled('#sia-result').catch(() => undefined);
    await screenshot(page, 'sia');
  }, 60000);

  test('SIA: the images show their thumbnails (DataLink #thumbnail)', async () => {
    expect(await page.locator('#sia-result tbody tr img.thumb').count()).toBe(await page.locator('#sia-result tbody tr').count());
    const size = await naturalSize(page, '#sia-result tbody tr img.thumb');
    expect(size.width).toBeGreaterThan(0);
  }, 60000);

  test('bulk: a positions file submitted with PHASE=RUN lands on the job page; its progress bar reaches 100%', async () => {
    const positions = [TARGET, ...positionsInside(fx.datasets, POSITIONS - 1)];
    const csv = ['id,ra,dec', ...positions.map((p, i) => `t${i + 1},${p.ra},${p.dec}`)].join('\n');
    await go('header nav >> text=Bulk cutouts');
    await page.setInputFiles('input[name="positions"]', { name: 'targets.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    for (const band of ['u', 'g', 'r', 'i', 'z', 'y']) {
      if (BANDS.includes(band)) await page.check(`input[name="BAND"][value="${band}"]`);
      else await page.uncheck(`input[name="BAND"][value="${band}"]`);
    }
    await page.fill('input[name="SIZE"]', '48');
    await page.fill('input[name="RUNID"]', 'tutorial targets');
    await screenshot(page, 'bulk-form');
    await go('button:has-text("Submit the batch")');
    await page.waitForURL(/\/api\/bulk\/async\/[^/?]+$/);
    bulkJob = page.url();
    // The page follows the job (UWS WAIT) and reloads in its new phase.
    await waitUntil(
      page,
      `document.querySelector('h1 .phase')?.textContent === 'COMPLETED'`,
      90000,
      `document.querySelector('h1 .phase')?.textContent + ': ' + document.querySelector('#progress .progress-text')?.textContent`,
    );
    expect(await page.getAttribute('#progress progress', 'value')).toBe('100');
    const stamps = POSITIONS * BANDS.length;
    expect(await page.textContent('#progress .progress-text')).toMatch(new RegExp(`^${stamps} of ${stamps} items \\(100%\\)`));
    expect(await page.textContent('.runid')).toBe('tutorial targets');
    // The files in a table, the FITS stamps in a gallery of thumbnails.
    expect(await page.locator('table.results tbody tr td:first-child').allTextContents()).toEqual(
      expect.arrayContaining(['manifest', 'archive']),
    );
    expect(await page.locator('ul.gallery li').count()).toBe(stamps);
    await screenshot(page, 'bulk-job');
  }, 120000);

  test('bulk: the manifest as a sortable table, one row per position and band', async () => {
    await page.waitForSelector('#manifest-count');
    const rows = POSITIONS * BANDS.length;
    expect(await page.textContent('#manifest-count')).toBe(`${rows} rows: ${rows} ok. Click a heading to sort.`);
    expect(await page.locator('#manifest tbody tr').count()).toBe(rows);
    const column = (name: string) => columnTexts('#manifest', name);
    // Sorting by band: the g rows first, then the r rows; again: reversed.
    await page.click('#manifest thead th:has-text("band")');
    expect(await column('band')).toEqual([...Array(POSITIONS).fill('g'), ...Array(POSITIONS).fill('r')]);
    await page.click('#manifest thead th:has-text("band")');
    expect(await column('band')).toEqual([...Array(POSITIONS).fill('r'), ...Array(POSITIONS).fill('g')]);
    expect(await page.getAttribute('#manifest thead th:has-text("band")', 'aria-sort')).toBe('descending');
    // Numbers sort as numbers.
    await page.click('#manifest thead th:text-is("row")');
    const numbers = (await column('row')).map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    await page.locator('#manifest').scrollIntoViewIfNeeded();
    await screenshot(page, 'manifest');
  }, 60000);

  test('bulk: the stamps show thumbnails (results drawn with RESPONSEFORMAT=image/png)', async () => {
    await page.locator('#manifest tbody tr img.thumb').first().scrollIntoViewIfNeeded();
    const inManifest = await naturalSize(page, '#manifest tbody tr img.thumb');
    expect(inManifest.width).toBeGreaterThan(0);
    await page.goto(`${bulkJob}/results`);
    await page.locator('ul.gallery img.thumb').first().scrollIntoViewIfNeeded();
    const size = await naturalSize(page, 'ul.gallery img.thumb');
    expect(size.width).toBeGreaterThan(0);
    expect(size.width).toBeLessThanOrEqual(128);
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot(page, 'results');
  }, 60000);

  test('the job list: the batch with its phase; the phase filters', async () => {
    await page.goto(`${base}/`);
    await go('header nav >> text=Jobs');
    const id = bulkJob.slice(bulkJob.lastIndexOf('/') + 1);
    expect(await page.locator(`table.jobs a:has-text("${id}")`).count()).toBe(1);
    await page.check('input[name="PHASE"][value="COMPLETED"]');
    await go('button:has-text("Filter")');
    await page.waitForURL(/PHASE=COMPLETED/);
    expect(await page.locator(`table.jobs a:has-text("${id}")`).count()).toBe(1);
    await screenshot(page, 'jobs');
    await page.uncheck('input[name="PHASE"][value="COMPLETED"]');
    await page.check('input[name="PHASE"][value="ERROR"]');
    await go('button:has-text("Filter")');
    await page.waitForURL(/PHASE=ERROR/);
    expect(await page.textContent('main p.empty')).toBe('No jobs match.');
  }, 60000);

  test('no page raised a script error, a CSP violation or a dialog', () => {
    expect(browser.errors).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  });
});
