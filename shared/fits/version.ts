/**
 * Which version of a file on disk is current: its path, size and mtime, looked at no more than
 * once per `everyMs` per file. Caches of opened files and formatted headers are keyed by it, so
 * a file replaced on disk is opened afresh within `everyMs`, while a stream of cutouts of one
 * file costs one stat a second instead of one each (a stat costs 3–5 µs on a 2-core VM).
 */
import { statSync } from 'node:fs';

/** Remembered files at most; beyond it the memory starts over (a stat each, no harm). */
const MAX_FILES = 4096;

export class FileVersions {
  private readonly checked = new Map<string, { at: number; key: string | null }>();

  constructor(private readonly everyMs = 1000) {}

  /** `path\0size\0mtimeMs`, or null when `file` is missing or not a regular file. */
  key(file: string): string | null {
    const now = Date.now();
    let checked = this.checked.get(file);
    if (!checked || now - checked.at >= this.everyMs) {
      const stat = statSync(file, { throwIfNoEntry: false });
      checked = { at: now, key: stat?.isFile() ? `${file}\0${stat.size}\0${stat.mtimeMs}` : null };
      if (this.checked.size >= MAX_FILES) this.checked.clear();
      this.checked.set(file, checked);
    }
    return checked.key;
  }
}
