/**
 * The base URL of links (Location headers, job and result URLs) comes from PUBLIC_URL, or
 * else from the request: only a Host that is a host[:port] (RFC 1123 host name, IPv4, or
 * bracketed IPv6; port 1–65535) is used, any other is a 400 (RFC 9112 §3.2), and a request
 * without Host (HTTP/1.0) gets this server's loopback address and real port. Raw sockets
 * send exactly the Host given (fetch would not send a malformed one).
 */
import net from 'node:net';
import { TestStack } from '../helpers/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({ workers: 0 });
});
afterAll(async () => stack?.stop());

interface RawReply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One request over its own connection, closed by the server after the answer. */
function raw(url: string, head: string, body = ''): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = new Map(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
    // Not end(): a half-closed connection may be dropped before the answer; the server closes it (Connection: close).
    socket.write(
      `${head}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

function create(url: string, host: string): Promise<RawReply> {
  return raw(url, `POST /api/fixture/async HTTP/1.1\r\nHost: ${host}\r\n`, 'MODE=echo');
}

async function jobCount(): Promise<number> {
  const reply = await raw(stack.url, `GET /api/fixture/async HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  return reply.body.match(/<uws:jobref /g)?.length ?? 0;
}

test('a Host that is a host[:port] makes the links; any other is a 400 that creates nothing; PUBLIC_URL wins', async () => {
  for (const host of [
    'vo.example.org',
    'vo.example.org:8443',
    'VO-1.Example.ORG',
    '192.168.1.10:8080',
    '[::1]:8080',
    '[2001:db8::7]',
    'localhost:65535',
  ]) {
    const reply = await create(stack.url, host);
    expect([host, reply.status]).toEqual([host, 303]);
    expect(reply.headers.get('location')).toMatch(new RegExp(`^http://${host.replace(/[.[\]]/g, '\\$&')}/api/fixture/async/[a-z0-9]+$`));
  }
  const before = await jobCount();
  const bad = [
    'evil.example/path',
    'user@evil.example',
    'evil.example:0',
    'evil.example:65536',
    'evil.example:80:80',
    'evil.example:',
    'evil .example',
    '-evil.example',
    'evil..example',
    'evil.example.',
    'evil_host.example',
    '999.1.1.1',
    '1.2.3',
    '[::1',
    '[fe80::1%25eth0]',
    '[evil.example]',
    `${'a'.repeat(64)}.example`,
    `${'abcdefghi.'.repeat(26)}example`,
  ];
  for (const host of bad) {
    const reply = await create(stack.url, host);
    expect([host, reply.status, reply.body]).toEqual([
      host,
      400,
      `the Host header ${JSON.stringify(host.slice(0, 100))} is not a valid host[:port] (RFC 9112 §3.2); set PUBLIC_URL behind a proxy\n`,
    ]);
  }
  expect(await jobCount()).toBe(before);

  // Behind a proxy PUBLIC_URL is the base, whatever Host says.
  const proxied = await TestStack.start({ workers: 0, redis: stack.redis, env: { PUBLIC_URL: 'https://vo.example.org/' } });
  try {
    const reply = await create(proxied.url, 'evil.example/path');
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toMatch(/^https:\/\/vo\.example\.org\/api\/fixture\/async\/[a-z0-9]+$/);
  } finally {
    await proxied.stop();
  }
});

test('a request without Host (HTTP/1.0) gets links to the loopback address and the real port', async () => {
  const reply = await raw(stack.url, 'POST /api/fixture/async HTTP/1.0\r\n', 'MODE=echo');
  expect(reply.status).toBe(303);
  expect(reply.headers.get('location')).toMatch(
    new RegExp(`^http://127\\.0\\.0\\.1:${new URL(stack.url).port}/api/fixture/async/[a-z0-9]+$`),
  );
});
