/**
 * The PostgreSQL tests' database (TEST_DATABASE_URL, default the local server's `test`
 * database), each test file in a schema of its own, dropped after its tests.
 */
import { openDatabase } from '../../shared/db';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(sql: string): Promise<void> {
  const knex = openDatabase(PG_URL);
  try {
    await knex.raw(sql);
  } finally {
    await knex.destroy();
  }
}

/** A schema named `<prefix>_<pid>_<time>`: create() makes it (once or again), drop() removes it with all it holds. */
export function testSchema(prefix: string): {
  readonly name: string;
  readonly create: () => Promise<void>;
  readonly drop: () => Promise<void>;
} {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  return {
    name,
    create: () => admin(`CREATE SCHEMA IF NOT EXISTS ${name}`),
    drop: () => admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
  };
}
