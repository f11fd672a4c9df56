/** `npm run api`: the api process alone (several machines share REDIS_URL and DATABASE_URL). */
import { createLogger } from '../shared/log';
import { loadServices } from '../shared/services';
import { ApiServer } from './server';
import { configOrExit, runUntilSignal } from '../shared/lifecycle';

const config = configOrExit();
const log = createLogger('api', config.logLevel);
runUntilSignal(log, async () => {
  const api = await ApiServer.start({ config, services: loadServices(config), log });
  return () => api.close();
});
