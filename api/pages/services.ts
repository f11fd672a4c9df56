/**
 * The forms of the services, answered to browsers at the service URLs (/api/tap, /api/cutout,
 * /api/sia, /api/bulk): each form sends the protocol's own request, so what a page does a
 * script or pyvo can do with the same parameters. Forms that fill themselves from the query
 * string (TAP, cutout, SIA) submit to their own page with GET, so a result can be bookmarked;
 * the served scripts then run the request and draw its answer.
 */
import { LSST_BANDS } from '../../shared/obscore/bands';
import { TAP_EXAMPLES } from '../../shared/tap/metadata';
import { esc, renderPage, withQuery, type PageContext } from './html';

/** The query-string parameters a form page was opened with (names upper-cased, DALI §3). */
export type FormValues = (name: string) => string | undefined;

/** Where the tutorial looks: the galaxy cluster in tract 4431, patch 17. */
const TARGET = { ra: '55.7467376', dec: '-32.2861552' };

function input(label: string, name: string, value: string | undefined, attrs = ''): string {
  return `<label>${esc(label)} <input name="${esc(name)}" value="${esc(value ?? '')}"${attrs}></label>`;
}

/** TAP: a query box, the tutorial's examples to pick from; tap.js runs it with /sync and shows the table. */
export function tapPage(ctx: PageContext, values: FormValues): string {
  const query = values('QUERY') ?? '';
  const maxrec = values('MAXREC') ?? '100';
  const options = TAP_EXAMPLES.map(
    (e) => `<option value="${esc(e.query ?? '')}"${e.query === query ? ' selected' : ''}>${esc(e.name)}</option>`,
  ).join('\n');
  const body = `<h1>TAP query</h1>
<p>ADQL 2.1 over <code>ivoa.ObsCore</code> and <code>TAP_SCHEMA</code>, run synchronously
(<code>/api/tap/sync</code>). Rows with a DataLink <code>access_url</code> show the dataset's
thumbnail and a link to its cutout form. Long queries: <a href="${esc(`${ctx.base}/api/tap/async`)}">asynchronous jobs</a>.</p>
<form id="tap-form" class="stack" method="get" action="${esc(`${ctx.base}/api/tap`)}">
<div class="row"><label class="grow">Example <select id="tap-example"><option value="">— pick one of the tutorial's queries —</option>
${options}
</select></label>
${input('Max rows', 'MAXREC', maxrec, ' type="number" min="0" id="tap-maxrec"')}</div>
<label>ADQL query <textarea name="QUERY" id="tap-query" rows="4" required spellcheck="false">${esc(query)}</textarea></label>
<div class="row"><button type="submit">Run query</button></div>
</form>
<section id="tap-result" aria-live="polite"></section>`;
  return renderPage(ctx, { title: 'TAP query', body, scripts: ['tap.js'], section: 'tap' });
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** SODA: one dataset and a circle; the preview comes from /sync with RESPONSEFORMAT=image/png, beside the FITS. */
export function cutoutPage(ctx: PageContext, values: FormValues): string {
  const id = values('ID');
  const ra = values('RA');
  const dec = values('DEC');
  const radius = values('RADIUS') ?? '0.03';
  let outcome = '';
  if (id !== undefined || ra !== undefined || dec !== undefined) {
    const [r, d, rad] = [number(ra), number(dec), number(radius)];
    if (!id?.trim()) outcome = '<p class="problem">Give the dataset ID.</p>';
    else if (r === undefined || d === undefined || rad === undefined || rad <= 0 || d < -90 || d > 90)
      outcome = '<p class="problem">RA, Dec and radius must be numbers of degrees (Dec within ±90, radius above 0).</p>';
    else {
      const fits = withQuery(`${ctx.base}/api/cutout/sync`, { ID: id, CIRCLE: `${r} ${d} ${rad}` });
      const png = withQuery(fits, { RESPONSEFORMAT: 'image/png' });
      outcome = `<figure class="cutout" id="cutout">
<img id="cutout-preview" src="${esc(png)}" alt="preview of the cutout">
<figcaption><a id="cutout-fits" href="${esc(fits)}" download>Download the FITS cutout</a> ·
circle of ${esc(String(rad))}° around ${esc(String(r))}, ${esc(String(d))}</figcaption>
</figure>`;
    }
  }
  const body = `<h1>Cutout</h1>
<p>A SODA 1.0 cutout of one dataset: every image plane (IMAGE, MASK, VARIANCE) cut to a circle.
The dataset ID is the <code>obs_publisher_did</code> of a TAP or SIA row.</p>
<form class="stack" method="get" action="${esc(`${ctx.base}/api/cutout`)}">
${input('Dataset ID', 'ID', id, ' required size="60" placeholder="butler://dp02/…"')}
<div class="row">${input('RA (°)', 'RA', ra ?? TARGET.ra, ' required inputmode="decimal"')}
${input('Dec (°)', 'DEC', dec ?? TARGET.dec, ' required inputmode="decimal"')}
${input('Radius (°)', 'RADIUS', radius, ' required inputmode="decimal"')}
<button type="submit">Cut out</button></div>
</form>
${outcome}`;
  return renderPage(ctx, { title: 'Cutout', body, scripts: ['cutout.js'], section: 'cutout' });
}

/** SIA 2.0: position, radius and band; sia.js runs /api/sia/query and draws the footprints. */
export function siaPage(ctx: PageContext, values: FormValues): string {
  const band = values('BAND') ?? '';
  const bands = Object.values(LSST_BANDS)
    .map((b) => {
      // The band's middle: its edges touch the neighbouring bands, which an interval would also match.
      const middle = Number(((b.emMin + b.emMax) / 2).toPrecision(4));
      const value = String(middle);
      return `<option value="${esc(value)}"${value === band ? ' selected' : ''}>${esc(b.name)} (${Math.round(middle * 1e9)} nm)</option>`;
    })
    .join('');
  const body = `<h1>Image search</h1>
<p>SIA 2.0 (<code>/api/sia/query</code>): the images whose footprint overlaps a circle, drawn
around it, each with its thumbnail and a link to its cutout form.</p>
<form id="sia-form" class="stack" method="get" action="${esc(`${ctx.base}/api/sia`)}">
<div class="row">${input('RA (°)', 'RA', values('RA') ?? TARGET.ra, ' required inputmode="decimal"')}
${input('Dec (°)', 'DEC', values('DEC') ?? TARGET.dec, ' required inputmode="decimal"')}
${input('Radius (°)', 'RADIUS', values('RADIUS') ?? '0.05', ' required inputmode="decimal"')}
<label>Band <select name="BAND"><option value="">any</option>${bands}</select></label>
${input('Max rows', 'MAXREC', values('MAXREC') ?? '100', ' type="number" min="1"')}
<button type="submit">Search</button></div>
</form>
<section id="sia-result" aria-live="polite"></section>`;
  return renderPage(ctx, { title: 'Image search', body, scripts: ['sia.js'], section: 'sia' });
}

/** Bulk: a positions file and the batch's choices, posted as a UWS create with PHASE=RUN (303 to the job page). */
export function bulkPage(ctx: PageContext): string {
  const bands = Object.keys(LSST_BANDS)
    .map(
      (b) =>
        `<label class="check"><input type="checkbox" name="BAND" value="${esc(b)}"${b === 'g' || b === 'r' ? ' checked' : ''}> ${esc(b)}</label>`,
    )
    .join('');
  const body = `<h1>Bulk cutouts</h1>
<p>A table of sky positions in; a FITS stamp of every image covering each position in each band
out, with a manifest and one archive. The table is CSV, TSV or a VOTable with a header row:
columns <code>ra</code> and <code>dec</code> in degrees, optionally <code>id</code>,
<code>size</code>, <code>band</code>. For example:</p>
<pre>id,ra,dec
cluster,55.7467376,-32.2861552
north,55.75,-32.20</pre>
<form id="bulk-form" class="stack" method="post" enctype="multipart/form-data" action="${esc(`${ctx.base}/api/bulk/async`)}">
<input type="hidden" name="UPLOAD" value="positions,param:positions">
<label>Positions file <input type="file" name="positions" required accept=".csv,.tsv,.txt,.xml,.vot,text/csv,text/tab-separated-values,application/x-votable+xml"></label>
<fieldset><legend>Bands</legend>${bands}</fieldset>
<div class="row"><label>Stamp size <input type="number" name="SIZE" value="64" min="1" step="any" required></label>
<label>Unit <select name="SIZE_UNIT"><option>pix</option><option>arcsec</option><option>deg</option></select></label>
<label>Archive <select name="PACKAGE"><option>zip</option><option>tar</option><option>none</option></select></label>
${input('Run ID', 'RUNID', undefined, ' placeholder="optional label"')}</div>
<input type="hidden" name="PHASE" value="RUN">
<button type="submit">Submit the batch</button>
</form>
<p class="links"><a href="${esc(`${ctx.base}/api/bulk/async`)}">Your bulk jobs</a></p>`;
  return renderPage(ctx, { title: 'Bulk cutouts', body, section: 'bulk' });
}
