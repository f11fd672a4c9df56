/**
 * Migrations are listed here (not discovered on disk) so the same list runs from the
 * TypeScript sources under jest and from the compiled files in production.
 */
import type { Knex } from 'knex';
import * as uwsJobs from './jobs/001_uws_jobs';

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

export const jobStoreMigrations = new ListedMigrations([['001_uws_jobs', uwsJobs]]);

/**
 * Brings the job store schema up to date. Idempotent; processes starting together (api and
 * workers) may race to create knex's own bookkeeping tables, so a failed attempt is retried
 * once the other process has made them.
 */
export async function migrateJobStore(knex: Knex, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.migrate.latest({ migrationSource: jobStoreMigrations, tableName: 'knex_migrations_jobs' });
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200 * attempt));
    }
  }
}
