/** Chunked text output to a Node Writable honouring backpressure. */
import type { Writable } from 'node:stream';

/** Resolves on `drain`; rejects when the stream errors or closes first (so callers never hang). */
export function waitDrain(out: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('output stream closed before drain'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/** Waits until the stream has flushed everything after `end()`. */
export function finishStream(out: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (out.writableFinished) return resolve();
    // An output that failed earlier will never finish: say why instead of waiting forever.
    if (out.destroyed) return reject(destroyedError(out));
    out.once('finish', () => resolve());
    out.once('error', reject);
    out.end();
  });
}

/** Why the output cannot take more: its own error (e.g. the job's output limit), if it had one. */
function destroyedError(out: Writable): Error {
  return out.errored ?? new Error('output stream destroyed');
}

/**
 * Accumulates text and hands it to the stream in chunks of about `chunkSize` characters, so
 * each `write()` is big enough to be cheap while memory stays bounded by one chunk plus the
 * stream's own highWaterMark.
 */
export class Sink {
  private buf = '';

  constructor(
    readonly out: Writable,
    private readonly chunkSize: number,
  ) {}

  push(text: string): Promise<void> | undefined {
    this.buf += text;
    return this.buf.length >= this.chunkSize ? this.flush() : undefined;
  }

  /**
   * Bytes already encoded (a batch of rows from SQLite, shared/votable/native.ts), written
   * after the text before them as they are: big enough to be a write of their own.
   */
  pushBytes(bytes: Uint8Array): Promise<void> | undefined {
    const text = this.flush();
    if (this.out.destroyed) return text ?? Promise.reject(destroyedError(this.out));
    const ok = this.out.write(bytes);
    // A drain after the text's write covers this one too: 'drain' means all is flushed.
    return text ?? (ok ? undefined : waitDrain(this.out));
  }

  flush(): Promise<void> | undefined {
    if (this.buf.length === 0) return undefined;
    if (this.out.destroyed) {
      // Report through the promise like a failed drain, so callers have one error path.
      this.buf = '';
      return Promise.reject(destroyedError(this.out));
    }
    const ok = this.out.write(this.buf);
    this.buf = '';
    return ok ? undefined : waitDrain(this.out);
  }
}
