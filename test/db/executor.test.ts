/**
 * The SQL executor on both backends: rows as objects (all) and as arrays in the SELECT's
 * column order (tuples), from the same statement text one after the other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../shared/db';
import { createExecutor, type SqlExecutor } from '../../shared/db/executor';
import { PG_URL, testSchema } from '../helpers/postgres';

const pg = testSchema('executor_test');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'executor-'));

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await pg.drop();
});

const backends: [string, string, string | undefined][] = [
  ['SQLite', path.join(tmp, 'x.sqlite'), undefined],
  ['PostgreSQL', PG_URL, pg.name],
];

describe.each(backends)('%s', (_name, url, searchPath) => {
  let knex: ReturnType<typeof openDatabase>;
  let sql: SqlExecutor;
  beforeAll(async () => {
    if (searchPath) await pg.create();
    knex = openDatabase(url, { searchPath });
    await knex.raw('CREATE TABLE t (k integer PRIMARY KEY, name varchar(20) NOT NULL, size bigint, note varchar(20))');
    sql = createExecutor(url, knex);
    await sql.run('INSERT INTO t (k, name, size, note) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [2, 'b', 20, null, 1, 'a', 10, 'x']);
  });
  afterAll(async () => {
    await sql?.close();
    await knex?.destroy();
  });

  const SELECT = 'SELECT note, name, k, size FROM t WHERE k > ? ORDER BY k';

  test('tuples: arrays in the SELECT order; all: objects; the same text either way, in either order', async () => {
    const asNumbers = (rows: unknown[][]) => rows.map((r) => [r[0], r[1], Number(r[2]), Number(r[3])]);
    expect(asNumbers(await sql.tuples(SELECT, [0]))).toEqual([
      ['x', 'a', 1, 10],
      [null, 'b', 2, 20],
    ]);
    const objects = await sql.all<{ note: string | null; name: string; k: number; size: number | string }>(SELECT, [0]);
    expect(objects.map((o) => [o.note, o.name, Number(o.k), Number(o.size)])).toEqual([
      ['x', 'a', 1, 10],
      [null, 'b', 2, 20],
    ]);
    expect(asNumbers(await sql.tuples(SELECT, [1]))).toEqual([[null, 'b', 2, 20]]);
  });
});
