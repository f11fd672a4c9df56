/**
 * The UWS 1.1 job tree of one service, mounted at /api/<service>/async (UWS §2.1, DALI 1.1 §2.1).
 * Containers answer XML; atomic resources plain text. Browsers get pages of the job list, a job
 * and its results instead (api/pages: negotiated on Accept, see api/pages/negotiate.ts), a job
 * asked for with Accept: text/event-stream streams its progress, and a FITS result asked for
 * with RESPONSEFORMAT=image/png or image/jpeg is drawn. Status codes (UWS §2.2.3): create
 * and every change → 303 See Other; unknown job or resource, or another owner's job → 404
 * (the project does not reveal that another owner's job exists); illegal in the current
 * phase → 403; malformed request → 400; over the parameter limits → 413.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Config } from '../../shared/config';
import { DaliError } from '../../shared/dali/errors';
import { FitsError } from '../../shared/fits/errors';
import type { Logger } from '../../shared/log';
import { newJobId } from '../../shared/ids';
import { acceptsParameters, mergeParameters, type JobScope, type UwsEngine } from '../../shared/uws/engine';
import { containedPath, readFull } from '../../shared/storage';
import { removeJobFiles, resultsDir, uploadsDir } from '../../shared/uws/files';
import type { Job, JobParameter, JobResult } from '../../shared/uws/model';
import { isActive, isPhase, type Phase } from '../../shared/uws/phase';
import type { WaitHub } from '../../shared/uws/wait';
import { ParameterError, plainErrorDocument, type ResultBody, type UwsService } from '../../shared/uws/service';
import { isoTime, parseIsoTime } from '../../shared/uws/time';
import {
  contentTypeOf,
  parseDisplayParams,
  previewFormatOf,
  previewOfFits,
  type DisplayOptions,
  type PreviewFormat,
} from '../../shared/preview';
import { jobListXml, jobXml, parametersXml, parameterValue, resultsXml, type JobUrls } from '../../shared/uws/xml';
import { ownerOf } from '../auth';
import { HttpError, sendDocument, sendFileOr404, sendValue } from '../http/errors';
import {
  keepUploads,
  parameterBytes,
  paramLimits,
  readParams,
  readText,
  uploadParameters,
  type RequestParams,
  type UploadedFile,
} from '../http/params';
import { baseUrl } from '../http/base-url';
import { parseRange } from '../http/range';
import { pageContext, sendPage } from '../pages/html';
import { wantsEvents, wantsPage } from '../pages/negotiate';
import {
  isFitsType,
  jobListPage,
  jobPage,
  progressView,
  RESULTS_ON_JOB_PAGE,
  RESULTS_PER_PAGE,
  resultsPage,
  resultsPageOf,
} from '../pages/uws';
import { ResultsCache } from './results-cache';

/** Job-control parameters of UWS, not passed on to the job's parameter list. */
const CONTROL_PARAMETERS = new Set(['PHASE', 'ACTION', 'EXECUTIONDURATION', 'DESTRUCTION']);

const XML_TYPE = 'text/xml; charset=utf-8';

/**
 * Largest FITS result drawn as a picture (GET of a result with RESPONSEFORMAT=image/png or
 * image/jpeg; the pages' thumbnails), bytes: it is read whole and drawn in the api process,
 * so the budget bounds both the memory and the time taken from other requests. Larger is a 413.
 */
export const PREVIEW_MAX_BYTES = 16 * 2 ** 20;

/**
 * Largest side of such a picture, pixels (a larger PREVIEW_SIZE, or none, is reduced to it):
 * drawing a 16 MiB result at full size would hold the api's event loop ~360 ms, at 512 ~45 ms
 * (2-core AMD EPYC VM). Whole images at larger sizes are DataLink's #preview, drawn by a worker.
 */
export const RESULT_PICTURE_MAX_SIDE = 512;

/**
 * A job's event stream (GET of the job with Accept: text/event-stream, the job page's live
 * progress bar): the job is read at most once a second (woken at once by a phase change) and
 * sent when its phase or progress has changed; the stream ends when the job leaves the active
 * phases, or after EVENTS_MAX_MS (the browser then reconnects after EVENTS_RETRY_MS).
 */
