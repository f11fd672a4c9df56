/**
 * The DataLink picture cache (shared/datalink/previews.ts) on a real temp directory: entries
 * named by the file's version and the kind, stored whole (write and rename), a hit refreshing
 * an old entry's time, and the trim that keeps the cache under its budget, least recently used
 * first, and sweeps temporary files left by a process that died.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedSize, previewFile, storePreview, trimPreviewCache, type FileVersion } from '../../shared/datalink/previews';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-cache-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const version = (mtimeMs: number, size = 1000): FileVersion => ({ path: '/data/a.fits', size, mtimeMs });

test('one entry per kind and file version: a rewritten file (size or time) gets new names', () => {
  const a = previewFile(dir, version(1), 'preview');
  expect(previewFile(dir, version(1), 'preview')).toBe(a);
  expect(path.relative(dir, a)).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{40}\.png$/);
  expect(
    new Set([
      a,
      previewFile(dir, version(1), 'thumbnail'),
      previewFile(dir, version(2), 'preview'),
      previewFile(dir, version(1, 1001), 'preview'),
    ]).size,
  ).toBe(4);
});

test('stored whole; a hit gives the size and refreshes an entry older than an hour', async () => {
  const file = previewFile(dir, version(1), 'thumbnail');
  expect(await cachedSize(file)).toBeUndefined();
  await storePreview(file, Buffer.alloc(123, 7));
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  const old = new Date(Date.now() - 2 * 3600_000);
  fs.utimesSync(file, old, old);
  expect(await cachedSize(file)).toBe(123);
  expect(Date.now() - fs.statSync(file).mtimeMs).toBeLessThan(60_000);
});

test('trim: least recently used removed first until under the budget; stale temporary files swept', async () => {
  const now = Date.now();
  const entries = [0, 1, 2, 3, 4].map((k) => previewFile(dir, version(k), 'preview'));
  for (const [k, file] of entries.entries()) {
    await storePreview(file, Buffer.alloc(1000));
    const at = new Date(now - (10 - k) * 60_000); // entry 0 the oldest
    fs.utimesSync(file, at, at);
  }
  const stale = `${entries[0]!}.123.abcd.tmp`;
  const fresh = `${entries[1]!}.456.ef01.tmp`;
  fs.writeFileSync(stale, 'x');
  fs.writeFileSync(fresh, 'x');
  const old = new Date(now - 3600_000);
  fs.utimesSync(stale, old, old);

  expect(await trimPreviewCache(dir, 2500)).toEqual({ removed: 3, bytes: 3000, kept: 2000 });
  expect(entries.map((f) => fs.existsSync(f))).toEqual([false, false, false, true, true]);
  expect([fs.existsSync(stale), fs.existsSync(fresh)]).toEqual([false, true]);
  expect(await trimPreviewCache(dir, 2500)).toEqual({ removed: 0, bytes: 0, kept: 2000 });
  expect(await trimPreviewCache(path.join(dir, 'none'), 0)).toEqual({ removed: 0, bytes: 0, kept: 0 });
});
