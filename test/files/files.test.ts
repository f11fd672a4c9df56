/**
 * Files served by the api: dataset files by signed URL (/api/files) and job results. The
 * file served is the one whose real path (symbolic links resolved) lies in DATA_DIR; a Range
 * of which no byte exists is a 416 with `Content-Range: bytes *` + `/<size>` (RFC 9110
 * §15.5.17); and no built-in key signs links: a deployment without SIGNING_KEY has its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { signedFilePath } from '../../shared/datalink/signing';
import { Client } from '../helpers/http';
import { TestStack } from '../helpers/stack';

let stack: TestStack;
let http: Client;
const SIZE = 1000;
const CONTENT = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 256));

/** A link valid for an hour, signed with the deployment's key (or `key`). */
function link(relative: string, key = stack.config.signingKey): string {
  return signedFilePath(key, relative, Math.floor(Date.now() / 1000) + 3600);
}

beforeAll(async () => {
  stack = await TestStack.start();
  http = new Client(stack.url);
  const data = stack.config.dataDir;
  const outside = path.join(stack.dir, 'outside');
  fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(data, 'sub', 'image.fits'), CONTENT);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'not a dataset\n');
  fs.symlinkSync(path.join(data, 'sub', 'image.fits'), path.join(data, 'inside.fits'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(data, 'secret.fits'));
  fs.symlinkSync('../outside/secret.txt', path.join(data, 'relative.fits'));
  fs.symlinkSync('/etc/passwd', path.join(data, 'passwd'));
  fs.symlinkSync(outside, path.join(data, 'elsewhere'));
});
afterAll(async () => stack?.stop());

describe('/api/files', () => {
  test('a symbolic link leading out of DATA_DIR is a 404 even with a good signature; one staying inside is served', async () => {
    for (const relative of ['secret.fits', 'relative.fits', 'passwd', 'elsewhere/secret.txt']) {
      const reply = await http.get(link(relative));
      expect([relative, reply.status, reply.text]).toEqual([relative, 404, `no file ${relative}\n`]);
    }
    const inside = await fetch(http.url(link('inside.fits')));
    expect([inside.status, inside.headers.get('content-type')]).toEqual([200, 'application/fits']);
    expect(Buffer.from(await inside.arrayBuffer()).equals(CONTENT)).toBe(true);
  });

  test('a Range beyond the end is 416 with Content-Range bytes */<size>; one inside is 206', async () => {
    for (const range of ['bytes=999999999-', `bytes=${SIZE}-`, `bytes=${SIZE}-${SIZE + 10}`]) {
      const reply = await http.request('GET', link('sub/image.fits'), undefined, { range });
      expect([range, reply.status, reply.headers.get('content-range'), reply.text]).toEqual([
        range,
        416,
        `bytes */${SIZE}`,
        `range not satisfiable: the file has ${SIZE} bytes\n`,
      ]);
    }
    const part = await fetch(http.url(link('sub/image.fits')), { headers: { range: 'bytes=10-19' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 10-19/${SIZE}`]);
    expect(Buffer.from(await part.arrayBuffer()).equals(CONTENT.subarray(10, 20))).toBe(true);
  });

  test('a link signed with the old built-in key is refused: the deployment generated its own', async () => {
    const forged = await http.get(link('sub/image.fits', 'dev-signing-key-change-me'));
    expect([forged.status, forged.text]).toEqual([403, 'AuthorizationError: this file link is not signed by this service\n']);
    expect(stack.config.signingKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.readFileSync(path.join(stack.dir, 'signing.key'), 'utf8')).toBe(`${stack.config.signingKey}\n`);
    expect((await http.get(link('sub/image.fits'))).status).toBe(200);
  });
});

describe('job results', () => {
  test('a Range beyond the end of a result is 416 with Content-Range bytes */<size>', async () => {
    const job = await http.create('fixture', { MODE: 'echo', PHASE: 'RUN' });
    expect(await http.settle(job)).toBe('COMPLETED');
    const size = Number(/size="(\d+)"/.exec((await http.get(`${job}/results`)).text)?.[1]);
    expect(size).toBeGreaterThan(0);
    const reply = await http.request('GET', `${job}/results/result`, undefined, { range: 'bytes=999999999-' });
    expect([reply.status, reply.headers.get('content-range'), reply.text]).toEqual([
      416,
      `bytes */${size}`,
      `range not satisfiable: the file has ${size} bytes\n`,
    ]);
    const whole = await http.get(`${job}/results/result`);
    expect([whole.status, Buffer.byteLength(whole.text)]).toEqual([200, size]);
  });
});
