/**
 * Signed, expiring URLs of dataset files (/api/files/<path>?expires=…&signature=…): an
 * HMAC-SHA256 under SIGNING_KEY of the path and the expiry, so a link handed out by
 * DataLink can be followed by any client (astropy, a browser) without credentials, only
 * for that file, and only until it expires. The same signatures, of another subject, make the
 * browser sessions of api/auth.ts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const FILES_PATH = '/api/files/';

/** Where a deployment without SIGNING_KEY keeps the key it generated, under VAR_DIR. */
export const SIGNING_KEY_FILE = 'signing.key';

function readKeyFile(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = text.trim();
  if (key === '') throw new Error(`${file} is empty; delete it to have a new key generated`);
  return key;
}

/**
 * The key kept in `file`, generated there (32 random bytes, base64url, mode 0600) by the
 * first process to start. Several processes starting at once all end with the one key that
 * was written first: the new key is written completely to a private temporary file and then
 * hard-linked to `file`, which, like an O_EXCL create, fails with EEXIST when another process
 * got there first (that one's key is then read), and unlike it never lets a reader see a
 * created but not yet written file.
 */
export function persistentSigningKey(file: string): string {
  const existing = readKeyFile(file);
  if (existing !== undefined) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  const key = readKeyFile(file);
  if (key === undefined) throw new Error(`${file} vanished while it was being created`);
  return key;
}

/** HMAC-SHA256 of `text` under `key`, base64url. */
export function hmac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** The signature of `subject` (a file's path, a session) valid until `expires` (epoch s). */
export function signature(key: string, subject: string, expires: number): string {
  return hmac(key, `${subject}\n${expires}`);
}

/** Whether `given` is that signature, compared in constant time. */
export function signatureMatches(key: string, subject: string, expires: number, given: string): boolean {
  const expected = Buffer.from(signature(key, subject, expires));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** `/api/files/<path>?expires=<epoch s>&signature=…`, path segments URL-encoded. */
export function signedFilePath(key: string, relativePath: string, expires: number): string {
  const encoded = relativePath.split('/').map(encodeURIComponent).join('/');
  return `${FILES_PATH}${encoded}?expires=${expires}&signature=${signature(key, relativePath, expires)}`;
}

export type SignatureCheck = 'ok' | 'expired' | 'invalid';

export function checkSignature(
  key: string,
  relativePath: string,
  expiresText: string | undefined,
  given: string | undefined,
  now = Date.now(),
): SignatureCheck {
  if (expiresText === undefined || given === undefined || !/^\d{1,12}$/.test(expiresText)) return 'invalid';
  if (!signatureMatches(key, relativePath, Number(expiresText), given)) return 'invalid';
  return Number(expiresText) * 1000 < now ? 'expired' : 'ok';
}
