/**
 * Where processors write results (shared/uws/results.ts openResult): an async job's file,
 * created even for an empty result; a sync result kept in memory within the inline limit, and
 * past it a file holding every byte, announced once; many results in one pack file, filled in
 * the pack's own reused memory (ResultPack.reserve) or from buffers of their own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { openResult, ResultPack } from '../../shared/uws/results';
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

test('a pack holds every result at its offset, whether filled in reserved memory or added as a buffer', () => {
  fs.mkdirSync(path.join(dir, 'results'));
  const pack = new ResultPack(input({}), 'many.pack');
  const expected: { offset: number; bytes: Buffer }[] = [];
  // 3,000 results of 70,000 bytes pass through the 4 MiB reserved memory ~50 times; every
  // tenth is a buffer of its own, every 25th is reserved and then abandoned (a failed cutout).
  for (let i = 0; i < 3000; i++) {
    const fill = (b: Buffer) => b.fill(i % 251).writeUInt32BE(i, 0);
    let bytes: Buffer;
    if (i % 10 === 0) {
      bytes = Buffer.alloc(70_000);
    } else {
      bytes = pack.reserve(70_000)!;
      expect(bytes.length).toBe(70_000);
    }
    fill(bytes);
    if (i % 25 === 1) continue;
    const result = pack.add(`r-${i}`, 'application/octet-stream', bytes);
    expected.push({ offset: result.offset!, bytes: Buffer.from(bytes) });
  }
  // Larger than the pack's write size: the caller allocates it.
  expect(pack.reserve((4 << 20) + 1)).toBeUndefined();
  pack.close();
  const file = fs.readFileSync(path.join(dir, 'results', 'many.pack'));
  expect(file.length).toBe(expected.length * 70_000);
  for (const { offset, bytes } of expected) expect(file.subarray(offset, offset + bytes.length).equals(bytes)).toBe(true);
});
