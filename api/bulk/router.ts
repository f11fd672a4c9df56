/**
 * The bulk cutout service beside its UWS job tree (/api/bulk/async, the generic UWS router):
 * VOSI /capabilities, which lists the job parameters and publishes the service's limits,
 * and /availability. No IVOA standard defines bulk batches, so the capability has no
 * standardID (VOResource 1.1 allows that) and its interface is not a standard one.
 */
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import { supportCapabilities, type Capability, type InputParam } from '../../shared/vosi';
import { protocolErrorHandler } from '../http/errors';
import { sendSodaError } from '../soda/router';
import { vosiRoutes } from '../vosi';
import { servicePage } from '../pages/router';
import { bulkPage } from '../pages/services';

/** The limits as the capability publishes them: environment variable and value. */
export function bulkLimits(config: Pick<Config, 'bulk' | 'cutoutMaxPixels'>): [string, number][] {
  const { bulk } = config;
  return [
    ['BULK_MAX_ROWS', bulk.maxRows],
    ['BULK_MAX_POSITIONS', bulk.maxPositions],
    ['BULK_MAX_STAMPS', bulk.maxStamps],
    ['BULK_MAX_BYTES', bulk.maxBytes],
    ['BULK_MAX_JOBS_PER_OWNER', bulk.maxJobsPerOwner],
    ['CUTOUT_MAX_PIXELS', config.cutoutMaxPixels],
  ];
}

function bulkParams(config: Config): InputParam[] {
  const param = (name: string, description: string, use: 'required' | 'optional' = 'optional'): InputParam => ({
    name,
    description,
    use,
    std: false,
  });
  return [
    param('UPLOAD', `positions,param:<part> or positions,https://…: a VOTable, CSV or TSV of at most ${config.bulk.maxRows} rows`),
    param('POSITION', `<ra> <dec> in degrees, repeatable up to ${config.bulk.maxPositions} times (instead of UPLOAD)`),
    param('RA_COL', 'The right ascension column of the table (default ra, s_ra or the UCD pos.eq.ra;meta.main)'),
    param('DEC_COL', 'The declination column of the table (default dec, s_dec or the UCD pos.eq.dec;meta.main)'),
    param('ID_COL', 'The id column of the table (default id; else the row number)'),
    param('SIZE', 'The side of the square stamps (default 64)'),
    param('SIZE_UNIT', 'pix, arcsec or deg (default pix)'),
    param('BAND', 'A band letter (u g r i z y) or an interval in metres, repeatable (default every band)'),
    param('DPSUBTYPE', 'The ObsCore dataproduct_subtype of the images to cut (default lsst.deepCoadd_calexp)'),
    param('COLLECTION', 'The ObsCore obs_collection of the images (default any)'),
    param('TIME', 'An MJD interval the images must meet (default any)'),
    param('MATCH', 'best (the image holding the position deepest inside) or all (every covering image)'),
    param('EDGE', 'clip, pad (default: NaN and the MASK NO_DATA bit) or skip for stamps off an image edge'),
    param('PLANES', 'IMAGE, MASK, VARIANCE, repeatable or comma-separated (default IMAGE)'),
    param('PACKAGE', 'zip (default), tar or none'),
    param('DRYRUN', 'true: only resolve and plan; the manifest lists every stamp with its image, pixel box and size'),
    param('PREVIEW', 'png or jpeg: a picture of each stamp, in the archive (previews/) and as results preview-<k>'),
    param('RGB', 'Three band letters, red first (e.g. i,r,g): a Lupton colour composite of each row (MATCH=best)'),
    param('STRETCH', "linear, asinh (default), log or sqrt: the pictures' stretch"),
    param('CUTS', "zscale, minmax or p<lo>,<hi> (default p0.5,99.5): the pictures' cuts"),
    param('CMAP', "gray (default), viridis or inferno: the pictures' colour map"),
    param('PREVIEW_SIZE', 'The largest side of the pictures in pixels (block averages, never enlarged)'),
  ];
}

export function bulkRouter(config: Config, log: Logger): Router {
  const router = express.Router();
  // Browsers get the batch form at the service URL; other clients the 404 as before.
  router.get('/', servicePage(config, bulkPage));
  vosiRoutes(router, config, '/api/bulk', (base): Capability[] => [
    {
      description:
        'Bulk multi-position cutout batches: a positions table in; FITS stamps of the ObsCore images covering each position, ' +
        'a manifest and one archive out (UWS 1.1 jobs). Limits: ' +
        bulkLimits(config)
          .map(([name, value]) => `${name}=${value}`)
          .join(', '),
      interfaces: [{ type: 'vs:ParamHTTP', accessURL: `${base}/async`, use: 'full', queryTypes: ['POST'], params: bulkParams(config) }],
    },
    ...supportCapabilities(base),
  ]);
  router.use(protocolErrorHandler(log, sendSodaError));
  return router;
}
