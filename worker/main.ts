/** `npm run worker`: one worker process; start as many as there are cores, on any machine. */
import { createLogger } from '../shared/log';
import { UwsEvents } from '../shared/uws/events';
import { loadServices } from '../shared/services';
import { JobStore } from '../shared/uws/store';
import { configOrExit, runUntilSignal } from '../shared/lifecycle';
import { cancellationBuilt } from '../shared/db/cancel';
import { rowEncodersBuilt } from '../shared/votable/native';
import { JobRunner } from './runner';

const config = configOrExit();
const log = createLogger('worker', config.logLevel);
runUntilSignal(log, async () => {
  const store = await JobStore.open(config.databaseUrl);
  const events = new UwsEvents(config.redisUrl, config.queuePrefix);
  const services = loadServices(config);
  const runner = new JobRunner({ config, store, events, services, log });
  await runner.start();
  // Where the encoders were not built (no C++ compiler), large results take 2–3× the CPU.
  const rowEncoders = !config.nativeRows ? 'off (NATIVE_ROWS=0)' : rowEncodersBuilt() ? 'native' : 'not built: JavaScript';
  // Without the cancel extension a stopped query runs on inside SQLite until it ends.
  const cancellation = cancellationBuilt() ? 'statements interrupted' : 'not built: statements run to their end';
  log.info({ services: [...services.keys()], concurrency: config.workerConcurrency, rowEncoders, cancellation }, 'worker ready');
  process.send?.({ ready: true });
  return async () => {
    await runner.stop();
    await events.close();
    await store.close();
  };
});
