/** Runs a Python script with Debian's /usr/bin/python3 (astropy, pyvo) and returns its stdout. */
import { execFile } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

export function runPython(script: string, args: readonly string[] = [], timeoutMs = 60000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
