/**
 * GET a URL a user gave us without letting it reach what the user could not reach: loopback
 * services (Redis, the api), cloud metadata (169.254.169.254), private networks. The check
 * runs where the socket is opened: http.request gets a `lookup` that refuses any resolved
 * address that is not public (shared/net/address) unless allowed, so the address checked is
 * the one connected to and a name that resolves differently the second time (DNS rebinding)
 * gains nothing. IP literals never reach `lookup` (net.connect skips it), so they are checked
 * before the request. Redirects are followed here, each hop checked again; bodies are read
 * up to a limit; one deadline covers the whole exchange.
 *
 * Errors are FetchError with messages that say what failed on our side, never what a refused
 * address would have answered, which address a name resolved to, or a refused host's
 * connection error (which would make this a port scanner).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { AllowList, parseAddress } from './address';

export interface FetchPublicOptions {
  /** Largest body accepted, bytes; a longer one is abandoned while it streams. */
  maxBytes: number;
  /** Deadline for the whole exchange, redirects included, milliseconds. */
  timeoutMs: number;
  /** Non-public addresses, ranges and host names that may be reached anyway. */
  allow?: AllowList | readonly string[];
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
}

export interface FetchedBody {
  /** The URL the body came from, after redirects. */
  url: string;
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export type FetchFailure = 'url' | 'scheme' | 'address' | 'resolve' | 'connect' | 'status' | 'redirects' | 'size' | 'timeout';

export class FetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

/** Refusal raised inside `lookup`, told apart from real resolver errors by its class. */
class RefusedAddress extends Error {}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
export const DEFAULT_MAX_REDIRECTS = 5;

/** Milliseconds an upload given by URL (a TAP table, a bulk positions table) may take to arrive, redirects included. */
export const UPLOAD_FETCH_TIMEOUT_MS = 30000;

/** The body of an upload given by URL: fetchPublic with the uploads' deadline. */
export async function fetchUpload(url: string, options: Pick<FetchPublicOptions, 'maxBytes' | 'allow'>): Promise<Buffer> {
  return (await fetchPublic(url, { ...options, timeoutMs: UPLOAD_FETCH_TIMEOUT_MS })).body;
}

/**
 * A net.LookupFunction that resolves as usual, then fails unless every address is permitted.
 * All addresses must pass, not just one: the socket may try them in turn (autoSelectFamily).
 */
function checkingLookup(allow: AllowList): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0 || addresses.some((a) => !allow.permits(hostname, a.address))) return callback(new RefusedAddress(), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** The host of a WHATWG URL as http.request wants it: IPv6 literals without brackets. */
const requestHost = (url: URL) => (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname);

const withCode = (text: string, err: NodeJS.ErrnoException) => (err.code ? `${text} (${err.code})` : text);

interface Answer {
  status: number;
  location: string | undefined;
  contentType: string | undefined;
  /** Present for a 2xx answer only. */
  body?: Buffer;
}

interface Exchange {
  allow: AllowList;
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** The error message for a reason. */
  describe(reason: string): string;
}

/** One GET; a non-2xx answer comes back without its body (which is never read). */
function requestOnce(url: URL, x: Exchange): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const fail = (failure: FetchFailure, reason: string) => reject(new FetchError(failure, x.describe(reason)));
    const timedOut = () => fail('timeout', `no complete answer within ${x.timeoutMs} ms`);
    const get = url.protocol === 'https:' ? https.get : http.get;
    const request = get(
      {
        protocol: url.protocol,
        host: requestHost(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
        // A fresh connection every time: a pooled socket would have been checked for another
        // request, under another allow list.
        agent: false,
        lookup: checkingLookup(x.allow),
        signal: x.signal,
        // No Accept-Encoding: the body is read as sent, so maxBytes bounds what is kept.
        headers: { 'user-agent': 'vo-image-services', accept: '*/*' },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const answer = { status, location: response.headers.location, contentType: response.headers['content-type'] };
        if (status < 200 || status > 299) {
          response.destroy();
          resolve(answer);
          return;
        }
        const tooLarge = () => {
          response.destroy();
          fail('size', `larger than ${x.maxBytes} bytes`);
        };
        if (Number(response.headers['content-length']) > x.maxBytes) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        let complete = false;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > x.maxBytes) tooLarge();
          else chunks.push(chunk);
        });
        response.on('end', () => {
          complete = true;
          resolve({ ...answer, body: Buffer.concat(chunks) });
        });
        // A promise settles once: after a size refusal or a completed body these are no-ops.
        response.on('error', (err: NodeJS.ErrnoException) =>
          x.signal.aborted ? timedOut() : fail('connect', withCode('the answer broke off', err)),
        );
        response.on('close', () => {
          if (complete) return;
          if (x.signal.aborted) timedOut();
          else fail('connect', 'the answer broke off');
        });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RefusedAddress) return fail('address', 'the address is not allowed');
      if (x.signal.aborted) return timedOut();
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'ENODATA')
        return fail('resolve', 'the host name does not resolve');
      // Only permitted hosts are ever connected to, so their error code tells nothing private.
      fail('connect', withCode('the connection failed', err));
    });
  });
}

/**
 * GET `url` (http or https), following at most `maxRedirects` redirects, and return the body
 * of the final 2xx answer. Throws FetchError when the URL, an address, a status, the size or
 * the time is not acceptable.
 */
export async function fetchPublic(url: string, options: FetchPublicOptions): Promise<FetchedBody> {
  const allow = options.allow instanceof AllowList ? options.allow : new AllowList(options.allow ?? []);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let current: URL;
    try {
      current = new URL(url);
    } catch {
      throw new FetchError('url', `cannot fetch ${url}: not a valid URL`);
    }
    for (let redirects = 0; ; redirects++) {
      const hop = current;
      const describe = (reason: string) => `cannot fetch ${url}${redirects === 0 ? '' : ` (redirected to ${hop.href})`}: ${reason}`;
      if (hop.protocol !== 'http:' && hop.protocol !== 'https:')
        throw new FetchError('scheme', describe('only http and https URLs are fetched'));
      // IP literals: net.connect does not call `lookup` for them, so they are judged here.
      // WHATWG URL has already turned 2130706433, 0x7f.1, 0177.0.0.1 into 127.0.0.1.
      if (parseAddress(hop.hostname) !== undefined && !allow.permits(hop.hostname, requestHost(hop))) {
        throw new FetchError('address', describe('the address is not allowed'));
      }
      const answer = await requestOnce(hop, {
        allow,
        maxBytes: options.maxBytes,
        timeoutMs: options.timeoutMs,
        signal: controller.signal,
        describe,
      });
      if (REDIRECT_STATUSES.has(answer.status) && answer.location !== undefined) {
        if (redirects >= maxRedirects) throw new FetchError('redirects', describe(`more than ${maxRedirects} redirects`));
        try {
          current = new URL(answer.location, hop);
        } catch {
          throw new FetchError('url', describe('the redirect location is not a valid URL'));
        }
        continue;
      }
      if (answer.body === undefined) throw new FetchError('status', describe(`HTTP ${answer.status}`));
      return { url: hop.href, status: answer.status, contentType: answer.contentType, body: answer.body };
    }
  } finally {
    clearTimeout(timer);
  }
}
