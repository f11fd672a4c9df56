/**
 * The whole engine with its job store on PostgreSQL (DATABASE_URL=postgres://...): the api
 * in this process and a worker process share the store, as on several machines.
 */
import { openDatabase } from '../../shared/db';
import { Client, textOf } from '../helpers/http';
import { PG_URL, testSchema } from '../helpers/postgres';
import { TestStack } from '../helpers/stack';

const { name: schema, create, drop } = testSchema('uws_stack');
let stack: TestStack;
let http: Client;

beforeAll(async () => {
  await create();
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  stack = await TestStack.start({ env: { DATABASE_URL: url } });
  http = new Client(stack.url);
});
afterAll(async () => {
  await stack?.stop();
  await drop();
});

test('jobs run to completion, error and abort with the store on PostgreSQL', async () => {
  const done = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
  const failed = await http.create('fixture', { MODE: 'fail', MESSAGE: 'pg says no', PHASE: 'RUN' });
  const aborted = await http.create('fixture', { MODE: 'sleep', SECONDS: '20', PHASE: 'RUN' });
  expect(await http.settle(done)).toBe('COMPLETED');
  expect(await http.settle(failed)).toBe('ERROR');
  expect(textOf((await http.get(failed)).text, 'uws:message')).toBe('pg says no');
  await http.post(`${aborted}/phase`, { PHASE: 'ABORT' });
  expect(await http.phase(aborted)).toBe('ABORTED');
  const list = (await http.get('/api/fixture/async', { LAST: '3' })).text;
  expect([...list.matchAll(/<uws:jobref id="([^"]+)"/g)].map((m) => m[1])).toEqual([aborted, failed, done].map((u) => u.split('/').pop()));
  // The rows really are in PostgreSQL, in this test's schema.
  const admin = openDatabase(PG_URL);
  const rows = await admin.raw(`SELECT phase FROM ${schema}.uws_jobs ORDER BY creation_time`);
  await admin.destroy();
  expect((rows.rows as { phase: string }[]).map((r) => r.phase)).toEqual(['COMPLETED', 'ERROR', 'ABORTED']);
});