const EVENTS_INTERVAL_MS = 1000;
const EVENTS_MAX_MS = 10 * 60 * 1000;
const EVENTS_RETRY_MS = 2000;
/** A comment this often keeps proxies from closing a quiet stream. */
const EVENTS_KEEPALIVE_MS = 15000;

export interface UwsRouterDeps {
  config: Config;
  engine: UwsEngine;
  hub: WaitHub;
  service: UwsService;
  log: Logger;
  /** Long jobs' rendered result lists, shared by the api's services (one of its own if absent). */
  resultsCache?: ResultsCache;
}

function nonNegativeInteger(name: string, text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new HttpError(400, `${name} must be a non-negative integer of seconds, not "${text}"`);
  return Number(text);
}

function isoParam(name: string, text: string): number {
  const ms = parseIsoTime(text);
  if (ms === undefined) throw new HttpError(400, `${name} must be an ISO 8601 date-time, not "${text}"`);
  return ms;
}

function phaseParam(text: string): Phase {
  if (!isPhase(text)) throw new HttpError(400, `PHASE=${text} is not a UWS phase`);
  return text;
}

const noJob = (jobId: string) => new HttpError(404, `no job ${jobId}`);

/** `size` bytes of a file from `offset` (a result, possibly inside a pack file). */
async function readSpan(file: string, offset: number, size: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const bytes = Buffer.alloc(size);
    if ((await readFull(handle, bytes, offset)) < size)
      throw Object.assign(new Error('result file is shorter than its record'), { code: 'ENOENT' });
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * A FITS result drawn as a PNG or JPEG picture (shared/preview, with the display parameters
 * parseDisplayParams reads: PREVIEW_SIZE, at most RESULT_PICTURE_MAX_SIDE, STRETCH, CUTS, CMAP). `file` holds the result (at
 * its offset, in a pack). Throws HttpErrors, answered as text/plain: 400 for bad display
 * parameters or a file with nothing to draw, 413 past `maxBytes`, 404 when the file is gone.
 */
export async function resultPicture(
  result: JobResult,
  file: string,
  params: readonly { name: string; value: string }[],
  format: PreviewFormat,
  maxBytes = PREVIEW_MAX_BYTES,
): Promise<Buffer> {
  const usage = (err: unknown) => (err instanceof DaliError || err instanceof FitsError ? new HttpError(400, err.message) : err);
  let options: DisplayOptions;
  try {
    options = parseDisplayParams(params);
  } catch (err) {
    throw usage(err);
  }
  options = { ...options, maxSide: Math.min(options.maxSide ?? RESULT_PICTURE_MAX_SIDE, RESULT_PICTURE_MAX_SIDE) };
  let size: number;
  try {
    size = result.offset === undefined ? (await fs.stat(file)).size : result.size;
  } catch {
    throw new HttpError(404, 'result file not found');
  }
  if (size > maxBytes)
    throw new HttpError(413, `result ${result.id} has ${size} bytes: previews are drawn of results up to ${maxBytes} bytes`);
  let bytes: Buffer;
  try {
    bytes = await readSpan(file, result.offset ?? 0, size);
  } catch {
    throw new HttpError(404, 'result file not found');
  }
  if (!bytes.subarray(0, 9).equals(Buffer.from('SIMPLE  =')))
    throw new HttpError(400, `UsageError: result ${result.id} is not a FITS file`);
  try {
    return await previewOfFits(bytes, options, format);
  } catch (err) {
    throw usage(err);
  }
}

export function uwsRouter(deps: UwsRouterDeps): Router {
  const { config, engine, hub, service, log } = deps;
  const router = express.Router();
  const limits = paramLimits(config);

  const listUrl = (req: Request) => `${baseUrl(config, req)}/api/${service.name}/async`;
  const urls = (req: Request): JobUrls => {
    const list = listUrl(req);
    return { job: (jobId) => `${list}/${jobId}` };
  };
  const resultsCache = deps.resultsCache ?? new ResultsCache(config.uws.resultsCacheBytes);
  /** The job's `<uws:result>` elements for a job document or its results list (long lists kept rendered). */
  const resultElements = (req: Request, job: Job) => resultsCache.elements(job, urls(req).job(job.jobId), () => engine.results(job));
  // 303 with an empty body: clients follow Location (Express's redirect() would negotiate a body).
  const seeOther = (res: Response, location: string) => {
    res.status(303).setHeader('Location', location);
    res.end();
  };

  /** This service's jobs of the caller; of every caller when authentication is off. */
  const scope = (res: Response): JobScope => ({ service: service.name, owner: config.authTokens ? ownerOf(res) : undefined });

  /** The job, if it exists in this service and belongs to the caller; else 404. */
  async function findJob(req: Request, res: Response): Promise<Job> {
    const jobId = String(req.params.jobId);
    const job = await engine.job(jobId, scope(res));
    if (!job) throw noJob(jobId);
    return job;
  }

  /** A POST that sets one job-control value: the caller's job and the (required) value. */
  async function controlRequest(req: Request, res: Response, name: string): Promise<{ job: Job; value: string }> {
    const params = await readParams(req, limits);
    await params.discardFiles();
    const job = await findJob(req, res);
    const value = params.get(name);
    if (value === undefined) throw new HttpError(400, `${name} is missing`);
    return { job, value };
  }

  /**
   * Parameters of a request turned into job parameters (uploads as byReference ones); the
   * uploaded files are moved into the job by keepUploads once everything has been checked.
   */
  function jobParameters(params: RequestParams): JobParameter[] {
    const list: JobParameter[] = params.list.filter((p) => !CONTROL_PARAMETERS.has(p.name)).map((p) => ({ name: p.name, value: p.value }));
    return [...list, ...uploadParameters(params.files)];
  }

  /**
   * The service's own check of the parameters a job would hold (UwsService.validate): uploads
   * are read where they are, in the request's temporary files or the job's directory.
   */
  async function validateParameters(parameters: readonly JobParameter[], files: readonly UploadedFile[], jobId: string): Promise<void> {
    if (!service.validate) return;
    const pending = new Map(files.map((f) => [f.stored, f.path]));
    const upload = async (file: string): Promise<Buffer> => {
      const where = pending.get(file) ?? containedPath(uploadsDir(config.resultsDir, jobId), file);
      if (where === undefined) throw new ParameterError(`no uploaded file ${JSON.stringify(file)}`);
      return fs.readFile(where);
    };
    try {
      await service.validate(parameters, { config, upload });
    } catch (err) {
      if (err instanceof ParameterError) throw new HttpError(err.status, err.message);
      throw err;
    }
  }

  /**
   * What a job would store: at most PARAMS_MAX_COUNT parameters of at most PARAMS_MAX_BYTES
   * of names and values in all (413 otherwise; DALI 1.1 §2.1 lets a service bound them),
   * however many requests built them; and no two uploads in one file.
   */
  function checkStoredParameters(parameters: readonly JobParameter[]): void {
    const { paramsMaxCount, paramsMaxBytes } = config.uws;
    if (parameters.length > paramsMaxCount)
      throw new HttpError(413, `a job holds at most ${paramsMaxCount} parameters; this would make ${parameters.length}`);
    const bytes = parameters.reduce((total, p) => total + parameterBytes(p), 0);
    if (bytes > paramsMaxBytes)
      throw new HttpError(413, `a job's parameters hold at most ${paramsMaxBytes} bytes of names and values; this would make ${bytes}`);
    const files = new Map<string, string>();
    for (const p of parameters) {
      if (!p.file) continue;
      const other = files.get(p.file);
      if (other !== undefined) throw new HttpError(400, `uploads ${other} and ${p.name} would share the file ${p.file}`);
      files.set(p.file, p.name);
    }
  }

  // --- job list (§2.2.2.1) -------------------------------------------------------------
  router.get('/', async (req, res) => {
    const params = await readParams(req, limits);
    const page = wantsPage(req, res);
    // The page's filter form sends its empty fields too: for a page they mean no filter (an
    // empty value from any other client stays the 400 it was).
    const given = (name: string) => {
      const value = params.get(name);
      return page && value?.trim() === '' ? undefined : value;
    };
    const phases = params.getAll('PHASE').map(phaseParam);
    const afterText = given('AFTER');
    const after = afterText === undefined ? undefined : isoParam('AFTER', afterText);
    const lastText = given('LAST');
    let last: number | undefined;
    if (lastText !== undefined) {
      if (!/^\s*\d+\s*$/.test(lastText) || Number(lastText) <= 0)
        throw new HttpError(400, `LAST must be a positive integer, not "${lastText}"`);
      last = Number(lastText);
    }
    const list = await engine.list({ ...scope(res), phases, after, last });
    if (list.kind === 'bounded') {
      // The same request, bounded with LAST (UWS §2.2.2.1).
      const q = req.originalUrl.indexOf('?');
      let search = new URLSearchParams(q >= 0 ? req.originalUrl.slice(q + 1) : '');
      if (page) search = new URLSearchParams([...search].filter(([, value]) => value.trim() !== ''));
      search.append('LAST', String(list.last));
      seeOther(res, `${listUrl(req)}?${search.toString()}`);
      return;
    }
    if (page) {
      sendPage(res, 200, jobListPage(pageContext(config, req, res), service, list.jobs, { phases, last: lastText, after: afterText }));
      return;
    }
    res.type(XML_TYPE).send(jobListXml(list.jobs, urls(req)));
  });

  // --- create (§2.2.3.1) ---------------------------------------------------------------
  router.post('/', async (req, res) => {
    const params = await readParams(req, limits);
    const jobId = newJobId();
    let created = false;
    try {
      // Everything that can refuse the request is checked before a file enters the job's
      // directory.
      const phase = params.get('PHASE');
      if (phase !== undefined && phase.toUpperCase() !== 'RUN') {
        throw new HttpError(400, `PHASE=${phase} cannot be given at creation (only PHASE=RUN)`);
      }
      const duration = params.get('EXECUTIONDURATION');
      const destruction = params.get('DESTRUCTION');
      const executionDuration = duration === undefined ? undefined : nonNegativeInteger('EXECUTIONDURATION', duration);
      const destructionTime = destruction === undefined ? undefined : isoParam('DESTRUCTION', destruction);
      const base = baseUrl(config, req);
      const parameters = jobParameters(params);
      checkStoredParameters(parameters);
      await validateParameters(parameters, params.files, jobId);
      await keepUploads(params.files, uploadsDir(config.resultsDir, jobId));
      const job = await engine.create({
        jobId,
        service: service.name,
        owner: ownerOf(res),
        parameters,
        runId: params.get('RUNID'),
        executionDuration,
        destruction: destructionTime,
        run: phase !== undefined,
        baseUrl: base,
      });
      created = true;
      seeOther(res, urls(req).job(job.jobId));
    } finally {
      // No directory without a job row: the reaper only removes the files of jobs it knows.
      if (!created) await removeJobFiles(config.resultsDir, jobId);
      await params.discardFiles();
    }
  });

  // --- the job (§2.2.1.2 WAIT, §2.2.3.3 delete) -----------------------------------------
  router.get('/:jobId', async (req, res) => {
    const params = await readParams(req, limits);
    if (wantsEvents(req, res)) {
      await streamJob(res, await findJob(req, res));
      return;
    }
    if (wantsPage(req, res)) {
      // A browser is never kept waiting (WAIT is ignored): the page's script follows the job.
      const job = await findJob(req, res);
      const [first, total] = await Promise.all([engine.resultsSlice(job, 0, RESULTS_ON_JOB_PAGE), engine.resultCount(job)]);
      // A bulk batch's manifest is its first result; look it up only when it is not among those read.
      const manifest = first.find((r) => r.id === 'manifest') ?? (total > first.length ? await engine.result(job, 'manifest') : undefined);
      sendPage(res, 200, jobPage(pageContext(config, req, res), service, job, { first, total, manifest }));
      return;
    }
    const waitText = params.get('WAIT');
    if (waitText === undefined) {
      const job = await findJob(req, res);
      res.type(XML_TYPE).send(jobXml(job, await resultElements(req, job), urls(req)));
      return;
    }
    if (!/^\s*-?\d+\s*$/.test(waitText) || Number(waitText) < -1)
      throw new HttpError(400, `WAIT must be -1 or a non-negative integer, not "${waitText}"`);
    const guardText = params.get('PHASE');
    const phase = guardText === undefined ? undefined : phaseParam(guardText);
    const seconds = Number(waitText) === -1 ? config.uws.waitMaxSeconds : Math.min(Number(waitText), config.uws.waitMaxSeconds);
    const jobId = String(req.params.jobId);
    // A client that hangs up ends its wait; it is sent nothing.
    const gone = new AbortController();
    const hangUp = () => gone.abort();
    req.on('close', hangUp);
    let job: Job | undefined;
    try {
      job = await engine.waitForChange(jobId, scope(res), { hub, timeoutMs: seconds * 1000, phase, signal: gone.signal });
    } finally {
      req.off('close', hangUp);
    }
    if (!job) throw noJob(jobId);
    if (req.destroyed) return;
    res.type(XML_TYPE).send(jobXml(job, await resultElements(req, job), urls(req)));
  });

  /**
   * The job's phase and progress as server-sent events (see EVENTS_INTERVAL_MS): `data:` lines
   * of JSON { phase, percent, text } (pages/uws.ts progressView). Progress is not a Redis
   * event, so the job is re-read; a phase change wakes the wait at once (the WAIT hub).
   */
  async function streamJob(res: Response, first: Job): Promise<void> {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.flushHeaders();
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const end = Date.now() + EVENTS_MAX_MS;
    let job: Job | undefined = first;
    let sent = '';
    let lastWrite = Date.now();
    res.write(`retry: ${EVENTS_RETRY_MS}\n\n`);
    while (job && !gone.signal.aborted) {
      const data = JSON.stringify(progressView(job));
      if (data !== sent) {
        res.write(`data: ${data}\n\n`);
        sent = data;
        lastWrite = Date.now();
      } else if (Date.now() - lastWrite >= EVENTS_KEEPALIVE_MS) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      if (!isActive(job.phase) || Date.now() >= end) break;
      const started = Date.now();
      const before: Phase = job.phase;
      job = await engine.waitForChange(job.jobId, scope(res), { hub, timeoutMs: EVENTS_INTERVAL_MS, phase: before, signal: gone.signal });
      // A new phase is sent at once; otherwise never more than one read a second.
      const left = EVENTS_INTERVAL_MS - (Date.now() - started);
      if (job?.phase === before && left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
    // Destroyed meanwhile: the client is told (the page's script then closes the stream).
    if (!job && !gone.signal.aborted) res.write('event: gone\ndata: {}\n\n');
    res.end();
  }

  const deleteJob = async (req: Request, res: Response) => {
    const job = await findJob(req, res);
    await engine.destroy(job);
    seeOther(res, listUrl(req));
  };
  router.delete('/:jobId', deleteJob);
  router.post('/:jobId', async (req, res) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    await findJob(req, res);
    const action = params.get('ACTION');
    if (action === undefined) {
      // DALI 1.1 §2.1: parameters are not accepted at the job URL; and no POST here
      // deletes a job without ACTION=DELETE.
      throw new HttpError(400, "POST to a job needs ACTION=DELETE; change parameters at the job's /parameters");
    }
    if (action.toUpperCase() !== 'DELETE') throw new HttpError(400, `ACTION=${action} is not supported (only DELETE)`);
    await deleteJob(req, res);
  });

  // Atomic values are sent with sendValue: exactly the value, no newline (UWS 1.1 §2.2.1).
  // --- phase (§2.2.3.2) ---------------------------------------------------------------
  router.get('/:jobId/phase', async (req, res) => {
    sendValue(res, (await findJob(req, res)).phase);
  });
  router.post('/:jobId/phase', async (req, res) => {
    const { job, value } = await controlRequest(req, res, 'PHASE');
    const phase = value.toUpperCase();
    if (phase === 'RUN') {
      if ((await engine.run(job)) === 'illegal') throw new HttpError(403, `cannot run a job in phase ${job.phase}`);
    } else if (phase === 'ABORT') {
      const aborted = await engine.abort(job);
      if (!aborted.ok) throw new HttpError(403, `cannot abort a job in phase ${aborted.phase ?? job.phase}`);
    } else {
      throw new HttpError(400, `PHASE must be RUN or ABORT, not "${value}"`);
    }
    seeOther(res, urls(req).job(job.jobId));
  });

  // --- executionduration, destruction, quote, owner (§2.2.3.4–2.2.3.6) -------------------
  router.get('/:jobId/executionduration', async (req, res) => {
    sendValue(res, String((await findJob(req, res)).executionDuration));
  });
  router.post('/:jobId/executionduration', async (req, res) => {
    const { job, value } = await controlRequest(req, res, 'EXECUTIONDURATION');
    const set = await engine.setExecutionDuration(job, nonNegativeInteger('EXECUTIONDURATION', value));
    if (!set.ok) throw new HttpError(403, `the execution duration can only be changed while PENDING (job is ${set.phase})`);
    seeOther(res, urls(req).job(job.jobId));
  });
  router.get('/:jobId/destruction', async (req, res) => {
    sendValue(res, isoTime((await findJob(req, res)).destruction));
  });
  router.post('/:jobId/destruction', async (req, res) => {
    const { job, value } = await controlRequest(req, res, 'DESTRUCTION');
    await engine.setDestruction(job, isoParam('DESTRUCTION', value));
    seeOther(res, urls(req).job(job.jobId));
  });
  router.get('/:jobId/quote', async (req, res) => {
    const job = await findJob(req, res);
    sendValue(res, job.quote === null ? '' : isoTime(job.quote));
  });
  router.get('/:jobId/owner', async (req, res) => {
    sendValue(res, (await findJob(req, res)).owner ?? '');
  });

  // --- error (§2.2.3.7, DALI 1.1 §4.2: returned with 200) ----------------------------------
  router.get('/:jobId/error', async (req, res) => {
    const job = await findJob(req, res);
    if (job.phase !== 'ERROR' || !job.error) throw new HttpError(404, `job ${job.jobId} has no error (phase ${job.phase})`);
    const document = (service.errorDocument ?? plainErrorDocument)(job);
    sendDocument(res, 200, document.contentType, document.body);
  });

  // --- parameters (§2.2.3.8; updates only while PENDING) --------------------------------
  router.get('/:jobId/parameters', async (req, res) => {
    res.type(XML_TYPE).send(parametersXml(await findJob(req, res), urls(req)));
  });
  router.post('/:jobId/parameters', async (req, res) => {
    const params = await readParams(req, limits);
    try {
      const job = await findJob(req, res);
      if (!acceptsParameters(job)) throw new HttpError(403, `parameters can only be changed while PENDING (job is ${job.phase})`);
      const merged = mergeParameters(job.parameters, jobParameters(params));
      checkStoredParameters(merged);
      await validateParameters(merged, params.files, job.jobId);
      await keepUploads(params.files, uploadsDir(config.resultsDir, job.jobId));
      const runId = params.get('RUNID');
      if (!(await engine.setParameters(job, merged, runId)).ok) throw new HttpError(403, 'parameters can only be changed while PENDING');
      seeOther(res, urls(req).job(job.jobId));
    } finally {
      await params.discardFiles();
    }
  });
  router.get('/:jobId/parameters/:name', async (req, res) => {
    const job = await findJob(req, res);
    const name = String(req.params.name).toUpperCase();
    const parameter = job.parameters.find((p) => p.name === name);
    if (!parameter) throw new HttpError(404, `job ${job.jobId} has no parameter ${req.params.name}`);
    if (parameter.byReference && parameter.file) {
      const file = containedPath(uploadsDir(config.resultsDir, job.jobId), parameter.file);
      if (!file) throw new HttpError(404, 'upload not found');
      await sendFileOr404(res, file, 'application/octet-stream', 'upload not found');
      return;
    }
    sendValue(res, parameterValue(urls(req).job(job.jobId), parameter));
  });
  router.put('/:jobId/parameters/:name', async (req, res) => {
    const job = await findJob(req, res);
    if (!acceptsParameters(job)) throw new HttpError(403, `parameters can only be changed while PENDING (job is ${job.phase})`);
    const name = String(req.params.name).toUpperCase();
    if (CONTROL_PARAMETERS.has(name)) throw new HttpError(400, `${name} is a job-control parameter, not a job parameter`);
    const value = await readText(req, config.uws.paramsMaxBytes);
    const merged = mergeParameters(job.parameters, [{ name, value }]);
    checkStoredParameters(merged);
    await validateParameters(merged, [], job.jobId);
    if (!(await engine.setParameters(job, merged, name === 'RUNID' ? value : undefined)).ok)
      throw new HttpError(403, 'parameters can only be changed while PENDING');
    seeOther(res, urls(req).job(job.jobId));
  });

  // --- results (§2.2.3.9) ---------------------------------------------------------------
  router.get('/:jobId/results', async (req, res) => {
    const job = await findJob(req, res);
    if (wantsPage(req, res)) {
      const params = await readParams(req, limits);
      const total = await engine.resultCount(job);
      // Only the page's results are read: a batch may have 100,000.
      const { page } = resultsPageOf(total, Number(params.get('PAGE') ?? '1'));
      const slice = await engine.resultsSlice(job, (page - 1) * RESULTS_PER_PAGE, RESULTS_PER_PAGE);
      sendPage(res, 200, resultsPage(pageContext(config, req, res), service, job, slice, total, page));
      return;
    }
    res.type(XML_TYPE).send(resultsXml(job, await resultElements(req, job), urls(req)));
  });
  router.get('/:jobId/results/:resultId', async (req, res) => {
    const job = await findJob(req, res);
    const result = await engine.result(job, req.params.resultId);
    const file = result && containedPath(resultsDir(config.resultsDir, job.jobId), result.file);
    if (!result || !file) throw new HttpError(404, `job ${job.jobId} has no result ${req.params.resultId}`);
    // Only a query string can ask for a picture; without one nothing is parsed.
    const params = req.originalUrl.includes('?') ? await readParams(req, limits) : undefined;
    const pictureFormat = params?.get('RESPONSEFORMAT');
    const picture = pictureFormat === undefined ? null : previewFormatOf(pictureFormat);
    let body: ResultBody | undefined;
    try {
      body = await service.resultBody?.(job, result, path.dirname(file), config);
    } catch (err) {
      // Its files are gone (the job's attempt was replaced or its files removed): as for a file.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'result file not found');
      throw err;
    }
    if (picture && params) {
      if (body || !isFitsType(result.mimeType))
        throw new HttpError(
          400,
          `UsageError: result ${result.id} is ${result.mimeType}, not a FITS file: it has no ${pictureFormat} preview`,
        );
      const bytes = await resultPicture(result, file, params.list, picture);
      res.status(200).setHeader('Content-Type', contentTypeOf(picture));
      res.setHeader('Content-Length', String(bytes.length));
      res.end(bytes);
      return;
    }
    if (body) {
      await sendBody(req, res, body, result.mimeType);
      return;
    }
    await sendFileOr404(
      res,
      file,
      result.mimeType,
      'result file not found',
      result.offset === undefined ? undefined : { offset: result.offset, size: result.size },
    );
  });

  /**
   * A result the service makes as it is sent (UwsService.resultBody), with one byte range
   * when asked for (a resumed download); bytes go out as the client takes them.
   */
  async function sendBody(req: Request, res: Response, body: ResultBody, contentType: string): Promise<void> {
    // Range applies to GET only (RFC 9110 §14.2): a HEAD is answered for the whole body.
    const range = req.method === 'HEAD' ? ({ kind: 'whole' } as const) : parseRange(req.headers.range, body.size);
    res.setHeader('Content-Type', contentType);
    res.setHeader('Accept-Ranges', 'bytes');
    if (range.kind === 'unsatisfiable') {
      throw new HttpError(416, `range not satisfiable: the result has ${body.size} bytes`, { 'Content-Range': `bytes */${body.size}` });
    }
    if (range.kind === 'range') {
      res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.endInclusive}/${body.size}`);
      res.setHeader('Content-Length', String(range.endInclusive - range.start + 1));
    } else res.setHeader('Content-Length', String(body.size));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      await body.write(res, range.kind === 'range' ? range : undefined, gone.signal);
    } catch (err) {
      // Headers are out: a body cut short must look incomplete to the client, not complete.
      if (!gone.signal.aborted) log.warn({ err, jobId: req.params.jobId }, 'result body failed while being sent');
      res.destroy();
    }
  }

  router.use('/:jobId/{*rest}', async (req, res) => {
    await findJob(req, res);
    throw new HttpError(404, `no resource ${req.path}`);
  });
  return router;
}
