/**
 * UWS 1.1 XML documents (§3, schema UWS.xsd). Element order follows the schema's
 * JobSummary sequence; required-but-nillable elements are written with xsi:nil when empty,
 * and `<uws:results/>` is always present.
 */
import { escapeXml, XML_DECLARATION } from '../xml';
import type { Job, JobProgress, JobRef, JobParameter, JobResult } from './model';
import { isoTime } from './time';

export const UWS_NS = 'http://www.ivoa.net/xml/UWS/v1.0';
export const XLINK_NS = 'http://www.w3.org/1999/xlink';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const UWS_VERSION = '1.1';

const NAMESPACES = `xmlns:uws="${UWS_NS}" xmlns:xlink="${XLINK_NS}" xmlns:xsi="${XSI_NS}"`;

/** Where a job's sub-resources live, for the xlink:href attributes. */
export interface JobUrls {
  job(jobId: string): string;
}

function nillable(tag: string, value: string | null): string {
  return value === null ? `<uws:${tag} xsi:nil="true"/>` : `<uws:${tag}>${escapeXml(value)}</uws:${tag}>`;
}

function time(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

export function parameterXml(jobUrl: string, parameter: JobParameter): string {
  const byRef = parameter.byReference ? ' byReference="true"' : '';
  return `<uws:parameter id="${escapeXml(parameter.name)}"${byRef}>${escapeXml(parameterValue(jobUrl, parameter))}</uws:parameter>`;
}

/** An inline upload is shown as the URL it can be read back from (UWS §2.1.11). */
export function parameterValue(jobUrl: string, parameter: JobParameter): string {
  return parameter.byReference ? `${jobUrl}/parameters/${encodeURIComponent(parameter.name)}` : parameter.value;
}

export function resultXml(jobUrl: string, result: JobResult): string {
  return (
    `<uws:result id="${escapeXml(result.id)}" xlink:type="simple" ` +
    `xlink:href="${escapeXml(`${jobUrl}/results/${encodeURIComponent(result.id)}`)}" ` +
    `size="${result.size}" mime-type="${escapeXml(result.mimeType)}"/>`
  );
}

function parametersBody(jobUrl: string, parameters: readonly JobParameter[]): string {
  return parameters.map((p) => parameterXml(jobUrl, p)).join('');
}

/** The results' `<uws:result>` elements, their links under `jobUrl`. */
export function resultsBody(jobUrl: string, results: readonly JobResult[]): string {
  return results.map((r) => resultXml(jobUrl, r)).join('');
}

/** A job's results: the list, or its elements already rendered (resultsBody; api/uws/results-cache.ts keeps long lists so). */
export type ResultsOrElements = readonly JobResult[] | string;

function elementsOf(jobUrl: string, results: ResultsOrElements): string {
  return typeof results === 'string' ? results : resultsBody(jobUrl, results);
}

/**
 * The job's progress inside uws:jobInfo (UWS 1.1 §2.1, Job Info: any content): the element names
 * Rubin's TAP service uses (percentComplete, itemsProcessed, totalItems, message), then items
 * ok and failed, bytes written and, while the job runs, the estimated end (ISO 8601).
 */
export function progressXml(job: Pick<Job, 'phase' | 'startTime'>, progress: JobProgress, now = Date.now()): string {
  const { total, ok, failed, bytes, message } = progress;
  const done = total === null ? progress.done : Math.min(progress.done, total);
  const parts = ['<progress>'];
  if (total !== null) parts.push(`<percentComplete>${total === 0 ? 100 : Math.floor((1000 * done) / total) / 10}</percentComplete>`);
  parts.push(`<itemsProcessed>${done}</itemsProcessed>`);
  if (total !== null) parts.push(`<totalItems>${total}</totalItems>`);
  if (message !== null) parts.push(`<message>${escapeXml(message)}</message>`);
  parts.push(`<itemsOk>${ok}</itemsOk><itemsFailed>${failed}</itemsFailed><bytes>${bytes}</bytes>`);
  if (job.phase === 'EXECUTING' && total !== null && done > 0 && done < total && job.startTime !== null) {
    const elapsed = Math.max(0, now - job.startTime);
    parts.push(`<estimatedEnd>${isoTime(now + Math.round((elapsed * (total - done)) / done))}</estimatedEnd>`);
  }
  parts.push('</progress>');
  return parts.join('');
}

/** The job document; `results` are the job's results (kept apart from its row: JobStore.results). */
export function jobXml(job: Job, results: ResultsOrElements, urls: JobUrls): string {
  const jobUrl = urls.job(job.jobId);
  const parts = [
    XML_DECLARATION,
    `<uws:job ${NAMESPACES} version="${UWS_VERSION}">`,
    `<uws:jobId>${escapeXml(job.jobId)}</uws:jobId>`,
    job.runId === null ? '' : `<uws:runId>${escapeXml(job.runId)}</uws:runId>`,
    nillable('ownerId', job.owner),
    `<uws:phase>${job.phase}</uws:phase>`,
    nillable('quote', time(job.quote)),
    `<uws:creationTime>${isoTime(job.creationTime)}</uws:creationTime>`,
    nillable('startTime', time(job.startTime)),
    nillable('endTime', time(job.endTime)),
    `<uws:executionDuration>${job.executionDuration}</uws:executionDuration>`,
    nillable('destruction', isoTime(job.destruction)),
    `<uws:parameters>${parametersBody(jobUrl, job.parameters)}</uws:parameters>`,
    results.length ? `<uws:results>${elementsOf(jobUrl, results)}</uws:results>` : '<uws:results/>',
    job.error
      ? `<uws:errorSummary type="${job.error.type}" hasDetail="true"><uws:message>${escapeXml(job.error.message)}</uws:message></uws:errorSummary>`
      : '',
    job.progress ? `<uws:jobInfo>${progressXml(job, job.progress)}</uws:jobInfo>` : '',
    '</uws:job>',
  ];
  return parts.join('');
}

export function jobListXml(jobs: readonly JobRef[], urls: JobUrls): string {
  const refs = jobs.map(
    (job) =>
      `<uws:jobref id="${escapeXml(job.jobId)}" xlink:type="simple" xlink:href="${escapeXml(urls.job(job.jobId))}">` +
      `<uws:phase>${job.phase}</uws:phase>` +
      (job.runId === null ? '' : `<uws:runId>${escapeXml(job.runId)}</uws:runId>`) +
      nillable('ownerId', job.owner) +
      `<uws:creationTime>${isoTime(job.creationTime)}</uws:creationTime>` +
      '</uws:jobref>',
  );
  return `${XML_DECLARATION}<uws:jobs ${NAMESPACES} version="${UWS_VERSION}">${refs.join('')}</uws:jobs>`;
}

export function resultsXml(job: Job, results: ResultsOrElements, urls: JobUrls): string {
  return `${XML_DECLARATION}<uws:results ${NAMESPACES}>${elementsOf(urls.job(job.jobId), results)}</uws:results>`;
}

export function parametersXml(job: Job, urls: JobUrls): string {
  return `${XML_DECLARATION}<uws:parameters ${NAMESPACES}>${parametersBody(urls.job(job.jobId), job.parameters)}</uws:parameters>`;
}
