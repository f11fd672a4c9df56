/**
 * Bulk batches over several worker processes: the parts of one batch run on every worker, the
 * results are the same with 1 and 2 workers (manifest and every stamp, picture and colour
 * composite, byte for byte), and a worker killed in the middle of a batch costs only the parts
 * it was cutting: another worker does them again and the batch completes with every stamp,
 * each picture and composite listed once.
 */
import { createHash } from 'node:crypto';
import { Client } from '../helpers/http';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { manifestOf, positionsInside, until } from './helpers';

let fx: TapFixture;
let client: Client;
let csv: string;

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { BULK_PART_STAMPS: '8', BULK_PART_CONCURRENCY: '1' } });
  client = new Client(fx.stack.url);
  const positions = positionsInside(fx.datasets, 300, 11);
  csv = ['id,ra,dec', ...positions.map((p, k) => `src${k},${p.ra},${p.dec}`)].join('\n');
}, 60000);
afterAll(() => fx?.close());

async function submit(): Promise<string> {
  const body = new FormData();
  body.append('UPLOAD', 'positions,param:t');
  body.append('SIZE', '24');
  body.append('BAND', 'g');
  body.append('BAND', 'r');
  body.append('BAND', 'i');
  body.append('PREVIEW', 'png');
  body.append('RGB', 'i,r,g');
  body.append('PHASE', 'RUN');
  body.append('t', new Blob([csv], { type: 'text/csv' }), 't.csv');
  const reply = await client.request('POST', '/api/bulk/async', body);
  if (reply.status !== 303 || !reply.location) throw new Error(`create answered ${reply.status}: ${reply.text}`);
  return reply.location;
}

/** What a batch produced, without what names the job: manifest rows and a digest of each stamp, picture and composite. */
async function outcome(job: string): Promise<{ rows: string[]; stamps: Map<string, string> }> {
  const manifest = await manifestOf(client, job);
  const rows = manifest.map((r) =>
    [r.row, r.id, r.band, r.status, r.message, r.obs_publisher_did, r.x0, r.y0, r.nx, r.ny, r.member, r.preview, r.rgb, r.bytes].join('|'),
  );
  const stamps = new Map<string, string>();
  const digest = async (member: string, url: string) => {
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    stamps.set(member, createHash('sha256').update(bytes).digest('hex'));
  };
  for (const r of manifest.filter((m) => m.url)) {
    await digest(r.member!, r.url!);
    await digest(r.preview!, r.url!.replace(/\/stamp-(\d+)$/, '/preview-$1'));
    if (r.rgb && !stamps.has(r.rgb)) await digest(r.rgb, `${job}/results/rgb-${r.row}`);
  }
  return { rows, stamps };
}

test('1 worker, then 2, then 2 with one killed mid-batch: the same manifest and the same stamps', async () => {
  const one = await submit();
  expect(await client.settle(one, 120000)).toBe('COMPLETED');
  const reference = await outcome(one);
  expect(reference.rows).toHaveLength(900);
  // 900 stamps, their 900 pictures, and a composite of each of the 300 rows (coadds of one patch in every band).
  expect(reference.stamps.size).toBe(2100);

  await fx.stack.startWorker();
  const two = await submit();
  expect(await client.settle(two, 120000)).toBe('COMPLETED');
  const withTwo = await outcome(two);
  expect(withTwo.rows).toEqual(reference.rows);
  expect(withTwo.stamps).toEqual(reference.stamps);

  const killed = await submit();
  // Once the batch is under way (parts recorded, more to come), the first worker dies.
  await until(
    async () => {
      const xml = (await client.get(killed)).text;
      const done = Number(/<itemsProcessed>(\d+)<\/itemsProcessed>/.exec(xml)?.[1] ?? 0);
      return xml.includes('<uws:phase>EXECUTING</uws:phase>') && done > 0 && done < 600 ? true : undefined;
    },
    60000,
    10,
  );
  await fx.stack.workers[0]!.stop('SIGKILL');
  expect(await client.settle(killed, 120000)).toBe('COMPLETED');
  const afterKill = await outcome(killed);
  expect(afterKill.rows).toEqual(reference.rows);
  expect(afterKill.stamps).toEqual(reference.stamps);
  // Every stamp, picture and composite listed once, although some parts were done twice.
  const ids = [...(await client.get(killed)).text.matchAll(/<uws:result id="((?:stamp|preview|rgb)-\d+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toHaveLength(2100);
}, 300000);
