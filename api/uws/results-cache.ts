/**
 * The `<uws:result>` elements of jobs with long result lists, kept rendered by the api.
 *
 * Why: a bulk batch lists every stamp as a result (UWS 1.1 §2.2.2, the job's results list),
 * so its job document grows with it: 27,000 results take ~90 ms to read from the store and
 * render, 300,000 about a second. Clients poll that document: the bulk CLI every second while
 * the batch runs, pyvo at each phase change, a browser or a script whenever it likes. Without
 * this, polling one large batch could keep the api busy.
 *
 * - A job in a final phase (COMPLETED, ERROR, ABORTED: §2.1.3) lists the same results from
 *   then on: rendered once, then served as kept.
 * - A running job's list grows as its parts finish: kept for max(1 s, 10 × the time it took to
 *   read and render), so following it costs at most about a tenth of a core. The rest of the
 *   document (phase, jobInfo's progress) is always read fresh: only the list may lag, by that
 *   much, while the job runs.
 * - Lists of fewer than MIN_RESULTS results, and jobs in other phases, are read fresh.
 * At most `maxChars` characters are kept, the least recently used dropped first; 0 keeps none.
 */
import type { Job, JobResult } from '../../shared/uws/model';
import { isFinal } from '../../shared/uws/phase';
import { resultsBody } from '../../shared/uws/xml';

/** Shorter lists are read and rendered for every request (~3 ms for 1,000). */
export const MIN_RESULTS = 1000;
/** A running job's list is kept at least this long, ms. */
const MIN_KEEP_MS = 1000;
/** …and at least this many times what it took to read and render it. */
const KEEP_FACTOR = 10;

interface Entry {
  /** What the list was rendered for: the job's attempt, phase and end. */
  readonly version: string;
  readonly xml: string;
  /** Until when a running job's list is served as kept (epoch ms; Infinity for final jobs). */
  readonly until: number;
}

export class ResultsCache {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;

  constructor(
    private readonly maxChars: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Characters kept now. */
  get size(): number {
    return this.chars;
  }

  /**
   * The job's `<uws:result>` elements (links under `jobUrl`), from the cache or rendered from
   * `load()` (the store's list, in order).
   */
  async elements(job: Job, jobUrl: string, load: () => Promise<JobResult[]>): Promise<string> {
    const final = isFinal(job.phase);
    const cacheable = this.maxChars > 0 && (final || job.phase === 'EXECUTING');
    const key = `${job.jobId}\0${jobUrl}`;
    const version = `${job.attempts}\0${job.phase}\0${job.endTime ?? ''}`;
    const now = this.now();
    if (cacheable) {
      const entry = this.entries.get(key);
      if (entry?.version === version && now < entry.until) {
        // Most recently used last.
        this.entries.delete(key);
        this.entries.set(key, entry);
        return entry.xml;
      }
    }
    const results = await load();
    const xml = resultsBody(jobUrl, results);
    if (cacheable && results.length >= MIN_RESULTS && xml.length <= this.maxChars) {
      const took = this.now() - now;
      this.put(key, { version, xml, until: final ? Infinity : now + Math.max(MIN_KEEP_MS, KEEP_FACTOR * took) });
    } else {
      this.drop(key);
    }
    return xml;
  }

  private put(key: string, entry: Entry): void {
    this.drop(key);
    this.entries.set(key, entry);
    this.chars += entry.xml.length;
    for (const [oldest, old] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= old.xml.length;
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.chars -= entry.xml.length;
  }
}
