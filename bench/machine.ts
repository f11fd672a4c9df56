/** What a benchmark ran on, printed with its figures; and the Python baselines' runner. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../shared/runtime';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  // Figures from a loaded machine are not comparable: say so beside them.
  const warning = os.loadavg()[0]! > os.cpus().length * 0.5 ? ' — WARNING: the machine is busy, figures will be low' : '';
  return `machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}; load average ${load}${warning}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summary(values: number[], digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(digits)} ms, p99 ${percentile(sorted, 99).toFixed(digits)} ms (n=${sorted.length})`;
}

/**
 * Runs a Python baseline script of bench/ (with BENCH_PYTHON, default Debian's /usr/bin/python3,
 * which has astropy and pyvo) on `job`, written as JSON into a temporary directory that is
 * removed afterwards, and returns the one JSON object it prints. `job` may use the directory,
 * passed to it, for its own files (e.g. output files).
 */
export function pythonBaseline<T>(script: string, job: (dir: string) => unknown): T {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${path.basename(script, '.py')}-`));
  try {
    const jobFile = path.join(work, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify(job(work)));
    const run = spawnSync(process.env.BENCH_PYTHON ?? '/usr/bin/python3', [path.join(PROJECT_ROOT, 'bench', script), jobFile], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr || run.error?.message}`);
    return JSON.parse(run.stdout) as T;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
