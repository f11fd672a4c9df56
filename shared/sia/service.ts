/**
 * SIA 2.0 {query} as a service of the engine: synchronous only (no UWS job tree), run by
 * worker/sia/processor in the workers like TAP's sync queries.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';
import { votableErrorDocument } from '../tap/service';
import type { UwsService } from '../uws/service';

export const SIA_SERVICE: UwsService = {
  name: 'sia',
  title: 'SIA 2.0: image discovery by position, band, time, collection…',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'sia', 'processor.ts'),
  asyncJobs: false,
  errorDocument: votableErrorDocument,
};
