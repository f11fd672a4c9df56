/**
 * The pages of a UWS job tree (api/uws/router.ts sends them to browsers): the job list with
 * its phase filters, a job (parameters, phase, times, error, live progress, phase actions and
 * its results) and a job's results. The phase actions are plain forms posting the UWS
 * requests, whose 303 brings the browser back to the job (or, after a delete, the list).
 */
import type { Job, JobParameter, JobRef, JobResult } from '../../shared/uws/model';
import { isActive, PHASES, type Phase } from '../../shared/uws/phase';
import { parameterValue } from '../../shared/uws/xml';
import { esc, formatBytes, renderPage, timeHtml, withQuery, type PageContext } from './html';

/** The form that creates jobs of a service, where there is one. */
const NEW_JOB_PAGE: Readonly<Record<string, string>> = { tap: '/api/tap', cutout: '/api/cutout', bulk: '/api/bulk' };

/** Results shown on a job's page; all of them on the results page, this many per page. */
export const RESULTS_ON_JOB_PAGE = 50;
export const RESULTS_PER_PAGE = 200;
/** Size of the thumbnails of FITS results, pixels. */
const THUMBNAIL_SIZE = 128;

export interface ServiceInfo {
  name: string;
  title: string;
}

function listUrl(ctx: PageContext, service: ServiceInfo): string {
  return `${ctx.base}/api/${service.name}/async`;
}

export function jobUrl(ctx: PageContext, job: Pick<Job, 'service' | 'jobId'>): string {
  return `${ctx.base}/api/${job.service}/async/${job.jobId}`;
}

function resultUrl(url: string, result: JobResult): string {
  return `${url}/results/${encodeURIComponent(result.id)}`;
}

export function isFitsType(mimeType: string): boolean {
  return /^(application|image)\/(x-)?fits\s*(;|$)/i.test(mimeType);
}

function phaseBadge(phase: Phase): string {
  return `<span class="phase phase-${esc(phase.toLowerCase())}">${esc(phase)}</span>`;
}

function serviceLinks(ctx: PageContext, service: ServiceInfo): string {
  const form = NEW_JOB_PAGE[service.name];
  const links = [`<a href="${esc(listUrl(ctx, service))}">All ${esc(service.name)} jobs</a>`];
  if (form) links.push(`<a href="${esc(ctx.base + form)}">New ${esc(service.name)} job</a>`);
  return `<p class="links">${links.join(' · ')}</p>`;
}

// --- job list -------------------------------------------------------------------------------

export interface ListFilter {
  phases: readonly Phase[];
  last?: string;
  after?: string;
}

