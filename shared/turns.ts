/**
 * Work that takes turns: at most `atOnce` pieces run at a time, the others wait in the order
 * they came. A finished piece hands its turn to the next waiting one, so no newcomer slips in
 * between. `optional` work (wanted ahead of time, not by a waiting client) is not queued when
 * `maxWaiting` pieces already wait: it is skipped, and the caller learns so.
 */
export class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly atOnce: number,
    readonly maxWaiting: number,
  ) {}

  /** How many pieces run, and how many wait. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `work` in its turn; `optional` work resolves to undefined at once when too many wait. */
  async run<T>(work: () => Promise<T>, optional = false): Promise<T | undefined> {
    if (this.running < this.atOnce) this.running++;
    else {
      if (optional && this.waiting.length >= this.maxWaiting) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
