/** Structured logs (pino, JSON lines on stdout); one child logger per component. */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component, pid: process.pid } });
}
