/**
 * Where processors write results (shared/uws/results.ts openResult): an async job's file,
 * created even for an empty result; a sync result kept in memory within the inline limit, and
 * past it a file holding every byte, announced once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { openResult } from '../../shared/uws/results';
import type { ProcessorInput } from '../../shared/uws/service';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'results-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function input(extra: Partial<ProcessorInput>): ProcessorInput {
  return {
    jobId: 'j',
    service: 'tap',
    owner: null,
    parameters: [],
    jobDir: dir,
    resultsDir: path.join(dir, 'results'),
    executionDuration: 0,
    baseUrl: 'http://x',
    mode: 'async',
    ...extra,
  };
}

async function write(stream: NodeJS.WritableStream & { end(): void }, chunks: string[]): Promise<void> {
  for (const c of chunks) stream.write(c);
  stream.end();
  await finished(stream);
}

test('an async result is a file from the start, empty or not', async () => {
  fs.mkdirSync(path.join(dir, 'results'));
  const empty = openResult(input({}), 'result', 'empty.csv', 'text/csv');
  await write(empty.stream, []);
  expect(empty.result()).toEqual({ id: 'result', file: 'empty.csv', mimeType: 'text/csv' });
  expect(fs.readFileSync(path.join(dir, 'results', 'empty.csv'), 'utf8')).toBe('');
  const full = openResult(input({}), 'result', 'full.csv', 'text/csv');
  const chunks = Array.from({ length: 200 }, (_, i) => `${i},${'x'.repeat(1000)}\n`);
  await write(full.stream, chunks);
  expect(fs.readFileSync(path.join(dir, 'results', 'full.csv'), 'utf8')).toBe(chunks.join(''));
});

test('a sync result stays in memory within the inline limit, else becomes a file announced once', async () => {
  const spills: string[] = [];
  const small = openResult(
    input({ mode: 'sync', inlineLimit: 10, onSpill: (r) => spills.push(r.file) }),
    'result',
    'small.xml',
    'text/xml',
  );
  await write(small.stream, ['12345', '67890']);
  expect(Buffer.from(small.result().data!).toString()).toBe('1234567890');
  expect(fs.existsSync(path.join(dir, 'results'))).toBe(false);
  expect(spills).toEqual([]);

  const large = openResult(
    input({ mode: 'sync', inlineLimit: 10, onSpill: (r) => spills.push(r.file) }),
    'result',
    'large.xml',
    'text/xml',
  );
  await write(large.stream, ['12345', '67890', 'abcdefghijklmnopqrstuvwxyz', 'end']);
  expect(large.result()).toEqual({ id: 'result', file: 'large.xml', mimeType: 'text/xml' });
  expect(fs.readFileSync(path.join(dir, 'results', 'large.xml'), 'utf8')).toBe('1234567890abcdefghijklmnopqrstuvwxyzend');
  expect(spills).toEqual(['large.xml']);
});

test('a result stream destroyed half-way closes its file', async () => {
  fs.mkdirSync(path.join(dir, 'results'));
  const output = openResult(input({}), 'result', 'cut.csv', 'text/csv');
  output.stream.write('partial');
  output.stream.destroy(new Error('query stopped'));
  await expect(finished(output.stream)).rejects.toThrow('query stopped');
  // Closed: the descriptor is not listed among the process's open files any more.
  const open = fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
  expect(open).not.toContain(path.join(dir, 'results', 'cut.csv'));
  expect(fs.readFileSync(path.join(dir, 'results', 'cut.csv'), 'utf8')).toBe('partial');
});
