/**
 * Free space under RESULTS_DIR. Below RESULTS_MIN_FREE_BYTES the api refuses new work (job
 * creation, sync requests) with 503 in each protocol's own error format, and VOSI
 * availability says the service is unavailable: a full disk would otherwise fail every job
 * with ENOSPC, each leaving half-written files behind. Work already accepted goes on.
 */
import fs from 'node:fs/promises';
import type { RequestHandler } from 'express';
import type { Config } from '../shared/config';
import { sendDocument, sendText, sendVotableError } from './http/errors';

/** statfs is a system call per request otherwise; a second's staleness is harmless. */
const CACHE_MS = 1000;

export interface ResultsSpace {
  /** Bytes free for an unprivileged writer under RESULTS_DIR (undefined: could not tell). */
  free: number | undefined;
  low: boolean;
}

const cache = new Map<string, { at: number; space: Promise<ResultsSpace> }>();

async function measure(config: Pick<Config, 'resultsDir' | 'resultsMinFreeBytes'>): Promise<ResultsSpace> {
  await fs.mkdir(config.resultsDir, { recursive: true });
  try {
    const stats = await fs.statfs(config.resultsDir);
    const free = stats.bavail * stats.bsize;
    return { free, low: free < config.resultsMinFreeBytes };
  } catch {
    return { free: undefined, low: false };
  }
}

export function resultsSpace(config: Pick<Config, 'resultsDir' | 'resultsMinFreeBytes'>, now = Date.now()): Promise<ResultsSpace> {
  const cached = cache.get(config.resultsDir);
  if (cached && now - cached.at < CACHE_MS) return cached.space;
  const space = measure(config);
  cache.set(config.resultsDir, { at: now, space });
  return space;
}

export function lowSpaceMessage(config: Pick<Config, 'resultsMinFreeBytes'>, space: ResultsSpace): string {
  return `the service is not taking new work: ${space.free ?? 0} bytes are free for results, less than the ${config.resultsMinFreeBytes} it needs (RESULTS_MIN_FREE_BYTES); please retry later`;
}

/** Requests that start new work: job creation (POST …/async) and sync requests. */
const NEW_WORK = /^\/api\/([^/]+)\/(async|sync|query)\/?$/;

/** Refuses new work while space is low, with 503 in the protocol's format (DALI, SODA, UWS). */
export function refuseWhenSpaceLow(config: Config): RequestHandler {
  return (req, res, next) => {
    const match = NEW_WORK.exec(req.path);
    if (!match || (match[2] === 'async' && req.method !== 'POST')) return next();
    resultsSpace(config).then((space) => {
      if (!space.low) return next();
      const message = lowSpaceMessage(config, space);
      const [, service, kind] = match;
      res.setHeader('Retry-After', '60');
      if (kind === 'async')
        sendText(res, 503, message); // UWS: plain text
      else if (service === 'cutout')
        sendDocument(res, 503, 'text/plain; charset=utf-8', `ServiceUnavailable: ${message}\n`); // SODA §5.2
      else sendVotableError(res, 503, message); // DALI error document (TAP, SIA)
    }, next);
  };
}
