/**
 * DataLink 1.1 {links} at /api/datalink/links (DALI-sync, GET and POST): a bounded, cheap
 * operation (indexed lookups of at most DATALINK_MAX_IDS identifiers), so it runs in the api.
 * Several IDs are answered in order, their rows consecutive; past the cap the response ends
 * with DALI's overflow indicator (DataLink 1.1 §3.3).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import {
  DATALINK_CONTENT_TYPE,
  DATALINK_FIELDS,
  DATALINK_INFOS,
  linkRows,
  sodaDescriptor,
  type LinkContext,
} from '../../shared/datalink/links';
import type { PreviewKind } from '../../shared/datalink/previews';
import { signedFilePath } from '../../shared/datalink/signing';
import type { Dataset, DatasetLookup } from '../../shared/obscore/lookup';
import { realContainedPath } from '../../shared/storage';
import type { PreviewMaker } from './previews';
import { createWriter, resolveFormat } from '../../shared/votable';
import { readParams, paramLimits } from '../http/params';
import { protocolErrorHandler, sendVotableError } from '../http/errors';
import { baseUrl } from '../http/base-url';
import { vosiRoutes } from '../vosi';
import { paramHttpCapability, STANDARD_IDS, supportCapabilities } from '../../shared/vosi';

/**
 * The sizes of the cached pictures of each dataset file (by its path under DATA_DIR); those
 * not cached are rendered now, waiting at most DATALINK_PREVIEW_WAIT_MS for them all: those
 * done by then are listed with their size, the others without, and finish in the background
 * (the next request has them).
 */
async function pictureSizes(
  datasets: readonly (Dataset | undefined)[],
  config: Config,
  previews: PreviewMaker,
  log: Logger,
): Promise<Map<string, Record<PreviewKind, number | null>>> {
  const sizes = new Map<string, Record<PreviewKind, number | null>>();
  const files = new Map<string, string>();
  for (const dataset of datasets) {
    if (!dataset?.file || files.has(dataset.file)) continue;
    const real = await realContainedPath(config.dataDir, dataset.file);
    if (real) files.set(dataset.file, real);
  }
  const look = async () => {
    const missing: string[] = [];
    for (const [relative, real] of files) {
      const { preview, thumbnail } = await previews.cachedBoth(real);
      sizes.set(relative, { preview: preview?.size ?? null, thumbnail: thumbnail?.size ?? null });
      if (!preview || !thumbnail) missing.push(relative);
    }
    return missing;
  };
  const missing = await look();
  if (missing.length === 0) return sizes;
  const renderings = missing.map((relative) =>
    previews.render(relative, true).catch((err: Error) => log.warn({ err, file: relative }, 'DataLink picture not rendered')),
  );
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.datalinkPreviewWaitMs)));
  await Promise.race([Promise.all(renderings), waited]);
  clearTimeout(timer);
  await look();
  return sizes;
}

export function datalinkRouter(config: Config, lookup: DatasetLookup, previews: PreviewMaker, log: Logger): Router {
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
    const datasets = taken.map((id) => lookup.find(id));
    const sizes = await pictureSizes(datasets, config, previews, log);
    const context: LinkContext = {
      fileUrl: (file: string) => base + signedFilePath(config.signingKey, file, expires),
      pictures: (dataset) => (dataset.file ? sizes.get(dataset.file) : undefined),
    };
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
