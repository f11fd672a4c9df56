/**
 * Owners (UWS 1.1 §3): with AUTH_TOKENS set, every request carries
 * `Authorization: Bearer <token>` and acts as the token's owner; without it the service runs
 * in anonymous single-user mode (owner null). VOSI availability and capabilities stay
 * anonymous, as TAP 1.1 §2 requires, and so do signed file URLs (/api/files).
 */
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './http/errors';

/** VOSI resources; and dataset files, whose signed URL is the authorization. */
const ANONYMOUS_PATHS = /\/(availability|capabilities)\/?$|^\/files\//;

export function ownerOf(res: Response): string | null {
  return (res.locals.owner as string | null | undefined) ?? null;
}

export function authenticate(tokens: ReadonlyMap<string, string> | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.locals.owner = null;
    if (!tokens || ANONYMOUS_PATHS.test(req.path)) {
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="vo-image-services"' };
    if (!match) throw new HttpError(401, 'AuthenticationError: this service needs Authorization: Bearer <token>', challenge);
    const owner = tokens.get(match[1]!);
    if (owner === undefined) throw new HttpError(401, 'AuthenticationError: unknown token', challenge);
    res.locals.owner = owner;
    next();
  };
}
