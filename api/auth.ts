/**
 * Owners (UWS 1.1 §3): with AUTH_TOKENS set, every request carries
 * `Authorization: Bearer <token>` and acts as the token's owner; without it the service runs
 * in anonymous single-user mode (owner null). VOSI availability and capabilities stay
 * anonymous, as TAP 1.1 §2 requires, and so do signed file URLs (/api/files).
 *
 * Browsers cannot send a Bearer header when they follow a link, so the sign-in page
 * (/pages/login) trades a token for a session cookie, accepted here instead of the header:
 *   - the cookie holds no token: `<id>.<expiry>.<mac>`, an HMAC under SIGNING_KEY of the token
 *     (id) and of the expiry with the token (mac); it lasts SESSION_TTL_S, ends when its token
 *     leaves AUTH_TOKENS or SIGNING_KEY changes, and cannot be turned back into the token;
 *   - HttpOnly (no script reads it), SameSite=Strict (no request started on another site
 *     carries it, so no cross-site form can act with it), Secure behind https;
 *   - a request that changes something (not GET or HEAD) and is authenticated by the cookie must
 *     also come from this origin (Sec-Fetch-Site, else Origin): SameSite does not tell apart
 *     two origins of one site (another port, a sibling host name).
 * A browser without a session that asks for a page is sent to the sign-in page; every other
 * client gets the 401 as before.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../shared/config';
import { hmac, signature, signatureMatches } from '../shared/datalink/signing';
import { baseUrl } from './http/base-url';
import { HttpError } from './http/errors';
import { acceptPrefersHtml } from './pages/negotiate';

/** VOSI resources; and dataset files, whose signed URL is the authorization. */
const ANONYMOUS_PATHS = /\/(availability|capabilities)\/?$|^\/files\//;

export const SESSION_COOKIE = 'vo_session';
/** How long a browser session lasts, seconds (then the sign-in page again). */
export const SESSION_TTL_S = 8 * 3600;
/** Where browsers sign in (outside /api, so not behind this middleware). */
export const LOGIN_PATH = '/pages/login';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function ownerOf(res: Response): string | null {
  return (res.locals.owner as string | null | undefined) ?? null;
}

/** Sessions of one configuration: the tokens by their id. */
export class BrowserSessions {
  private readonly byId = new Map<string, string>();

  constructor(
    private readonly tokens: ReadonlyMap<string, string>,
    private readonly key: string,
  ) {
    for (const token of tokens.keys()) this.byId.set(this.idOf(token), token);
  }

  private idOf(token: string): string {
    return hmac(this.key, `vo-session-id\0${token}`).slice(0, 22);
  }

  /** What a session's mac signs (shared/datalink/signing.ts, with its expiry). */
  private static subject(id: string, token: string): string {
    return `vo-session\0${id}\0${token}`;
  }

  /** The cookie value of a new session of `token` (which must be one of the tokens). */
  create(token: string, now = Date.now()): string {
    const id = this.idOf(token);
    const expires = Math.floor(now / 1000) + SESSION_TTL_S;
    return `${id}.${expires}.${signature(this.key, BrowserSessions.subject(id, token), expires)}`;
  }

  /** The owner a cookie value stands for, or undefined (malformed, forged, expired, revoked). */
  owner(value: string | undefined, now = Date.now()): string | undefined {
    const match = value === undefined ? null : /^([\w-]{22})\.(\d{1,12})\.([\w-]{43})$/.exec(value);
    if (!match) return undefined;
    const id = match[1]!;
    const token = this.byId.get(id);
    const expires = Number(match[2]);
    if (token === undefined || expires * 1000 <= now) return undefined;
    if (!signatureMatches(this.key, BrowserSessions.subject(id, token), expires, match[3]!)) return undefined;
    return this.tokens.get(token);
  }
}

/** The session cookie's value in a request, if any. */
export function sessionCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie of a session (`value`), or of its removal (undefined). */
export function sessionSetCookie(config: Config, req: Request, value: string | undefined): string {
  const base = new URL(baseUrl(config, req));
  const attributes = [
    `${SESSION_COOKIE}=${value ?? ''}`,
    `Path=${base.pathname.replace(/\/+$/, '') || '/'}`,
    `Max-Age=${value === undefined ? 0 : SESSION_TTL_S}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (base.protocol === 'https:') attributes.push('Secure');
  return attributes.join('; ');
}

/**
 * Whether a request comes from a page of this service's own origin: the browser's
 * Sec-Fetch-Site when sent (every current browser), else its Origin compared with ours.
 */
export function fromOwnOrigin(config: Config, req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  return origin === new URL(baseUrl(config, req)).origin;
}

/** A path of this service to return to after signing in; anything else (another host: an open redirect) is dropped. */
export function localPath(next: string | undefined): string | undefined {
  if (next === undefined || !/^\/(?![/\\])[\x21-\x7e]*$/.test(next)) return undefined;
  return next;
}

export function authenticate(config: Config) {
  const tokens = config.authTokens;
  const sessions = tokens && new BrowserSessions(tokens, config.signingKey);
  return (req: Request, res: Response, next: NextFunction): void => {
    res.locals.owner = null;
    if (!tokens || !sessions || ANONYMOUS_PATHS.test(req.path)) {
      next();
      return;
    }
    const header = req.headers.authorization;
    if (header === undefined) {
      const owner = sessions.owner(sessionCookie(req));
      if (owner !== undefined) {
        if (!SAFE_METHODS.has(req.method) && !fromOwnOrigin(config, req))
          throw new HttpError(403, 'AuthorizationError: a request made with the browser session must come from this service');
        res.locals.owner = owner;
        next();
        return;
      }
      // A browser following a link: to the sign-in page, then back here.
      if ((req.method === 'GET' || req.method === 'HEAD') && acceptPrefersHtml(req.headers.accept)) {
        const base = baseUrl(config, req);
        const back = new URLSearchParams({ next: req.originalUrl });
        res.status(303).setHeader('Location', `${base}${LOGIN_PATH}?${back.toString()}`);
        res.end();
        return;
      }
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const challenge = { 'WWW-Authenticate': 'Bearer realm="vo-image-services"' };
    if (!match) throw new HttpError(401, 'AuthenticationError: this service needs Authorization: Bearer <token>', challenge);
    const owner = tokens.get(match[1]!);
    if (owner === undefined) throw new HttpError(401, 'AuthenticationError: unknown token', challenge);
    res.locals.owner = owner;
    next();
  };
}
