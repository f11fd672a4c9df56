/**
 * TAP 1.1 endpoints other than the UWS job tree (/async is the generic UWS router):
 * /sync (DALI-sync GET and POST, run in a worker), VOSI /capabilities, /availability,
 * /tables (and /tables/{name}), and the DALI /examples document. Errors are DALI VOTable
 * error documents (TAP 1.1 §3.3).
 */
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import { PUBLISHED_SCHEMAS, PUBLISHED_TABLES } from '../../shared/obscore/published';
import { TAP_EXAMPLES, tapCapabilitiesXml } from '../../shared/tap/metadata';
import { EXAMPLES_MEDIA_TYPE, examplesXhtml, findTable, tablesetXml, tableXml } from '../../shared/vosi';
import { HttpError, protocolErrorHandler, sendVotableError } from '../http/errors';
import { paramLimits, readParams } from '../http/params';
import { syncEndpoint, type SyncDispatcher } from '../sync-dispatcher';
import { vosiRoutes, XML_TYPE } from '../vosi';
import { servicePage } from '../pages/router';
import { tapPage } from '../pages/services';

export interface TapRouterDeps {
  config: Config;
  sync: SyncDispatcher;
  log: Logger;
}

export function tapRouter(deps: TapRouterDeps): Router {
  const { config, sync, log } = deps;
  const router = express.Router();
  const limits = paramLimits(config);

  // Browsers get the query form at the service URL; other clients the 404 as before.
  router.get('/', servicePage(config, tapPage));

  // TAP 1.1 §2.1: sync accepts GET and POST; the query runs in a worker.
  const runSync = syncEndpoint(config, sync, 'tap', (r, status, message) => sendVotableError(r, status, message));
  router.get('/sync', runSync);
  router.post('/sync', runSync);

  // VOSI 1.1 and DALI 1.1 §2.3 metadata: cheap documents built from the definitions.
  vosiRoutes(router, config, '/api/tap', (base) => tapCapabilitiesXml(base, config));
  router.get('/tables', async (req, res) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    const detail = params.get('DETAIL');
    if (detail !== undefined && detail !== 'min' && detail !== 'max')
      throw new HttpError(400, `DETAIL must be min or max, not "${detail}"`);
    res.type(XML_TYPE).send(tablesetXml(PUBLISHED_SCHEMAS, PUBLISHED_TABLES, { detail }));
  });
  router.get('/tables/:name', (req, res) => {
    const table = findTable(PUBLISHED_TABLES, String(req.params.name));
    if (!table) throw new HttpError(404, `no table ${req.params.name}`);
    res.type(XML_TYPE).send(tableXml(table));
  });
  router.get('/examples', (_req, res) => {
    res.type(EXAMPLES_MEDIA_TYPE).send(examplesXhtml({ title: 'TAP examples: the Rubin image-services tutorial', examples: TAP_EXAMPLES }));
  });

  router.use(protocolErrorHandler(log, sendVotableError));
  return router;
}
