/**
 * Entry of a processor thread. Processors run here, off the worker's main thread, so the
 * BullMQ lock renewal never waits behind CPU-heavy work, and a job is stopped for good by
 * terminating its thread (abort, execution duration).
 */
import { mkdirSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { Processor, ProcessorInput, ProducedResult } from '../shared/uws/service';

export interface ThreadTask {
  processorModule: string;
  input: ProcessorInput;
}

export type ThreadReply =
  | { ok: true; results: ProducedResult[] }
  | { ok: false; message: string; errorType: 'transient' | 'fatal'; userError: boolean };

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

parentPort?.on('message', (task: ThreadTask) => {
  void (async () => {
    let reply: ThreadReply;
    try {
      // Made here, off the worker's main thread, before the processor writes into it (sync
      // requests with inline results make it only when a result spills to a file).
      if (task.input.inlineLimit === undefined) mkdirSync(task.input.resultsDir, { recursive: true });
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
    parentPort?.postMessage(reply);
  })();
});
