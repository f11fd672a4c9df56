/**
 * Blocking job reads (UWS 1.1 §2.2.1.2) are event-driven: the api process's one Redis
 * subscription (UwsEvents) calls `notify` on every phase change, which wakes the requests
 * waiting on that job (UwsEngine.waitForChange). Nothing polls.
 */
export interface Waiter {
  /** Resolves true on a phase change of the job, false when the time is up or it is closed. */
  readonly changed: Promise<boolean>;
  close(): void;
}

export class WaitHub {
  private readonly waiters = new Map<string, Set<(changed: boolean) => void>>();

  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  notify(jobId: string): void {
    const set = this.waiters.get(jobId);
    if (!set) return;
    for (const wake of [...set]) wake(true);
  }

  /** Register before reading the job, so a change between the read and the wait is not missed. */
  subscribe(jobId: string, timeoutMs: number): Waiter {
    let set = this.waiters.get(jobId);
    if (!set) {
      set = new Set();
      this.waiters.set(jobId, set);
    }
    const waiters = set;
    let wake!: (changed: boolean) => void;
    const changed = new Promise<boolean>((resolve) => {
      wake = (value: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiters.get(jobId) === waiters) this.waiters.delete(jobId);
        resolve(value);
      };
    });
    waiters.add(wake);
    const timer = setTimeout(() => wake(false), timeoutMs);
    return { changed, close: () => wake(false) };
  }
}
