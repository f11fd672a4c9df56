/**
 * The DALI 1.1 §4.4.1 error document of TAP (1.1 §3.3), SIA 2.0 and DataLink 1.1: a VOTable
 * whose QUERY_STATUS INFO is ERROR and holds the message. Kept apart from errors.ts, which the
 * SODA and SIA cores load without the VOTable writers.
 */
import type { Job } from '../uws/model';
import type { ErrorDocument } from '../uws/service';
import { DEFAULT_CONTENT_TYPES, votableError } from '../votable';

/** The error document holding `message` (a sync answer, a DataLink usage error). */
export function votableErrorDocument(message: string): ErrorDocument {
  return { contentType: DEFAULT_CONTENT_TYPES.votable, body: votableError(message) };
}

/** A failed job's /error as the error document. */
export function jobVotableErrorDocument(job: Job): ErrorDocument {
  return votableErrorDocument(job.error?.message ?? 'Error');
}
