/**
 * /api/files/<path>: dataset files under DATA_DIR by signed URL (shared/datalink/signing.ts).
 * Byte ranges and HEAD are served (Range → 206), the path never leaves DATA_DIR, and a
 * missing, wrong or expired signature is a 403 that says which.
 */
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import { checkSignature } from '../../shared/datalink/signing';
import { containedPath } from '../../shared/uws/files';
import { HttpError, sendFileOr404 } from '../http/errors';
import { queryParams } from '../http/params';

const CONTENT_TYPES: Readonly<Record<string, string>> = { fits: 'application/fits', fit: 'application/fits', fz: 'application/fits' };

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
    const file = containedPath(config.dataDir, relative);
    if (!file) throw new HttpError(404, `no file ${relative}`);
    const extension = relative.slice(relative.lastIndexOf('.') + 1).toLowerCase();
    await sendFileOr404(res, file, CONTENT_TYPES[extension] ?? 'application/octet-stream', `no file ${relative}`);
  });
  return router;
}
