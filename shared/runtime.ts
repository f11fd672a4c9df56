/**
 * Worker threads and child processes always run the compiled JavaScript in dist/. Code
 * that runs from the TypeScript sources (under jest) maps its own paths there.
 */
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, path.basename(path.dirname(__dirname)) === 'dist' ? '../..' : '..');

export function compiledModule(file: string): string {
  if (!file.endsWith('.ts')) return file;
  const relative = path.relative(PROJECT_ROOT, file);
  return path.join(PROJECT_ROOT, 'dist', relative.replace(/\.ts$/, '.js'));
}
