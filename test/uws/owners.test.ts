/**
 * Owners (UWS 1.1 §3): with AUTH_TOKENS, jobs belong to the token's owner, lists show only
 * one's own jobs, another owner's job answers 404 (not revealed), and a missing or unknown
 * token answers 401.
 */
import { Client, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let alice: Client;
let bob: Client;
let anonymous: Client;
const LIST = '/api/fixture/async';

beforeAll(async () => {
  stack = await TestStack.start({ env: { AUTH_TOKENS: 'tok-alice:alice,tok-bob:bob', SIGNING_KEY: 'owners-test-key' } });
  alice = new Client(stack.url, { authorization: 'Bearer tok-alice' });
  bob = new Client(stack.url, { authorization: 'Bearer tok-bob' });
  anonymous = new Client(stack.url);
});
afterAll(async () => stack?.stop());

test('missing, malformed or unknown tokens answer 401 with a Bearer challenge', async () => {
  for (const client of [
    anonymous,
    new Client(stack.url, { authorization: 'Basic YTpi' }),
    new Client(stack.url, { authorization: 'Bearer nope' }),
  ]) {
    const reply = await client.get(LIST);
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(reply.text).toMatch(/^AuthenticationError: /);
    expect((await client.post(LIST, { MODE: 'echo' })).status).toBe(401);
  }
});

test('a job belongs to its creator: ownerId, /owner and the processor all see the owner', async () => {
  const job = await alice.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
  expect(textOf((await alice.get(job)).text, 'uws:ownerId')).toBe('alice');
  expect((await alice.get(`${job}/owner`)).text.trim()).toBe('alice');
  expect(await alice.settle(job)).toBe('COMPLETED');
  expect(JSON.parse((await alice.get(`${job}/results/result`)).text).owner).toBe('alice');
});

test("another owner's job is 404 on every resource and every method, and stays untouched", async () => {
  const job = await alice.create('fixture', { MODE: 'echo' });
  for (const resource of [
    '',
    '/phase',
    '/parameters',
    '/parameters/MODE',
    '/results',
    '/error',
    '/owner',
    '/quote',
    '/destruction',
    '/executionduration',
  ]) {
    expect((await bob.get(`${job}${resource}`)).status).toBe(404);
  }
  expect((await bob.get(job, { WAIT: '5' })).status).toBe(404);
  expect((await bob.post(`${job}/phase`, { PHASE: 'RUN' })).status).toBe(404);
  expect((await bob.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(404);
  expect((await bob.post(`${job}/parameters`, { MODE: 'fail' })).status).toBe(404);
  expect((await bob.post(`${job}/destruction`, { DESTRUCTION: '2030-01-01T00:00:00Z' })).status).toBe(404);
  expect((await bob.delete(job)).status).toBe(404);
  expect((await bob.post(job, { ACTION: 'DELETE' })).status).toBe(404);
  expect(await alice.phase(job)).toBe('PENDING');
  expect((await alice.get(`${job}/parameters/MODE`)).text.trim()).toBe('echo');
});

test('lists show only the caller’s jobs', async () => {
  const a = (await alice.create('fixture', { MODE: 'echo' })).split('/').pop()!;
  const b = (await bob.create('fixture', { MODE: 'echo' })).split('/').pop()!;
  const aliceList = (await alice.get(LIST)).text;
  const bobList = (await bob.get(LIST)).text;
  expect(aliceList).toContain(a);
  expect(aliceList).not.toContain(b);
  expect(bobList).toContain(b);
  expect(bobList).not.toContain(a);
  expect(bobList).not.toMatch(/<uws:ownerId>alice</);
});
