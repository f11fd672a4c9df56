/**
 * shared/net: which addresses are public (IANA special-purpose registries, RFC 6890), the
 * UPLOAD_URL_ALLOW matcher, and fetchPublic against real HTTP servers on loopback: refused
 * unless allowed, checked again after every redirect and at connect time for host names,
 * bounded in size and time, and silent about what a refused address would have answered.
 */
import type http from 'node:http';
import { AllowList, classifyAddress, isPublicAddress, parseAddress, type AddressKind } from '../../shared/net/address';
import { FetchError, fetchPublic, type FetchFailure, type FetchPublicOptions } from '../../shared/net/fetch';
import { closedPort, serveLocal, type LocalServer } from './server';

const OPTIONS: FetchPublicOptions = { maxBytes: 1 << 20, timeoutMs: 5000 };

/** The FetchError fetchPublic throws, as [failure, message]. */
async function refusal(url: string, options: Partial<FetchPublicOptions> = {}): Promise<[FetchFailure, string]> {
  try {
    const fetched = await fetchPublic(url, { ...OPTIONS, ...options });
    throw new Error(`fetched ${fetched.body.length} bytes from ${url}`);
  } catch (err) {
    if (err instanceof FetchError) return [err.failure, err.message];
    throw err;
  }
}

const text = async (url: string, options: Partial<FetchPublicOptions> = {}) =>
  (await fetchPublic(url, { ...OPTIONS, ...options })).body.toString();

