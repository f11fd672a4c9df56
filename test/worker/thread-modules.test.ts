import { spawnSync } from 'node:child_process';
import { compiledModule } from '../../shared/runtime';
import { BUILTIN_SERVICES } from '../../shared/services';

/**
 * A processor thread loads only its service's processor module (worker/thread.ts). The job
 * store's drivers (knex, pg), Redis (ioredis), logging (pino), the queue (bullmq) and the ADQL
 * parser generator (peggy) are the main thread's business or built ahead: loading them cost a
 * new thread ~150–250 ms before its first job. Checked on the compiled modules (`npm test`
 * builds first), in a fresh process each.
 */
const FORBIDDEN = ['knex', 'pg', 'ioredis', 'pino', 'bullmq', 'peggy'];

describe.each(BUILTIN_SERVICES.map((s) => [s.name, s.processorModule] as const))('the %s processor', (_name, module) => {
  it(`loads none of ${FORBIDDEN.join(', ')}`, () => {
    const compiled = compiledModule(module);
    const script = `require(${JSON.stringify(compiled)});
      const loaded = new Set(Object.keys(require.cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter(Boolean));
      process.stdout.write(JSON.stringify([...loaded]));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const packages = JSON.parse(run.stdout) as string[];
    expect(packages.filter((p) => FORBIDDEN.includes(p))).toEqual([]);
    // It did load its own dependencies (FITS codecs, SQLite): the check looked at a real module graph.
    expect(packages.length).toBeGreaterThan(0);
  });
});

it(`a thread line's own modules (worker/line-thread.ts and what it loads) load none of ${FORBIDDEN.join(', ')}`, () => {
  const compiled = compiledModule(require.resolve('../../worker/line-thread'));
  const script = `require(${JSON.stringify(compiled)});
    const files = Object.keys(require.cache);
    const loaded = new Set(files.map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter(Boolean));
    process.stdout.write(JSON.stringify({ packages: [...loaded], listener: files.some((f) => f.endsWith('line-listener.js')) }));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  const { packages, listener } = JSON.parse(run.stdout) as { packages: string[]; listener: boolean };
  expect(packages.filter((p) => FORBIDDEN.includes(p))).toEqual([]);
  expect(listener).toBe(true);
});
