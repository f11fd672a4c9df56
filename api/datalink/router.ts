/**
 * DataLink 1.1 {links} at /api/datalink/links (DALI-sync, GET and POST): a bounded, cheap
 * operation (indexed lookups of at most DATALINK_MAX_IDS identifiers), so it runs in the api.
 * Several IDs are answered in order, their rows consecutive; past the cap the response ends
 * with DALI's overflow indicator (DataLink 1.1 §3.3).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import { DATALINK_CONTENT_TYPE, DATALINK_FIELDS, DATALINK_INFOS, linkRows, sodaDescriptor } from '../../shared/datalink/links';
import { signedFilePath } from '../../shared/datalink/signing';
import type { DatasetLookup } from '../../shared/obscore/lookup';
import { createWriter, resolveFormat } from '../../shared/votable';
import { readParams, paramLimits } from '../http/params';
import { protocolErrorHandler, sendVotableError } from '../http/errors';
import { baseUrl } from '../http/base-url';
import { vosiRoutes } from '../vosi';
import { paramHttpCapability, STANDARD_IDS, supportCapabilities } from '../../shared/vosi';

export function datalinkRouter(config: Config, lookup: DatasetLookup, log: Logger): Router {
  const router = express.Router();
  const limits = paramLimits(config);

  const links = async (req: Request, res: Response) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    const formats = params.getAll('RESPONSEFORMAT');
    if (formats.length > 1) return sendVotableError(res, 400, 'UsageFault: RESPONSEFORMAT must be given once');
    const format = resolveFormat(formats[0]);
    if (!format || (format.format !== 'votable' && format.format !== 'votable-binary2')) {
      return sendVotableError(
        res,
        400,
        `UsageFault: RESPONSEFORMAT=${formats[0]} is not supported (a VOTable: votable, application/x-votable+xml)`,
      );
    }
    const ids = params.getAll('ID');
    const taken = ids.slice(0, config.datalinkMaxIds);
    const base = baseUrl(config, req);
    const expires = Math.floor(Date.now() / 1000) + config.signedUrlTtl;
    const context = { fileUrl: (file: string) => base + signedFilePath(config.signingKey, file, expires) };
    const datasets = taken.map((id) => lookup.find(id));
    const single = taken.length === 1 ? datasets[0] : undefined;
    const descriptors =
      sodaDescriptor('cutout-sync', `${base}/api/cutout/sync`, single) + sodaDescriptor('cutout-async', `${base}/api/cutout/async`, single);

    res.status(200).setHeader('Content-Type', formats[0] === undefined ? DATALINK_CONTENT_TYPE : format.contentType);
    const writer = createWriter(format.format, res);
    await writer.begin([...DATALINK_FIELDS], { infos: [...DATALINK_INFOS], extraResources: descriptors });
    for (const [i, id] of taken.entries()) {
      for (const row of linkRows(id, datasets[i], context)) {
        const wait = writer.row(row);
        if (wait) await wait;
      }
    }
    await writer.end(ids.length > taken.length);
  };
  router.get('/links', links);
  router.post('/links', links);
  vosiRoutes(router, config, '/api/datalink', (base) => [
    paramHttpCapability(STANDARD_IDS.datalinkLinks, `${base}/links`),
    ...supportCapabilities(base),
  ]);
  router.use(protocolErrorHandler(log, sendVotableError));
  return router;
}
