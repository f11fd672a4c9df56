/**
 * Part of `npm run build`: compiles the project's native code into dist/native/ with the
 * machine's C++ compiler (CXX, default g++): two SQLite extensions, against the SQLite headers
 * better-sqlite3 ships (the row encoders, shared/votable/native/rows.cc → vo_rows.so, and
 * statement cancellation, shared/db/native/cancel.cc → vo_cancel.so), and one Node-API addon,
 * against Node's own headers (a rectangle's rows read in one call, shared/fits/native/rows.cc →
 * vo_fits_rows.node). Each is skipped while it is newer than its source. Without a compiler
 * the build still succeeds and says what is missing: rows are then encoded in JavaScript
 * (slower, same bytes), a cancelled query runs on in SQLite until its statement ends (its
 * thread is still terminated then), and a cutout's rows are read one fs.readSync each.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../shared/runtime';
import { CANCEL_LIBRARY } from '../shared/db/cancel';
import { FITS_ROWS_ADDON } from '../shared/fits/native';
import { ROW_ENCODERS_LIBRARY } from '../shared/votable/native';

const SQLITE_HEADERS = path.join(PROJECT_ROOT, 'node_modules', 'better-sqlite3', 'deps', 'sqlite3');

/** Node's own headers (node_api.h), installed beside the node binary. */
const NODE_HEADERS = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');

const EXTENSIONS = [
  {
    source: 'shared/votable/native/rows.cc',
    library: ROW_ENCODERS_LIBRARY,
    include: SQLITE_HEADERS,
    without: 'rows will be encoded in JavaScript',
  },
  {
    source: 'shared/db/native/cancel.cc',
    library: CANCEL_LIBRARY,
    include: SQLITE_HEADERS,
    without: 'a cancelled query runs on inside SQLite until its statement ends',
  },
  {
    source: 'shared/fits/native/rows.cc',
    library: FITS_ROWS_ADDON,
    include: NODE_HEADERS,
    without: "a cutout's rows are read with one fs.readSync each",
  },
];

function upToDate(source: string, library: string): boolean {
  try {
    return fs.statSync(library).mtimeMs >= fs.statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

for (const extension of EXTENSIONS) {
  const source = path.join(PROJECT_ROOT, extension.source);
  const { library } = extension;
  if (upToDate(source, library)) continue;
  fs.mkdirSync(path.dirname(library), { recursive: true });
  const compiler = process.env.CXX?.trim() || 'g++';
  const temporary = `${library}.${process.pid}.tmp`;
  const args = ['-O2', '-std=c++17', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', extension.include, source, '-o', temporary];
  const run = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (run.status === 0) {
    // Renamed into place: a worker loading the library never sees half a file.
    fs.renameSync(temporary, library);
  } else {
    fs.rmSync(temporary, { force: true });
    const why = run.error ? run.error.message : (run.stderr ?? '').trim();
    process.stderr.write(`build-native: ${compiler} could not build ${extension.source}; ${extension.without}.\n${why}\n`);
  }
}
