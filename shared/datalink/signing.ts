/**
 * Signed, expiring URLs of dataset files (/api/files/<path>?expires=…&signature=…): an
 * HMAC-SHA256 under SIGNING_KEY of the path and the expiry, so a link handed out by
 * DataLink can be followed by any client (astropy, a browser) without credentials, only
 * for that file, and only until it expires.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const FILES_PATH = '/api/files/';

function signature(key: string, relativePath: string, expires: number): string {
  return createHmac('sha256', key).update(`${relativePath}\n${expires}`).digest('base64url');
}

/** `/api/files/<path>?expires=<epoch s>&signature=…`, path segments URL-encoded. */
export function signedFilePath(key: string, relativePath: string, expires: number): string {
  const encoded = relativePath.split('/').map(encodeURIComponent).join('/');
  return `${FILES_PATH}${encoded}?expires=${expires}&signature=${signature(key, relativePath, expires)}`;
}

export type SignatureCheck = 'ok' | 'expired' | 'invalid';

export function checkSignature(key: string, relativePath: string, expiresText: string | undefined, given: string | undefined, now = Date.now()): SignatureCheck {
  if (expiresText === undefined || given === undefined || !/^\d{1,12}$/.test(expiresText)) return 'invalid';
  const expected = Buffer.from(signature(key, relativePath, Number(expiresText)));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return 'invalid';
  return Number(expiresText) * 1000 < now ? 'expired' : 'ok';
}