export function jobListPage(ctx: PageContext, service: ServiceInfo, jobs: readonly JobRef[], filter: ListFilter): string {
  const phaseBoxes = PHASES.map(
    (p) =>
      `<label class="check"><input type="checkbox" name="PHASE" value="${esc(p)}"${filter.phases.includes(p) ? ' checked' : ''}> ${esc(p)}</label>`,
  ).join('');
  const rows = jobs
    .map(
      (j) =>
        `<tr><td><a href="${esc(jobUrl(ctx, { service: service.name, jobId: j.jobId }))}"><code>${esc(j.jobId)}</code></a></td>` +
        `<td>${j.runId === null ? '' : esc(j.runId)}</td><td>${phaseBadge(j.phase)}</td>` +
        (ctx.auth ? `<td>${esc(j.owner ?? '')}</td>` : '') +
        `<td>${timeHtml(j.creationTime)}</td></tr>`,
    )
    .join('\n');
  const table = jobs.length
    ? `<table class="data jobs"><thead><tr><th>Job</th><th>Run ID</th><th>Phase</th>${ctx.auth ? '<th>Owner</th>' : ''}<th>Created</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p class="empty">No jobs match.</p>';
  const services = Object.keys(NEW_JOB_PAGE)
    .map((name) => (name === service.name ? `<b>${esc(name)}</b>` : `<a href="${esc(`${ctx.base}/api/${name}/async`)}">${esc(name)}</a>`))
    .join(' · ');
  const body = `<h1>${esc(service.title)}: jobs</h1>
<p class="links">Job lists: ${services}${NEW_JOB_PAGE[service.name] ? ` · <a href="${esc(ctx.base + NEW_JOB_PAGE[service.name])}">New ${esc(service.name)} job</a>` : ''}</p>
<form class="filters" method="get" action="${esc(listUrl(ctx, service))}">
<fieldset><legend>Phase</legend>${phaseBoxes}</fieldset>
<label>Last <input type="number" name="LAST" min="1" value="${esc(filter.last ?? '')}" placeholder="all"></label>
<label>Created after <input type="text" name="AFTER" value="${esc(filter.after ?? '')}" placeholder="2024-01-01T00:00:00Z"></label>
<button type="submit">Filter</button> <a href="${esc(listUrl(ctx, service))}">Clear</a>
</form>
<p class="count">${jobs.length} job${jobs.length === 1 ? '' : 's'}${ctx.auth ? ' of yours' : ''}, ${filter.last === undefined ? 'oldest first' : 'newest first'}.</p>
${table}`;
  return renderPage(ctx, { title: `${service.title}: jobs`, body, section: 'jobs' });
}

// --- a job ----------------------------------------------------------------------------------

function parameterRow(url: string, p: JobParameter): string {
  // Only this service's own upload URLs are links; a value is never used as a link.
  const value = p.byReference ? `<a href="${esc(parameterValue(url, p))}">uploaded file</a>` : `<code class="value">${esc(p.value)}</code>`;
  return `<tr><th scope="row">${esc(p.name)}</th><td>${value}</td></tr>`;
}

function actionForm(action: string, name: string, value: string, label: string, cls = ''): string {
  return (
    `<form method="post" action="${esc(action)}"><input type="hidden" name="${esc(name)}" value="${esc(value)}">` +
    `<button type="submit"${cls ? ` class="${cls}"` : ''}>${esc(label)}</button></form>`
  );
}

function actions(url: string, job: Job): string {
  const forms: string[] = [];
  if (job.phase === 'PENDING' || job.phase === 'HELD') forms.push(actionForm(`${url}/phase`, 'PHASE', 'RUN', 'Run'));
  if (['PENDING', 'QUEUED', 'EXECUTING', 'HELD', 'SUSPENDED'].includes(job.phase))
    forms.push(actionForm(`${url}/phase`, 'PHASE', 'ABORT', 'Abort'));
  forms.push(actionForm(url, 'ACTION', 'DELETE', 'Delete', 'danger'));
  return `<div class="actions">${forms.join('')}</div>`;
}

/**
 * What the progress bar shows of a job: the percentage (null when the total is not known)
 * and a line of text. The page draws it, and the job's event stream (Accept:
 * text/event-stream, api/uws/router.ts) sends it as it changes.
 */
export interface ProgressView {
  phase: Phase;
  percent: number | null;
  text: string;
}

export function progressView(job: Pick<Job, 'phase' | 'progress'>): ProgressView {
  const p = job.progress;
  // As uws:jobInfo/progress/percentComplete (shared/uws/xml.ts).
  const percent = p && p.total !== null ? (p.total === 0 ? 100 : Math.floor((1000 * Math.min(p.done, p.total)) / p.total) / 10) : null;
  const text = p
    ? `${p.done}${p.total === null ? '' : ` of ${p.total}`} items${percent === null ? '' : ` (${percent}%)`}${p.message ? ` · ${p.message}` : ''}`
    : job.phase === 'PENDING'
      ? 'not started: run the job'
      : job.phase === 'QUEUED'
        ? 'queued: waiting for a worker'
        : job.phase === 'EXECUTING'
          ? 'started'
          : '';
  return { phase: job.phase, percent, text };
}

function progressSection(url: string, job: Job): string {
  if (!job.progress && !isActive(job.phase)) return '';
  const { percent, text } = progressView(job);
  // job.js follows the job with its event stream while it is active.
  return `<section class="progress" id="progress" data-job-url="${esc(url)}" data-phase="${esc(job.phase)}">
<progress max="100"${percent === null ? '' : ` value="${percent}"`}>${percent === null ? '' : `${percent}%`}</progress>
<span class="progress-text">${esc(text)}</span>
</section>`;
}

/**
 * A job's results: the FITS ones as a gallery of thumbnails (each result drawn by the result
 * URL with RESPONSEFORMAT=image/png, lazily as it scrolls into view), the others as a table.
 */
export function resultsHtml(url: string, results: readonly JobResult[]): string {
  if (results.length === 0) return '<p class="empty">No results.</p>';
  const fits = results.filter((r) => isFitsType(r.mimeType));
  const others = results.filter((r) => !isFitsType(r.mimeType));
  const parts: string[] = [];
  if (others.length) {
    const rows = others.map((r) => {
      const href = resultUrl(url, r);
      return `<tr><td><a href="${esc(href)}"><code>${esc(r.id)}</code></a></td><td>${esc(r.mimeType)}</td><td class="num">${esc(formatBytes(r.size))}</td></tr>`;
    });
    parts.push(`<table class="data results"><thead><tr><th>Result</th><th>Type</th><th>Size</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`);
  }
  if (fits.length) {
    const cards = fits.map((r) => {
      const href = resultUrl(url, r);
      const picture = withQuery(href, { RESPONSEFORMAT: 'image/png', PREVIEW_SIZE: String(THUMBNAIL_SIZE) });
      return (
        `<li><a href="${esc(href)}"><img class="thumb" src="${esc(picture)}" loading="lazy" alt="preview of ${esc(r.id)}"></a>` +
        `<span><a href="${esc(href)}"><code>${esc(r.id)}</code></a> ${esc(formatBytes(r.size))}</span></li>`
      );
    });
    parts.push(`<ul class="gallery">
${cards.join('\n')}
</ul>`);
  }
  return parts.join('\n');
}

/**
 * What the job page shows of the results: the first RESULTS_ON_JOB_PAGE, how many there are,
 * and the manifest (a bulk batch's) wherever it is in the list. Read apart from the whole list:
 * a batch may have 100,000 results.
 */
export interface JobPageResults {
  readonly first: readonly JobResult[];
  readonly total: number;
  readonly manifest?: JobResult;
}

export function jobPage(ctx: PageContext, service: ServiceInfo, job: Job, results: JobPageResults): string {
  const url = jobUrl(ctx, job);
  const times = [
    ['Created', timeHtml(job.creationTime)],
    ['Started', timeHtml(job.startTime)],
    ['Ended', timeHtml(job.endTime)],
    ['Execution duration', job.executionDuration === 0 ? 'unlimited' : `${job.executionDuration} s`],
    ['Destruction', timeHtml(job.destruction)],
    ['Quote', timeHtml(job.quote)],
  ];
  if (ctx.auth) times.unshift(['Owner', `<span class="owner">${esc(job.owner ?? '')}</span>`]);
  if (job.runId !== null) times.unshift(['Run ID', `<span class="runid">${esc(job.runId)}</span>`]);
  const error = job.error
    ? `<section class="error"><h2>Error</h2><pre class="errorsummary">${esc(job.error.message)}</pre>
<p><a href="${esc(`${url}/error`)}">Error document</a> (${esc(job.error.type)})</p></section>`
    : '';
  const { manifest, total } = results;
  const shown = results.first.slice(0, RESULTS_ON_JOB_PAGE);
  const more =
    total > shown.length
      ? `<p><a href="${esc(`${url}/results`)}">All ${total} results</a></p>`
      : total
        ? `<p><a href="${esc(`${url}/results`)}">Results page</a></p>`
        : '';
  const manifestSection = manifest
    ? `<section><h2>Manifest</h2><div id="manifest" data-url="${esc(resultUrl(url, manifest))}"><p class="loading">Loading the manifest…</p></div></section>`
    : '';
  const scripts = ['job.js'];
  if (manifest) scripts.push('manifest.js');
  const body = `<h1>Job <code>${esc(job.jobId)}</code> ${phaseBadge(job.phase)}</h1>
${serviceLinks(ctx, service)}
${progressSection(url, job)}
${actions(url, job)}
${error}
<section><h2>Results</h2>
${resultsHtml(url, shown)}
${more}
</section>
${manifestSection}
<div class="summary">
<section><h2>Job</h2><dl class="times">${times.map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${v}</dd>`).join('')}</dl></section>
<section><h2>Parameters</h2>
${job.parameters.length ? `<table class="data params"><tbody>${job.parameters.map((p) => parameterRow(url, p)).join('\n')}</tbody></table>` : '<p class="empty">No parameters.</p>'}
</section>
</div>`;
  return renderPage(ctx, { title: `Job ${job.jobId}`, body, scripts, section: 'jobs' });
}

// --- a job's results ------------------------------------------------------------------------

/** The page of a results list of `total` to show when page `requested` (1-based) is asked for, and how many there are. */
export function resultsPageOf(total: number, requested: number): { page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(total / RESULTS_PER_PAGE));
  return { page: Math.min(Math.max(1, Number.isInteger(requested) ? requested : 1), pages), pages };
}

/** Page `page` (resultsPageOf) of a job's `total` results: `slice` holds that page's. */
export function resultsPage(
  ctx: PageContext,
  service: ServiceInfo,
  job: Job,
  slice: readonly JobResult[],
  total: number,
  page: number,
): string {
  const url = jobUrl(ctx, job);
  const { page: current, pages } = resultsPageOf(total, page);
  const pageLink = (n: number, label: string) => `<a href="${esc(withQuery(`${url}/results`, { PAGE: String(n) }))}">${esc(label)}</a>`;
  const pager =
    pages > 1
      ? `<p class="pager">Page ${current} of ${pages}${current > 1 ? ` · ${pageLink(current - 1, 'previous')}` : ''}${current < pages ? ` · ${pageLink(current + 1, 'next')}` : ''}</p>`
      : '';
  const body = `<h1>Results of job <a href="${esc(url)}"><code>${esc(job.jobId)}</code></a> ${phaseBadge(job.phase)}</h1>
${serviceLinks(ctx, service)}
<p class="count">${total} result${total === 1 ? '' : 's'}.</p>
${pager}
${resultsHtml(url, slice)}
${pager}`;
  return renderPage(ctx, { title: `Results of job ${job.jobId}`, body, section: 'jobs' });
}
