/**
 * Request budgets of the UWS job tree (UWS 1.1 §2.2.3, DALI 1.1 §2.1 lets a service bound
 * what it takes): PARAMS_MAX_BYTES is the total of a request's parameter names and values
 * (query string, urlencoded body and multipart fields together, upload file parts apart) and
 * of what one job stores however many requests built it; PARAMS_MAX_COUNT bounds both too.
 * Multipart parts that cannot become files, and bodies that are not multipart, are 400s that
 * leave nothing on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '../helpers/http';
import { TestStack } from '../helpers/stack';

const MAX_BYTES = 65536;
const MAX_COUNT = 50;
const LIST = '/api/fixture/async';

let stack: TestStack;
let http: Client;

beforeAll(async () => {
  stack = await TestStack.start({ workers: 0, env: { PARAMS_MAX_BYTES: String(MAX_BYTES), PARAMS_MAX_COUNT: String(MAX_COUNT) } });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

async function jobCount(): Promise<number> {
  return (await http.get(LIST)).text.match(/<uws:jobref /g)?.length ?? 0;
}

/** Job directories under RESULTS_DIR (dot entries are the temporary upload and sync areas). */
function jobDirs(): string[] {
  return fs.existsSync(stack.config.resultsDir)
    ? fs
        .readdirSync(stack.config.resultsDir)
        .filter((name) => !name.startsWith('.'))
        .sort()
    : [];
}

function temporaryUploads(): string[] {
  const dir = path.join(stack.config.resultsDir, '.uploads');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** Expects a refusal that created no job, left no job directory and no temporary upload. */
async function expectNothingLeft(before: { jobs: number; dirs: string[] }): Promise<void> {
  expect(await jobCount()).toBe(before.jobs);
  expect(jobDirs()).toEqual(before.dirs);
  expect(temporaryUploads()).toEqual([]);
}

async function snapshot(): Promise<{ jobs: number; dirs: string[] }> {
  return { jobs: await jobCount(), dirs: jobDirs() };
}

describe('a request is one budget of PARAMS_MAX_BYTES', () => {
  test('multipart fields each under the limit but over it together are 413, and nothing is kept; upload bytes do not count', async () => {
    const before = await snapshot();
    const form = new FormData();
    form.append('MODE', 'echo');
    for (const name of ['A', 'B', 'C']) form.append(name, 'x'.repeat(30000));
    const reply = await http.request('POST', LIST, form);
    expect([reply.status, reply.headers.get('content-type'), reply.text]).toEqual([
      413,
      'text/plain; charset=utf-8',
      `parameters larger than ${MAX_BYTES} bytes in total\n`,
    ]);
    await expectNothingLeft(before);
    // An upload part counts by its name and file name only (its bytes have UPLOAD_MAX_BYTES).
    const upload = new FormData();
    upload.append('MODE', 'echo');
    upload.append('A', 'x'.repeat(60000));
    upload.append('TAB', new Blob(['y'.repeat(100000)]), 't.xml');
    const created = await http.request('POST', LIST, upload);
    expect(created.status).toBe(303);
    expect((await http.get(`${created.location}/parameters/TAB`)).text).toBe('y'.repeat(100000));
  });

  test('the query string and the urlencoded body count together', async () => {
    const before = await snapshot();
    const reply = await http.request(
      'POST',
      `${LIST}?Q=${'q'.repeat(10000)}`,
      new URLSearchParams({ MODE: 'echo', V: 'v'.repeat(60000) }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    expect([reply.status, reply.text]).toEqual([413, `parameters larger than ${MAX_BYTES} bytes in total\n`]);
    await expectNothingLeft(before);
  });

  test('fields and uploads together count against PARAMS_MAX_COUNT', async () => {
    const before = await snapshot();
    const form = new FormData();
    for (let i = 0; i < 30; i++) form.append(`P${i}`, 'v');
    for (let i = 0; i < 30; i++) form.append(`F${i}`, new Blob(['f']), `f${i}.txt`);
    const reply = await http.request('POST', LIST, form);
    expect([reply.status, reply.text]).toEqual([413, `more than ${MAX_COUNT} parameters\n`]);
    await expectNothingLeft(before);
  });
});

describe('the parameters a job stores stay within the budget', () => {
  test('POST /parameters that would take the job over PARAMS_MAX_BYTES is 413 and changes nothing', async () => {
    const job = await http.create('fixture', { MODE: 'echo', A: 'a'.repeat(40000) });
    const reply = await http.post(`${job}/parameters`, { B: 'b'.repeat(40000) });
    // MODE + echo, A + 40000, B + 40000
    expect([reply.status, reply.text]).toEqual([
      413,
      `a job's parameters hold at most ${MAX_BYTES} bytes of names and values; this would make ${4 + 4 + 1 + 40000 + 1 + 40000}\n`,
    ]);
    expect((await http.get(`${job}/parameters/B`)).status).toBe(404);
    // Replacing a value by a smaller one is fine.
    expect((await http.post(`${job}/parameters`, { A: 'short' })).status).toBe(303);
    expect((await http.get(`${job}/parameters/A`)).text).toBe('short');
  });

  test('PUT /parameters/<name> that would take the job over PARAMS_MAX_BYTES is 413', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.request('PUT', `${job}/parameters/A`, 'a'.repeat(40000), { 'content-type': 'text/plain' })).status).toBe(303);
    const reply = await http.request('PUT', `${job}/parameters/B`, 'b'.repeat(40000), { 'content-type': 'text/plain' });
    expect([reply.status, reply.text]).toEqual([
      413,
      `a job's parameters hold at most ${MAX_BYTES} bytes of names and values; this would make ${8 + 40001 + 40001}\n`,
    ]);
    expect((await http.get(`${job}/parameters/B`)).status).toBe(404);
  });

  test('PUT of a new name beyond PARAMS_MAX_COUNT is 413; replacing one is not', async () => {
    const params: [string, string][] = [
      ['MODE', 'echo'],
      ...Array.from({ length: MAX_COUNT - 1 }, (_, i): [string, string] => [`P${i}`, String(i)]),
    ];
    const job = await http.create('fixture', params);
    const reply = await http.request('PUT', `${job}/parameters/EXTRA`, 'x', { 'content-type': 'text/plain' });
    expect([reply.status, reply.text]).toEqual([413, `a job holds at most ${MAX_COUNT} parameters; this would make ${MAX_COUNT + 1}\n`]);
    expect((await http.request('PUT', `${job}/parameters/P0`, 'zero', { 'content-type': 'text/plain' })).status).toBe(303);
    expect((await http.get(`${job}/parameters/P0`)).text).toBe('zero');
    const post = await http.post(`${job}/parameters`, { EXTRA: 'x' });
    expect([post.status, post.text]).toEqual([413, `a job holds at most ${MAX_COUNT} parameters; this would make ${MAX_COUNT + 1}\n`]);
  });
});

