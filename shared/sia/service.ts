/**
 * SIA 2.0 {query} as a service of the engine: synchronous only (no UWS job tree), run by
 * worker/sia/processor in the workers like TAP's sync queries.
 */
import path from 'node:path';
import { jobVotableErrorDocument } from '../dali/error-document';
import { PROJECT_ROOT } from '../runtime';
import type { UwsService } from '../uws/service';

export const SIA_SERVICE: UwsService = {
  name: 'sia',
  title: 'SIA 2.0: image discovery by position, band, time, collection…',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'sia', 'processor.ts'),
  asyncJobs: false,
  errorDocument: jobVotableErrorDocument,
};
