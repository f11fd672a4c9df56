/** Pure cores: the phase state machine, UWS XML writing, ISO times, configuration. */
import { ConfigError, loadConfig } from '../../shared/config';
import { canTransition, isActive, isFinal, PHASES, sourcesOf } from '../../shared/uws/phase';
import { isoTime, parseIsoTime } from '../../shared/uws/time';
import { jobListXml, jobXml } from '../../shared/uws/xml';
import type { Job } from '../../shared/uws/model';
import { escapeXml } from '../../shared/xml';
import { containedPath } from '../../shared/uws/files';
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
    parameters: [{ name: 'UP', value: 'x.xml', byReference: true, file: 'UP' }, { name: 'Q', value: 'a < b' }],
    results: [{ id: 'r 1', file: 'r1', mimeType: 'text/csv', size: 42 }],
    baseUrl: 'http://h',
  };
  const urls = { job: (id: string) => `http://h/api/svc/async/${id}` };

  test('job document: exact element order, values, escapes, nil quote, errorSummary last', () => {
    const xml = jobXml(job, urls);
    expect(elementSequence(xml, 'uws:job')).toEqual(['uws:jobId', 'uws:ownerId', 'uws:phase', 'uws:quote', 'uws:creationTime', 'uws:startTime', 'uws:endTime', 'uws:executionDuration', 'uws:destruction', 'uws:parameters', 'uws:results', 'uws:errorSummary']);
    expect(xml).toContain('<uws:ownerId>o&amp;&quot;&lt;&gt;</uws:ownerId>');
    expect(xml).toContain('<uws:quote xsi:nil="true"/>');
    expect(xml).toContain('<uws:creationTime>2026-01-02T03:04:05.006Z</uws:creationTime>');
    expect(xml).toContain('<uws:executionDuration>0</uws:executionDuration>');
    expect(xml).toContain('<uws:parameter id="UP" byReference="true">http://h/api/svc/async/abc/parameters/UP</uws:parameter><uws:parameter id="Q">a &lt; b</uws:parameter>');
    expect(xml).toContain('<uws:result id="r 1" xlink:type="simple" xlink:href="http://h/api/svc/async/abc/results/r%201" size="42" mime-type="text/csv"/>');
    expect(xml).toContain('<uws:errorSummary type="transient" hasDetail="true"><uws:message>boom &lt;1&gt;</uws:message></uws:errorSummary>');
    expect(xml.endsWith('</uws:job>')).toBe(true);
  });

  test('job list: jobrefs in the given order, ownerId nil when anonymous', () => {
    const xml = jobListXml([{ jobId: 'a', phase: 'PENDING', runId: 'r', owner: null, creationTime: 0 }], urls);
    expect(xml).toContain('<uws:jobref id="a" xlink:type="simple" xlink:href="http://h/api/svc/async/a"><uws:phase>PENDING</uws:phase><uws:runId>r</uws:runId><uws:ownerId xsi:nil="true"/><uws:creationTime>1970-01-01T00:00:00.000Z</uws:creationTime></uws:jobref>');
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
});

describe('configuration', () => {
  test('defaults need no variable at all', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.authTokens).toBeUndefined();
    expect(config.uws.waitMaxSeconds).toBe(60);
    expect(config.uws.executionDurationDefault).toBe(600);
    expect(config.uws.executionDurationMax).toBe(3600);
    expect(config.databaseUrl).toMatch(/var\/jobs\.sqlite$/);
  });

  test('AUTH_TOKENS are token:owner pairs', () => {
    expect([...loadConfig({ AUTH_TOKENS: 'a:alice, b:bob' }).authTokens!]).toEqual([['a', 'alice'], ['b', 'bob']]);
    expect(() => loadConfig({ AUTH_TOKENS: 'nocolon' })).toThrow(ConfigError);
  });

  test('bad values stop the start with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow('PORT=eighty: expected an integer');
    expect(() => loadConfig({ UWS_WAIT_MAX: '0' })).toThrow('UWS_WAIT_MAX=0: expected 1..3600');
    expect(() => loadConfig({ UWS_EXECUTION_DURATION: '7200' })).toThrow(/UWS_EXECUTION_DURATION/);
    expect(() => loadConfig({ PUBLIC_URL: 'example.org' })).toThrow(/PUBLIC_URL/);
  });
});

describe('file containment', () => {
  test('names that would leave the directory are refused', () => {
    expect(containedPath('/r/job', 'a.xml')).toBe('/r/job/a.xml');
    for (const bad of ['../x', '/etc/passwd', '', 'a/../../x', 'a\0b']) expect(containedPath('/r/job', bad)).toBeUndefined();
  });
});
