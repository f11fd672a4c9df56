/**
 * UWS 1.1 over HTTP against a real stack (redis-server, SQLite job store, api, a worker
 * process): the resource tree, documents, status codes and parameter rules of UWS 1.1
 * §2.1–2.2 and DALI 1.1 §2.1, as docs/protocols.md lists them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../shared/db';
import { Client, elementSequence, textOf } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let http: Client;
const LIST = '/api/fixture/async';

beforeAll(async () => {
  stack = await TestStack.start({
    env: { UWS_EXECUTION_DURATION: '600', UWS_EXECUTION_DURATION_MAX: '3600', UWS_DESTRUCTION_MAX: '864000' },
  });
  http = new Client(stack.url);
});
afterAll(async () => stack?.stop());

const JOB_SEQUENCE = [
  'uws:jobId',
  'uws:runId',
  'uws:ownerId',
  'uws:phase',
  'uws:quote',
  'uws:creationTime',
  'uws:startTime',
  'uws:endTime',
  'uws:executionDuration',
  'uws:destruction',
  'uws:parameters',
  'uws:results',
  'uws:errorSummary',
  'uws:jobInfo',
];

function inSchemaOrder(names: string[]): boolean {
  const positions = names.map((n) => JOB_SEQUENCE.indexOf(n));
  return positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!));
}

describe('job creation', () => {
  test('POST to the job list answers 303 with the job URL, and the job is PENDING', async () => {
    const reply = await http.post(LIST, { MODE: 'echo' });
    expect(reply.status).toBe(303);
    expect(reply.location).toMatch(new RegExp(`^${stack.url}${LIST}/[a-z0-9]+$`));
    expect(await http.phase(reply.location!)).toBe('PENDING');
  });

  test('the job document is in schema order, version 1.1, with xsi:nil for empty nillable elements', async () => {
    const job = await http.create('fixture', { MODE: 'echo', RUNID: 'my-run' });
    const reply = await http.get(job);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/xml/);
    const xml = reply.text;
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><uws:job /);
    expect(xml).toContain('xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0"');
    expect(xml).toContain('xmlns:xlink="http://www.w3.org/1999/xlink"');
    expect(xml).toContain(' version="1.1"');
    const names = elementSequence(xml, 'uws:job');
    expect(names).toEqual([
      'uws:jobId',
      'uws:runId',
      'uws:ownerId',
      'uws:phase',
      'uws:quote',
      'uws:creationTime',
      'uws:startTime',
      'uws:endTime',
      'uws:executionDuration',
      'uws:destruction',
      'uws:parameters',
      'uws:results',
    ]);
    expect(inSchemaOrder(names)).toBe(true);
    expect(xml).toContain('<uws:ownerId xsi:nil="true"/>');
    expect(xml).toContain('<uws:startTime xsi:nil="true"/>');
    expect(xml).toContain('<uws:endTime xsi:nil="true"/>');
    expect(xml).toContain('<uws:results/>');
    expect(textOf(xml, 'uws:runId')).toBe('my-run');
    expect(textOf(xml, 'uws:creationTime')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(textOf(xml, 'uws:executionDuration')).toBe('600');
    expect(textOf(xml, 'uws:quote')).toMatch(/Z$/);
    const jobId = job.split('/').pop();
    expect(textOf(xml, 'uws:jobId')).toBe(jobId);
  });

  test('PHASE=RUN at creation queues the job at once and it completes', async () => {
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(['QUEUED', 'EXECUTING', 'COMPLETED']).toContain(await http.phase(job));
    expect(await http.settle(job)).toBe('COMPLETED');
  });

  test('parameter names are case-insensitive in the query string, urlencoded and multipart bodies; values keep case; repeats keep order', async () => {
    const form = new FormData();
    form.append('mOdE', 'echo');
    form.append('Pos', 'CIRCLE 1 2 3');
    form.append('pos', 'Circle 4 5 6');
    const reply = await http.request('POST', `${LIST}?Flag=On&flag=Off`, form);
    expect(reply.status).toBe(303);
    const parameters = await http.get(`${reply.location}/parameters`);
    expect(elementSequence(parameters.text, 'uws:parameters')).toHaveLength(5);
    const ids = [...parameters.text.matchAll(/<uws:parameter id="([^"]+)">([^<]*)</g)].map((m) => [m[1], m[2]]);
    expect(ids).toEqual([
      ['FLAG', 'On'],
      ['FLAG', 'Off'],
      ['MODE', 'echo'],
      ['POS', 'CIRCLE 1 2 3'],
      ['POS', 'Circle 4 5 6'],
    ]);
    await http.post(`${reply.location}/phase`, { phase: 'RUN' });
    expect(await http.settle(reply.location!)).toBe('COMPLETED');
    const echoed = JSON.parse((await http.get(`${reply.location}/results/result`)).text) as { parameters: string[][] };
    expect(echoed.parameters).toEqual([
      ['FLAG', 'On'],
      ['FLAG', 'Off'],
      ['MODE', 'echo'],
      ['POS', 'CIRCLE 1 2 3'],
      ['POS', 'Circle 4 5 6'],
    ]);
  });

  test('an inline multipart upload becomes a byReference parameter the job can read', async () => {
    const form = new FormData();
    form.append('MODE', 'echo');
    form.append('UPLOAD', 'mytable,param:tab1');
    form.append('tab1', new Blob(['<VOTABLE>0123456789</VOTABLE>']), 'table.xml');
    const reply = await http.request('POST', LIST, form);
    const job = reply.location!;
    const parameters = (await http.get(`${job}/parameters`)).text;
    expect(parameters).toContain(`<uws:parameter id="TAB1" byReference="true">${job}/parameters/TAB1</uws:parameter>`);
    const content = await http.get(`${job}/parameters/tab1`);
    expect(content.status).toBe(200);
    expect(content.text).toBe('<VOTABLE>0123456789</VOTABLE>');
    await http.post(`${job}/phase`, { PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    const echoed = JSON.parse((await http.get(`${job}/results/result`)).text) as { uploads: unknown[] };
    expect(echoed.uploads).toEqual([{ name: 'TAB1', size: 29 }]);
  });

  test('EXECUTIONDURATION and DESTRUCTION may be set at creation, within the limits', async () => {
    const job = await http.create('fixture', { MODE: 'echo', EXECUTIONDURATION: '100000', DESTRUCTION: '2000-01-01T00:00:00Z' });
    expect((await http.get(`${job}/executionduration`)).text.trim()).toBe('3600');
    const destruction = Date.parse((await http.get(`${job}/destruction`)).text.trim());
    expect(destruction).toBe(Date.parse('2000-01-01T00:00:00Z'));
    // The past destruction time means the reaper removes it; remove it ourselves now.
    expect((await http.delete(job)).status).toBe(303);
  });

  test('bad control values at creation answer 400 and create nothing', async () => {
    const before = (await http.get(LIST)).text.match(/<uws:jobref /g)?.length ?? 0;
    const bad: Record<string, string>[] = [
      { PHASE: 'ABORT' },
      { EXECUTIONDURATION: 'ten' },
      { EXECUTIONDURATION: '-5' },
      { DESTRUCTION: 'tomorrow' },
    ];
    for (const params of bad) {
      const reply = await http.post(LIST, params);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    }
    expect((await http.get(LIST)).text.match(/<uws:jobref /g)?.length ?? 0).toBe(before);
  });
});

describe('sub-resources', () => {
  let job: string;
  beforeAll(async () => {
    job = await http.create('fixture', { MODE: 'echo', RUNID: 'r1' });
  });

  test('atomic resources are text/plain holding exactly the value, no newline (the UWS validator compares bytes)', async () => {
    for (const [resource, expected] of [
      ['phase', /^PENDING$/],
      ['executionduration', /^600$/],
      ['destruction', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/],
      ['quote', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/],
      ['owner', /^$/],
    ] as const) {
      const reply = await http.get(`${job}/${resource}`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(reply.text).toMatch(expected);
    }
    const mode = await http.get(`${job}/parameters/MODE`);
    expect([mode.status, mode.headers.get('content-type'), mode.text]).toEqual([200, 'text/plain; charset=utf-8', 'echo']);
  });

  test('parameters and results are XML containers; results is empty before the job ran', async () => {
    const parameters = await http.get(`${job}/parameters`);
    expect(parameters.text).toContain('<uws:parameter id="MODE">echo</uws:parameter>');
    expect(parameters.text).toContain('<uws:parameter id="RUNID">r1</uws:parameter>');
    const results = await http.get(`${job}/results`);
    expect(results.text).toMatch(/<uws:results [^>]*><\/uws:results>$/);
    expect((await http.get(`${job}/parameters/mode`)).text.trim()).toBe('echo');
    expect((await http.get(`${job}/parameters/NOPE`)).status).toBe(404);
  });

  test('/error of a job without error is 404; unknown sub-resources are 404', async () => {
    expect((await http.get(`${job}/error`)).status).toBe(404);
    expect((await http.get(`${job}/nonsense`)).status).toBe(404);
    expect((await http.get(`${job}/results/nothing`)).status).toBe(404);
  });

  test('unknown jobs are 404 everywhere', async () => {
    for (const resource of ['', '/phase', '/parameters', '/results', '/error', '/owner', '/quote', '/destruction', '/executionduration']) {
      expect((await http.get(`${LIST}/doesnotexist${resource}`)).status).toBe(404);
    }
    expect((await http.post(`${LIST}/doesnotexist/phase`, { PHASE: 'RUN' })).status).toBe(404);
    expect((await http.delete(`${LIST}/doesnotexist`)).status).toBe(404);
    expect((await http.get(`${LIST}/..%2F..%2Fetc`)).status).toBe(404);
  });

  test('a job of another service is not visible here', async () => {
    const other = await http.create('other', { MODE: 'echo' });
    const id = other.split('/').pop();
    expect((await http.get(`${LIST}/${id}`)).status).toBe(404);
    expect((await http.get(other)).status).toBe(200);
  });
});

describe('job list AFTER (UWS 1.1 §2.2.2.1)', () => {
  test('takes every ISO 8601 form the UWS validator sends; garbage is a 400', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    const id = job.split('/').pop()!;
    for (const after of [
      '2015',
      '2015-10',
      '20151026',
      '2015-10-26',
      '2015-10-26T10:00',
      '20151026T100000',
      '2015-10-26T10:00:00.000Z',
      '2015-10-26T10:00:00.5+01:00',
      '20151026T100000+0100',
      '2015-10-26T10:00+01',
    ]) {
      const reply = await http.get(LIST, { AFTER: after });
      expect([after, reply.status]).toEqual([after, 200]);
      expect(reply.text).toContain(`id="${id}"`);
    }
    // A reduced form is its first instant: a job of today is after this year, not after the next.
    const year = new Date().getUTCFullYear();
    expect((await http.get(LIST, { AFTER: String(year - 1) })).text).toContain(`id="${id}"`);
    expect((await http.get(LIST, { AFTER: String(year + 1) })).text).not.toContain(`id="${id}"`);
    for (const bad of ['yesterday', '2015-13', '201510', '2015-10-26T']) {
      const reply = await http.get(LIST, { AFTER: bad });
      expect([reply.status, reply.text]).toEqual([400, `AFTER must be an ISO 8601 date-time, not "${bad}"\n`]);
    }
  });
});

describe('parameter updates (UWS §2.1.11, DALI 1.1 §2.1)', () => {
  test('POST to /parameters while PENDING replaces values of the same name and keeps the others', async () => {
    const job = await http.create('fixture', { MODE: 'echo', A: '1', B: '2' });
    const reply = await http.post(`${job}/parameters`, { a: 'one', C: '3', runid: 'later' });
    expect(reply.status).toBe(303);
    expect(reply.location).toBe(job);
    const ids = [...(await http.get(`${job}/parameters`)).text.matchAll(/<uws:parameter id="([^"]+)">([^<]*)</g)].map(
      (m) => `${m[1]}=${m[2]}`,
    );
    expect(ids).toEqual(['MODE=echo', 'B=2', 'A=one', 'C=3', 'RUNID=later']);
    expect(textOf((await http.get(job)).text, 'uws:runId')).toBe('later');
  });

  test('PUT /parameters/{name} sets one parameter while PENDING', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    const reply = await http.request('PUT', `${job}/parameters/query`, 'SELECT 1', { 'content-type': 'text/plain' });
    expect(reply.status).toBe(303);
    expect((await http.get(`${job}/parameters/QUERY`)).text).toBe('SELECT 1');
  });

  test('parameters cannot change once the job left PENDING (403), nor at the job URL (400)', async () => {
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    expect((await http.post(`${job}/parameters`, { MODE: 'fail' })).status).toBe(403);
    expect((await http.request('PUT', `${job}/parameters/MODE`, 'fail')).status).toBe(403);
    expect((await http.post(`${job}/executionduration`, { EXECUTIONDURATION: '5' })).status).toBe(403);
    const pending = await http.create('fixture', { MODE: 'echo' });
    const atJob = await http.post(pending, { MODE: 'fail' });
    expect(atJob.status).toBe(400);
    // ... and such a POST never deletes the job.
    expect((await http.get(pending)).status).toBe(200);
    expect(await http.phase(pending)).toBe('PENDING');
  });
});

describe('phase control', () => {
  test('PHASE=RUN → 303 to the job, and the very next read is QUEUED or later', async () => {
    for (let i = 0; i < 10; i++) {
      const job = await http.create('fixture', { MODE: 'sleep', SECONDS: '0.05' });
      const reply = await http.post(`${job}/phase`, { PHASE: 'RUN' });
      expect(reply.status).toBe(303);
      expect(reply.location).toBe(job);
      expect(['QUEUED', 'EXECUTING', 'COMPLETED']).toContain(await http.phase(job));
    }
  });

  test('PHASE values other than RUN and ABORT are 400; RUN on a finished job is 403', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.post(`${job}/phase`, { PHASE: 'SUSPEND' })).status).toBe(400);
    expect((await http.post(`${job}/phase`, {})).status).toBe(400);
    await http.post(`${job}/phase`, { PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    expect((await http.post(`${job}/phase`, { PHASE: 'RUN' })).status).toBe(403);
    expect((await http.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(403);
    expect(await http.phase(job)).toBe('COMPLETED');
  });

  test('ABORT of a PENDING job → ABORTED; it cannot be run afterwards', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.post(`${job}/phase`, { PHASE: 'ABORT' })).status).toBe(303);
    expect(await http.phase(job)).toBe('ABORTED');
    expect(textOf((await http.get(job)).text, 'uws:endTime')).toMatch(/Z$/);
    expect((await http.post(`${job}/phase`, { PHASE: 'RUN' })).status).toBe(403);
  });

  test('a completed job has start and end times, and its result is served with size and MIME type', async () => {
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN', X: 'ü & <b>' });
    expect(await http.settle(job)).toBe('COMPLETED');
    const xml = (await http.get(job)).text;
    const start = Date.parse(textOf(xml, 'uws:startTime')!);
    const end = Date.parse(textOf(xml, 'uws:endTime')!);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(xml).toContain('<uws:parameter id="X">ü &amp; &lt;b&gt;</uws:parameter>');
    const resultTag = /<uws:result id="result" [^>]*\/>/.exec(xml)![0];
    const result = await http.get(`${job}/results/result`);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(resultTag).toContain(`xlink:href="${job}/results/result"`);
    expect(resultTag).toContain(`size="${Buffer.byteLength(result.text)}"`);
    expect(resultTag).toContain('mime-type="application/json"');
    expect(JSON.parse(result.text).parameters).toContainEqual(['X', 'ü & <b>']);
  });

  test('a failing job ends in ERROR with errorSummary and a 200 /error document', async () => {
    const job = await http.create('fixture', { MODE: 'fail', MESSAGE: 'bad input: <nothing>', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('ERROR');
    const xml = (await http.get(job)).text;
    expect(xml).toContain(
      '<uws:errorSummary type="fatal" hasDetail="true"><uws:message>bad input: &lt;nothing&gt;</uws:message></uws:errorSummary>',
    );
    expect(elementSequence(xml, 'uws:job').slice(-2)).toEqual(['uws:results', 'uws:errorSummary']);
    const error = await http.get(`${job}/error`);
    expect(error.status).toBe(200);
    expect(error.text.trim()).toBe('bad input: <nothing>');
    // A service may give its own error document format (a VOTable for TAP).
    const other = await http.create('other', { MODE: 'fail', MESSAGE: 'no such table', PHASE: 'RUN' });
    expect(await http.settle(other)).toBe('ERROR');
    const votable = await http.get(`${other}/error`);
    expect(votable.headers.get('content-type')).toMatch(/^application\/x-votable\+xml/);
    expect(votable.text).toContain('<INFO name="QUERY_STATUS" value="ERROR">no such table</INFO>');
  });

  test('an unexpected processor exception is an internal error, not a crash of the worker', async () => {
    const job = await http.create('fixture', { MODE: 'crash', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('ERROR');
    expect(textOf((await http.get(job)).text, 'uws:message')).toBe('internal error: fixture crash');
    const next = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(next)).toBe('COMPLETED');
  });
});

describe('destruction and execution duration resources', () => {
  test('POST /destruction sets an ISO time (clamped to the maximum lifetime); bad values are 400', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    const soon = new Date(Date.now() + 3600_000).toISOString();
    expect((await http.post(`${job}/destruction`, { DESTRUCTION: soon })).status).toBe(303);
    expect((await http.get(`${job}/destruction`)).text.trim()).toBe(soon);
    await http.post(`${job}/destruction`, { DESTRUCTION: '2999-01-01T00:00:00Z' });
    const clamped = Date.parse((await http.get(`${job}/destruction`)).text.trim());
    expect(clamped).toBeLessThanOrEqual(Date.now() + 864000_000);
    expect(clamped).toBeGreaterThan(Date.now() + 863000_000);
    expect((await http.post(`${job}/destruction`, { DESTRUCTION: 'soon' })).status).toBe(400);
    expect((await http.post(`${job}/destruction`, {})).status).toBe(400);
  });

  test('POST /executionduration while PENDING; 0 (unlimited) and huge values become the maximum', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.post(`${job}/executionduration`, { EXECUTIONDURATION: '42' })).status).toBe(303);
    expect((await http.get(`${job}/executionduration`)).text.trim()).toBe('42');
    await http.post(`${job}/executionduration`, { EXECUTIONDURATION: '0' });
    expect((await http.get(`${job}/executionduration`)).text.trim()).toBe('3600');
    expect((await http.post(`${job}/executionduration`, { EXECUTIONDURATION: '1.5' })).status).toBe(400);
  });
});

describe('long result lists (api/uws/results-cache.ts)', () => {
  test('a finished job of 1,500 results: every result in order, each time; the list is read from the store once', async () => {
    const job = await http.create('fixture', { MODE: 'many', COUNT: '1500', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    const ids = (xml: string) => [...xml.matchAll(/<uws:result id="([^"]+)"/g)].map((m) => m[1]);
    const expected = Array.from({ length: 1500 }, (_, i) => `r-${i + 1}`);
    const first = await http.get(job);
    expect(ids(first.text)).toEqual(expected);
    expect(first.text).toContain(
      `<uws:result id="r-1500" xlink:type="simple" xlink:href="${job}/results/r-1500" size="12" mime-type="text/plain"/>`,
    );
    // Kept rendered: rows removed behind the api's back (no service does that) do not show.
    const knex = openDatabase(stack.config.databaseUrl);
    try {
      await knex('uws_results').where('job_id', job.split('/').pop()!).andWhere('seq', '>', 0).delete();
    } finally {
      await knex.destroy();
    }
    expect((await http.get(job)).text).toBe(first.text);
    expect(ids((await http.get(`${job}/results`)).text)).toEqual(expected);
    // A short list is read for every request.
    const short = await http.create('fixture', { MODE: 'many', COUNT: '3', PHASE: 'RUN' });
    expect(await http.settle(short)).toBe('COMPLETED');
    expect(ids((await http.get(short)).text)).toEqual(['r-1', 'r-2', 'r-3']);
  });
});

describe('deletion (§2.2.3.3)', () => {
  test('DELETE and POST ACTION=DELETE answer 303 to the list and remove job and files', async () => {
    for (const remove of [(job: string) => http.delete(job), (job: string) => http.post(job, { ACTION: 'DELETE' })]) {
      const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
      expect(await http.settle(job)).toBe('COMPLETED');
      const id = job.split('/').pop()!;
      expect(fs.existsSync(path.join(stack.config.resultsDir, id, 'results', '1', 'echo.json'))).toBe(true);
      const reply = await remove(job);
      expect(reply.status).toBe(303);
      expect(reply.location).toBe(`${stack.url}${LIST}`);
      expect((await http.get(job)).status).toBe(404);
      expect(fs.existsSync(path.join(stack.config.resultsDir, id))).toBe(false);
      expect((await http.get(LIST)).text).not.toContain(id);
    }
  });

  test('ACTION other than DELETE is 400 and keeps the job', async () => {
    const job = await http.create('fixture', { MODE: 'echo' });
    expect((await http.post(job, { ACTION: 'DESTROY' })).status).toBe(400);
    expect((await http.get(job)).status).toBe(200);
  });
});

describe('bad input', () => {
  async function jobCount(): Promise<number> {
    return (await http.get(LIST)).text.match(/<uws:jobref /g)?.length ?? 0;
  }

  test('an urlencoded body over PARAMS_MAX_BYTES is 413 and creates nothing', async () => {
    const before = await jobCount();
    const reply = await http.post(LIST, { MODE: 'echo', QUERY: 'x'.repeat(1100 * 1024) });
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(reply.text.trim()).toBe('request body larger than 1048576 bytes');
    expect(await jobCount()).toBe(before);
  });

  test('more parameters than PARAMS_MAX_COUNT is 413', async () => {
    const params: [string, string][] = Array.from({ length: 10001 }, (_, i) => ['P', String(i)]);
    const reply = await http.post(LIST, params);
    expect(reply.status).toBe(413);
    expect(reply.text.trim()).toBe('more than 10000 parameters');
  });

  test('a malformed multipart body is 400 with a plain-text reason, and leaves no upload behind', async () => {
    const before = await jobCount();
    const reply = await http.request(
      'POST',
      LIST,
      '--xyz\r\nContent-Disposition: form-data; name="MODE"\r\n\r\necho\r\n--xyz\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\npartial',
      {
        'content-type': 'multipart/form-data; boundary=xyz',
      },
    );
    expect(reply.status).toBe(400);
    expect(reply.text).toMatch(/^malformed multipart body: /);
    expect(await jobCount()).toBe(before);
    const tmp = path.join(stack.config.resultsDir, '.uploads');
    expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([]);
  });

  test('an unknown path under /api is a plain-text 404, never an HTML page or a stack trace', async () => {
    const reply = await http.get('/api/nosuchservice/async');
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(reply.text).toBe('no resource /api/nosuchservice/async\n');
  });
});
