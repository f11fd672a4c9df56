/**
 * Part of `npm run build`: compiles the project's SQLite extensions into dist/native/ with the
 * machine's C++ compiler (CXX, default g++), against the SQLite headers better-sqlite3 ships:
 * the row encoders (shared/votable/native/rows.cc → vo_rows.so) and statement cancellation
 * (shared/db/native/cancel.cc → vo_cancel.so). Each is skipped while it is newer than its
 * source. Without a compiler the build still succeeds and says what is missing: rows are then
 * encoded in JavaScript (slower, same bytes), and a cancelled query runs on in SQLite until
 * its statement ends (its thread is still terminated then).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../shared/runtime';
import { CANCEL_LIBRARY } from '../shared/db/cancel';
import { ROW_ENCODERS_LIBRARY } from '../shared/votable/native';

const SQLITE_HEADERS = path.join(PROJECT_ROOT, 'node_modules', 'better-sqlite3', 'deps', 'sqlite3');

const EXTENSIONS = [
  { source: 'shared/votable/native/rows.cc', library: ROW_ENCODERS_LIBRARY, without: 'rows will be encoded in JavaScript' },
  {
    source: 'shared/db/native/cancel.cc',
    library: CANCEL_LIBRARY,
    without: 'a cancelled query runs on inside SQLite until its statement ends',
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
  const args = ['-O2', '-std=c++17', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', SQLITE_HEADERS, source, '-o', temporary];
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
