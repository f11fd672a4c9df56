/**
 * VOSI 1.1 support resources of a DAL service: /capabilities (built per request, so its
 * access URLs use the base URL the client used) and /availability: false, with a note for
 * each reason, while the results disk is nearly full (api/disk.ts) or a dependency does not
 * answer (the checks of /readyz, api/operators.ts). Both stay anonymous (api/auth.ts).
 */
import type { Request, Router } from 'express';
import type { Config } from '../shared/config';
import { availabilityXml, capabilitiesXml, type Capability } from '../shared/vosi';
import { lowSpaceMessage, resultsSpace } from './disk';
import { baseUrl } from './http/base-url';
import { failureText, readinessOf } from './operators';

export const XML_TYPE = 'text/xml; charset=utf-8';

/** Mounts both; `capabilities` gets the service's base URL (e.g. http://host/api/cutout). */
export function vosiRoutes(
  router: Router,
  config: Config,
  servicePath: string,
  capabilities: (base: string) => Capability[] | string,
): void {
  const upSince = Date.now();
  const serviceBase = (req: Request) => `${baseUrl(config, req)}${servicePath}`;
  router.get('/capabilities', (req, res) => {
    const document = capabilities(serviceBase(req));
    res.type(XML_TYPE).send(typeof document === 'string' ? document : capabilitiesXml(document));
  });
  router.get('/availability', async (req, res) => {
    const [space, failures] = await Promise.all([resultsSpace(config), readinessOf(req.app)?.failures() ?? []]);
    const notes = [
      ...failures.map((f) => `the service cannot work: ${failureText(f)}`),
      ...(space.low ? [lowSpaceMessage(config, space)] : []),
    ];
    const availability = notes.length > 0 ? { available: false, notes } : { available: true, upSince };
    res.type(XML_TYPE).send(availabilityXml(availability));
  });
}
