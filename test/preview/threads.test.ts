/**
 * The encoders in worker threads that come and go, as the worker's processor threads do (they
 * end after an idle time): each thread loads the compiled shared/preview (pngjs and the
 * libjpeg-turbo N-API addon), draws a PNG and a JPEG, and exits or is terminated; the next
 * thread loads them again. A native library that is unloaded under the others (sharp's
 * problem, lovell/sharp#2263) would crash this process. Uses dist/ (built by `npm test`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../shared/runtime';

const MODULE = path.join(PROJECT_ROOT, 'dist/shared/preview/index.js');

const THREAD = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { renderPreview, DEFAULT_DISPLAY } = require(workerData.module);
const data = Float32Array.from({ length: 64 * 64 }, (_, i) => (i * 7919) % 1000);
const plane = { width: 64, height: 64, data };
const png = renderPreview(plane, DEFAULT_DISPLAY, 'png');
const jpeg = renderPreview(plane, { ...DEFAULT_DISPLAY, cmap: 'viridis' }, 'jpeg');
parentPort.postMessage({ png: png.subarray(0, 4).toString('latin1'), jpeg: [...jpeg.subarray(0, 3)], sizes: [png.length, jpeg.length] });
if (workerData.stay) setInterval(() => {}, 1000); // terminated from outside
`;

interface Reply {
  png: string;
  jpeg: number[];
  sizes: [number, number];
}

function runThread(stay: boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD, { eval: true, workerData: { module: MODULE, stay } });
    let reply: Reply | undefined;
    worker.on('message', (m: Reply) => {
      reply = m;
      if (stay) void worker.terminate();
    });
    worker.on('error', reject);
    worker.on('exit', () => (reply ? resolve(reply) : reject(new Error('the thread ended without drawing'))));
  });
}

test('twelve threads in turn load the encoders, draw, and end', async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run npm run build first (npm test does)`);
  const replies: Reply[] = [];
  for (let i = 0; i < 12; i++) replies.push(await runThread(i % 2 === 1));
  for (const r of replies) {
    expect(r.png).toBe('\x89PNG');
    expect(r.jpeg).toEqual([0xff, 0xd8, 0xff]);
  }
  // Every thread drew the same pictures.
  expect(new Set(replies.map((r) => r.sizes.join(','))).size).toBe(1);
});
