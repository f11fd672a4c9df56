/**
 * The job store: the source of truth for UWS jobs (Redis holds only queues and events).
 * Every phase change is a conditional UPDATE ... WHERE phase IN (sources), so of two racing
 * requests exactly one wins and the other sees `false`. Statements are fixed SQL with bound
 * values, portable between SQLite and PostgreSQL (shared/db/executor.ts).
 */
import type { Knex } from 'knex';
import { Batcher } from '../batch';
import { openDatabase, type DatabaseOptions } from '../db';
import { createExecutor, placeholders, type SqlExecutor, type SqlStatement, type SqlValue } from '../db/executor';
import { migrateJobStore } from '../../migrations';
import type { Job, JobError, JobListFilter, JobParameter, JobProgress, JobRef, JobResult, PlacedResult, ProgressDelta } from './model';
import { isFinal, PHASES, sourcesOf, type Phase } from './phase';

interface JobRow {
  job_id: string;
  service: string;
  owner: string | null;
  run_id: string | null;
  phase: string;
  creation_time: number;
  start_time: number | null;
  end_time: number | null;
  execution_duration: number;
  destruction: number;
  quote: number | null;
  attempts: number;
  error_type: string | null;
  error_message: string | null;
  parameters: string;
  base_url: string | null;
  progress_total: number | string | null;
  progress_done: number | string;
  progress_ok: number | string;
  progress_failed: number | string;
  progress_bytes: number | string;
  progress_message: string | null;
}

/** A job row as written by JobStore.insertRows: what a new job needs, nothing derived. */
export type JobRowFill = Pick<
  JobRow,
  | 'job_id'
  | 'service'
  | 'owner'
  | 'run_id'
  | 'creation_time'
  | 'execution_duration'
  | 'destruction'
  | 'attempts'
  | 'parameters'
  | 'base_url'
> & { phase: Phase; quote: number | null };

interface ResultRow {
  result_id: string;
  file: string;
  mime_type: string;
  size: number | string;
  byte_offset: number | string | null;
}

/** A result from its columns, in ResultRow's order (PostgreSQL returns bigint as text). */
function resultOf(id: string, file: string, mimeType: string, size: number | string, offset: number | string | null): JobResult {
  const result: JobResult = { id, file, mimeType, size: Number(size) };
  if (offset !== null) result.offset = Number(offset);
  return result;
}

function toResult(row: ResultRow): JobResult {
  return resultOf(row.result_id, row.file, row.mime_type, row.size, row.byte_offset);
}

/** ResultRow's columns, in its order (for SqlExecutor.tuples). */
const RESULT_COLUMNS = 'result_id, file, mime_type, size, byte_offset';

function resultOfTuple(r: unknown[]): JobResult {
  return resultOf(r[0] as string, r[1] as string, r[2] as string, r[3] as ResultRow['size'], r[4] as ResultRow['byte_offset']);
}

/** Results per INSERT statement (7 bound values each: under every backend's limit). */
const RESULT_ROWS_PER_INSERT = 500;

type RefRow = Pick<JobRow, 'job_id' | 'phase' | 'run_id' | 'owner' | 'creation_time'>;

const optionalNumber = (value: number | null): number | null => (value === null ? null : Number(value));

function toJob(row: JobRow): Job {
  return {
    jobId: row.job_id,
    service: row.service,
    owner: row.owner,
    runId: row.run_id,
    phase: row.phase as Phase,
    creationTime: Number(row.creation_time),
    startTime: optionalNumber(row.start_time),
    endTime: optionalNumber(row.end_time),
    executionDuration: row.execution_duration,
    destruction: Number(row.destruction),
    quote: optionalNumber(row.quote),
    attempts: row.attempts,
    error: row.error_message === null ? null : { type: row.error_type === 'transient' ? 'transient' : 'fatal', message: row.error_message },
    parameters: JSON.parse(row.parameters) as JobParameter[],
    baseUrl: row.base_url,
    progress: toProgress(row),
  };
}

function toProgress(row: JobRow): JobProgress | null {
  const done = Number(row.progress_done ?? 0);
  if (row.progress_total === null && done === 0 && row.progress_message === null) return null;
  return {
    total: row.progress_total === null ? null : Number(row.progress_total),
    done,
    ok: Number(row.progress_ok),
    failed: Number(row.progress_failed),
    bytes: Number(row.progress_bytes),
    message: row.progress_message,
  };
}

