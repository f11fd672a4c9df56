/**
 * How well this machine writes new files from several processes at once: the ceiling of
 * "2 workers vs 1" for work that writes its output, e.g. a bulk batch's stamps.
 *
 * Each writer appends `stamps` buffers of `bytes` to new files in a new directory (2,048 to a
 * file, 64 to a writev: as a bulk part writes its pack). bench:bulk runs one writer with all
 * the stamps, then two at once with half each, and prints the aggregate ratio beside its own.
 * On the 2-core development VM the first was 27–58 µs a 28.8 KB stamp and the two together
 * 1.0–1.5× one: memory the guest has not touched lately is slow to hand out (~200–600 MB/s
 * the first time), and two processes wait for it in turn. Where that holds, cutting on two
 * workers cannot be much faster than on one, whatever the service does.
 *
 * Run alone: node dist/bench/page-cache.js <dir> <stamps> <bytes> (prints µs per stamp).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
    const child = spawn(process.execPath, [__filename, dir, String(stamps), String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
 * noise only ever slows a round down), in new directories under the system's temporary one,
 * all kept until the end so that no round reuses the pages of another (as a batch does not).
 */
export async function writeScaling(stamps: number, bytes: number, rounds = 2): Promise<WriteScaling> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-page-cache-'));
  try {
    const half = Math.ceil(stamps / 2);
    let one = Infinity;
    let two: [number, number] = [Infinity, Infinity];
    for (let round = 0; round < rounds; round++) {
      one = Math.min(one, await writer(path.join(root, `one-${round}`), stamps, bytes));
      const pair = await Promise.all([
        writer(path.join(root, `a-${round}`), half, bytes),
        writer(path.join(root, `b-${round}`), half, bytes),
      ]);
      if (Math.max(...pair) < Math.max(...two)) two = pair;
    }
    // Each of the two wrote half the stamps in half × its µs; together they took the longer of the two.
    return { one, two, ratio: (stamps * one) / (half * Math.max(...two)) };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function writeScalingLine(stamps: number, bytes: number, s: WriteScaling): string {
  return (
    `machine: ${stamps} new ${(bytes / 1024).toFixed(1)} KiB stamps written to new files: one process ${s.one.toFixed(1)} µs a stamp; ` +
    `two at once ${s.two[0].toFixed(1)} and ${s.two[1].toFixed(1)} µs each → ${s.ratio.toFixed(2)}× one (the most 2 workers can gain on writing)`
  );
}

if (require.main === module) {
  const [dir, stamps, bytes] = process.argv.slice(2);
  process.stdout.write(String(writeStamps(dir!, Number(stamps), Number(bytes))));
}
