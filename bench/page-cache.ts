/**
 * How well this machine writes files from one process and from two at once: the ceiling of
 * "2 workers vs 1" for work that writes its output, such as a bulk batch's stamps
 * (`npm run bench:page-cache`, optional arguments: stamps, bytes a stamp).
 *
 * Each writer appends `stamps` buffers of `bytes` to new files in a new directory (2,048 to a
 * file, 64 to a writev: as a bulk part writes its pack). One writer with all the stamps, then
 * two at once with half each, three rounds, in two ways: keeping every file until the end (each
 * writer needs memory no other writer has just given back: a batch keeps its stamps), and
 * removing each writer's files when it is done (the next writer reuses that memory). On the
 * 2-core development VM memory the guest has not used lately is slow to hand out (~200–600
 * MB/s the first time) and two processes wait for it in turn: see docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineLine } from './machine';

const PER_FILE = 2048;
const PER_WRITE = 64;

/** Writes the stamps into `dir` (made here); µs per stamp. */
function writeStamps(dir: string, stamps: number, bytes: number): number {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = Buffer.alloc(bytes, 0x2a);
  const batch: Buffer[] = Array.from({ length: PER_WRITE }, () => stamp);
  const t0 = performance.now();
  for (let file = 0, left = stamps; left > 0; file++) {
    const fd = fs.openSync(path.join(dir, `pack-${file}`), 'w');
    try {
      for (let inFile = 0; inFile < PER_FILE && left > 0; inFile += PER_WRITE) {
        const n = Math.min(PER_WRITE, left);
        fs.writevSync(fd, n === PER_WRITE ? batch : batch.slice(0, n));
        left -= n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return ((performance.now() - t0) * 1000) / stamps;
}

function writer(dir: string, stamps: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--write', dir, String(stamps), String(bytes)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`page-cache writer exited ${code}`))));
  });
}

export interface WriteScaling {
  /** µs per stamp, one writer with every stamp. */
  readonly one: number;
  /** µs per stamp of each of two writers at once, half the stamps each. */
  readonly two: readonly [number, number];
  /** Stamps per second of the two together against the one. */
  readonly ratio: number;
}

/**
 * One writer, then two at once, `rounds` times in turn (the best of each kept: the machine's
 * noise only ever slows a round down), in new directories under the system's temporary one;
 * `reuse`: each writer's files are removed when it is done, else all are kept until the end.
 */
export async function writeScaling(stamps: number, bytes: number, reuse: boolean, rounds = 3): Promise<WriteScaling> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-page-cache-'));
  const timed = async (dir: string, n: number): Promise<number> => {
    const us = await writer(path.join(root, dir), n, bytes);
    if (reuse) fs.rmSync(path.join(root, dir), { recursive: true, force: true });
    return us;
  };
  try {
    const half = Math.ceil(stamps / 2);
    let one = Infinity;
    let two: [number, number] = [Infinity, Infinity];
    for (let round = 0; round < rounds; round++) {
      one = Math.min(one, await timed(`one-${round}`, stamps));
      const pair = await Promise.all([timed(`a-${round}`, half), timed(`b-${round}`, half)]);
      if (Math.max(...pair) < Math.max(...two)) two = pair;
    }
    // Each of the two wrote half the stamps in half × its µs; together they took the longer of the two.
    return { one, two, ratio: (stamps * one) / (half * Math.max(...two)) };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function scalingLine(what: string, stamps: number, bytes: number, s: WriteScaling): string {
  return (
    `page cache, ${what}: ${stamps} ${(bytes / 1024).toFixed(1)} KiB stamps into new files: one process ${s.one.toFixed(1)} µs a stamp; ` +
    `two at once ${s.two[0].toFixed(1)} and ${s.two[1].toFixed(1)} µs each → ${s.ratio.toFixed(2)}× one`
  );
}

export async function benchPageCache(stamps = 27000, bytes = 28800): Promise<void> {
  console.log(machineLine());
  console.log(scalingLine('files kept (memory not just freed)', stamps, bytes, await writeScaling(stamps, bytes, false)));
  console.log(scalingLine('files removed after each writer (memory reused)', stamps, bytes, await writeScaling(stamps, bytes, true)));
  console.log(machineLine());
}

if (require.main === module) {
  if (process.argv[2] === '--write') {
    const [, , , dir, stamps, bytes] = process.argv;
    process.stdout.write(String(writeStamps(dir!, Number(stamps), Number(bytes))));
  } else {
    const [stamps, bytes] = process.argv.slice(2).map(Number);
    benchPageCache(stamps, bytes).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  }
}