/** One INSERT of results, each at its place; a place already taken is overwritten (a part done again). */
function resultInserts(jobId: string, results: readonly PlacedResult[]): SqlStatement[] {
  const statements: SqlStatement[] = [];
  for (let start = 0; start < results.length; start += RESULT_ROWS_PER_INSERT) {
    const chunk = results.slice(start, start + RESULT_ROWS_PER_INSERT);
    const bindings: SqlValue[] = [];
    for (const r of chunk) bindings.push(jobId, r.seq, r.id, r.file, r.mimeType, r.size, r.offset ?? null);
    statements.push({
      sql:
        `INSERT INTO uws_results (job_id, seq, result_id, file, mime_type, size, byte_offset) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')} ` +
        'ON CONFLICT (job_id, seq) DO UPDATE SET result_id = excluded.result_id, file = excluded.file, mime_type = excluded.mime_type, size = excluded.size, byte_offset = excluded.byte_offset',
      bindings,
    });
  }
  return statements;
}

export type NewJob = Omit<Job, 'startTime' | 'endTime' | 'attempts' | 'error' | 'progress'>;

/** What a worker gets when it takes a job. */
export type StartOutcome =
  | { kind: 'started'; job: Job }
  | { kind: 'held' } // still QUEUED: its owner already runs `maxRunning` jobs of the service
  | { kind: 'gone' } // aborted, finished or deleted meanwhile: nothing to do
  | { kind: 'exhausted'; job: Job }; // too many attempts: the job was put in ERROR

const EXECUTING_SOURCES = sourcesOf('EXECUTING');

/** EXECUTING jobs of the updated row's service and owner (NULL owners count together). */
const RUNNING_OF_OWNER =
  "SELECT COUNT(*) FROM uws_jobs AS r WHERE r.service = uws_jobs.service AND (r.owner = uws_jobs.owner OR (r.owner IS NULL AND uws_jobs.owner IS NULL)) AND r.phase = 'EXECUTING'";
const ERROR_SOURCES = sourcesOf('ERROR');

export class JobStore {
  private constructor(
    readonly knex: Knex,
    private readonly sql: SqlExecutor,
  ) {}

  static async open(url: string, options: DatabaseOptions = {}): Promise<JobStore> {
    const knex = openDatabase(url, options);
    await migrateJobStore(knex);
    return new JobStore(knex, createExecutor(url, knex));
  }

  async close(): Promise<void> {
    await this.sql.close();
    await this.knex.destroy();
  }

  /** Inserts the job. Creations arriving together are written in one statement (group commit). */
  create(job: NewJob): Promise<void> {
    return this.creations.submit(job);
  }

  private readonly creations = new Batcher<NewJob>((jobs) => this.insertMany(jobs));

  private async insertMany(jobs: readonly NewJob[]): Promise<void> {
    const row = '(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)';
    const values: SqlValue[] = [];
    for (const job of jobs) {
      values.push(
        job.jobId,
        job.service,
        job.owner,
        job.runId,
        job.phase,
        job.creationTime,
        job.executionDuration,
        job.destruction,
        job.quote,
        JSON.stringify(job.parameters),
        job.baseUrl,
      );
    }
    await this.sql.run(
      'INSERT INTO uws_jobs (job_id, service, owner, run_id, phase, creation_time, execution_duration, destruction, quote, attempts, parameters, base_url) VALUES ' +
        jobs.map(() => row).join(', '),
      values,
    );
  }

  async get(jobId: string): Promise<Job | undefined> {
    const [row] = await this.sql.all<JobRow>('SELECT * FROM uws_jobs WHERE job_id = ?', [jobId]);
    return row ? toJob(row) : undefined;
  }

  /** The job's results in order (empty unless COMPLETED). */
  async results(jobId: string): Promise<JobResult[]> {
    // As arrays, not row objects: a bulk job lists tens of thousands (see SqlExecutor.tuples).
    const rows = await this.sql.tuples(`SELECT ${RESULT_COLUMNS} FROM uws_results WHERE job_id = ? ORDER BY seq`, [jobId]);
    return rows.map(resultOfTuple);
  }

  /** At most `limit` of the job's results in order, from the `offset`-th (0-based): a page of a long list. */
  async resultsSlice(jobId: string, offset: number, limit: number): Promise<JobResult[]> {
    const rows = await this.sql.tuples(`SELECT ${RESULT_COLUMNS} FROM uws_results WHERE job_id = ? ORDER BY seq LIMIT ? OFFSET ?`, [
      jobId,
      limit,
      offset,
    ]);
    return rows.map(resultOfTuple);
  }

