/**
 * SODA cutouts over HTTP against a real stack on the demo data: sync cutouts (pixels equal to
 * the source at the offset, 204 without overlap, SODA errors) and async cutouts (one result per
 * combination, each with an entry). The DataLink documents that lead here: test/datalink/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openFitsBuffer, openFitsSync } from '../../shared/fits';
import { compiledModule } from '../../shared/runtime';
import type { ProcessorInput } from '../../shared/uws/service';
import type * as SodaProcessor from '../../worker/soda/processor';
import { Client } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';

let fx: TapFixture;
let client: Client;
const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
const TARGET = { ra: 55.7467376, dec: -32.2861552 };

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { CUTOUT_THREADS: '2', CUTOUT_SPLIT_MIN: '200' } });
  client = new Client(fx.stack.url);
}, 60000);
afterAll(() => fx?.close());

describe('SODA sync', () => {
  const cutout = (params: Record<string, string> | Array<[string, string]>) =>
    client.request('GET', `/api/cutout/sync?${new URLSearchParams(params as Record<string, string>).toString()}`);

  test('a circle around the cluster: FITS whose pixels are the source pixels at the offset', async () => {
    const reply = await fetch(
      `${fx.stack.url}/api/cutout/sync?${new URLSearchParams({ ID: I_COADD, CIRCLE: `${TARGET.ra} ${TARGET.dec} 0.03` }).toString()}`,
    );
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/fits');
    const cut = openFitsBuffer(Buffer.from(await reply.arrayBuffer()));
    const dataset = fx.datasets.find((d) => d.id === I_COADD.slice('butler://dp02/'.length))!;
    const source = openFitsSync(path.join(fx.stack.config.dataDir, dataset.relativePath));
    try {
      expect(cut.hdus.map((h) => h.header.get('EXTNAME') ?? 'PRIMARY')).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
      expect(cut.hdus[0]!.header.get('SODA_ID')).toBe(I_COADD);
      for (const name of ['IMAGE', 'MASK', 'VARIANCE']) {
        const hdu = cut.hdu(name);
        const x0 = -Number(hdu.header.get('LTV1')) + Number(source.hdu(name).header.get('LTV1') ?? 0);
        const y0 = -Number(hdu.header.get('LTV2')) + Number(source.hdu(name).header.get('LTV2') ?? 0);
        const width = Number(hdu.header.get('NAXIS1'));
        const height = Number(hdu.header.get('NAXIS2'));
        expect(width).toBeGreaterThan(100);
        const mine = cut.readImage(hdu);
        const theirs = source.readRect(source.hdu(name), { x0, y0, width, height });
        expect(Buffer.from(mine.data.buffer)).toEqual(Buffer.from(theirs.data.buffer));
      }
    } finally {
      cut.close();
      source.close();
    }
  });

  test('no overlap → 204 with no body', async () => {
    const reply = await cutout({ ID: I_COADD, CIRCLE: '10 10 0.1' });
    expect([reply.status, reply.text]).toEqual([204, '']);
  });

  const errors: [string, Array<[string, string]>, string][] = [
    ['no ID', [['CIRCLE', '1 2 3']], 'UsageError: missing parameter ID'],
    [
      'two IDs',
      [
        ['ID', I_COADD],
        ['ID', 'butler://dp02/00000000-0000-0000-0000-000000000000'],
        ['CIRCLE', '1 2 3'],
      ],
      'MultiValuedParamNotSupported: ',
    ],
    [
      'two circles',
      [
        ['ID', I_COADD],
        ['CIRCLE', '1 2 3'],
        ['CIRCLE', '4 5 6'],
      ],
      'MultiValuedParamNotSupported: ',
    ],
    [
      'unknown ID',
      [
        ['ID', 'butler://dp02/00000000-0000-0000-0000-000000000000'],
        ['CIRCLE', '1 2 3'],
      ],
      'UsageError: no dataset with ID butler://dp02/00000000-0000-0000-0000-000000000000',
    ],
    [
      'bad circle',
      [
        ['ID', I_COADD],
        ['CIRCLE', '1 95 3'],
      ],
      'UsageError: ',
    ],
  ];
  test.each(errors)('%s → 400 text/plain with the SODA label', async (_, params, prefix) => {
    const reply = await client.request('GET', `/api/cutout/sync?${new URLSearchParams(params).toString()}`);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(reply.text.startsWith(prefix)).toBe(true);
  });

  test('the same ID repeated (as pyvo sends it) is one dataset; a bare UUID is accepted', async () => {
    const reply = await client.request(
      'GET',
      `/api/cutout/sync?${new URLSearchParams([
        ['ID', I_COADD],
        ['ID', I_COADD],
        ['POS', `CIRCLE ${TARGET.ra} ${TARGET.dec} 0.01`],
      ]).toString()}`,
    );
    expect(reply.status).toBe(200);
    const bare = await cutout({
      ID: I_COADD.slice('butler://dp02/'.length),
      POS: `RANGE ${TARGET.ra - 0.01} ${TARGET.ra + 0.01} ${TARGET.dec - 0.01} ${TARGET.dec + 0.01}`,
    });
    expect(bare.status).toBe(200);
  });
});

describe('SODA async', () => {
  test('one result per combination; a combination without pixels still has its (text/plain) entry', async () => {
    const job = await client.create('cutout', [
      ['ID', I_COADD],
      ['CIRCLE', `${TARGET.ra} ${TARGET.dec} 0.01`],
      ['CIRCLE', '10 10 0.1'],
      ['POLYGON', `${TARGET.ra} ${TARGET.dec} ${TARGET.ra + 0.02} ${TARGET.dec} ${TARGET.ra} ${TARGET.dec + 0.02}`],
      ['PHASE', 'RUN'],
    ]);
    expect(await client.settle(job)).toBe('COMPLETED');
    const doc = (await client.get(`${job}/results`)).text;
    expect([...doc.matchAll(/<uws:result id="([^"]+)"[^>]*mime-type="([^"]+)"/g)].map((m) => [m[1], m[2]])).toEqual([
      ['cutout-1', 'application/fits'],
      ['cutout-2', 'text/plain'],
      ['cutout-3', 'application/fits'],
    ]);
    const none = await client.get(`${job}/results/cutout-2`);
    expect(none.text).toBe(`UsageError: no overlap: the region, BAND or TIME does not overlap ${I_COADD}\n`);
    const fits = await fetch(`${job}/results/cutout-3`);
    expect(Buffer.from(await fits.arrayBuffer()).toString('latin1', 0, 6)).toBe('SIMPLE');
  });

  test('a large job is cut by two threads: 400 results in order, each served from its pack', async () => {
    const circles = Array.from({ length: 400 }, (_, i): [string, string] => [
      'CIRCLE',
      `${TARGET.ra + (i % 20) * 0.001} ${TARGET.dec + Math.floor(i / 20) * 0.001} 0.002`,
    ]);
    const job = await client.create('cutout', [['ID', I_COADD], ...circles, ['PHASE', 'RUN']]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    const doc = (await client.get(`${job}/results`)).text;
    const ids = [...doc.matchAll(/<uws:result id="([^"]+)"[^>]*mime-type="application\/fits"/g)].map((m) => m[1]);
    expect(ids).toEqual(circles.map((_, i) => `cutout-${i + 1}`));
    // Progress in uws:jobInfo: every combination counted, over both threads.
    expect((await client.get(job)).text).toContain(
      '<progress><percentComplete>100</percentComplete><itemsProcessed>400</itemsProcessed><totalItems>400</totalItems><message>400 cutouts</message>',
    );
    const jobId = job.slice(job.lastIndexOf('/') + 1);
    expect(fs.readdirSync(path.join(fx.stack.config.resultsDir, jobId, 'results', '1')).sort()).toEqual(['cutouts-2.pack', 'cutouts.pack']);
    for (const n of [1, 200, 201, 400]) {
      const reply = await fetch(`${job}/results/cutout-${n}`);
      const cut = openFitsBuffer(Buffer.from(await reply.arrayBuffer()));
      try {
        expect(cut.hdus[0]!.header.getString('SODA_POS')).toBe(`CIRCLE ${circles[n - 1]![1]}`);
      } finally {
        cut.close();
      }
    }
  }, 90000);

  test('cutouts of one image cut in row order from rows read once are byte for byte the sync cutouts of their regions, each under its own number', async () => {
    // Overlapping circles, in no row order, one without pixels among them, and a polygon:
    // the job reads their rows once (RowWindow) and cuts them sorted by row; sync cuts each alone.
    const regions: [string, string][] = Array.from({ length: 24 }, (_, i): [string, string] => [
      'CIRCLE',
      `${TARGET.ra + ((i * 7) % 5) * 0.002} ${TARGET.dec + ((i * 11) % 8) * 0.0015 - 0.006} ${0.002 + (i % 3) * 0.001}`,
    ]);
    regions.splice(9, 0, ['CIRCLE', '10 10 0.1']);
    regions.push(['POLYGON', `${TARGET.ra} ${TARGET.dec} ${TARGET.ra + 0.01} ${TARGET.dec} ${TARGET.ra} ${TARGET.dec + 0.01}`]);
    const job = await client.create('cutout', [['ID', I_COADD], ...regions, ['PHASE', 'RUN']]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    for (const [i, region] of regions.entries()) {
      const asyncReply = await fetch(`${job}/results/cutout-${i + 1}`);
      const syncReply = await fetch(`${fx.stack.url}/api/cutout/sync?${new URLSearchParams([['ID', I_COADD], region]).toString()}`);
      if (i === 9) {
        expect(asyncReply.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(syncReply.status).toBe(204);
        continue;
      }
      expect(syncReply.status).toBe(200);
      const cut = Buffer.from(await asyncReply.arrayBuffer());
      expect(cut.length).toBeGreaterThan(2880 * 4);
      expect(cut.equals(Buffer.from(await syncReply.arrayBuffer()))).toBe(true);
    }
  }, 60000);

  test('a job over every image cuts the cutouts of each image together, in row order: every result is the sync cutout under its own number', async () => {
    // Every image of the store × two overlapping circles (SODA §6: ID-major combinations):
    // cutouts are cut grouped by file and sorted by row, and must keep their numbers.
    const query = new URLSearchParams({
      REQUEST: 'doQuery',
      LANG: 'ADQL',
      RESPONSEFORMAT: 'csv',
      QUERY: "SELECT obs_publisher_did FROM ivoa.ObsCore WHERE dataproduct_type = 'image' ORDER BY obs_publisher_did",
    });
    const ids = (await client.get(`/api/tap/sync?${query.toString()}`)).text.trim().split(/\r?\n/).slice(1);
    expect(ids.length).toBeGreaterThan(10);
    const regions: [string, string][] = [
      ['CIRCLE', `${TARGET.ra} ${TARGET.dec} 0.004`],
      ['CIRCLE', `${TARGET.ra + 0.002} ${TARGET.dec + 0.001} 0.003`],
    ];
    const job = await client.create('cutout', [...ids.map((id): [string, string] => ['ID', id]), ...regions, ['PHASE', 'RUN']]);
    expect(await client.settle(job, 60000)).toBe('COMPLETED');
    let fits = 0;
    for (const [i, id] of ids.entries()) {
      for (const [k, region] of regions.entries()) {
        const asyncReply = await fetch(`${job}/results/cutout-${i * regions.length + k + 1}`);
        const syncReply = await fetch(`${fx.stack.url}/api/cutout/sync?${new URLSearchParams([['ID', id], region]).toString()}`);
        const asyncBytes = Buffer.from(await asyncReply.arrayBuffer());
        if (syncReply.status === 204) {
          expect(asyncBytes.toString('latin1')).toMatch(/^UsageError: no overlap/);
          continue;
        }
        expect(syncReply.status).toBe(200);
        expect(asyncBytes.equals(Buffer.from(await syncReply.arrayBuffer()))).toBe(true);
        fits++;
      }
    }
    expect(fits).toBeGreaterThanOrEqual(2 * 5); // the coadds of the target's patch, at least
  }, 90000);

  test('large jobs reuse their cutting threads (warm code); idle ones end after WORKER_THREAD_IDLE', async () => {
    // The compiled processor, called as its thread calls it (its cutting threads need compiled code).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const soda = require(compiledModule(require.resolve('../../worker/soda/processor'))) as typeof SodaProcessor;
    const config = { ...fx.stack.config, threadIdleSeconds: 1 };
    const circles = Array.from({ length: 400 }, (_, i) => ({
      name: 'CIRCLE',
      value: `${TARGET.ra + (i % 20) * 0.001} ${TARGET.dec} 0.002`,
    }));
    const run = async (n: number) => {
      const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soda-threads-'));
      try {
        const input: ProcessorInput = {
          jobId: `threads-${n}`,
          service: 'cutout',
          owner: null,
          parameters: [{ name: 'ID', value: I_COADD }, ...circles],
          jobDir: resultsDir,
          resultsDir,
          executionDuration: 0,
          baseUrl: fx.stack.url,
          mode: 'async',
        };
        const results = await soda.process(input, config);
        expect(results.map((r) => r.id)).toEqual(circles.map((_, i) => `cutout-${i + 1}`));
        expect(fs.readdirSync(resultsDir).sort()).toEqual(['cutouts-2.pack', 'cutouts.pack']);
      } finally {
        fs.rmSync(resultsDir, { recursive: true, force: true });
      }
    };
    await run(1);
    await run(2);
    // Two jobs split in two: one cutting thread started, and kept (idle) for the next job.
    expect(soda.cuttingThreads()).toEqual({ started: 1, idle: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(soda.cuttingThreads()).toEqual({ started: 1, idle: 0 });
    await run(3);
    expect(soda.cuttingThreads()).toEqual({ started: 2, idle: 1 });
  }, 60000);

  test('a parameter error fails the job with a SODA-labelled /error', async () => {
    const job = await client.create('cutout', { CIRCLE: '1 2 3', PHASE: 'RUN' });
    expect(await client.settle(job)).toBe('ERROR');
    const error = await client.get(`${job}/error`);
    expect(error.text).toBe('UsageError: missing parameter ID (the identifier of the dataset to cut out)\n');
  });
});

test('capabilities name the SODA standard', async () => {
  const soda = await client.get('/api/cutout/capabilities');
  expect(soda.text).toContain('standardID="ivo://ivoa.net/std/SODA#sync-1.0"');
  expect(soda.text).toContain(`<accessURL use="full">${fx.stack.url}/api/cutout/async</accessURL>`);
  expect((await client.get('/api/cutout/availability')).text).toContain('<available>true</available>');
});
