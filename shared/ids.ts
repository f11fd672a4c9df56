/**
 * The identifiers the system makes: UWS job ids, DALI sync request ids and api process ids.
 * All are 16 characters of base32 (80 random bits), lower-case, safe in URLs, file names and
 * Redis channel names (shared/dali/sync-messages.ts checks that form on what workers get).
 */
import { randomBytes } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 16;

/** Random bytes drawn in bulk: one system call per 4 KiB instead of one per id. */
let entropy = Buffer.alloc(0);
let entropyOffset = 0;

function randomId(): string {
  if (entropyOffset + ID_LENGTH > entropy.length) {
    entropy = randomBytes(4096);
    entropyOffset = 0;
  }
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[entropy[entropyOffset + i]! & 31];
  entropyOffset += ID_LENGTH;
  return id;
}

/** A UWS job's id: the last segment of its URL and the name of its directory. */
export function newJobId(): string {
  return randomId();
}

/** A synchronous (DALI sync) request's id: the name of its directory under RESULTS_DIR/.sync. */
export function newSyncRequestId(): string {
  return randomId();
}

/** An api process's id: workers publish the outcomes of its sync requests on a channel named by it. */
export function newProcessId(): string {
  return randomId();
}