  /** How many results the job lists. */
  async resultCount(jobId: string): Promise<number> {
    const [row] = await this.sql.tuples('SELECT count(*) FROM uws_results WHERE job_id = ?', [jobId]);
    return Number(row?.[0] ?? 0);
  }

  /** One result by its id (the first, should a processor repeat an id). */
  async result(jobId: string, resultId: string): Promise<JobResult | undefined> {
    const [row] = await this.sql.all<ResultRow>(
      `SELECT ${RESULT_COLUMNS} FROM uws_results WHERE job_id = ? AND result_id = ? ORDER BY seq LIMIT 1`,
      [jobId, resultId],
    );
    return row ? toResult(row) : undefined;
  }

  /**
   * The statement of a job list: one arm per phase (without PHASE, every phase but ARCHIVED,
   * UWS §2.2.2.1), each read in order from uws_jobs_list_owner (an owner's jobs) or
   * uws_jobs_list_phase (no owner condition, or owner IS NULL), merged in order by UNION ALL
   * ... ORDER BY. A list with LAST or a limit then stops after that many rows of the indexes
   * however many jobs the service holds (migrations/jobs/006_job_list_order.ts); `phase IN
   * (...)` would sort every job of those phases. SQLite merges bare arms (co-routines);
   * PostgreSQL merges (Merge Append) only arms that are ordered themselves, so there each arm
   * has its own ORDER BY and LIMIT.
   */
  static listStatement(filter: JobListFilter, postgres: boolean): SqlStatement {
    const phases: readonly Phase[] = filter.phases?.length ? [...new Set(filter.phases)] : PHASES.filter((p) => p !== 'ARCHIVED');
    const where = ['service = ?'];
    const values: SqlValue[] = [filter.service];
    if (filter.owner === null) where.push('owner IS NULL');
    else if (filter.owner !== undefined) {
      where.push('owner = ?');
      values.push(filter.owner);
    }
    where.push('phase = ?');
    const phaseAt = values.length;
    values.push('');
    if (filter.after !== undefined) {
      where.push('creation_time > ?');
      values.push(filter.after);
    }
    let order: string;
    let limit: number | undefined;
    if (filter.last !== undefined) {
      order = 'ORDER BY creation_time DESC, job_id DESC';
      limit = filter.last;
    } else {
      order = 'ORDER BY creation_time, job_id';
      limit = filter.limit;
    }
    const tail = limit === undefined ? order : `${order} LIMIT ?`;
    let arm = `SELECT job_id, phase, run_id, owner, creation_time FROM uws_jobs WHERE ${where.join(' AND ')}`;
    const ordered = postgres && phases.length > 1;
    if (ordered) arm = `(${arm} ${tail})`;
    const bindings: SqlValue[] = [];
    for (const phase of phases) {
      values[phaseAt] = phase;
      bindings.push(...values);
      if (ordered && limit !== undefined) bindings.push(limit);
    }
    if (limit !== undefined) bindings.push(limit);
    return { sql: `${phases.map(() => arm).join(' UNION ALL ')} ${tail}`, bindings };
  }

  /**
   * Writes ready-made job rows as they are, in batches, past the engine: for filling a store
   * with many jobs in tests and benchmarks (100,000 in a few seconds).
   */
  async insertRows(rows: readonly JobRowFill[]): Promise<void> {
    // knex writes a multi-row SQLite INSERT as a compound SELECT (at most 500 terms).
    for (let start = 0; start < rows.length; start += 400) await this.knex('uws_jobs').insert(rows.slice(start, start + 400));
  }

  /** The jobs of a list, in its order (see listStatement). */
  async list(filter: JobListFilter): Promise<JobRef[]> {
    const postgres = (this.knex.client as { dialect?: string }).dialect === 'postgresql';
    const { sql, bindings } = JobStore.listStatement(filter, postgres);
    const rows = await this.sql.all<RefRow>(sql, bindings);
    return rows.map((r) => ({
      jobId: r.job_id,
      phase: r.phase as Phase,
      runId: r.run_id,
      owner: r.owner,
      creationTime: Number(r.creation_time),
    }));
  }

