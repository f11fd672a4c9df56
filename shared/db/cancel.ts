/**
 * Cancellation that reaches inside SQLite (native/cancel.cc). Terminating a worker thread
 * stops its JavaScript, but a statement running inside SQLite goes on until it ends by itself
 * (measured: minutes of a core after an aborted cartesian join). With the extension loaded,
 * a connection's statements run for a task key, and cancelling the key from any thread of
 * the process interrupts them (SQLITE_INTERRUPT at SQLite's next check), after which the
 * thread's termination takes effect.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../runtime';

/** The compiled extension (`npm run build`, scripts/build-native.ts). */
export const CANCEL_LIBRARY = path.join(PROJECT_ROOT, 'dist', 'native', 'vo_cancel.so');

export function cancellationBuilt(library = CANCEL_LIBRARY): boolean {
  return fs.existsSync(library);
}

/**
 * A task's shared state (Int32Array over a SharedArrayBuffer, made by the controlling thread):
 * slot TASK_CANCELLED is set by the controller, slot TASK_IN_STATEMENTS by the task's thread
 * while it runs statements that may take long (querying()).
 */
export const TASK_CANCELLED = 0;
export const TASK_IN_STATEMENTS = 1;

export function taskState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

// Module state is per thread: these are the connections of the thread that imports it.
const connections = new Set<Database.Database>();
let currentKey = 0;
let currentState: Int32Array | undefined;

/**
 * Makes a connection's statements cancellable (they run for the thread's current task from
 * now on). False when the extension was not built: then only the thread's end stops them.
 */
export function makeCancellable(db: Database.Database, library = CANCEL_LIBRARY): boolean {
  if (!cancellationBuilt(library)) return false;
  // SQLite derives the entry point from the file name: vo_cancel.so → sqlite3_vocancel_init.
  db.loadExtension(library);
  connections.add(db);
  runFor(db, currentKey);
  return true;
}

/** Each connection's statement that sets its key, prepared once (preparing it per task took ~0.1 ms of a sync request). */
const keySetters = new WeakMap<Database.Database, Database.Statement>();

function runFor(db: Database.Database, key: number): void {
  let setter = keySetters.get(db);
  if (!setter) keySetters.set(db, (setter = db.prepare('SELECT vo_cancel_key(?)')));
  setter.get(key);
}

/** In a processor thread, at the start of each task: statements from now on run for `key`. */
export function runStatementsFor(key: number, state?: Int32Array): void {
  currentKey = key;
  currentState = state;
  for (const db of connections) {
    if (db.open) runFor(db, key);
    else connections.delete(db);
  }
}

/** Thrown in a task's thread that was cancelled before it could start its statements. */
export class TaskCancelledInThread extends Error {
  override name = 'TaskCancelledInThread';
  constructor() {
    super('the task was cancelled');
  }
}

/**
 * Runs `work`, which runs statements that may take long, marked in the task's state: a
 * cancel then interrupts the statements and lets the thread come out of SQLite before it is
 * terminated (a statement failing while its thread terminates aborts the whole process:
 * better-sqlite3 cannot build the error). Sequentially consistent flags on both sides: the
 * thread marks, then checks for a cancel; the controller marks the cancel, then checks.
 */
export async function querying<T>(work: () => Promise<T>): Promise<T> {
  const state = currentState;
  if (state === undefined) return work();
  Atomics.store(state, TASK_IN_STATEMENTS, 1);
  try {
    if (Atomics.load(state, TASK_CANCELLED) === 1) throw new TaskCancelledInThread();
    return await work();
  } finally {
    Atomics.store(state, TASK_IN_STATEMENTS, 0);
  }
}

/** The controlling side (a worker's main thread): stops the statements of a task wherever they run in this process. */
export class StatementCanceller {
  private readonly db: Database.Database | undefined;
  private readonly cancelStatement: Database.Statement | undefined;
  private readonly releaseStatement: Database.Statement | undefined;

  constructor(library = CANCEL_LIBRARY) {
    if (!cancellationBuilt(library)) return;
    this.db = new Database(':memory:');
    this.db.loadExtension(library);
    this.cancelStatement = this.db.prepare('SELECT vo_cancel(?)').pluck(true);
    this.releaseStatement = this.db.prepare('SELECT vo_release_memory()').pluck(true);
  }

  /**
   * Gives the process's free C heap pages back to the system (glibc malloc_trim; shared/db/native/
   * cancel.cc): called when a pool is down to the threads it keeps warm, idle. False without the extension.
   */
  releaseMemory(): boolean {
    return this.releaseStatement?.get() === 1;
  }

  /** Whether statements can be stopped (the extension is built). */
  get available(): boolean {
    return this.db !== undefined;
  }

  /** Interrupts the statements running for task `key`; returns how many connections ran one. */
  cancel(key: number): number {
    return (this.cancelStatement?.get(key) as number | undefined) ?? 0;
  }

  close(): void {
    this.db?.close();
  }
}
