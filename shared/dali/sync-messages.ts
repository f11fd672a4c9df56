/**
 * DALI-sync requests (DALI 1.1 §2.2, e.g. TAP /sync, SODA /sync) run in the workers, like
 * jobs, but without a job record: the api pushes a request onto a per-service Redis list,
 * one worker takes it (BLPOP), runs the service's processor and publishes the outcome on the
 * sending api's own channel; the api answers with the bytes in that message or streams the
 * result file and deletes it. The api thus never does query or pixel work, and a request no
 * worker takes is withdrawn, not lost.
 */
import path from 'node:path';
import type { JobParameter, ErrorType } from '../uws/model';
import type { ProducedResult } from '../uws/service';

export interface SyncRequest {
  /** Random id (job-id alphabet): names the request's directory and its replies. */
  id: string;
  service: string;
  owner: string | null;
  parameters: JobParameter[];
  baseUrl: string;
  /** Seconds the processor may run before it is stopped. */
  timeout: number;
  /** Results up to this many bytes travel back inside the reply (SYNC_INLINE_BYTES). */
  inlineLimit: number;
  /** The sending api process: its reply channel is channels().syncReplies(replyTo). */
  replyTo: string;
}

export type SyncOutcome =
  { ok: true; results: ProducedResult[] } | { ok: false; message: string; errorType: ErrorType; userError: boolean };

/** The outcome of a request its worker stopped: past its time limit, or the worker is stopping. */
export function stoppedOutcome(reason: 'duration' | 'shutdown', timeout: number): SyncOutcome {
  return reason === 'duration'
    ? {
        ok: false,
        userError: true,
        errorType: 'fatal',
        message: `the request ran longer than ${timeout} s and was stopped; use the async endpoint for long work`,
      }
    : { ok: false, userError: false, errorType: 'transient', message: 'the worker is shutting down; please retry' };
}

/**
 * What a worker publishes when a request is done: its outcome. A first result that stayed in
 * memory follows the JSON line as raw bytes (`data`), with its `data` field removed from the
 * JSON. (Whether a worker took a request at all, the api learns from the list: a request no
 * longer there was taken.)
 */
export interface SyncMessage {
  id: string;
  outcome: SyncOutcome;
  data?: Buffer;
}

/**
 * Sent before the outcome when the first result outgrew SYNC_INLINE_BYTES: its file (under
 * the request's results/) exists and grows until the outcome follows; the api streams it
 * meanwhile.
 */
export interface SyncStreaming {
  id: string;
  streaming: { file: string; mimeType: string };
}

/** Request and api ids: the job-id alphabet. */
const SYNC_ID = /^[a-z2-7]{16}$/;

/** RESULTS_DIR/.sync/<id>: uploads/ and results/ of one synchronous request. */
export function syncDir(resultsRoot: string, id: string): string {
  if (!SYNC_ID.test(id)) throw new Error(`invalid sync request id ${JSON.stringify(id)}`);
  return path.join(resultsRoot, '.sync', id);
}

export function encodeSyncMessage(message: SyncMessage | SyncStreaming): Buffer {
  if ('streaming' in message || !message.outcome.ok) return Buffer.from(JSON.stringify(message));
  const [first, ...rest] = message.outcome.results;
  const data = first?.data;
  const results = first ? [{ ...first, data: undefined }, ...rest.map((r) => ({ ...r, data: undefined }))] : [];
  // JSON text never holds a raw newline: one marks the start of the bytes.
  const head = JSON.stringify({ id: message.id, outcome: { ok: true, results } });
  return data ? Buffer.concat([Buffer.from(`${head}\n`), data]) : Buffer.from(head);
}

export function parseSyncMessage(bytes: Buffer): SyncMessage | SyncStreaming | undefined {
  const newline = bytes.indexOf(0x0a);
  try {
    const message = JSON.parse(bytes.toString('utf8', 0, newline < 0 ? bytes.length : newline)) as SyncMessage | SyncStreaming;
    if (typeof message.id !== 'string') return undefined;
    if (newline >= 0 && 'outcome' in message) message.data = bytes.subarray(newline + 1);
    return message;
  } catch {
    return undefined;
  }
}

export function parseSyncRequest(text: string): SyncRequest | undefined {
  try {
    const request = JSON.parse(text) as SyncRequest;
    const valid =
      typeof request.id === 'string' &&
      typeof request.service === 'string' &&
      Array.isArray(request.parameters) &&
      SYNC_ID.test(String(request.replyTo));
    return valid ? request : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A worker running a sync request keeps its "taken" key alive (channels().syncTaken) for this
 * long, renewing it three times as often; the api that sent the request watches the key and
 * answers 503 soon after it vanishes with no outcome (the worker died), instead of waiting
 * out SYNC_TIMEOUT.
 */
export const SYNC_TAKEN_TTL_MS = 3000;