  /**
   * Moves a job to `to` if it is in one of the phases allowed to reach it (or only from
   * `from`, a subset). Entering a final phase sets endTime. Returns whether this call made
   * the change.
   */
  async transition(jobId: string, to: Phase, changes: { quote?: number | null } = {}, from?: readonly Phase[]): Promise<boolean> {
    const sources = from ?? sourcesOf(to);
    const sets = ['phase = ?'];
    const bindings: SqlValue[] = [to];
    if (isFinal(to)) {
      sets.push('end_time = ?');
      bindings.push(Date.now());
    }
    if (changes.quote !== undefined) {
      sets.push('quote = ?');
      bindings.push(changes.quote);
    }
    return (
      (await this.sql.run(`UPDATE uws_jobs SET ${sets.join(', ')} WHERE job_id = ? AND phase IN (${placeholders(sources.length)})`, [
        ...bindings,
        jobId,
        ...sources,
      ])) > 0
    );
  }

  /**
   * A worker takes the job: QUEUED (or EXECUTING, when an earlier worker died) → EXECUTING,
   * counting attempts. A job that used up its attempts ends in ERROR instead.
   * Single conditional statements, no read-then-write transaction: under SQLite WAL such a
   * transaction fails outright (SQLITE_BUSY_SNAPSHOT) when another process wrote between its
   * read and its write. Updates are conditional on the phase (and, for a retry, on the
   * attempts read), so of two workers taking the job at once exactly one wins.
   */
  async start(jobId: string, maxAttempts: number, now = Date.now(), maxRunning = 0): Promise<StartOutcome> {
    // The common case in one statement: a QUEUED job can leave QUEUED only once. With
    // `maxRunning`, only while its owner has fewer EXECUTING jobs of its service: counted in
    // the same statement, so on SQLite (writes one at a time) two starts cannot both pass; on
    // PostgreSQL two starts at the same instant may (each counts in its own snapshot).
    const [fresh] = await this.sql.all<JobRow>(
      "UPDATE uws_jobs SET phase = 'EXECUTING', attempts = attempts + 1, start_time = COALESCE(start_time, ?) WHERE job_id = ? AND phase = 'QUEUED' AND attempts < ?" +
        (maxRunning > 0 ? ` AND (${RUNNING_OF_OWNER}) < ?` : '') +
        ' RETURNING *',
      maxRunning > 0 ? [now, jobId, maxAttempts, maxRunning] : [now, jobId, maxAttempts],
    );
    if (fresh) return { kind: 'started', job: toJob(fresh) };
    // A retry (EXECUTING after a dead worker), a job out of attempts, or one that is gone.
    const [current] = await this.sql.all<Pick<JobRow, 'attempts' | 'phase'>>('SELECT attempts, phase FROM uws_jobs WHERE job_id = ?', [
      jobId,
    ]);
    if (!current || !EXECUTING_SOURCES.includes(current.phase as Phase)) return { kind: 'gone' };
    if (maxRunning > 0 && current.phase === 'QUEUED' && current.attempts < maxAttempts) return { kind: 'held' };
    const guard = `WHERE job_id = ? AND attempts = ? AND phase IN (${placeholders(EXECUTING_SOURCES.length)}) RETURNING *`;
    const guardValues = [jobId, current.attempts, ...EXECUTING_SOURCES];
    if (current.attempts >= maxAttempts) {
      const message = `the worker running this job stopped ${current.attempts} time(s); giving up after ${maxAttempts} attempt(s)`;
      const [row] = await this.sql.all<JobRow>(
        `UPDATE uws_jobs SET phase = 'ERROR', end_time = ?, error_type = 'transient', error_message = ? ${guard}`,
        [now, message, ...guardValues],
      );
      return row ? { kind: 'exhausted', job: toJob(row) } : { kind: 'gone' };
    }
    const [row] = await this.sql.all<JobRow>(
      `UPDATE uws_jobs SET phase = 'EXECUTING', attempts = ?, start_time = COALESCE(start_time, ?) ${guard}`,
      [current.attempts + 1, now, ...guardValues],
    );
    return row ? { kind: 'started', job: toJob(row) } : { kind: 'gone' };
  }

  /**
   * EXECUTING → COMPLETED with its results, in one transaction, only by the attempt that is
   * the job's current one: a worker that stalled past its lock while another attempt took the
   * job over cannot complete it (nor touch the results of the attempt that did).
   */
  async complete(jobId: string, attempt: number, results: readonly JobResult[], now = Date.now()): Promise<boolean> {
    return this.sql.atomically([
      {
        sql: "UPDATE uws_jobs SET phase = 'COMPLETED', end_time = ? WHERE job_id = ? AND phase = 'EXECUTING' AND attempts = ?",
        bindings: [now, jobId, attempt],
      },
      { sql: 'DELETE FROM uws_results WHERE job_id = ?', bindings: [jobId] },
      ...resultInserts(
        jobId,
        results.map((r, seq) => ({ ...r, seq })),
      ),
    ]);
  }

