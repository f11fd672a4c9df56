/**
 * The limits of bulk batches on a real stack: BULK_MAX_STAMPS and BULK_MAX_BYTES leave the rows
 * past them not_run with the reason (the job still COMPLETES; pictures count with their
 * stamps), BULK_MAX_JOBS_PER_OWNER keeps a second batch QUEUED while the first runs, and an
 * execution duration that runs out ends the batch in ERROR keeping the parts it finished.
 */
import { previewBound } from '../../shared/bulk/pictures';
import { DEFAULT_DISPLAY } from '../../shared/preview';
import { Client } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { manifestOf, positionsInside, until } from './helpers';

let fx: TapFixture;
let client: Client;

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { BULK_MAX_STAMPS: '500', BULK_MAX_BYTES: String(1200 * 8640) } });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

function positions(n: number, seed: number, on = fx): Array<[string, string]> {
  return positionsInside(on.datasets, n, seed).map((p): [string, string] => ['POSITION', `${p.ra} ${p.dec}`]);
}

test('BULK_MAX_STAMPS: stamps past it are not_run with the reason; the job completes', async () => {
  // 100 positions × 6 bands = 600 stamps of 8,640 bytes (16×16), 500 allowed.
  const job = await client.create('bulk', [...positions(100, 1), ['SIZE', '16'], ['DRYRUN', 'true'], ['PHASE', 'RUN']]);
  expect(await client.settle(job, 60000)).toBe('COMPLETED');
  const rows = await manifestOf(client, job);
  expect(rows).toHaveLength(600);
  const notRun = rows.filter((r) => r.status === 'not_run');
  expect(notRun).toHaveLength(100);
  expect(new Set(notRun.map((r) => r.message))).toEqual(new Set(['not cut: the job reached BULK_MAX_STAMPS (500 stamps)']));
  expect(rows.slice(0, 500).every((r) => r.status === 'ok')).toBe(true);
});

test('BULK_MAX_BYTES: stamps that would take the job past it are not_run', async () => {
  // 40 × 6 = 240 stamps of 128×128 (about 72 kB each, 17 MB in all) against 1,200 × 8,640 bytes.
  const job = await client.create('bulk', [...positions(40, 2), ['SIZE', '128'], ['DRYRUN', 'true'], ['PHASE', 'RUN']]);
  expect(await client.settle(job, 60000)).toBe('COMPLETED');
  const rows = await manifestOf(client, job);
  const planned = rows.filter((r) => r.status === 'ok' || r.status === 'partial');
  const total = planned.reduce((sum, r) => sum + Number(r.bytes), 0);
  expect(total).toBeLessThanOrEqual(1200 * 8640);
  expect(total + Number(planned[0]!.bytes)).toBeGreaterThan(1200 * 8640);
  const notRun = rows.filter((r) => r.status === 'not_run');
  expect(notRun.length).toBe(rows.length - planned.length);
  expect(notRun[0]!.message).toBe(`not cut: the job's stamps would exceed BULK_MAX_BYTES (${1200 * 8640} bytes)`);
});

test('BULK_MAX_BYTES counts each stamp with its picture, planned at its largest', async () => {
  const job = await client.create('bulk', [...positions(40, 2), ['SIZE', '128'], ['PREVIEW', 'png'], ['DRYRUN', 'true'], ['PHASE', 'RUN']]);
  expect(await client.settle(job, 60000)).toBe('COMPLETED');
  const rows = await manifestOf(client, job);
  const picture = previewBound({ x0: 0, y0: 0, nx: 128, ny: 128 }, { format: 'png', display: DEFAULT_DISPLAY });
  const planned = rows.filter((r) => r.status === 'ok' || r.status === 'partial');
  const total = planned.reduce((sum, r) => sum + Number(r.bytes) + picture, 0);
  expect(total).toBeLessThanOrEqual(1200 * 8640);
  expect(total + Number(planned[0]!.bytes) + picture).toBeGreaterThan(1200 * 8640);
  expect(rows.filter((r) => r.status === 'not_run')[0]!.message).toBe(
    `not cut: the job's stamps would exceed BULK_MAX_BYTES (${1200 * 8640} bytes)`,
  );
});

describe('one part per stamp, one part at a time, one batch per owner', () => {
  let own: TapFixture;
  let slow: Client;
  beforeAll(async () => {
    own = await startTapStack({ workers: 1, env: { BULK_PART_STAMPS: '1', BULK_PART_CONCURRENCY: '1', BULK_MAX_JOBS_PER_OWNER: '1' } });
    slow = new Client(own.stack.url);
  }, 60000);
  afterAll(() => own?.close());

  test('BULK_MAX_JOBS_PER_OWNER: a second batch waits QUEUED while the first runs; an overrun ends in ERROR keeping its parts', async () => {
    // One stamp per part, one part at a time: 6,000 stamps of 128×128 take far longer than 5 s
    // (each part is a BullMQ job of its own).
    const first = await slow.create('bulk', [...positions(1000, 3, own), ['SIZE', '128'], ['EXECUTIONDURATION', '5'], ['PHASE', 'RUN']]);
    // Under way: its first parts recorded.
    await until(async () => (/<uws:result id="stamp-\d+"/.test((await slow.get(first)).text) ? true : undefined), 30000);
    const second = await slow.create('bulk', [...positions(2, 4, own), ['SIZE', '16'], ['BAND', 'g'], ['PHASE', 'RUN']]);
    // While the first runs, the second is held back (tried again every second).
    await new Promise((resolve) => setTimeout(resolve, 1200));
    if ((await slow.phase(first)) === 'EXECUTING') expect(await slow.phase(second)).toBe('QUEUED');
    // The first runs out of its 5 s: ERROR, with what its finished parts recorded.
    expect(await slow.settle(first, 30000)).toBe('ERROR');
    const doc = (await slow.get(first)).text;
    expect(doc).toContain('execution duration of 5 s exceeded; the job was stopped');
    const kept = [...doc.matchAll(/<uws:result id="stamp-\d+"/g)].length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(6000);
    // Then the second runs.
    expect(await slow.settle(second, 30000)).toBe('COMPLETED');
  });
});
