/**
 * The renderer of DataLink #preview and #thumbnail pictures as a service of the engine:
 * synchronous only, with no endpoint of its own — the api asks it for the pictures of a
 * dataset file (api/datalink/previews.ts) when they are not in the cache, and a worker
 * (worker/datalink/preview.ts) draws them there.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';
import type { UwsService } from '../uws/service';

export const PREVIEW_SERVICE: UwsService = {
  name: 'preview',
  title: 'DataLink #preview and #thumbnail pictures',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'datalink', 'preview.ts'),
  asyncJobs: false,
};
