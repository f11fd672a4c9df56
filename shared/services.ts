/**
 * The application's services: the built-in protocols (TAP, SODA cutouts, SIA), bulk cutout
 * batches, and any listed
 * in SERVICE_MODULES (compiled JS modules exporting `services: UwsService[]`, e.g. the test
 * fixtures). It sits above the protocols and the UWS engine: the application names its
 * services and hands them to the engine; nothing in shared/uws knows a protocol.
 */
import { BULK_SERVICE } from './bulk/service';
import { PREVIEW_SERVICE } from './datalink/service';
import type { Config } from './config';
import { compiledModule } from './runtime';
import { SIA_SERVICE } from './sia/service';
import { CUTOUT_SERVICE } from './soda/service';
import { TAP_SERVICE } from './tap/service';
import type { UwsService } from './uws/service';

export const BUILTIN_SERVICES: readonly UwsService[] = [TAP_SERVICE, CUTOUT_SERVICE, SIA_SERVICE, BULK_SERVICE, PREVIEW_SERVICE];

export function loadServices(config: Pick<Config, 'serviceModules'>, extra: readonly UwsService[] = []): Map<string, UwsService> {
  const services = new Map<string, UwsService>();
  const add = (service: UwsService) => {
    if (!/^[a-z][a-z0-9-]*$/.test(service.name)) throw new Error(`invalid service name ${service.name}`);
    if (services.has(service.name)) throw new Error(`service ${service.name} declared twice`);
    services.set(service.name, { ...service, processorModule: compiledModule(service.processorModule) });
  };
  BUILTIN_SERVICES.forEach(add);
  for (const modulePath of config.serviceModules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(modulePath) as { services?: UwsService[] };
    if (!Array.isArray(loaded.services)) throw new Error(`${modulePath} does not export services`);
    loaded.services.forEach(add);
  }
  extra.forEach(add);
  return services;
}