describe('address classification', () => {
  test.each<[string, AddressKind]>([
    // IPv4 special-purpose ranges, at their edges.
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['1.0.0.0', 'public'],
    ['9.255.255.255', 'public'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.64.0.0', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.0', 'public'],
    ['126.255.255.255', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['128.0.0.0', 'public'],
    ['169.254.169.254', 'link-local'],
    ['169.253.255.255', 'public'],
    ['169.255.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['192.167.255.255', 'public'],
    ['192.168.0.1', 'private'],
    ['192.168.255.255', 'private'],
    ['192.169.0.0', 'public'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['223.255.255.255', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6.
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['ff0e::101', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    ['1::', 'reserved'],
    ['4000::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:81c::200e', 'public'],
    // IPv4 inside IPv6: judged by the IPv4 address the packets go to.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::a00:1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::c0a8:101', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:808:808::1', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
    expect(isPublicAddress(address)).toBe(kind === 'public');
  });

  test.each([
    'localhost',
    'example.org',
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '0x7f.0.0.1',
    '2130706433',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1::',
    '::ffff:1.2.3',
    '::g',
    '12345::',
  ])('%j is not an address (a name, or not canonical)', (address) => {
    expect(parseAddress(address)).toBeUndefined();
    expect(classifyAddress(address)).toBeUndefined();
    expect(isPublicAddress(address)).toBe(false);
  });

  test('parseAddress: the integer value', () => {
    expect(parseAddress('1.2.3.4')).toEqual({ version: 4, value: 0x01020304n });
    expect(parseAddress('::ffff:1.2.3.4')).toEqual({ version: 6, value: 0xffff01020304n });
    expect(parseAddress('1:2:3:4:5:6:7:8')).toEqual({ version: 6, value: 0x00010002000300040005000600070008n });
    expect(parseAddress('1::8')).toEqual({ version: 6, value: 0x00010000000000000000000000000008n });
  });

  // The WHATWG URL parser turns every numeric spelling of an IPv4 address into the dotted
  // quad before anything looks at it; fetchPublic relies on that.
  test.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://169.254.43518/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '[::ffff:7f00:1]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
  ])('URL host %s is %s, not public', (url, host) => {
    const { hostname } = new URL(url);
    expect(hostname).toBe(host);
    expect(classifyAddress(hostname)).not.toBe('public');
    expect(classifyAddress(hostname)).not.toBeUndefined();
  });
});

describe('AllowList (UPLOAD_URL_ALLOW)', () => {
  const allow = new AllowList(['127.0.0.1', '10.1.0.0/16', 'fd00::/8', ' Data.Example.ORG. ', '::1']);

  test.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['::ffff:127.0.0.1', true],
    ['10.1.255.255', true],
    ['10.2.0.0', false],
    ['::ffff:10.1.0.1', true],
    ['fd12::1', true],
    ['fc00::1', false],
    ['::1', true],
    ['::2', false],
    ['data.example.org', false],
  ])('address %s allowed: %s', (address, allowed) => {
    expect(allow.allowsAddress(address)).toBe(allowed);
  });

  test('host names match case-insensitively, without a trailing dot; only exactly', () => {
    expect(allow.allowsHostName('data.example.org')).toBe(true);
    expect(allow.allowsHostName('DATA.example.org.')).toBe(true);
    expect(allow.allowsHostName('x.data.example.org')).toBe(false);
    expect(allow.allowsHostName('example.org')).toBe(false);
  });

  test('permits: public always; otherwise an allowed address or an allowed name', () => {
    const none = new AllowList([]);
    expect(none.empty).toBe(true);
    expect(none.permits('example.org', '93.184.216.34')).toBe(true);
    expect(none.permits('example.org', '10.1.0.1')).toBe(false);
    expect(allow.permits('example.org', '10.1.0.1')).toBe(true);
    expect(allow.permits('data.example.org', '192.168.1.1')).toBe(true);
    expect(allow.permits('other.example.org', '192.168.1.1')).toBe(false);
    expect(new AllowList(['0.0.0.0/0']).permits('x', '169.254.169.254')).toBe(true);
  });

  test.each(['10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/x', 'exa mple.org', 'host/8', '-bad.example.org', '*.example.org'])(
    '%j is refused',
    (entry) => {
      expect(() => new AllowList([entry])).toThrow(`"${entry}" is not an IP address, CIDR range (address/prefix) or host name`);
    },
  );
});

describe('fetchPublic against real servers', () => {
  const servers: LocalServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const serve = async (handler: http.RequestListener, host?: string) => {
    const server = await serveLocal(handler, host);
    servers.push(server);
    return server;
  };
  const SECRET = 'internal-secret-7f3a';
  const secretServer = () => serve((_, res) => res.end(SECRET));

  test('a loopback server is refused without allow, nothing connected; served with an allowed address or range', async () => {
    const server = await secretServer();
    const url = `${server.origin}/t.xml`;
    expect(await refusal(url)).toEqual(['address', `cannot fetch ${url}: the address is not allowed`]);
    expect(await refusal(url, { allow: ['10.0.0.0/8', 'example.org'] })).toEqual([
      'address',
      `cannot fetch ${url}: the address is not allowed`,
    ]);
    expect(server.connections).toBe(0);
    expect(await text(url, { allow: ['127.0.0.1'] })).toBe(SECRET);
    expect(await text(url, { allow: ['127.0.0.0/8'] })).toBe(SECRET);
    expect(await text(url, { allow: new AllowList(['127.0.0.1']) })).toBe(SECRET);
    expect(server.connections).toBe(3);
    const fetched = await fetchPublic(url, { ...OPTIONS, allow: ['127.0.0.1'] });
    expect(fetched).toEqual({ url, status: 200, contentType: undefined, body: Buffer.from(SECRET) });
  });

  test('numeric spellings of loopback in the URL are refused (and would reach the server)', async () => {
    const server = await secretServer();
    const forms = [
      `http://2130706433:${server.port}/`,
      `http://0x7f.1:${server.port}/`,
      `http://0177.0.0.1:${server.port}/`,
      `http://127.1:${server.port}/`,
      `http://0:${server.port}/`,
      `http://[::ffff:7f00:1]:${server.port}/`,
      `http://[::ffff:127.0.0.1]:${server.port}/`,
    ];
    for (const url of forms) expect(await refusal(url)).toEqual(['address', `cannot fetch ${url}: the address is not allowed`]);
    expect(server.connections).toBe(0);
    // The same URLs do reach the server when allowed: the refusal above is the check's doing.
    expect(await text(`http://2130706433:${server.port}/`, { allow: ['127.0.0.1'] })).toBe(SECRET);
    expect(await text(`http://[::ffff:7f00:1]:${server.port}/`, { allow: ['127.0.0.1'] })).toBe(SECRET);
    expect(await text(`http://0:${server.port}/`, { allow: ['0.0.0.0'] })).toBe(SECRET);
  });

  test('the refusal reads the same whether something listens or not (no port scanning)', async () => {
    const open = await secretServer();
    const closed = await closedPort();
    const [, openMessage] = await refusal(`http://127.0.0.1:${open.port}/`);
    const [, closedMessage] = await refusal(`http://127.0.0.1:${closed}/`);
    expect(openMessage.replace(String(open.port), 'PORT')).toBe(closedMessage.replace(String(closed), 'PORT'));
    expect(closedMessage).toBe(`cannot fetch http://127.0.0.1:${closed}/: the address is not allowed`);
    // Allowed, the closed port's error is reported: only permitted hosts get that far.
    expect(await refusal(`http://127.0.0.1:${closed}/`, { allow: ['127.0.0.1'] })).toEqual([
      'connect',
      `cannot fetch http://127.0.0.1:${closed}/: the connection failed (ECONNREFUSED)`,
    ]);
  });

  test('a host name resolving to loopback (localhost) is refused at connect time, by the address it resolved to', async () => {
    const server = await secretServer();
    const url = `http://localhost:${server.port}/t.xml`;
    expect(await refusal(url)).toEqual(['address', `cannot fetch ${url}: the address is not allowed`]);
    expect(server.connections).toBe(0);
    // Allowed by name, or by the address the name resolved to (checked inside `lookup`).
    expect(await text(url, { allow: ['localhost'] })).toBe(SECRET);
    expect(await text(url, { allow: ['127.0.0.1'] })).toBe(SECRET);
    expect(server.connections).toBe(2);
    expect(await refusal(`http://nothing-here.invalid:${server.port}/`)).toEqual([
      'resolve',
      `cannot fetch http://nothing-here.invalid:${server.port}/: the host name does not resolve`,
    ]);
  });

  test('a redirect from an allowed host to a refused one is refused after the redirect', async () => {
    const inside = await secretServer();
    const target = `${inside.origin}/secret`;
    const front = await serve((_, res) => res.writeHead(302, { location: target }).end('moved'));
    const url = `http://localhost:${front.port}/t.xml`;
    expect(await refusal(url, { allow: ['localhost'] })).toEqual([
      'address',
      `cannot fetch ${url} (redirected to ${target}): the address is not allowed`,
    ]);
    expect(front.connections).toBe(1);
    expect(inside.connections).toBe(0);
    // Allowing the target too, the redirect is followed.
    expect(await text(url, { allow: ['localhost', '127.0.0.1'] })).toBe(SECRET);
    expect(inside.connections).toBe(1);
  });

  test('redirects: relative ones followed, each status; at most maxRedirects; http(s) only', async () => {
    const server = await serve((req, res) => {
      const hops = /^\/hop\/(\d+)\/(\d+)$/.exec(req.url ?? '');
      if (hops && Number(hops[1]) > 0) res.writeHead(Number(hops[2]), { location: `/hop/${Number(hops[1]) - 1}/${hops[2]}` }).end();
      else if (hops) res.end('arrived');
      else if (req.url === '/ftp') res.writeHead(301, { location: 'ftp://127.0.0.1/t.xml' }).end();
      else if (req.url === '/file') res.writeHead(307, { location: 'file:///etc/passwd' }).end();
      else res.writeHead(404).end(SECRET);
    });
    const allow = ['127.0.0.1'];
    for (const status of [301, 302, 303, 307, 308]) {
      const fetched = await fetchPublic(`${server.origin}/hop/5/${status}`, { ...OPTIONS, allow });
      expect([fetched.url, fetched.body.toString()]).toEqual([`${server.origin}/hop/0/${status}`, 'arrived']);
    }
    expect(await refusal(`${server.origin}/hop/6/302`, { allow })).toEqual([
      'redirects',
      `cannot fetch ${server.origin}/hop/6/302 (redirected to ${server.origin}/hop/1/302): more than 5 redirects`,
    ]);
    expect(await refusal(`${server.origin}/hop/2/302`, { allow, maxRedirects: 1 })).toEqual([
      'redirects',
      `cannot fetch ${server.origin}/hop/2/302 (redirected to ${server.origin}/hop/1/302): more than 1 redirects`,
    ]);
    expect(await refusal(`${server.origin}/ftp`, { allow })).toEqual([
      'scheme',
      `cannot fetch ${server.origin}/ftp (redirected to ftp://127.0.0.1/t.xml): only http and https URLs are fetched`,
    ]);
    expect(await refusal(`${server.origin}/file`, { allow })).toEqual([
      'scheme',
      `cannot fetch ${server.origin}/file (redirected to file:///etc/passwd): only http and https URLs are fetched`,
    ]);
    expect(await refusal('file:///etc/passwd')).toEqual([
      'scheme',
      'cannot fetch file:///etc/passwd: only http and https URLs are fetched',
    ]);
    expect(await refusal('not a url')).toEqual(['url', 'cannot fetch not a url: not a valid URL']);
    // A permitted host's status is reported, its body is not.
    expect(await refusal(`${server.origin}/missing`, { allow })).toEqual(['status', `cannot fetch ${server.origin}/missing: HTTP 404`]);
  });

  test('the body is bounded while it streams, declared or not', async () => {
    let written = 0;
    const server = await serve((req, res) => {
      if (req.url === '/declared') return res.writeHead(200, { 'content-length': '2000' }).end('x'.repeat(2000));
      if (req.url === '/exact') return res.end('y'.repeat(1000));
      // Chunked, without a length, and endless: only an abort on our side stops it.
      const more = () => {
        while (!res.destroyed && res.write('z'.repeat(1000))) written += 1000;
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    const allow = ['127.0.0.1'];
    expect(await refusal(`${server.origin}/declared`, { allow, maxBytes: 1000 })).toEqual([
      'size',
      `cannot fetch ${server.origin}/declared: larger than 1000 bytes`,
    ]);
    expect(await text(`${server.origin}/exact`, { allow, maxBytes: 1000 })).toBe('y'.repeat(1000));
    expect(await refusal(`${server.origin}/endless`, { allow, maxBytes: 100000 })).toEqual([
      'size',
      `cannot fetch ${server.origin}/endless: larger than 100000 bytes`,
    ]);
    expect(written).toBeLessThan(100 << 20);
  });

  test('one deadline for the whole exchange', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    expect(await refusal(`${server.origin}/slow`, { allow: ['127.0.0.1'], timeoutMs: 300 })).toEqual([
      'timeout',
      `cannot fetch ${server.origin}/slow: no complete answer within 300 ms`,
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3000);
    // A body that starts and never ends is cut off by the same deadline.
    const trickle = await serve((_, res) => res.writeHead(200).write('partial'));
    expect(await refusal(`${trickle.origin}/`, { allow: ['127.0.0.1'], timeoutMs: 300 })).toEqual([
      'timeout',
      `cannot fetch ${trickle.origin}/: no complete answer within 300 ms`,
    ]);
  });
});