  /**
   * EXECUTING → COMPLETED keeping the results recorded while the job ran (addResults), with
   * `results` placed among them; like complete, only by the job's current attempt.
   */
  async completePlaced(jobId: string, attempt: number, results: readonly PlacedResult[], now = Date.now()): Promise<boolean> {
    return this.sql.atomically([
      {
        sql: "UPDATE uws_jobs SET phase = 'COMPLETED', end_time = ? WHERE job_id = ? AND phase = 'EXECUTING' AND attempts = ?",
        bindings: [now, jobId, attempt],
      },
      ...resultInserts(jobId, results),
    ]);
  }

  /**
   * Results of a job that is still running (UWS lists them while EXECUTING, and keeps them
   * when the job is aborted), with what that work adds to its progress; only while `attempt`
   * is the job's current one and the job is EXECUTING. With `part`, once per part and attempt:
   * a part done again (its worker died after recording it) is a 'duplicate' and changes
   * nothing. 'ended': the job is no longer this attempt's to record (aborted, ended, taken over).
   */
  async addResults(
    jobId: string,
    attempt: number,
    results: readonly PlacedResult[],
    delta: ProgressDelta,
    part?: number,
  ): Promise<'recorded' | 'duplicate' | 'ended'> {
    const running = "job_id = ? AND phase = 'EXECUTING' AND attempts = ?";
    const progress: SqlStatement = {
      sql:
        'UPDATE uws_jobs SET progress_done = progress_done + ?, progress_ok = progress_ok + ?, progress_failed = progress_failed + ?, ' +
        `progress_bytes = progress_bytes + ? WHERE ${running}`,
      bindings: [delta.done, delta.ok, delta.failed, delta.bytes, jobId, attempt],
    };
    if (part === undefined) return (await this.sql.atomically([progress, ...resultInserts(jobId, results)])) ? 'recorded' : 'ended';
    const recorded = await this.sql.atomically([
      {
        // CASTs: PostgreSQL cannot tell the types of bare parameters in a SELECT list.
        sql:
          'INSERT INTO uws_job_parts (job_id, attempt, part) SELECT CAST(? AS VARCHAR(64)), CAST(? AS INTEGER), CAST(? AS INTEGER) ' +
          `WHERE EXISTS (SELECT 1 FROM uws_jobs WHERE ${running}) ON CONFLICT (job_id, attempt, part) DO NOTHING`,
        bindings: [jobId, attempt, part, jobId, attempt],
      },
      progress,
      ...resultInserts(jobId, results),
    ]);
    if (recorded) return 'recorded';
    const [seen] = await this.sql.all<{ part: number }>('SELECT part FROM uws_job_parts WHERE job_id = ? AND attempt = ? AND part = ?', [
      jobId,
      attempt,
      part,
    ]);
    return seen ? 'duplicate' : 'ended';
  }

  /**
   * Sets a running job's progress (a new attempt starts it afresh); only while `attempt` is
   * the current one and the job is EXECUTING.
   */
  async setProgress(jobId: string, attempt: number, progress: JobProgress): Promise<boolean> {
    const { total, done, ok, failed, bytes, message } = progress;
    return (
      (await this.sql.run(
        'UPDATE uws_jobs SET progress_total = ?, progress_done = ?, progress_ok = ?, progress_failed = ?, progress_bytes = ?, progress_message = ? ' +
          "WHERE job_id = ? AND phase = 'EXECUTING' AND attempts = ?",
        [total, done, ok, failed, bytes, message, jobId, attempt],
      )) > 0
    );
  }

  /**
   * → ERROR with its summary, from QUEUED or EXECUTING only; with `attempt`, only while that
   * attempt is the job's current one (a stale worker's failure does not end another's attempt).
   */
  async fail(jobId: string, error: JobError, attempt?: number, now = Date.now()): Promise<boolean> {
    const sql = `UPDATE uws_jobs SET phase = 'ERROR', end_time = ?, error_type = ?, error_message = ? WHERE job_id = ? AND phase IN (${placeholders(ERROR_SOURCES.length)})`;
    if (attempt === undefined) return (await this.sql.run(sql, [now, error.type, error.message, jobId, ...ERROR_SOURCES])) > 0;
    return (await this.sql.run(`${sql} AND attempts = ?`, [now, error.type, error.message, jobId, ...ERROR_SOURCES, attempt])) > 0;
  }

