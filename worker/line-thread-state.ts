/**
 * What a thread line (SYNC_THREAD_LINES, worker/line-thread.ts) shares with its worker's main
 * thread (worker/line-threads.ts), in memory both see: the request it runs, since when and for
 * how long at most, and the main thread's cancel. Shared memory, not messages: a message wakes
 * the other thread, which costs a sync request about 0.1 ms on a small VM, twice per request.
 */
import { TASK_CANCELLED } from '../shared/db/cancel';
import type { WorkCounts } from '../shared/metrics/work';
import type { CancelReason } from './pool';

/** What a thread line is given when it is made (ThreadData.line). */
export interface LineThreadData {
  /** LineThreadState.buffer. */
  state: SharedArrayBuffer;
  /** LineTally.buffer (its services: the keys of `processors`, in order). */
  tally: SharedArrayBuffer;
  /** The key its statements run under (process-wide: ThreadPool's counter). */
  cancelKey: number;
  /** Processor modules by service name: the services whose sync requests it takes. */
  processors: Record<string, string>;
  /** Where it listens (WORKER_SYNC_HOST), on a port of its own. */
  host: string;
}

// Int32 slots 0 and 1 are the task state of shared/db/cancel.ts (TASK_CANCELLED, TASK_IN_STATEMENTS).
const BUSY = 2;
/** Counts the requests begun: the main thread reads a request's fields between two equal values. */
const GENERATION = 3;
const REASON = 4;
const ID_LENGTH = 5;
const TIMES_OFFSET = 32; // Float64 × 2: started (ms since the epoch), limit (s)
const ID_OFFSET = 48;
const ID_MAX = 80;
const BYTES = ID_OFFSET + ID_MAX;

const REASONS: readonly CancelReason[] = ['abort', 'duration', 'shutdown', 'superseded'];

/** The request a thread line runs, as its main thread reads it. */
export interface LineRunning {
  id: string;
  /** Date.now() when it began. */
  started: number;
  /** Its time limit, s (SYNC_TIMEOUT as the api sent it). */
  seconds: number;
}

export class LineThreadState {
  private readonly ints: Int32Array;
  private readonly times: Float64Array;
  private readonly id: Uint8Array;
  /** The view shared/db/cancel.ts reads (runStatementsFor, querying). */
  readonly task: Int32Array;

  constructor(readonly buffer = new SharedArrayBuffer(BYTES)) {
    this.ints = new Int32Array(buffer, 0, 8);
    this.times = new Float64Array(buffer, TIMES_OFFSET, 2);
    this.id = new Uint8Array(buffer, ID_OFFSET, ID_MAX);
    this.task = new Int32Array(buffer, 0, 2);
  }

  /** The thread, as a request begins (ids are short ASCII: shared/dali/sync-messages.ts SYNC_ID). */
  begin(id: string, seconds: number): void {
    const bytes = Buffer.from(id, 'latin1').subarray(0, ID_MAX);
    Atomics.add(this.ints, GENERATION, 1);
    this.id.set(bytes);
    Atomics.store(this.ints, ID_LENGTH, bytes.length);
    this.times[0] = Date.now();
    this.times[1] = seconds;
    Atomics.add(this.ints, GENERATION, 1);
    Atomics.store(this.ints, BUSY, 1);
  }

  /** The thread, once the request's outcome is sent. */
  end(): void {
    Atomics.store(this.ints, BUSY, 0);
  }

  /** The main thread: the request running, if any. */
  running(): LineRunning | undefined {
    for (;;) {
      const generation = Atomics.load(this.ints, GENERATION);
      if (Atomics.load(this.ints, BUSY) === 0 || generation % 2 === 1) return undefined;
      const length = Atomics.load(this.ints, ID_LENGTH);
      const running = { id: Buffer.from(this.id.subarray(0, length)).toString('latin1'), started: this.times[0]!, seconds: this.times[1]! };
      if (Atomics.load(this.ints, GENERATION) === generation) return running;
    }
  }

  /** The main thread: stops the request (the thread reads why with cancelled()). */
  cancel(reason: CancelReason): void {
    Atomics.store(this.ints, REASON, REASONS.indexOf(reason));
    Atomics.store(this.ints, TASK_CANCELLED, 1);
  }

  /** The thread: why its request was stopped, if it was. */
  cancelled(): CancelReason | undefined {
    return Atomics.load(this.ints, TASK_CANCELLED) === 1 ? REASONS[Atomics.load(this.ints, REASON)] : undefined;
  }
}

/** What a tally counts per service: requests served, then WorkCounts. */
const TALLIED = ['requests', 'cutouts', 'cutoutBytes', 'rows'] as const;

/** Requests a thread line served since the tally was last taken, and what they produced. */
export interface LineServed {
  service: string;
  requests: number;
  work: Partial<WorkCounts>;
}

/**
 * What a thread line has served, per service, added up in memory its main thread reads when
 * the metrics are scraped (LineThreads.settle): a message to the main thread after each
 * answer woke it once per request, ~30 µs of a sync request on a small VM.
 */
export class LineTally {
  private readonly counts: BigInt64Array;
  /** The main thread: the counts as last taken. */
  private readonly taken: bigint[];

  constructor(
    private readonly services: readonly string[],
    readonly buffer = new SharedArrayBuffer(services.length * TALLIED.length * 8),
  ) {
    this.counts = new BigInt64Array(buffer);
    this.taken = Array.from({ length: this.counts.length }, () => 0n);
  }

  /** The thread: one request of `service` served, which produced `work`. */
  add(service: string, work: Partial<WorkCounts> | undefined): void {
    const k = this.services.indexOf(service);
    if (k < 0) return;
    Atomics.add(this.counts, k * TALLIED.length, 1n);
    for (let f = 1; f < TALLIED.length; f++) {
      const n = work?.[TALLIED[f] as keyof WorkCounts];
      if (n) Atomics.add(this.counts, k * TALLIED.length + f, BigInt(Math.round(n)));
    }
  }

  /** The main thread: what was served since the last call, for each service that served any. */
  take(): LineServed[] {
    const out: LineServed[] = [];
    for (const [k, service] of this.services.entries()) {
      const delta = TALLIED.map((_, f) => {
        const i = k * TALLIED.length + f;
        const now = Atomics.load(this.counts, i);
        const d = now - this.taken[i]!;
        this.taken[i] = now;
        return Number(d);
      });
      if (delta.every((d) => d === 0)) continue;
      const work: Partial<WorkCounts> = {};
      TALLIED.forEach((field, f) => {
        if (f > 0 && delta[f]) work[field as keyof WorkCounts] = delta[f];
      });
      out.push({ service, requests: delta[0]!, work });
    }
    return out;
  }
}
