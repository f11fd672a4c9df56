/**
 * When to read a rectangle's rows as one span rather than one positioned read each
 * (RectReadOptions.maxGapBytes), learnt from the reads themselves.
 *
 * A span costs the bytes it moves (the skipped ones too); row reads cost a system call each.
 * Coalescing pays while the bytes skipped per row cost less than a read: below the gap
 * (read cost) / (cost of a byte in a span read). Both depend on the machine, by a factor of
 * several: on AMD EPYC VMs a read took 2.3–3.7 µs and spans moved ~10 GB/s (gap ~24 KiB, the
 * fixed default before); on an Intel Xeon VM a read took ~1.1 µs and 1–4 MiB spans of a large
 * image moved ~4.5 GB/s (gap ~5 KiB), where 24 KiB made 64×64 and 256×256 stamps of a
 * 4096-wide image 3× slower than row reads. Timing one's own reads in a tight loop
 * overestimates the gap (a span read again is in the CPU's caches: 20 KiB measured there), so
 * the model learns from the real reads of the running work, and now and then reads the other
 * way to keep both costs known.
 */

/** Gaps the model chooses between, bytes. */
export const MODEL_GAP_MIN = 2 << 10;
export const MODEL_GAP_MAX = 64 << 10;
/** Span reads shorter than this say more about the call than about bytes: not counted. */
export const MIN_SPAN_SAMPLE = 64 << 10;
/**
 * One rectangle in EXPLORE_EVERY is read the other way round (about 3 % of reads, each at
 * worst a few times slower); one in LEARN_EVERY until both costs are known.
 */
export const EXPLORE_EVERY = 64;
const LEARN_EVERY = 8;
/** Samples of each kind before the model is trusted over the default. */
const MIN_SAMPLES = 4;
/** Weight of a new sample in the moving averages. */
const ALPHA = 0.2;

export class ReadCostModel {
  /** µs per positioned row read. */
  private rowRead = 0;
  private rowSamples = 0;
  /** µs per byte of a span read. */
  private spanByte = 0;
  private spanSamples = 0;
  private calls = 0;

  constructor(private readonly fallback: number) {}

  /** `count` row reads took `ms`. */
  observeRows(count: number, ms: number): void {
    if (count < 1) return;
    this.rowRead = this.average(this.rowRead, this.rowSamples++, (ms * 1000) / count);
  }

  /** One read of `bytes` took `ms` (a span, or any large read: they move bytes the same way). */
  observeSpan(bytes: number, ms: number): void {
    if (bytes < MIN_SPAN_SAMPLE) return;
    // The read's own fixed cost, known or not yet, is not a cost of its bytes.
    const perByte = Math.max(0, ms * 1000 - this.rowRead) / bytes;
    this.spanByte = this.average(this.spanByte, this.spanSamples++, perByte);
  }

  private average(current: number, samples: number, sample: number): number {
    return samples === 0 ? sample : current + ALPHA * (sample - current);
  }

  /** The gap below which to coalesce, as the model has it (the fallback until it knows both costs). */
  estimate(): number {
    if (!this.trained || this.spanByte <= 0) return this.fallback;
    return Math.min(MODEL_GAP_MAX, Math.max(MODEL_GAP_MIN, Math.round(this.rowRead / this.spanByte)));
  }

  /** The gap for the next rectangle: the estimate, but for one in EXPLORE_EVERY read each other way. */
  nextGap(): number {
    const every = this.trained ? EXPLORE_EVERY : LEARN_EVERY;
    const turn = this.calls++ % every;
    if (turn === 1) return 0; // rows one by one
    if (turn === 1 + every / 2) return MODEL_GAP_MAX; // one span
    return this.estimate();
  }

  private get trained(): boolean {
    return this.rowSamples >= MIN_SAMPLES && this.spanSamples >= MIN_SAMPLES;
  }
}
