/**
 * SIA 2.0 at /api/sia: {query} (DALI-sync GET and POST, run in a worker), VOSI
 * /capabilities (standardID ivo://ivoa.net/std/SIA#query-2.0, which pyvo's SIAService looks
 * for) and /availability. Errors are DALI VOTable error documents (SIA 2.0 §2.3).
 */
import express, { type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import { paramHttpCapability, STANDARD_IDS, supportCapabilities } from '../../shared/vosi';
import { syncEndpoint, type SyncDispatcher } from '../sync-dispatcher';
import { protocolErrorHandler, sendVotableError } from '../http/errors';
import { vosiRoutes } from '../vosi';
import { servicePage } from '../pages/router';
import { siaPage } from '../pages/services';

export function siaRouter(config: Config, sync: SyncDispatcher, log: Logger): Router {
  const router = express.Router();
  // Browsers get the search form at the service URL; other clients the 404 as before.
  router.get('/', servicePage(config, siaPage));
  const query = syncEndpoint(config, sync, 'sia', (r, status, message, kind) =>
    sendVotableError(
      r,
      status,
      kind === 'usage' || /^[A-Za-z]+Fault: /.test(message)
        ? message
        : `${kind === 'unavailable' ? 'TransientFault' : 'FatalFault'}: ${message}`,
    ),
  );
  router.get('/query', query);
  router.post('/query', query);
  vosiRoutes(router, config, '/api/sia', (base) => [
    paramHttpCapability(STANDARD_IDS.siaQuery, `${base}/query`),
    ...supportCapabilities(base),
  ]);
  router.use(protocolErrorHandler(log, sendVotableError));
  return router;
}
