/**
 * Entry of a processor thread. Processors run here, off the worker's main thread, so the
 * BullMQ lock renewal never waits behind CPU-heavy work, and a job is stopped for good by
 * terminating its thread (abort, execution duration).
 */
import { mkdirSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { runStatementsFor, TASK_CANCELLED } from '../shared/db/cancel';
import { encodeSyncMessage, type SyncMessage, type SyncStreaming } from '../shared/dali/sync-messages';
import { connectRedis, type Redis } from '../shared/redis';
import { outputCounter } from '../shared/uws/results';
import type { Processor, ProcessorInput, ProducedResult } from '../shared/uws/service';

export interface ThreadTask {
  processorModule: string;
  input: ProcessorInput;
  /** The task's key for cancelling its SQLite statements (shared/db/cancel.ts; ThreadPool assigns it). */
  cancelKey: number;
  /**
   * Shared with the pool (shared/db/cancel.ts taskState): TASK_CANCELLED is set when the task
   * was cancelled (an interrupted query then comes back as an error, which must not be
   * published as the request's answer); TASK_IN_STATEMENTS while it runs long statements.
   */
  state: Int32Array;
  /**
   * DALI-sync requests: publish the outcome from this thread, straight to the waiting api
   * (one hand-over fewer than through the main thread: measured 0.2–0.3 ms of every answer).
   */
  publish?: { redisUrl: string; channel: string; id: string };
}

export type ThreadReply = (
  | { ok: true; results: ProducedResult[] }
  | { ok: false; message: string; errorType: 'transient' | 'fatal'; userError: boolean }
) & {
  /** Already published (ThreadTask.publish); inline result bytes are then not sent back. */
  published?: boolean;
};

const processors = new Map<string, Processor>();

function load(modulePath: string): Processor {
  let processor = processors.get(modulePath);
  if (!processor) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(modulePath) as { process?: unknown };
    if (typeof loaded.process !== 'function') throw new Error(`${modulePath} does not export a process function`);
    processor = loaded.process as Processor;
    processors.set(modulePath, processor);
  }
  return processor;
}

/**
 * The memory of inline result bytes, handed to the main thread instead of copied (a sync
 * answer of a thousand rows is a few hundred kB). Only buffers that own their whole memory:
 * a small Buffer may be a slice of Node's shared pool, which must stay here.
 */
function transferable(reply: ThreadReply): ArrayBuffer[] {
  if (!reply.ok) return [];
  return reply.results.flatMap((r) => (r.data !== undefined && r.data.byteOffset === 0 && r.data.buffer.byteLength === r.data.length && r.data.buffer instanceof ArrayBuffer ? [r.data.buffer] : []));
}

parentPort?.on('message', (task: ThreadTask) => {
  void (async () => {
    let reply: ThreadReply;
    runStatementsFor(task.cancelKey, task.state);
    try {
      // Made here, off the worker's main thread, before the processor writes into it (sync
      // requests with inline results make it only when a result spills to a file).
      if (task.input.inlineLimit === undefined) mkdirSync(task.input.resultsDir, { recursive: true });
      if (task.input.maxBytes !== undefined) task.input.written = outputCounter();
      const target = task.publish;
      if (target !== undefined) {
        // The api starts sending a large result while it is still being written; the outcome
        // follows on the same connection, so after this message.
        task.input.onSpill = (result) => void publish(target, { id: target.id, streaming: { file: result.file, mimeType: result.mimeType } });
      }
      reply = { ok: true, results: await load(task.processorModule)(task.input) };
    } catch (err) {
      const error = err as Error & { type?: unknown };
      reply = {
        ok: false,
        message: error.message || String(err),
        errorType: error.type === 'transient' ? 'transient' : 'fatal',
        // JobFailure (by name: classes do not cross the thread boundary) is the user's error.
        userError: error.name === 'JobFailure',
      };
    }
    const cancelled = Atomics.load(task.state, TASK_CANCELLED) === 1;
    if (!cancelled && task.publish !== undefined && (await publish(task.publish, { id: task.publish.id, outcome: reply }))) {
      parentPort?.postMessage(withoutData(reply));
      return;
    }
    parentPort?.postMessage(reply, transferable(reply));
  })();
});

let publisher: { url: string; redis: Redis } | undefined;

/** Publishes a sync request's message; false when Redis did not take it (the main thread then tries the outcome). */
async function publish(target: NonNullable<ThreadTask['publish']>, message: SyncMessage | SyncStreaming): Promise<boolean> {
  try {
    if (publisher?.url !== target.redisUrl) {
      publisher?.redis.disconnect();
      publisher = { url: target.redisUrl, redis: connectRedis(target.redisUrl) };
    }
    await publisher.redis.publish(target.channel, encodeSyncMessage(message));
    return true;
  } catch {
    return false;
  }
}

function withoutData(reply: ThreadReply): ThreadReply {
  return reply.ok ? { ...reply, published: true, results: reply.results.map((r) => ({ ...r, data: undefined })) } : { ...reply, published: true };
}
