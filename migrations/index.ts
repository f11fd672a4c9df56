/**
 * Migrations are listed here (not discovered on disk) so the same list runs from the
 * TypeScript sources under jest and from the compiled files in production.
 */
import type { Knex } from 'knex';
import * as obscore from './obscore/001_obscore';
import * as obscoreDidNocase from './obscore/002_did_nocase';
import * as obscoreSkyIndex from './obscore/003_sky_index';
import * as uwsJobs from './jobs/001_uws_jobs';
import * as jobBaseUrl from './jobs/002_job_base_url';
import * as jobResults from './jobs/003_uws_results';
import * as jobProgress from './jobs/004_job_progress';
import * as jobParts from './jobs/005_job_parts';
import * as jobListOrder from './jobs/006_job_list_order';
import * as jobUnfinishedByService from './jobs/007_unfinished_by_service';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

class ListedMigrations implements Knex.MigrationSource<string> {
  constructor(private readonly migrations: ReadonlyArray<readonly [string, Migration]>) {}
  async getMigrations(): Promise<string[]> {
    return this.migrations.map(([name]) => name);
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Migration> {
    const found = this.migrations.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  }
}

export const jobStoreMigrations = new ListedMigrations([
  ['001_uws_jobs', uwsJobs],
  ['002_job_base_url', jobBaseUrl],
  ['003_uws_results', jobResults],
  ['004_job_progress', jobProgress],
  ['005_job_parts', jobParts],
  ['006_job_list_order', jobListOrder],
  ['007_unfinished_by_service', jobUnfinishedByService],
]);
export const obscoreMigrations = new ListedMigrations([
  ['001_obscore', obscore],
  ['002_did_nocase', obscoreDidNocase],
  ['003_sky_index', obscoreSkyIndex],
]);

/**
 * Brings the job store schema up to date. Idempotent; processes starting together (api and
 * workers) may race to create knex's own bookkeeping tables, so a failed attempt is retried
 * once the other process has made them.
 */
export async function migrateJobStore(knex: Knex, attempts = 5): Promise<void> {
  await migrate(knex, jobStoreMigrations, 'knex_migrations_jobs', attempts);
}

/** Brings the ObsCore store (ivoa.ObsCore, its R*Tree, TAP_SCHEMA) up to date. */
export async function migrateObscore(knex: Knex, attempts = 5): Promise<void> {
  await migrate(knex, obscoreMigrations, 'knex_migrations_obscore', attempts);
}

async function migrate(knex: Knex, source: ListedMigrations, tableName: string, attempts: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.migrate.latest({ migrationSource: source, tableName });
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200 * attempt));
    }
  }
}
