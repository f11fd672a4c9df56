/**
 * UwsEvents over a real redis-server: each process subscribes only to the channels it has
 * handlers for, and a sync reply reaches only the api process it is addressed to.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channels, connectRedis, type Redis } from '../../shared/redis';
import { startRedisServer, type RedisServer } from '../../shared/redis/server';
import { UwsEvents } from '../../shared/uws/events';

let dir: string;
let redis: RedisServer;
let client: Redis;
const PREFIX = 'events-test';
const names = channels(PREFIX);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-events-'));
  redis = await startRedisServer({ dir });
  client = connectRedis(redis.url);
});
afterAll(async () => {
  await client.quit();
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Subscribers of each channel, as Redis counts them. */
async function subscribers(...list: string[]): Promise<number[]> {
  const reply = (await client.call('PUBSUB', 'NUMSUB', ...list)) as (string | number)[];
  return list.map((_, i) => Number(reply[2 * i + 1]));
}

test('a worker (abort only) hears no sync replies; each api hears only its own; phase and abort arrive decoded', async () => {
  const worker = new UwsEvents(redis.url, PREFIX);
  const apiA = new UwsEvents(redis.url, PREFIX);
  const apiB = new UwsEvents(redis.url, PREFIX);
  try {
    const aborted: string[] = [];
    await worker.onAbort((id) => aborted.push(id));
    const phases: string[] = [];
    await apiA.onPhase((id, phase) => phases.push(`${id} ${phase}`));
    const toA: Buffer[] = [];
    const toB: Buffer[] = [];
    await apiA.onSyncMessage(names.syncReplies('aaaaaaaaaaaaaaaa'), (m) => toA.push(m));
    await apiB.onSyncMessage(names.syncReplies('bbbbbbbbbbbbbbbb'), (m) => toB.push(m));

    expect(
      await subscribers(names.abort, names.phase, names.syncReplies('aaaaaaaaaaaaaaaa'), names.syncReplies('bbbbbbbbbbbbbbbb')),
    ).toEqual([1, 1, 1, 1]);

    const bytes = Buffer.from([0x7b, 0x7d, 0x0a, 0xff, 0x00, 0xfe]); // not UTF-8: must arrive untouched
    await client.publish(names.syncReplies('aaaaaaaaaaaaaaaa'), bytes);
    await worker.publishAbort('job1');
    await worker.publishPhase('job2', 'EXECUTING');
    const deadline = Date.now() + 5000;
    while ((toA.length < 1 || aborted.length < 1 || phases.length < 1) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(toA).toEqual([bytes]);
    expect(toB).toEqual([]);
    expect(aborted).toEqual(['job1']);
    expect(phases).toEqual(['job2 EXECUTING']);
  } finally {
    await Promise.all([worker.close(), apiA.close(), apiB.close()]);
  }
});
