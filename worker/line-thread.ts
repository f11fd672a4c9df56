/**
 * A thread line (SYNC_THREAD_LINES): a processor thread that takes DALI-sync requests from the
 * apis on a port of its own and runs them itself, one at a time, answering on the line each
 * came on. Its worker's main thread is not on the way (worker/line-threads.ts supervises it
 * through shared memory: time limits, aborts, a thread that died), so a request is handed over
 * twice (api → thread → api) instead of four times. What the main thread must hear (the
 * metrics, a processor's failure) follows each reply in one message, after the answer has gone.
 */
import fs from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { Config } from '../shared/config';
import { encodeSyncMessage, stoppedOutcome, type SyncRequest } from '../shared/dali/sync-messages';
import { LineListener } from './line-listener';
import { LineTally, LineThreadState, type LineThreadData } from './line-thread-state';
import { processorInput, syncTaskInput } from './task-input';
import type { ThreadReply, ThreadSpill, ThreadTask } from './thread';

/** What a thread line tells its main thread. */
export type LineThreadMessage =
  /** Listening (or not: `error`). */
  | { listening: { port: number } | { error: string } }
  /**
   * A request ended that the main thread must act on: its processor failed (not the user's
   * error), or it was stopped (its thread is ended). What requests produce is in the tally.
   */
  | { served: { service: string; failure?: string; id: string } }
  /** An api asked to stop a request of this line (the main thread stops it). */
  | { abort: string }
  /** A line closed on a peer's fault. */
  | { warn: { fields: Record<string, unknown>; message: string } };

/** What the main thread tells a thread line: take nothing new (the worker is stopping). */
export interface LineThreadCommand {
  drain: true;
}

function post(message: LineThreadMessage): void {
  parentPort?.postMessage(message);
}

export function serveLine(
  config: Config,
  data: LineThreadData,
  run: (task: ThreadTask, onSpill: (spilled: ThreadSpill['spilled']) => void) => Promise<ThreadReply>,
): void {
  const state = new LineThreadState(data.state);
  const tally = new LineTally(Object.keys(data.processors), data.tally);
  let busy = false;
  let draining = false;

  /** Runs `request`; `send` writes on its line. */
  const serve = async (request: SyncRequest, processorModule: string, send: (message: Uint8Array, final: boolean) => void) => {
    const { id } = request;
    let reply: ThreadReply | undefined;
    try {
      const task = syncTaskInput(config, request);
      state.begin(id, request.timeout);
      reply = await run({ processorModule, input: processorInput(config, task), cancelKey: data.cancelKey, state: state.task }, (spilled) =>
        send(encodeSyncMessage({ id, streaming: { file: spilled.file, mimeType: spilled.mimeType } }), false),
      );
      const stopped = state.cancelled();
      // A stopped request's thread is ended next: its api must send nothing more here (the
      // BYE goes out before the outcome, on the same connection).
      if (stopped) listener.bye();
      if (stopped === 'abort' || stopped === 'superseded') {
        // The client went away: nobody reads an outcome.
        await fs.rm(task.dir, { recursive: true, force: true });
        return;
      }
      send(stopped ? encodeSyncMessage({ id, outcome: stoppedOutcome(stopped, request.timeout) }) : reply.syncMessage!, true);
    } catch (err) {
      // Not the processor's failure (that is a reply): the request could not be run or answered here.
      reply = { ok: false, userError: false, errorType: 'transient', message: `the request could not be run: ${(err as Error).message}` };
      send(encodeSyncMessage({ id, outcome: reply }), true);
    } finally {
      state.end();
      tally.add(request.service, reply?.work);
      // The main thread hears only of what it must act on: a failure to log, a stopped
      // request's thread to end (the counts it reads from the tally).
      const failure = reply && !reply.ok && !reply.userError ? reply.message : undefined;
      if (failure || state.cancelled()) post({ served: { service: request.service, id, ...(failure ? { failure } : {}) } });
    }
  };

  const listener = new LineListener(
    config.signingKey,
    {
      offer: (request, send) => {
        const processorModule = data.processors[request.service];
        if (busy || draining || state.cancelled() || processorModule === undefined) return false;
        busy = true;
        void serve(request, processorModule, send).finally(() => (busy = false));
        return true;
      },
      // This thread may be inside a statement: the main thread stops it.
      abort: (id) => post({ abort: id }),
    },
    // An Error does not cross to the main thread whole: its message does.
    {
      warn: (fields, message) =>
        post({ warn: { fields: { ...fields, err: fields.err instanceof Error ? fields.err.message : fields.err }, message } }),
    },
    true, // one api at a time
  );
  parentPort?.on('message', (command: LineThreadCommand) => {
    if (command.drain) {
      draining = true;
      listener.bye();
    }
  });
  void listener
    .listen(data.host, 0)
    .then((listening) => post({ listening: 'error' in listening ? { error: listening.error.message } : { port: listening.port } }));
}
