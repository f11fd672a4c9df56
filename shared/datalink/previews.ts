/**
 * The DataLink #preview and #thumbnail pictures of datasets (http://www.ivoa.net/rdf/datalink/core):
 * PNG renderings of a whole image, made once per version of its file and kept on disk under
 * RESULTS_DIR/previews, the least recently used removed first when the cache outgrows
 * PREVIEW_CACHE_BYTES.
 *
 * An entry is named by a hash of what its bytes depend on: the rendering (RENDERING_VERSION,
 * the kind's size and display settings), the file's real path, size and modification time. A
 * file rewritten in place gets new entries; the old ones are never served again and age out.
 * (Hashing the file's own bytes would cost a full read of a 64 MB image per lookup.)
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DISPLAY, type DisplayOptions } from '../preview';

/** Raised when the rendering changes (algorithm, defaults, encoder settings), so old entries go unused. */
const RENDERING_VERSION = 1;

/** The two pictures of a dataset and their largest side, in pixels. */
export const PREVIEW_KINDS = { preview: 1024, thumbnail: 256 } as const;
export type PreviewKind = keyof typeof PREVIEW_KINDS;

export function isPreviewKind(text: string | undefined): text is PreviewKind {
  return text === 'preview' || text === 'thumbnail';
}

/** How each kind is drawn: the service's default display settings, at most the kind's size. */
export function previewDisplay(kind: PreviewKind): DisplayOptions {
  return { ...DEFAULT_DISPLAY, maxSide: PREVIEW_KINDS[kind] };
}

export const PREVIEW_CONTENT_TYPE = 'image/png';

/** Where the cache lives. */
export function previewCacheDir(resultsDir: string): string {
  return path.join(resultsDir, 'previews');
}

/** What identifies one version of a dataset's file. */
export interface FileVersion {
  /** Real path (symbolic links resolved). */
  path: string;
  size: number;
  mtimeMs: number;
}

export async function fileVersion(realPath: string): Promise<FileVersion> {
  const stat = await fs.stat(realPath);
  return { path: realPath, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** The cache entry's file for one kind of picture of one version of a file. */
export function previewFile(cacheDir: string, version: FileVersion, kind: PreviewKind): string {
  const key = createHash('sha256')
    .update(JSON.stringify([RENDERING_VERSION, kind, previewDisplay(kind), version.path, version.size, version.mtimeMs]))
    .digest('hex')
    .slice(0, 40);
  // Two levels, so that no directory holds more than a few thousand entries.
  return path.join(cacheDir, key.slice(0, 2), `${key}.png`);
}

/** The entry's size, or undefined when it is not cached. A hit refreshes its time for the LRU order (at most hourly). */
export async function cachedSize(file: string): Promise<number | undefined> {
  try {
    const stat = await fs.stat(file);
    if (Date.now() - stat.mtimeMs > TOUCH_AFTER_MS) {
      const now = new Date();
      await fs.utimes(file, now, now).catch(() => undefined);
    }
    return stat.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const TOUCH_AFTER_MS = 3600_000;

/**
 * Stores an entry: written to a temporary name and renamed, so a reader sees the whole file
 * or none, and two processes rendering the same picture at once both succeed.
 */
export async function storePreview(file: string, bytes: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, file);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/** Temporary files older than this were left by a process that died while writing. */
const STALE_TEMPORARY_MS = 600_000;

/**
 * Removes entries, least recently used first (by modification time, which a hit refreshes),
 * until the cache holds at most `maxBytes`; and temporary files left behind. Returns what it
 * removed.
 */
export async function trimPreviewCache(cacheDir: string, maxBytes: number): Promise<{ removed: number; bytes: number; kept: number }> {
  const entries: { file: string; size: number; mtimeMs: number }[] = [];
  let total = 0;
  let removed = 0;
  let removedBytes = 0;
  let shards: string[];
  try {
    shards = await fs.readdir(cacheDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: 0, bytes: 0, kept: 0 };
    throw err;
  }
  const now = Date.now();
  for (const shard of shards) {
    const dir = path.join(cacheDir, shard);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) continue;
      if (name.endsWith('.tmp')) {
        if (now - stat.mtimeMs > STALE_TEMPORARY_MS) await fs.rm(file, { force: true });
        continue;
      }
      entries.push({ file, size: stat.size, mtimeMs: stat.mtimeMs });
      total += stat.size;
    }
  }
  entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const entry of entries) {
    if (total <= maxBytes) break;
    await fs.rm(entry.file, { force: true });
    total -= entry.size;
    removed++;
    removedBytes += entry.size;
  }
  return { removed, bytes: removedBytes, kept: total };
}
