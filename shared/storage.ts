/**
 * File-system helpers every process uses: paths that stay inside their root, positioned reads
 * that fill their buffer, stale entries swept.
 */
import { readSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The path of `name` inside `dir`, or undefined when `name` would leave it (`..`, absolute
 * paths, separators): file serving never escapes its root.
 */
export function containedPath(dir: string, name: string): string | undefined {
  if (name === '' || name.includes('\0')) return undefined;
  const resolved = path.resolve(dir, name);
  const root = path.resolve(dir) + path.sep;
  return resolved.startsWith(root) ? resolved : undefined;
}

/**
 * Reads into all of `target` from `fd` at `position`, as many reads as it takes. Returns the
 * bytes read: fewer than `target` holds only when the file ends first.
 */
export function readFullSync(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** readFullSync on an open FileHandle, without blocking. */
export async function readFull(handle: fs.FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * The real path (every symbolic link resolved) of `name` inside `root` when it lies inside
 * the real path of `root`, else undefined (also when it does not exist). A link inside the
 * root pointing elsewhere (/etc/passwd) passes containedPath, not this; the real path is what
 * is then read, so the link is not followed a second time.
 */
export async function realContainedPath(root: string, name: string): Promise<string | undefined> {
  const lexical = containedPath(root, name);
  if (!lexical) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(lexical)]);
    return realFile.startsWith(realRoot + path.sep) ? realFile : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the entries of `dir` untouched for `maxAgeMs` (left by requests whose process died:
 * sync request directories, half-received uploads). Returns how many were removed.
 */
export async function sweepStale(dir: string, maxAgeMs: number, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const entry = path.join(dir, name);
    const stat = await fs.stat(entry).catch(() => undefined);
    if (stat && now - stat.mtimeMs > maxAgeMs) {
      await fs.rm(entry, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
