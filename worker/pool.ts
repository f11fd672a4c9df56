/**
 * A pool of processor threads. A thread runs one task at a time and is reused; a task that
 * is cancelled (abort, execution duration, shutdown) has its thread terminated, which stops
 * synchronous and asynchronous work alike, and a fresh thread takes its place on demand.
 */
import { Worker } from 'node:worker_threads';
import type { ThreadReply, ThreadTask } from './thread';

export class TaskCancelled extends Error {
  override name = 'TaskCancelled';
  constructor(readonly reason: string) {
    super(`task cancelled: ${reason}`);
  }
}

export interface RunningTask {
  promise: Promise<ThreadReply>;
  cancel(reason: string): void;
}

export class ThreadPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private closed = false;

  constructor(private readonly entry: string, private readonly maxIdle: number) {}

  run(task: ThreadTask): RunningTask {
    if (this.closed) throw new Error('thread pool closed');
    const thread = this.idle.pop() ?? new Worker(this.entry);
    this.busy.add(thread);
    let settle: { resolve(reply: ThreadReply): void; reject(err: Error): void } | undefined;
    const cleanup = () => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      this.busy.delete(thread);
    };
    const onMessage = (reply: ThreadReply) => {
      cleanup();
      if (!this.closed && this.idle.length < this.maxIdle) this.idle.push(thread);
      else void thread.terminate();
      settle?.resolve(reply);
    };
    const onError = (err: Error) => {
      cleanup();
      void thread.terminate();
      settle?.reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      settle?.reject(new Error(`processor thread exited with code ${code}`));
    };
    const promise = new Promise<ThreadReply>((resolve, reject) => {
      settle = { resolve, reject };
    });
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
    thread.postMessage(task);
    return {
      promise,
      cancel: (reason: string) => {
        if (!this.busy.has(thread)) return;
        cleanup();
        void thread.terminate();
        settle?.reject(new TaskCancelled(reason));
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
