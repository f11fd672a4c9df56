/** The base URL of the links a response carries, from PUBLIC_URL or the request's Host. */
import { isIPv6 } from 'node:net';
import type { Request } from 'express';
import type { Config } from '../../shared/config';
import { HttpError } from './errors';

/** A host name of RFC 1123 §2.1: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Whether a Host header is a host[:port] fit to build links with: a host name (RFC 1123),
 * a dotted IPv4 address or a bracketed IPv6 address (RFC 3986 §3.2.2; no zone), and a port
 * 1–65535. No user info, path, spaces or anything else a client could smuggle into the
 * Location headers and result links built from it.
 */
export function isValidHost(host: string): boolean {
  if (host.length > 263) return false; // [IPv6] or 253-character name, ':', 5-digit port
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return false;
  const name = match[1]!;
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if (name.startsWith('[')) return isIPv6(name.slice(1, -1));
  // All digits and dots is an IPv4 address or nothing (`1.2.3`, `999.1.1.1` are not hosts).
  return /^[\d.]+$/.test(name) ? IPV4.test(name) : HOSTNAME.test(name);
}

/**
 * Base URL of links (Location headers, job and result URLs): PUBLIC_URL when set (behind a
 * proxy), else the scheme and Host the client used. A Host that is not a valid host[:port]
 * is a 400, as RFC 9112 §3.2 requires of a server, never a link. A request without Host
 * (HTTP/1.0; Node refuses HTTP/1.1 ones) gets this server's loopback address.
 */
export function baseUrl(config: Config, req: Request): string {
  if (config.publicUrl) return config.publicUrl;
  // From the connection (trust proxy is off, X-Forwarded-Proto is not read); only these two.
  const protocol = req.protocol === 'https' ? 'https' : 'http';
  const host = req.get('host');
  if (host === undefined || host === '') return `${protocol}://127.0.0.1:${req.socket.localPort ?? config.port}`;
  if (!isValidHost(host)) {
    throw new HttpError(
      400,
      `the Host header ${JSON.stringify(host.slice(0, 100))} is not a valid host[:port] (RFC 9112 §3.2); set PUBLIC_URL behind a proxy`,
    );
  }
  return `${protocol}://${host}`;
}
