/**
 * The api side of DataLink #preview and #thumbnail pictures (shared/datalink/previews.ts):
 * finds them in the cache, and has a worker render the missing ones (service `preview`,
 * worker/datalink/preview.ts: reading and drawing a 4k × 4k image takes a few hundred
 * milliseconds of CPU, which the api's event loop must not spend). One rendering per file is
 * under way at a time, however many requests want it, and at most RENDERS_AT_ONCE files per
 * api process: a DataLink request for a thousand IDs must not queue a thousand renderings in
 * front of other users' sync requests. Renderings only wanted ahead of time (DataLink listing a
 * dataset) are dropped when RENDERS_WAITING are already waiting; a fetch of a picture waits.
 */
import type { Config } from '../../shared/config';
import { cachedSize, fileVersion, previewCacheDir, previewFile, type FileVersion, type PreviewKind } from '../../shared/datalink/previews';
import { Turns } from '../../shared/turns';
import { HttpError } from '../http/errors';
import { RequestParams } from '../http/params';
import { SyncUnavailable, type SyncDispatcher } from '../sync-dispatcher';

/** Seconds a client refused with 503 is told to wait (the workers are busy or away). */
const RETRY_AFTER_S = 5;

/** The sync service that renders previews (not reachable over HTTP by itself). */
export const PREVIEW_SERVICE_NAME = 'preview';

export interface PreviewEntry {
  file: string;
  size: number;
}

/** Files one api process has the workers draw at once. */
export const RENDERS_AT_ONCE = 2;
/** Renderings wanted ahead of time that may wait for a turn; beyond, they are not started. */
export const RENDERS_WAITING = 16;

export class PreviewMaker {
  private readonly rendering = new Map<string, Promise<void>>();
  private readonly turns = new Turns(RENDERS_AT_ONCE, RENDERS_WAITING);
  private readonly cacheDir: string;

  constructor(
    config: Config,
    private readonly sync: SyncDispatcher,
  ) {
    this.cacheDir = previewCacheDir(config.resultsDir);
  }

  /** The cached picture of a dataset file (its real path), or undefined when it is not cached. */
  async cached(realPath: string, kind: PreviewKind): Promise<PreviewEntry | undefined> {
    return this.entry(await fileVersion(realPath), kind);
  }

  /** Both cached pictures of a dataset file, the file's version read once. */
  async cachedBoth(realPath: string): Promise<Record<PreviewKind, PreviewEntry | undefined>> {
    const version = await fileVersion(realPath);
    const [preview, thumbnail] = await Promise.all([this.entry(version, 'preview'), this.entry(version, 'thumbnail')]);
    return { preview, thumbnail };
  }

  private async entry(version: FileVersion, kind: PreviewKind): Promise<PreviewEntry | undefined> {
    const file = previewFile(this.cacheDir, version, kind);
    const size = await cachedSize(file);
    return size === undefined ? undefined : { file, size };
  }

  /**
   * The picture, rendered by a worker first when it is not cached. `relative` is the file's
   * path under DATA_DIR (what the worker is given), `realPath` the file itself. Throws an
   * HttpError: 503 when no worker rendered it in time, 400 when the file has no image to draw.
   */
  async get(relative: string, realPath: string, kind: PreviewKind): Promise<PreviewEntry> {
    const hit = await this.cached(realPath, kind);
    if (hit) return hit;
    await this.render(relative);
    const made = await this.cached(realPath, kind);
    if (!made) throw new Error(`the preview of ${relative} was rendered but is not in the cache ${this.cacheDir}`);
    return made;
  }

  /**
   * Has a worker render both pictures of a file (once at a time per file). `ahead`: only wanted
   * ahead of time (DataLink listing it): not started, and resolves at once, when too many
   * renderings already wait for their turn.
   */
  async render(relative: string, ahead = false): Promise<void> {
    let under = this.rendering.get(relative);
    if (!under) {
      under = this.turns
        .run(() => this.renderNow(relative), ahead)
        .then(() => undefined)
        .finally(() => this.rendering.delete(relative));
      this.rendering.set(relative, under);
    }
    return under;
  }

  private async renderNow(relative: string): Promise<void> {
    try {
      await this.dispatch(relative);
    } catch (err) {
      if (err instanceof SyncUnavailable)
        throw new HttpError(503, `ServiceUnavailable: ${err.message}`, { 'Retry-After': String(RETRY_AFTER_S) });
      throw err;
    }
  }

  private async dispatch(relative: string): Promise<void> {
    const run = await this.sync.run(PREVIEW_SERVICE_NAME, new RequestParams([{ name: 'FILE', value: relative }]), {
      owner: null,
      baseUrl: '',
      onClose: () => undefined,
    });
    try {
      const { outcome } = run.kind === 'final' ? run : await run.final;
      if (!outcome.ok) throw new HttpError(outcome.userError ? 400 : 500, `no preview of ${relative}: ${outcome.message}`);
    } finally {
      await run.dispose();
    }
  }
}
