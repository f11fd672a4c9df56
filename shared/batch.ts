/**
 * Group commit: work submitted during one turn of the event loop is flushed together on the
 * next, and every caller's promise settles with its own outcome once the batch is written.
 * Under load this turns one database commit (or one Redis round trip) per request into one
 * per turn; when idle it adds no waiting beyond a setImmediate.
 */
interface Pending<T> {
  item: T;
  resolve(): void;
  reject(err: unknown): void;
}

export class Batcher<T> {
  private pending: Pending<T>[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly maxBatch = 64,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    });
  }

  private run(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (let i = 0; i < pending.length; i += this.maxBatch) {
      const batch = pending.slice(i, i + this.maxBatch);
      this.flush(batch.map((p) => p.item)).then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  }
}
