/**
 * /api/files/<path>: dataset files under DATA_DIR by signed URL (shared/datalink/signing.ts).
 * Byte ranges and HEAD are served (Range → 206, a range beyond the end → 416), the file
 * never leaves DATA_DIR — neither by its path nor through a symbolic link — and a missing,
 * wrong or expired signature is a 403 that says which.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import { checkSignature } from '../../shared/datalink/signing';
import { containedPath } from '../../shared/storage';
import { HttpError, sendFileOr404 } from '../http/errors';
import { queryParams } from '../http/params';

const CONTENT_TYPES: Readonly<Record<string, string>> = { fits: 'application/fits', fit: 'application/fits', fz: 'application/fits' };

/**
 * The real path (every symbolic link resolved) of `file` when it lies inside the real path
 * of `root`, else undefined (also when it does not exist). A link inside DATA_DIR pointing
 * elsewhere (/etc/passwd) passes the lexical check of containedPath, not this one; the real
 * path is what is then served, so the link is not followed a second time.
 */
async function realContainedPath(root: string, file: string): Promise<string | undefined> {
  try {
    const [realRoot, realFile] = await Promise.all([fs.promises.realpath(root), fs.promises.realpath(file)]);
    return realFile.startsWith(realRoot + path.sep) ? realFile : undefined;
  } catch {
    return undefined;
  }
}

export function filesRouter(config: Config): Router {
  const router = express.Router();
  router.get('/{*path}', async (req, res) => {
    const segments = (req.params as { path?: string[] }).path ?? [];
    const relative = segments.join('/');
    const params = queryParams(req);
    const value = (name: string) => params.find((p) => p.name === name)?.value;
    const check = checkSignature(config.signingKey, relative, value('EXPIRES'), value('SIGNATURE'));
    if (check === 'expired') throw new HttpError(403, 'AuthorizationError: this file link has expired; ask DataLink for a new one');
    if (check === 'invalid') throw new HttpError(403, 'AuthorizationError: this file link is not signed by this service');
    const lexical = containedPath(config.dataDir, relative);
    const file = lexical && (await realContainedPath(config.dataDir, lexical));
    if (!file) throw new HttpError(404, `no file ${relative}`);
    const extension = relative.slice(relative.lastIndexOf('.') + 1).toLowerCase();
    await sendFileOr404(res, file, CONTENT_TYPES[extension] ?? 'application/octet-stream', `no file ${relative}`);
  });
  return router;
}
