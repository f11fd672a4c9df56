/** Pure cores: the phase state machine, UWS XML writing, ISO times, configuration. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, configEnv, loadConfig } from '../../shared/config';
import { PROJECT_ROOT } from '../../shared/runtime';
import { canTransition, isActive, isFinal, PHASES, sourcesOf } from '../../shared/uws/phase';
import { isoTime, parseIsoTime } from '../../shared/uws/time';
import { jobListXml, jobXml, progressXml } from '../../shared/uws/xml';
import type { Job } from '../../shared/uws/model';
import { escapeXml } from '../../shared/xml';
import { containedPath } from '../../shared/storage';
import { elementSequence } from '../helpers/http';

describe('phase state machine', () => {
  test('the schema’s ten phases, active and final ones', () => {
    expect(PHASES).toEqual(['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'ERROR', 'ABORTED', 'UNKNOWN', 'HELD', 'SUSPENDED', 'ARCHIVED']);
    expect(PHASES.filter(isActive)).toEqual(['PENDING', 'QUEUED', 'EXECUTING']);
    expect(PHASES.filter(isFinal)).toEqual(['COMPLETED', 'ERROR', 'ABORTED', 'ARCHIVED']);
  });

  test('allowed and forbidden transitions', () => {
    expect(canTransition('PENDING', 'QUEUED')).toBe(true);
    expect(canTransition('QUEUED', 'EXECUTING')).toBe(true);
    expect(canTransition('EXECUTING', 'COMPLETED')).toBe(true);
    expect(canTransition('EXECUTING', 'ABORTED')).toBe(true);
    expect(canTransition('PENDING', 'COMPLETED')).toBe(false);
    expect(canTransition('COMPLETED', 'ABORTED')).toBe(false);
    expect(canTransition('ERROR', 'QUEUED')).toBe(false);
    expect(canTransition('ABORTED', 'EXECUTING')).toBe(false);
    // No transition leaves a final phase except archiving.
    for (const target of PHASES) {
      for (const from of PHASES.filter(isFinal)) {
        expect(canTransition(from, target)).toBe(target === 'ARCHIVED' && from !== 'ARCHIVED');
      }
    }
    expect(sourcesOf('PENDING')).toEqual([]);
  });
});

describe('UWS jobInfo progress', () => {
  const start = Date.UTC(2026, 0, 2, 3, 4, 0);
  const progress = { total: 400, done: 100, ok: 90, failed: 10, bytes: 123456, message: 'cutting <part 2>' };

  test('Rubin element names, counts, escaped message and an estimated end from the rate so far', () => {
    const xml = progressXml({ phase: 'EXECUTING', startTime: start }, progress, start + 10000);
    expect(xml).toBe(
      '<progress><percentComplete>25</percentComplete><itemsProcessed>100</itemsProcessed><totalItems>400</totalItems>' +
        '<message>cutting &lt;part 2&gt;</message><itemsOk>90</itemsOk><itemsFailed>10</itemsFailed><bytes>123456</bytes>' +
        '<estimatedEnd>2026-01-02T03:04:40.000Z</estimatedEnd></progress>',
    );
  });

  test('no estimate once finished; done never shown past the total (a part counted twice after a retry)', () => {
    const xml = progressXml({ phase: 'COMPLETED', startTime: start }, { ...progress, done: 401, message: null }, start + 10000);
    expect(xml).toContain('<percentComplete>100</percentComplete><itemsProcessed>400</itemsProcessed>');
    expect(xml).not.toContain('estimatedEnd');
    expect(xml).not.toContain('<message>');
  });

  test('unknown total: items only; an empty batch is 100% done', () => {
    expect(progressXml({ phase: 'EXECUTING', startTime: start }, { ...progress, total: null })).not.toMatch(
      /percentComplete|totalItems|estimatedEnd/,
    );
    expect(progressXml({ phase: 'EXECUTING', startTime: start }, { ...progress, total: 0, done: 0 })).toContain(
      '<percentComplete>100</percentComplete>',
    );
  });
});

describe('UWS XML', () => {
  const job: Job = {
    jobId: 'abc',
    service: 'svc',
    owner: 'o&"<>',
    runId: null,
    phase: 'ERROR',
    creationTime: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    startTime: Date.UTC(2026, 0, 2, 3, 4, 6),
    endTime: Date.UTC(2026, 0, 2, 3, 4, 7),
    executionDuration: 0,
    destruction: Date.UTC(2026, 0, 9),
    quote: null,
    attempts: 1,
    error: { type: 'transient', message: 'boom <1>' },
    parameters: [
      { name: 'UP', value: 'x.xml', byReference: true, file: 'UP' },
      { name: 'Q', value: 'a < b' },
    ],
    baseUrl: 'http://h',
    progress: null,
  };
  const results = [{ id: 'r 1', file: 'r1', mimeType: 'text/csv', size: 42 }];
  const urls = { job: (id: string) => `http://h/api/svc/async/${id}` };

  test('job document: exact element order, values, escapes, nil quote, errorSummary last', () => {
    const xml = jobXml(job, results, urls);
    expect(elementSequence(xml, 'uws:job')).toEqual([
      'uws:jobId',
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
    ]);
    expect(xml).toContain('<uws:ownerId>o&amp;&quot;&lt;&gt;</uws:ownerId>');
    expect(xml).toContain('<uws:quote xsi:nil="true"/>');
    expect(xml).toContain('<uws:creationTime>2026-01-02T03:04:05.006Z</uws:creationTime>');
    expect(xml).toContain('<uws:executionDuration>0</uws:executionDuration>');
    expect(xml).toContain(
      '<uws:parameter id="UP" byReference="true">http://h/api/svc/async/abc/parameters/UP</uws:parameter><uws:parameter id="Q">a &lt; b</uws:parameter>',
    );
    expect(xml).toContain(
      '<uws:result id="r 1" xlink:type="simple" xlink:href="http://h/api/svc/async/abc/results/r%201" size="42" mime-type="text/csv"/>',
    );
    expect(xml).toContain(
      '<uws:errorSummary type="transient" hasDetail="true"><uws:message>boom &lt;1&gt;</uws:message></uws:errorSummary>',
    );
    expect(xml.endsWith('</uws:job>')).toBe(true);
  });

  test('job list: jobrefs in the given order, ownerId nil when anonymous', () => {
    const xml = jobListXml([{ jobId: 'a', phase: 'PENDING', runId: 'r', owner: null, creationTime: 0 }], urls);
    expect(xml).toContain(
      '<uws:jobref id="a" xlink:type="simple" xlink:href="http://h/api/svc/async/a"><uws:phase>PENDING</uws:phase><uws:runId>r</uws:runId><uws:ownerId xsi:nil="true"/><uws:creationTime>1970-01-01T00:00:00.000Z</uws:creationTime></uws:jobref>',
    );
  });

  test('characters XML cannot carry are dropped', () => {
    expect(escapeXml('a\u0000b\u0007c\td\n')).toBe('abc\td\n');
  });
});

describe('ISO 8601 times', () => {
  test('parses the DALI forms, UTC unless a zone is given', () => {
    expect(parseIsoTime('2026-11-25T01:02:03Z')).toBe(Date.UTC(2026, 10, 25, 1, 2, 3));
    expect(parseIsoTime('2026-11-25T01:02:03.5')).toBe(Date.UTC(2026, 10, 25, 1, 2, 3, 500));
    expect(parseIsoTime('2026-11-25')).toBe(Date.UTC(2026, 10, 25));
    expect(parseIsoTime('2026-11-25T01:02:03+02:00')).toBe(Date.UTC(2026, 10, 24, 23, 2, 3));
    expect(parseIsoTime('2026-11-25T01:02:03+0200')).toBe(Date.UTC(2026, 10, 24, 23, 2, 3));
    for (const bad of ['', 'tomorrow', '2026-13-01', '2026-11-25T25:00:00Z', '1700000000']) expect(parseIsoTime(bad)).toBeUndefined();
    expect(isoTime(Date.UTC(2026, 10, 25))).toBe('2026-11-25T00:00:00.000Z');
  });

  test('parses every form the UWS validator sends as AFTER: reduced and basic dates and times, fractions, zones', () => {
    const cases: [string, number][] = [
      ['2015', Date.UTC(2015, 0, 1)],
      ['2015-10', Date.UTC(2015, 9, 1)],
      ['20151026', Date.UTC(2015, 9, 26)],
      ['2015-10-26', Date.UTC(2015, 9, 26)],
      ['2015-10-26T10', Date.UTC(2015, 9, 26, 10)],
      ['2015-10-26T10:00', Date.UTC(2015, 9, 26, 10)],
      ['20151026T1000', Date.UTC(2015, 9, 26, 10)],
      ['20151026T100000', Date.UTC(2015, 9, 26, 10)],
      ['20151026T100000.25', Date.UTC(2015, 9, 26, 10, 0, 0, 250)],
      ['2015-10-26T10:00:00,5Z', Date.UTC(2015, 9, 26, 10, 0, 0, 500)],
      ['2015-10-26T10:00:00.123456789Z', Date.UTC(2015, 9, 26, 10, 0, 0, 123)],
      ['2015-10-26T10:00Z', Date.UTC(2015, 9, 26, 10)],
      ['2015-10-26T10:00:00+01:00', Date.UTC(2015, 9, 26, 9)],
      ['2015-10-26T10:00:00+0100', Date.UTC(2015, 9, 26, 9)],
      ['2015-10-26T10:00:00+01', Date.UTC(2015, 9, 26, 9)],
      ['20151026T100000-0130', Date.UTC(2015, 9, 26, 11, 30)],
      ['2015-10-26T10:00:00.5+01', Date.UTC(2015, 9, 26, 9, 0, 0, 500)],
      ['0099-01-01', Date.parse('0099-01-01T00:00:00Z')], // not 1999 (Date.UTC's reading of 2-digit years)
    ];
    for (const [text, ms] of cases) expect([text, parseIsoTime(text)]).toEqual([text, ms]);
    const garbage = [
      '201510',
      '2015-1026',
      '2015-10-26T',
      '2015-10-26T10:0',
      '2015-02-30',
      '2015-10-26T10:00:60',
      '2015-10-26T10:00+1',
      '2015-10-26T10:00+01:60',
      '2015-10-26Z',
      '2015-10-26T10:00ZZ',
      '2015-10-26T10:00:00.Z',
      'T10:00',
      '15-10-26',
    ];
    for (const text of garbage) expect([text, parseIsoTime(text)]).toEqual([text, undefined]);
  });
});

describe('configuration', () => {
  let varDir: string;
  beforeEach(() => {
    varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-config-'));
  });
  afterEach(() => fs.rmSync(varDir, { recursive: true, force: true }));

  test('defaults need no variable at all', () => {
    const config = loadConfig({ VAR_DIR: varDir });
    expect(config.port).toBe(8080);
    expect(config.authTokens).toBeUndefined();
    expect(config.uws.waitMaxSeconds).toBe(60);
    expect(config.uws.executionDurationDefault).toBe(600);
    expect(config.uws.executionDurationMax).toBe(3600);
    expect(config.databaseUrl).toBe(path.join(varDir, 'jobs.sqlite'));
  });

  test('FITS_NATIVE_ROWS is 0 or 1 (default 1), and travels to child processes', () => {
    expect(loadConfig({ VAR_DIR: varDir }).fitsNativeRows).toBe(true);
    const off = loadConfig({ VAR_DIR: varDir, FITS_NATIVE_ROWS: '0' });
    expect(off.fitsNativeRows).toBe(false);
    expect(configEnv(off).FITS_NATIVE_ROWS).toBe('0');
    expect(() => loadConfig({ VAR_DIR: varDir, FITS_NATIVE_ROWS: 'yes' })).toThrow(ConfigError);
  });

  test('UWS_RESULTS_CACHE_BYTES is a non-negative integer (default 64 MiB; 0 keeps none), and travels to child processes', () => {
    expect(loadConfig({ VAR_DIR: varDir }).uws.resultsCacheBytes).toBe(64 << 20);
    const none = loadConfig({ VAR_DIR: varDir, UWS_RESULTS_CACHE_BYTES: '0' });
    expect(none.uws.resultsCacheBytes).toBe(0);
    expect(configEnv(none).UWS_RESULTS_CACHE_BYTES).toBe('0');
    expect(() => loadConfig({ VAR_DIR: varDir, UWS_RESULTS_CACHE_BYTES: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ VAR_DIR: varDir, UWS_RESULTS_CACHE_BYTES: 'lots' })).toThrow(ConfigError);
  });

  test('AUTH_TOKENS are token:owner pairs', () => {
    expect([...loadConfig({ AUTH_TOKENS: 'a:alice, b:bob', SIGNING_KEY: 'k' }).authTokens!]).toEqual([
      ['a', 'alice'],
      ['b', 'bob'],
    ]);
    expect(() => loadConfig({ AUTH_TOKENS: 'nocolon', SIGNING_KEY: 'k' })).toThrow(ConfigError);
  });

  test('SIGNING_KEY unset: without AUTH_TOKENS a random key is generated once under VAR_DIR (0600) and read again', () => {
    const first = loadConfig({ VAR_DIR: varDir }).signingKey;
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    const file = path.join(varDir, 'signing.key');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${first}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ VAR_DIR: varDir }).signingKey).toBe(first);
    // Another deployment (another VAR_DIR) gets another key.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-config-'));
    try {
      expect(loadConfig({ VAR_DIR: other }).signingKey).not.toBe(first);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    // A key that is given is used as it is, and nothing is written.
    expect(loadConfig({ VAR_DIR: path.join(varDir, 'given'), SIGNING_KEY: ' s3cret ' }).signingKey).toBe('s3cret');
    expect(fs.existsSync(path.join(varDir, 'given'))).toBe(false);
  });

  test('SIGNING_KEY unset with AUTH_TOKENS refuses to start, naming SIGNING_KEY', () => {
    expect(() => loadConfig({ VAR_DIR: varDir, AUTH_TOKENS: 'a:alice' })).toThrow(ConfigError);
    expect(() => loadConfig({ VAR_DIR: varDir, AUTH_TOKENS: 'a:alice' })).toThrow(
      'SIGNING_KEY must be set when AUTH_TOKENS is (the key of signed file URLs; e.g. `openssl rand -base64 32`)',
    );
    expect(fs.readdirSync(varDir)).toEqual([]);
  });

  test('`npm run api` with AUTH_TOKENS and no SIGNING_KEY does not start: one line naming SIGNING_KEY, exit 2', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      VAR_DIR: varDir,
      AUTH_TOKENS: 'a:alice',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      REDIS_URL: 'redis://127.0.0.1:1',
    };
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/api/main.js')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    expect([code, stderr]).toEqual([
      2,
      'configuration error: SIGNING_KEY must be set when AUTH_TOKENS is (the key of signed file URLs; e.g. `openssl rand -base64 32`)\n',
    ]);
  });

  test('an empty key file stops the start with SIGNING_KEY named', () => {
    fs.writeFileSync(path.join(varDir, 'signing.key'), '\n');
    expect(() => loadConfig({ VAR_DIR: varDir })).toThrow(
      `SIGNING_KEY is not set and the generated key in ${path.join(varDir, 'signing.key')} cannot be read or created: ${path.join(varDir, 'signing.key')} is empty; delete it to have a new key generated`,
    );
  });

  test('processes starting at once on a fresh VAR_DIR all end with one key', async () => {
    const script = `const { loadConfig } = require(${JSON.stringify(path.join(PROJECT_ROOT, 'dist/shared/config'))}); process.stdout.write(loadConfig({ VAR_DIR: process.argv[1] }).signingKey);`;
    const keys = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['-e', script, varDir], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.once('error', reject);
            child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
          }),
      ),
    );
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.readFileSync(path.join(varDir, 'signing.key'), 'utf8')).toBe(`${keys[0]}\n`);
    expect(fs.readdirSync(varDir)).toEqual(['signing.key']); // no temporary file left
  });

  test('bad values stop the start with the variable named', () => {
    expect(() => loadConfig({ VAR_DIR: varDir, PORT: 'eighty' })).toThrow('PORT=eighty: expected an integer');
    expect(() => loadConfig({ UWS_WAIT_MAX: '0' })).toThrow('UWS_WAIT_MAX=0: expected 1..3600');
    expect(() => loadConfig({ UWS_EXECUTION_DURATION: '7200' })).toThrow(/UWS_EXECUTION_DURATION/);
    expect(() => loadConfig({ PUBLIC_URL: 'example.org' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ UPLOAD_URL_ALLOW: '127.0.0.1, 10.0.0.0/33' })).toThrow(
      'UPLOAD_URL_ALLOW: "10.0.0.0/33" is not an IP address, CIDR range (address/prefix) or host name',
    );
  });
});

describe('file containment', () => {
  test('names that would leave the directory are refused', () => {
    expect(containedPath('/r/job', 'a.xml')).toBe('/r/job/a.xml');
    for (const bad of ['../x', '/etc/passwd', '', 'a/../../x', 'a\0b']) expect(containedPath('/r/job', bad)).toBeUndefined();
  });
});
