/**
 * The TAP 1.1 service as the UWS engine sees it: jobs at /api/tap/async run
 * worker/tap/processor, and a failed job's /error is a DALI VOTable error document
 * (TAP 1.1 §2.9, DALI 1.1 §4.4.1).
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';
import type { Job } from '../uws/model';
import type { ErrorDocument, UwsService } from '../uws/service';
import { votableError } from '../votable';

export const VOTABLE_ERROR_TYPE = 'application/x-votable+xml';

/** A failed job's /error as a DALI VOTable error document (TAP, SIA). */
export function votableErrorDocument(job: Job): ErrorDocument {
  return { contentType: VOTABLE_ERROR_TYPE, body: votableError(job.error?.message ?? 'Error') };
}

export const TAP_SERVICE: UwsService = {
  name: 'tap',
  title: 'TAP 1.1: ADQL queries over ivoa.ObsCore',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'tap', 'processor.ts'),
  errorDocument: votableErrorDocument,
};
