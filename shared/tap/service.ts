/**
 * The TAP 1.1 service as the UWS engine sees it: jobs at /api/tap/async run
 * worker/tap/processor, and a failed job's /error is a DALI VOTable error document
 * (TAP 1.1 §3.3, DALI 1.1 §4.4.1).
 */
import path from 'node:path';
import { jobVotableErrorDocument } from '../dali/error-document';
import { PROJECT_ROOT } from '../runtime';
import type { UwsService } from '../uws/service';

export const TAP_SERVICE: UwsService = {
  name: 'tap',
  title: 'TAP 1.1: ADQL queries over ivoa.ObsCore',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'tap', 'processor.ts'),
  errorDocument: jobVotableErrorDocument,
};
