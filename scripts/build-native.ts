/**
 * Part of `npm run build`: compiles the SQLite row encoders (shared/votable/native/rows.cc)
 * into dist/native/vo_rows.so with the machine's C++ compiler (CXX, default g++), against the
 * SQLite headers better-sqlite3 ships. Skipped while the library is newer than its source.
 * Without a compiler the build still succeeds: the service then encodes every row in
 * JavaScript (slower for large results, same bytes), and says so here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../shared/runtime';
import { ROW_ENCODERS_LIBRARY } from '../shared/votable/native';

const SOURCE = path.join(PROJECT_ROOT, 'shared', 'votable', 'native', 'rows.cc');
const SQLITE_HEADERS = path.join(PROJECT_ROOT, 'node_modules', 'better-sqlite3', 'deps', 'sqlite3');

function upToDate(): boolean {
  try {
    return fs.statSync(ROW_ENCODERS_LIBRARY).mtimeMs >= fs.statSync(SOURCE).mtimeMs;
  } catch {
    return false;
  }
}

if (!upToDate()) {
  fs.mkdirSync(path.dirname(ROW_ENCODERS_LIBRARY), { recursive: true });
  const compiler = process.env.CXX?.trim() || 'g++';
  const temporary = `${ROW_ENCODERS_LIBRARY}.${process.pid}.tmp`;
  const args = ['-O2', '-std=c++17', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', SQLITE_HEADERS, SOURCE, '-o', temporary];
  const run = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (run.status === 0) {
    // Renamed into place: a worker loading the library never sees half a file.
    fs.renameSync(temporary, ROW_ENCODERS_LIBRARY);
  } else {
    fs.rmSync(temporary, { force: true });
    const why = run.error ? run.error.message : (run.stderr ?? '').trim();
    process.stderr.write(`build-native: ${compiler} could not build the SQLite row encoders; rows will be encoded in JavaScript.\n${why}\n`);
  }
}
