/**
 * Request parameters from the query string and the body (urlencoded or multipart), in the
 * order given, repeated names kept. DALI 1.1 §3: names are case-insensitive, values are
 * not; names are kept upper-cased. Bodies and uploads are size-limited (413 beyond): the
 * names and values of one request together (query string, urlencoded body and multipart
 * fields, and the names and file names of uploads) are at most PARAMS_MAX_BYTES, the
 * uploaded bytes at most UPLOAD_MAX_BYTES, the parameters at most PARAMS_MAX_COUNT.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import type { Config } from '../../shared/config';
import type { JobParameter } from '../../shared/uws/model';
import { HttpError } from './errors';

export interface Param {
  name: string;
  value: string;
}

export interface UploadedFile {
  /** Upper-cased form field name (the `param:<name>` an UPLOAD refers to). */
  name: string;
  filename: string;
  /** Its file name in a job's uploads directory (uploadFileName of `name`). */
  stored: string;
  /** Temporary path; moved into the job directory when the job is created. */
  path: string;
  size: number;
}

export interface ParamLimits {
  paramsMaxBytes: number;
  uploadMaxBytes: number;
  paramsMaxCount: number;
  /** Where uploaded files are written before a job takes them. */
  uploadTmpDir: string;
}

/** The configured limits (PARAMS_MAX_BYTES, UPLOAD_MAX_BYTES, PARAMS_MAX_COUNT); uploads land in RESULTS_DIR/.uploads. */
export function paramLimits(config: Pick<Config, 'uws' | 'resultsDir'>): ParamLimits {
  return {
    paramsMaxBytes: config.uws.paramsMaxBytes,
    uploadMaxBytes: config.uws.uploadMaxBytes,
    paramsMaxCount: config.uws.paramsMaxCount,
    uploadTmpDir: path.join(config.resultsDir, '.uploads'),
  };
}

export class RequestParams {
  constructor(
    readonly list: readonly Param[],
    readonly files: readonly UploadedFile[] = [],
  ) {}

  /** The first value of a parameter (name case-insensitive), or undefined. */
  get(name: string): string | undefined {
    const upper = name.toUpperCase();
    return this.list.find((p) => p.name === upper)?.value;
  }

