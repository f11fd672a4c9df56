/**
 * SODA 1.0 endpoints beside the UWS job tree (/async is the generic UWS router): /sync
 * (GET and POST, run in a worker; 204 when the cutout holds no pixels), VOSI
 * /capabilities and /availability. Errors are text/plain starting with a SODA 1.0 §5.2 label.
 */
import express, { type Response, type Router } from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/log';
import { SODA_ERROR_CODES } from '../../shared/soda';
import { paramHttpCapability, STANDARD_IDS, supportCapabilities } from '../../shared/vosi';
import { protocolErrorHandler, sendText } from '../http/errors';
import { syncEndpoint, type SyncDispatcher } from '../sync-dispatcher';
import { vosiRoutes } from '../vosi';
import { servicePage } from '../pages/router';
import { cutoutPage } from '../pages/services';

const LABELLED = new RegExp(`^(${SODA_ERROR_CODES.join('|')}):`);

/** SODA's error document: the text, given a label when it has none (§5.2). */
export function sendSodaError(res: Response, status: number, message: string): void {
  const label =
    status === 503
      ? 'ServiceUnavailable'
      : status === 401
        ? 'AuthenticationError'
        : status === 403
          ? 'AuthorizationError'
          : status >= 500
            ? 'Error'
            : 'UsageError';
  sendText(res, status, LABELLED.test(message) ? message : `${label}: ${message}`);
}

export function sodaRouter(config: Config, sync: SyncDispatcher, log: Logger): Router {
  const router = express.Router();
  // Browsers get the cutout form at the service URL; other clients the 404 as before.
  router.get('/', servicePage(config, cutoutPage));
  const runSync = syncEndpoint(config, sync, 'cutout', (r, status, message) => sendSodaError(r, status, message));
  router.get('/sync', runSync);
  router.post('/sync', runSync);
  vosiRoutes(router, config, '/api/cutout', (base) => [
    paramHttpCapability(STANDARD_IDS.sodaSync, `${base}/sync`),
    paramHttpCapability(STANDARD_IDS.sodaAsync, `${base}/async`),
    ...supportCapabilities(base),
  ]);
  router.use(protocolErrorHandler(log, sendSodaError));
  return router;
}