describe('multipart parts that cannot be kept', () => {
  test.each(['.', '..'])('an upload part named "%s" is 400 and leaves no job directory', async (name) => {
    const before = await snapshot();
    const form = new FormData();
    form.append('MODE', 'echo');
    form.append(name, new Blob(['data']), 'file.txt');
    const reply = await http.request('POST', LIST, form);
    expect([reply.status, reply.text]).toEqual([400, `upload part name ${JSON.stringify(name)} cannot be used as a file name\n`]);
    await expectNothingLeft(before);
  });

  test('two upload parts that would share one file are 400', async () => {
    const before = await snapshot();
    const form = new FormData();
    form.append('a b', new Blob(['one']), 'one.txt');
    form.append('A_B', new Blob(['two']), 'two.txt');
    const reply = await http.request('POST', LIST, form);
    expect([reply.status, reply.text]).toEqual([400, 'upload parts "A_B" and "A B" would share the file A_B\n']);
    await expectNothingLeft(before);
  });

  test('a multipart Content-Type without a boundary is 400', async () => {
    const before = await snapshot();
    const reply = await http.request('POST', LIST, 'MODE=echo', { 'content-type': 'multipart/form-data' });
    expect([reply.status, reply.text]).toEqual([400, 'malformed multipart body: Multipart: Boundary not found\n']);
    await expectNothingLeft(before);
  });

  test('a creation refused after its uploads were received leaves no job directory', async () => {
    const before = await snapshot();
    const form = new FormData();
    form.append('MODE', 'echo');
    form.append('DESTRUCTION', 'tomorrow');
    form.append('TAB', new Blob(['data']), 't.xml');
    const reply = await http.request('POST', LIST, form);
    expect([reply.status, reply.text]).toEqual([400, 'DESTRUCTION must be an ISO 8601 date-time, not "tomorrow"\n']);
    await expectNothingLeft(before);
  });
});