  /** A stopping worker gives its attempt back: EXECUTING → QUEUED, without spending an attempt. */
  async release(jobId: string, attempt: number): Promise<boolean> {
    return (
      (await this.sql.run(
        "UPDATE uws_jobs SET phase = 'QUEUED', attempts = attempts - 1 WHERE job_id = ? AND phase = 'EXECUTING' AND attempts = ?",
        [jobId, attempt],
      )) > 0
    );
  }

  /** Replaces the parameter list (and runId when given), only while PENDING (UWS §2.1.11, DALI 1.1 §2.1). */
  async setParameters(jobId: string, parameters: readonly JobParameter[], runId?: string): Promise<boolean> {
    const json = JSON.stringify(parameters);
    const changed =
      runId === undefined
        ? await this.sql.run("UPDATE uws_jobs SET parameters = ? WHERE job_id = ? AND phase = 'PENDING'", [json, jobId])
        : await this.sql.run("UPDATE uws_jobs SET parameters = ?, run_id = ? WHERE job_id = ? AND phase = 'PENDING'", [json, runId, jobId]);
    return changed > 0;
  }

  async setExecutionDuration(jobId: string, seconds: number): Promise<boolean> {
    return (await this.sql.run("UPDATE uws_jobs SET execution_duration = ? WHERE job_id = ? AND phase = 'PENDING'", [seconds, jobId])) > 0;
  }

  async setDestruction(jobId: string, destruction: number): Promise<boolean> {
    return (await this.sql.run('UPDATE uws_jobs SET destruction = ? WHERE job_id = ?', [destruction, jobId])) > 0;
  }

  async delete(jobId: string): Promise<boolean> {
    return this.sql.atomically([
      { sql: 'DELETE FROM uws_jobs WHERE job_id = ?', bindings: [jobId] },
      { sql: 'DELETE FROM uws_results WHERE job_id = ?', bindings: [jobId] },
      { sql: 'DELETE FROM uws_job_parts WHERE job_id = ?', bindings: [jobId] },
    ]);
  }

  /** Phase and attempt count of these jobs (those that still exist), for workers checking their running attempts. */
  async attemptsOf(jobIds: readonly string[]): Promise<Map<string, { phase: Phase; attempts: number }>> {
    const found = new Map<string, { phase: Phase; attempts: number }>();
    for (let start = 0; start < jobIds.length; start += 500) {
      const chunk = jobIds.slice(start, start + 500);
      const rows = await this.sql.all<Pick<JobRow, 'job_id' | 'phase' | 'attempts'>>(
        `SELECT job_id, phase, attempts FROM uws_jobs WHERE job_id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const row of rows) found.set(row.job_id, { phase: row.phase as Phase, attempts: Number(row.attempts) });
    }
    return found;
  }

  /** Jobs whose destruction time has passed. */
  async expired(now: number, limit = 500): Promise<Pick<Job, 'jobId' | 'service' | 'phase'>[]> {
    const rows = await this.sql.all<Pick<JobRow, 'job_id' | 'service' | 'phase'>>(
      'SELECT job_id, service, phase FROM uws_jobs WHERE destruction <= ? ORDER BY destruction LIMIT ?',
      [now, limit],
    );
    return rows.map((r) => ({ jobId: r.job_id, service: r.service, phase: r.phase as Phase }));
  }

  /** Jobs of `services` a worker should own: QUEUED or EXECUTING (for reconciliation with the queues), by job id. */
  async unfinished(
    services: readonly string[],
    afterJobId = '',
    limit = 1000,
  ): Promise<Pick<Job, 'jobId' | 'service' | 'phase' | 'startTime' | 'executionDuration'>[]> {
    if (services.length === 0) return [];
    // By service and phase: read from uws_jobs_list_phase (migration 007), only the unfinished jobs.
    const rows = await this.sql.all<Pick<JobRow, 'job_id' | 'service' | 'phase' | 'start_time' | 'execution_duration'>>(
      `SELECT job_id, service, phase, start_time, execution_duration FROM uws_jobs WHERE service IN (${placeholders(services.length)}) ` +
        "AND phase IN ('QUEUED', 'EXECUTING') AND job_id > ? ORDER BY job_id LIMIT ?",
      [...services, afterJobId, limit],
    );
    return rows.map((r) => ({
      jobId: r.job_id,
      service: r.service,
      phase: r.phase as Phase,
      startTime: optionalNumber(r.start_time),
      executionDuration: r.execution_duration,
    }));
  }
}