  getAll(name: string): string[] {
    const upper = name.toUpperCase();
    return this.list.filter((p) => p.name === upper).map((p) => p.value);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  async discardFiles(): Promise<void> {
    await Promise.all(this.files.map((f) => fs.promises.rm(f.path, { force: true })));
  }
}

/**
 * What a parameter costs of the PARAMS_MAX_BYTES budget: its name and value in UTF-8. Used
 * for a request and for the parameters a job stores (its row holds both).
 */
export function parameterBytes(parameter: { name: string; value: string }): number {
  return Buffer.byteLength(parameter.name) + Buffer.byteLength(parameter.value);
}

/** Longest file name most file systems take (NAME_MAX). */
const NAME_MAX = 255;

/**
 * The file name an upload part named `name` is kept under in a job's uploads directory, or
 * undefined when none can be made of it: `.` and `..` name directories, and an empty or
 * over-long name cannot be created (the part is refused with a 400).
 */
export function uploadFileName(name: string): string | undefined {
  const stored = name.toUpperCase().replace(/[^A-Za-z0-9_.-]/g, '_');
  return stored === '' || stored === '.' || stored === '..' || stored.length > NAME_MAX ? undefined : stored;
}

function fromSearch(search: string, into: Param[]): void {
  for (const [name, value] of new URLSearchParams(search)) into.push({ name: name.toUpperCase(), value });
}

export function queryParams(req: Request): Param[] {
  const params: Param[] = [];
  const q = req.originalUrl.indexOf('?');
  if (q >= 0) fromSearch(req.originalUrl.slice(q + 1), params);
  return params;
}

export function readText(req: Request, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The answer to a request whose parameter names and values together exceed PARAMS_MAX_BYTES. */
function overBudget(limits: ParamLimits): HttpError {
  return new HttpError(413, `parameters larger than ${limits.paramsMaxBytes} bytes in total`);
}

/**
 * Reads a multipart body into `into`; `used` is what the query string already took of the
 * parameter budget. Once the request has failed, the rest of the body is read and dropped
 * (nothing more is kept in memory or on disk) so that the client receives the answer.
 */
async function readMultipart(req: Request, limits: ParamLimits, into: Param[], used: number): Promise<UploadedFile[]> {
  const files: UploadedFile[] = [];
  const writes: Promise<void>[] = [];
  let uploaded = 0;
  let failure: HttpError | undefined;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: {
        fieldSize: limits.paramsMaxBytes,
        fields: limits.paramsMaxCount,
        fileSize: limits.uploadMaxBytes,
        files: limits.paramsMaxCount,
      },
    });
  } catch (err) {
    // A Content-Type without a boundary (RFC 7578 §4.1 requires one): the client's error.
    req.resume();
    throw new HttpError(400, `malformed multipart body: ${(err as Error).message}`);
  }
  await fs.promises.mkdir(limits.uploadTmpDir, { recursive: true });
  const spend = (bytes: number) => {
    used += bytes;
    if (used > limits.paramsMaxBytes) failure ??= overBudget(limits);
  };
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) failure ??= new HttpError(413, `parameter ${name} larger than ${limits.paramsMaxBytes} bytes`);
    const param = { name: name.toUpperCase(), value };
    spend(parameterBytes(param));
    if (!failure) into.push(param);
  });
  parser.on('file', (name, stream, info) => {
    const upper = name.toUpperCase();
    const filename = info.filename ?? name;
    // The part becomes a parameter NAME = file name (UWS shows it byReference).
    spend(parameterBytes({ name: upper, value: filename }));
    const stored = uploadFileName(name);
    if (stored === undefined) failure ??= new HttpError(400, `upload part name ${JSON.stringify(name)} cannot be used as a file name`);
    else if (files.some((f) => f.stored === stored))
      failure ??= new HttpError(
        400,
        `upload parts ${JSON.stringify(name)} and ${JSON.stringify(files.find((f) => f.stored === stored)!.name)} would share the file ${stored}`,
      );
    if (failure || stored === undefined) {
      stream.resume();
      return;
    }
    const file: UploadedFile = {
      name: upper,
      filename,
      stored,
      path: path.join(limits.uploadTmpDir, randomBytes(12).toString('hex')),
      size: 0,
    };
    files.push(file);
    stream.on('data', (chunk: Buffer) => {
      file.size += chunk.length;
      uploaded += chunk.length;
      if (uploaded > limits.uploadMaxBytes) failure ??= new HttpError(413, `uploads larger than ${limits.uploadMaxBytes} bytes`);
    });
    stream.on('limit', () => {
      failure ??= new HttpError(413, `upload ${name} larger than ${limits.uploadMaxBytes} bytes`);
    });
    // Caught here: a broken body fails the file stream too, and an unobserved rejection
    // would take the process down. Done only once the file is closed: a body that breaks
    // while the file is still being opened fails the pipeline first, and the file would
    // appear after its removal below.
    const out = fs.createWriteStream(file.path);
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    writes.push(
      pipeline(stream, out)
        .catch((err: Error) => {
          failure ??= new HttpError(400, `malformed multipart body: ${err.message}`);
        })
        .then(() => closed),
    );
  });
  parser.on('fieldsLimit', () => (failure ??= new HttpError(413, `more than ${limits.paramsMaxCount} parameters`)));
  parser.on('filesLimit', () => (failure ??= new HttpError(413, `more than ${limits.paramsMaxCount} uploads`)));
  try {
    await pipeline(req, parser);
  } catch (err) {
    failure ??= new HttpError(400, `malformed multipart body: ${(err as Error).message}`);
  }
  await Promise.all(writes);
  if (failure) {
    await Promise.all(files.map((f) => fs.promises.rm(f.path, { force: true })));
    throw failure;
  }
  return files;
}

export async function readParams(req: Request, limits: ParamLimits): Promise<RequestParams> {
  const params = queryParams(req);
  let files: UploadedFile[] = [];
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const sum = (list: readonly Param[]) => list.reduce((total, p) => total + parameterBytes(p), 0);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      fromSearch(await readText(req, limits.paramsMaxBytes), params);
    } else if (type.startsWith('multipart/form-data')) {
      files = await readMultipart(req, limits, params, sum(params));
    }
  }
  const discard = () => Promise.all(files.map((f) => fs.promises.rm(f.path, { force: true })));
  // Uploads are parameters too (UWS shows them byReference), so they count.
  if (params.length + files.length > limits.paramsMaxCount) {
    await discard();
    throw new HttpError(413, `more than ${limits.paramsMaxCount} parameters`);
  }
  // Query string and body together (a multipart body was counted as it came, with the
  // names of its uploads, and has already failed if it went over).
  if (sum(params) > limits.paramsMaxBytes) {
    await discard();
    throw overBudget(limits);
  }
  return new RequestParams(params, files);
}

/** The byReference parameters uploaded files become (UWS 1.1 §2.1.11 shows inline uploads so). */
export function uploadParameters(files: readonly UploadedFile[]): JobParameter[] {
  return files.map((file) => ({ name: file.name, value: file.filename, byReference: true, file: file.stored }));
}

/**
 * Moves uploaded files into `dir` (a job's or a sync request's uploads directory) and
 * returns them as byReference parameters, as UWS shows inline uploads.
 */
export async function keepUploads(files: readonly UploadedFile[], dir: string): Promise<JobParameter[]> {
  if (files.length === 0) return [];
  await fs.promises.mkdir(dir, { recursive: true });
  for (const file of files) await fs.promises.rename(file.path, path.join(dir, file.stored));
  return uploadParameters(files);
}
