/**
 * Draws the DataLink #preview and #thumbnail pictures of a dataset file into the preview
 * cache (runs in a worker thread; shared/datalink/previews.ts). The IMAGE plane is read once,
 * in strips block-averaged down to the #preview's size as they come (a 4k × 4k image is never
 * held whole), and the #thumbnail is drawn from the #preview's pixels. Parameter FILE (repeatable): the file's path under DATA_DIR, as the
 * api found it in ObsCore; it must stay inside DATA_DIR, by its real path too.
 */
import type { Config } from '../../shared/config';
import { fileVersion, previewCacheDir, previewDisplay, previewFile, PREVIEW_KINDS, storePreview } from '../../shared/datalink/previews';
import { FitsError, openFitsSync } from '../../shared/fits';
import { downsampledPlaneOfFits, renderPreview, type Plane } from '../../shared/preview';
import { realContainedPath } from '../../shared/storage';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  const cacheDir = previewCacheDir(config.resultsDir);
  for (const relative of input.parameters.filter((p) => p.name === 'FILE').map((p) => p.value)) {
    const real = await realContainedPath(config.dataDir, relative);
    if (!real) throw new JobFailure(`UsageError: no file ${relative} in the data repository`);
    const version = await fileVersion(real);
    let preview: Plane;
    try {
      const file = openFitsSync(real);
      try {
        preview = downsampledPlaneOfFits(file, PREVIEW_KINDS.preview);
      } finally {
        file.close();
      }
    } catch (err) {
      if (err instanceof FitsError) throw new JobFailure(`UsageError: ${relative} has no image to draw: ${err.message}`);
      throw err;
    }
    await storePreview(previewFile(cacheDir, version, 'preview'), renderPreview(preview, previewDisplay('preview'), 'png'));
    await storePreview(previewFile(cacheDir, version, 'thumbnail'), renderPreview(preview, previewDisplay('thumbnail'), 'png'));
  }
  return [];
}
