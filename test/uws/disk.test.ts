/**
 * A nearly full disk: below RESULTS_MIN_FREE_BYTES of free space under RESULTS_DIR, new work
 * is refused with 503 in each protocol's format, VOSI availability says so, and reading
 * what exists (job lists, jobs) still works.
 */
import { Client } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let http: Client;

beforeAll(async () => {
  // More free space than any disk has: the service must consider itself full.
  stack = await TestStack.start({ workers: 0, env: { RESULTS_MIN_FREE_BYTES: String(2 ** 52) } });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

const refusal =
  /^the service is not taking new work: \d+ bytes are free for results, less than the 4503599627370496 it needs \(RESULTS_MIN_FREE_BYTES\); please retry later$/;

test('job creation is refused with 503 (UWS plain text) and nothing is recorded', async () => {
  const reply = await http.post('/api/fixture/async', { MODE: 'echo', PHASE: 'RUN' });
  expect(reply.status).toBe(503);
  expect(reply.headers.get('retry-after')).toBe('60');
  expect(reply.text.trim()).toMatch(refusal);
  const list = await http.get('/api/fixture/async');
  expect(list.status).toBe(200);
  expect(list.text).not.toContain('<uws:jobref');
});

test('TAP and SIA sync answer a 503 DALI error document; SODA sync a ServiceUnavailable text', async () => {
  const tap = await http.post('/api/tap/sync', { LANG: 'ADQL', QUERY: 'SELECT 1 FROM ivoa.ObsCore' });
  expect(tap.status).toBe(503);
  expect(tap.headers.get('content-type')).toBe('application/x-votable+xml');
  expect(tap.text).toMatch(/<INFO name="QUERY_STATUS" value="ERROR">the service is not taking new work: /);
  const sia = await http.get('/api/sia/query', { POS: 'CIRCLE 55 -32 1' });
  expect(sia.status).toBe(503);
  expect(sia.text).toContain('<INFO name="QUERY_STATUS" value="ERROR">the service is not taking new work: ');
  const soda = await http.get('/api/cutout/sync', { ID: 'butler://dp02/x', CIRCLE: '55 -32 0.1' });
  expect(soda.status).toBe(503);
  expect(soda.text).toMatch(/^ServiceUnavailable: the service is not taking new work: /);
});

test('VOSI availability says the service is not available, and why', async () => {
  const reply = await http.get('/api/tap/availability');
  expect(reply.status).toBe(200);
  expect(reply.text).toContain('<available>false</available>');
  expect(reply.text).toMatch(/<note>the service is not taking new work: \d+ bytes are free/);
});
