/** A small UWS and DALI-sync client over scripts/chaos/http.ts, and result verification. */
import { errorMessageOf, phaseOf, query, request, RequestFailed, resultsOf, type ListedResult, type Reply } from './http';
import type { Param } from './recipes';
import { sha256 } from './util';

export const FINAL_PHASES = new Set(['COMPLETED', 'ERROR', 'ABORTED']);

/** Client-side deadline of a request that does not block, ms. */
export const PLAIN_TIMEOUT_MS = 30000;

export interface Api {
  port: number;
  token: string;
}

export class UnexpectedStatus extends Error {
  override name = 'UnexpectedStatus';
  constructor(
    readonly status: number,
    readonly what: string,
    readonly body: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 200)}`);
  }
}

const jobPath = (service: string, id: string) => `/api/${service}/async/${id}`;

/** POST to the job list; the new job's id from the 303's Location. */
export async function createJob(api: Api, service: string, params: readonly Param[], run: boolean): Promise<{ id: string; reply: Reply }> {
  const form = run ? [...params, ['PHASE', 'RUN'] as Param] : [...params];
  const reply = await request(api.port, `/api/${service}/async`, { token: api.token, form, timeoutMs: PLAIN_TIMEOUT_MS });
  const location = reply.headers.location;
  if (reply.status !== 303 || !location) throw new UnexpectedStatus(reply.status, 'create', reply.body.toString());
  const id = location.slice(location.lastIndexOf('/') + 1);
  return { id, reply };
}

export async function setPhase(api: Api, service: string, id: string, phase: 'RUN' | 'ABORT'): Promise<Reply> {
  return request(api.port, `${jobPath(service, id)}/phase`, { token: api.token, form: [['PHASE', phase]], timeoutMs: PLAIN_TIMEOUT_MS });
}

export async function deleteJob(api: Api, service: string, id: string): Promise<Reply> {
  return request(api.port, jobPath(service, id), { token: api.token, method: 'DELETE', timeoutMs: PLAIN_TIMEOUT_MS });
}

export interface JobView {
  status: number;
  phase?: string;
  xml: string;
  ms: number;
}

/** GET the job, blocking up to `wait` seconds while it is still in `inPhase`. */
export async function readJob(api: Api, service: string, id: string, wait?: { seconds: number; inPhase?: string }): Promise<JobView> {
  const q = wait ? `?WAIT=${wait.seconds}${wait.inPhase ? `&PHASE=${wait.inPhase}` : ''}` : '';
  const timeoutMs = wait ? wait.seconds * 1000 + 15000 : PLAIN_TIMEOUT_MS;
  const reply = await request(api.port, `${jobPath(service, id)}${q}`, { token: api.token, timeoutMs });
  const xml = reply.body.toString();
  return { status: reply.status, phase: reply.status === 200 ? phaseOf(xml) : undefined, xml, ms: reply.ms };
}

export interface FetchedResult extends ListedResult {
  sha256: string;
  bytes: number;
}

export interface JobOutcome {
  phase: string;
  error?: string;
  results: FetchedResult[];
}

/** The job's phase, error message and every listed result downloaded (COMPLETED jobs). */
export async function fetchOutcome(api: Api, service: string, id: string): Promise<JobOutcome> {
  const view = await readJob(api, service, id);
  if (view.status !== 200 || !view.phase) throw new UnexpectedStatus(view.status, `read job ${id}`, view.xml);
  const outcome: JobOutcome = { phase: view.phase, results: [] };
  if (view.phase === 'ERROR') outcome.error = errorMessageOf(view.xml);
  if (view.phase !== 'COMPLETED') return outcome;
  // The /results resource and the job document must agree.
  const listReply = await request(api.port, `${jobPath(service, id)}/results`, { token: api.token, timeoutMs: PLAIN_TIMEOUT_MS });
  if (listReply.status !== 200) throw new UnexpectedStatus(listReply.status, `results of ${id}`, listReply.body.toString());
  const listed = resultsOf(listReply.body.toString());
  const inJob = resultsOf(view.xml);
  if (JSON.stringify(listed.map((r) => r.id)) !== JSON.stringify(inJob.map((r) => r.id))) {
    throw new Error(
      `job ${id}: /results lists [${listed.map((r) => r.id).join(',')}], the job document [${inJob.map((r) => r.id).join(',')}]`,
    );
  }
  for (const r of listed) {
    const url = new URL(r.href);
    const reply = await request(api.port, url.pathname + url.search, { token: api.token, timeoutMs: PLAIN_TIMEOUT_MS });
    if (reply.status !== 200) throw new UnexpectedStatus(reply.status, `result ${r.id} of ${id}`, reply.body.toString());
    outcome.results.push({ ...r, sha256: sha256(reply.body), bytes: reply.body.length });
  }
  return outcome;
}

export interface SyncAnswer {
  status: number;
  sha256: string;
  bytes: number;
  contentType?: string;
  body: Buffer;
  ms: number;
}

/** A DALI-sync request (GET or POST). */
export async function syncRequest(
  api: Api,
  service: string,
  params: readonly Param[],
  post: boolean,
  timeoutMs: number,
): Promise<SyncAnswer> {
  const path = `/api/${service}/sync`;
  const reply = post
    ? await request(api.port, path, { token: api.token, form: params, timeoutMs })
    : await request(api.port, `${path}?${query(params)}`, { token: api.token, timeoutMs });
  return {
    status: reply.status,
    sha256: sha256(reply.body),
    bytes: reply.body.length,
    contentType: reply.headers['content-type'],
    body: reply.body,
    ms: reply.ms,
  };
}

export function failureText(err: unknown): string {
  if (err instanceof RequestFailed) return `${err.kind}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
