/**
 * /api/files/<path>: dataset files under DATA_DIR by signed URL (shared/datalink/signing.ts).
 * Byte ranges and HEAD are served (Range → 206, a range beyond the end → 416), the file
 * never leaves DATA_DIR — neither by its path nor through a symbolic link — and a missing,
 * wrong or expired signature is a 403 that says which. With `preview=preview` or
 * `preview=thumbnail` the same signed URL gives the file's DataLink #preview or #thumbnail
 * picture (PNG; rendered by a worker the first time, then from the cache): a picture of a
 * file is readable by whoever may read the file.
 */
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import { isPreviewKind, PREVIEW_CONTENT_TYPE } from '../../shared/datalink/previews';
import { checkSignature } from '../../shared/datalink/signing';
import { realContainedPath } from '../../shared/storage';
import { HttpError, sendFileOr404 } from '../http/errors';
import { queryParams } from '../http/params';
import type { PreviewMaker } from '../datalink/previews';

const CONTENT_TYPES: Readonly<Record<string, string>> = { fits: 'application/fits', fit: 'application/fits', fz: 'application/fits' };

export function filesRouter(config: Config, previews: PreviewMaker): Router {
  const router = express.Router();
  router.get('/{*path}', async (req, res) => {
    const segments = (req.params as { path?: string[] }).path ?? [];
    const relative = segments.join('/');
    const params = queryParams(req);
    const value = (name: string) => params.find((p) => p.name === name)?.value;
    const check = checkSignature(config.signingKey, relative, value('EXPIRES'), value('SIGNATURE'));
    if (check === 'expired') throw new HttpError(403, 'AuthorizationError: this file link has expired; ask DataLink for a new one');
    if (check === 'invalid') throw new HttpError(403, 'AuthorizationError: this file link is not signed by this service');
    const file = await realContainedPath(config.dataDir, relative);
    if (!file) throw new HttpError(404, `no file ${relative}`);
    const preview = value('PREVIEW');
    if (preview !== undefined) {
      if (!isPreviewKind(preview)) throw new HttpError(400, `UsageError: preview must be preview or thumbnail, not "${preview}"`);
      const entry = await previews.get(relative, file, preview);
      await sendFileOr404(res, entry.file, PREVIEW_CONTENT_TYPE, `no preview of ${relative}`);
      return;
    }
    const extension = relative.slice(relative.lastIndexOf('.') + 1).toLowerCase();
    await sendFileOr404(res, file, CONTENT_TYPES[extension] ?? 'application/octet-stream', `no file ${relative}`);
  });
  return router;
}
