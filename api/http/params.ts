/**
 * Request parameters from the query string and the body (urlencoded or multipart), in the
 * order given, repeated names kept. DALI 1.1 §3: names are case-insensitive, values are
 * not; names are kept upper-cased. Bodies and uploads are size-limited (413 beyond).
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
  constructor(readonly list: readonly Param[], readonly files: readonly UploadedFile[] = []) {}

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

async function readMultipart(req: Request, limits: ParamLimits, into: Param[]): Promise<UploadedFile[]> {
  const files: UploadedFile[] = [];
  const writes: Promise<void>[] = [];
  let uploaded = 0;
  let failure: HttpError | undefined;
  await fs.promises.mkdir(limits.uploadTmpDir, { recursive: true });
  const parser = busboy({
    headers: req.headers,
    limits: { fieldSize: limits.paramsMaxBytes, fields: limits.paramsMaxCount, fileSize: limits.uploadMaxBytes, files: limits.paramsMaxCount },
  });
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) failure ??= new HttpError(413, `parameter ${name} larger than ${limits.paramsMaxBytes} bytes`);
    into.push({ name: name.toUpperCase(), value });
  });
  parser.on('file', (name, stream, info) => {
    const file: UploadedFile = {
      name: name.toUpperCase(),
      filename: info.filename ?? name,
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
    // would take the process down.
    writes.push(
      pipeline(stream, fs.createWriteStream(file.path)).catch((err: Error) => {
        failure ??= new HttpError(400, `malformed multipart body: ${err.message}`);
      }),
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
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      fromSearch(await readText(req, limits.paramsMaxBytes), params);
    } else if (type.startsWith('multipart/form-data')) {
      files = await readMultipart(req, limits, params);
    }
  }
  if (params.length > limits.paramsMaxCount) {
    await Promise.all(files.map((f) => fs.promises.rm(f.path, { force: true })));
    throw new HttpError(413, `more than ${limits.paramsMaxCount} parameters`);
  }
  return new RequestParams(params, files);
}

/**
 * Moves uploaded files into `dir` (a job's or a sync request's uploads directory) and
 * returns them as byReference parameters, as UWS shows inline uploads.
 */
export async function keepUploads(files: readonly UploadedFile[], dir: string): Promise<JobParameter[]> {
  if (files.length === 0) return [];
  await fs.promises.mkdir(dir, { recursive: true });
  const kept: JobParameter[] = [];
  for (const file of files) {
    const stored = file.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    await fs.promises.rename(file.path, path.join(dir, stored));
    kept.push({ name: file.name, value: file.filename, byReference: true, file: stored });
  }
  return kept;
}
