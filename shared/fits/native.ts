/**
 * Rows read in one call (native/rows.cc, a Node-API addon built by `npm run build`): the
 * positioned reads of a rectangle's rows made in a C loop instead of one fs.readSync each.
 * Without the addon (no C++ compiler at build time) the rows are read in JavaScript: the same
 * bytes, each row costing Node's wrapper on top of its pread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';

/** The compiled addon (`npm run build` makes it with g++, scripts/build-native.ts). */
export const FITS_ROWS_ADDON = path.join(PROJECT_ROOT, 'dist', 'native', 'vo_fits_rows.node');

/**
 * Reads `count` rows of `bytes` bytes, the r-th at `position + r·stride` of `fd`, into
 * `target` one after another. 0 when all were read, 1 + r when the file ended in row r, −errno
 * on an error.
 */
export type ReadRows = (fd: number, target: Uint8Array, position: number, count: number, bytes: number, stride: number) => number;

/** Whether `npm run build` made the addon (without a C++ compiler it cannot). */
export function fitsRowsBuilt(library = FITS_ROWS_ADDON): boolean {
  return fs.existsSync(library);
}

let loaded: ReadRows | null | undefined;
let enabled = true;

/**
 * Whether this thread reads rows through the addon (FITS_NATIVE_ROWS, Config.fitsNativeRows:
 * set by each worker thread from its configuration; the environment is not read here).
 */
export function useNativeReadRows(on: boolean): void {
  enabled = on;
}

/** The addon's readRows, or undefined when it was not built or is not to be used (useNativeReadRows). */
export function nativeReadRows(): ReadRows | undefined {
  if (!enabled) return undefined;
  if (loaded === undefined) {
    loaded = null;
    if (fitsRowsBuilt()) {
      const addon = { exports: {} as { readRows?: ReadRows } };
      process.dlopen(addon, FITS_ROWS_ADDON);
      loaded = addon.exports.readRows ?? null;
    }
  }
  return loaded ?? undefined;
}

/** The name of an errno value (ENOENT…), for messages. */
export function errnoName(errno: number): string {
  return Object.entries(os.constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
}
