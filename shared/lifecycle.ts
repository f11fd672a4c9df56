/** Process lifecycle shared by the entry points: start, then stop cleanly on SIGINT/SIGTERM. */
import { ConfigError, loadConfig, type Config } from './config';
import type { Logger } from './log';

/**
 * The configuration, or exit 2 with one line naming the variable when the environment is one
 * the process must not run with (e.g. AUTH_TOKENS without SIGNING_KEY): no stack trace.
 */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`configuration error: ${err.message}`);
    process.exit(2);
  }
}

export function runUntilSignal(log: Logger, start: () => Promise<() => Promise<void>>): void {
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void (stop ? stop() : Promise.resolve()).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  // One request's stray promise must not take down a server that holds many others; an
  // uncaught exception may have left state half-changed, so that one still ends the process
  // (npm start restarts it).
  process.on('unhandledRejection', (err: unknown) => log.error({ err }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err: Error) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(70);
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  start().then(
    (s) => {
      stop = s;
      if (stopping) void s().then(() => process.exit(0));
    },
    (err: unknown) => {
      log.fatal({ err }, 'failed to start');
      process.exit(1);
    },
  );
}
