/** Small helpers of the chaos suite: a seeded random generator, hashes, /proc readings. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** mulberry32: a small deterministic generator, so a seed replays the same plan of actions. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

function statFields(file: string): string[] | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    // The command name (field 2) may hold spaces: the fields after it start after ') '.
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, seconds; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(`/proc/${pid}/stat`);
  return f ? (Number(f[11]) + Number(f[12])) / TICKS_PER_S : undefined;
}

/** The threads of a process (/proc/<pid>/task). */
export function threadIds(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

function threadName(pid: number, tid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** CPU seconds per thread, with the thread's name. */
export function threadCpu(pid: number): Map<string, { name: string; cpu: number }> {
  const out = new Map<string, { name: string; cpu: number }>();
  for (const tid of threadIds(pid)) {
    const f = statFields(`/proc/${pid}/task/${tid}/stat`);
    if (f) out.set(tid, { name: threadName(pid, tid), cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_S });
  }
  return out;
}

/** Resident memory, MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Files (and their bytes) below a directory, recursively. */
export function filesUnder(dir: string): { files: number; bytes: number; dirs: number } {
  const out = { files: 0, bytes: 0, dirs: 0 };
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = `${current}/${e.name}`;
      if (e.isDirectory()) {
        out.dirs++;
        stack.push(p);
      } else {
        out.files++;
        try {
          out.bytes += fs.statSync(p).size;
        } catch {
          // removed meanwhile
        }
      }
    }
  }
  return out;
}

export function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Counts of labels, printed as "a 3, b 1". */
export class Tally {
  readonly counts = new Map<string, number>();
  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }
  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toString(): string {
    if (this.counts.size === 0) return 'none';
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
}

/**
 * Established TCP connections of a process to 127.0.0.1:`port` (its sockets in /proc/<pid>/fd
 * matched with /proc/net/tcp), or undefined when they cannot be read.
 */
export function tcpConnectionsTo(pid: number, port: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined),
    );
  } catch {
    return undefined;
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[2] === remote && f[3] === '01' && inodes.has(f[9]!)) n++;
    }
  } catch {
    return undefined;
  }
  return n;
}
