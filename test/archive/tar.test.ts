/**
 * shared/archive tar layouts: read back by Python's tarfile (and extracted by GNU tar when it is
 * installed), header fields checked byte by byte, pax headers for names and sizes ustar cannot
 * hold, synthetic members of 5 and 9 GiB, byte ranges.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type ArchiveLayout,
  type ArchiveMember,
  ArchiveError,
  bufferMember,
  crc32,
  segmentsInRange,
  tarLayout,
  writeArchive,
} from '../../shared/archive';
import { splitUstarName } from '../../shared/archive/tar';
import { seededRandom } from '../../shared/random';
import { runPython } from '../helpers/python';

const GiB = 2 ** 30;
const MTIME = new Date('2024-03-05T06:07:09.500Z');
const SECONDS = 1709618829;

function bytes(seed: number, n: number): Buffer {
  const next = seededRandom('archive-tar-test', seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const SPLIT_NAME = `stamps/${'long_directory_name/'.repeat(6)}a_stamp_with_a_rather_long_name_too.fits`;
const LONG_COMPONENT = `stamps/${'x'.repeat(120)}.fits`;
const DEEP = `${'deep/'.repeat(60)}f.fits`;
const NAME_100 = `stamps/${'a'.repeat(88)}.fits`;

interface Fixture {
  readonly members: ArchiveMember[];
  readonly contents: Buffer[];
}

/** One pack file with members at offsets separated by unrelated bytes, and an in-memory manifest. */
function makeFixture(dir: string): Fixture {
  const list: Array<[string, Buffer]> = [
    ['stamps/m31_g.fits', bytes(1, 5760)],
    ['stamps/m31_r.fits', bytes(2, 1)],
    ['stamps/empty.fits', Buffer.alloc(0)],
    ['stamps/m31_i.fits', bytes(3, 1024)],
    ['stamps/ngc_1234_é.fits', bytes(4, 100_000)],
    [SPLIT_NAME, bytes(5, 777)],
    [LONG_COMPONENT, bytes(6, 513)],
    [DEEP, bytes(7, 511)],
    [NAME_100, bytes(8, 2)],
  ];
  const file = join(dir, 'pack');
  const parts: Buffer[] = [Buffer.from('JUNK')];
  let offset = 4;
  const members: ArchiveMember[] = [];
  const contents: Buffer[] = [];
  for (const [name, data] of list) {
    members.push({ name, size: data.length, crc32: crc32(data), mtime: MTIME, source: { file, offset } });
    contents.push(data);
    parts.push(data, Buffer.from('..'));
    offset += data.length + 2;
  }
  writeFileSync(file, Buffer.concat(parts));
  const manifest = Buffer.from('name,size\n' + members.map((m) => `${m.name},${m.size}`).join('\n') + '\n');
  members.push(bufferMember('manifest.csv', manifest, MTIME));
  contents.push(manifest);
  return { members, contents };
}

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A NUL-terminated (or full) header field. */
function field(h: Buffer, at: number, length: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end < 0 || end > at + length ? at + length : end);
}

interface RawHeader {
  readonly at: number;
  readonly type: string;
  readonly name: string;
  readonly prefix: string;
  readonly size: number;
  readonly data: string;
}

/** Every header of a tar file with its checksum verified; pax data as text. */
function rawHeaders(tar: Buffer): RawHeader[] {
  const out: RawHeader[] = [];
  let at = 0;
  while (tar.subarray(at, at + 512).some((b) => b !== 0)) {
    const h = tar.subarray(at, at + 512);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    expect([at, h.toString('latin1', 148, 156)]).toEqual([at, sum.toString(8).padStart(6, '0') + '\0 ']);
    const size = parseInt(field(h, 124, 12), 8);
    const type = h.toString('latin1', 156, 157);
    out.push({
      at,
      type,
      name: field(h, 0, 100),
      prefix: field(h, 345, 155),
      size,
      data: type === 'x' ? tar.toString('utf8', at + 512, at + 512 + size) : '',
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  expect(tar.length).toBe(at + 1024);
  expect(tar.subarray(at).every((b) => b === 0)).toBe(true);
  return out;
}

/** Writes the header bytes at their positions and leaves the members' data as holes. */
function writeSparse(layout: ArchiveLayout, path: string): void {
  const fd = openSync(path, 'w');
  try {
    layout.segments.forEach((s, i) => {
      if (s.kind === 'bytes') writeSync(fd, s.data, 0, s.data.length, layout.segmentStarts[i]);
    });
    ftruncateSync(fd, layout.totalSize);
  } finally {
    closeSync(fd);
  }
}

const hasGnuTar = spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout?.includes('GNU tar') ?? false;
if (!hasGnuTar) process.stderr.write('\n(GNU tar is not installed: the extraction assertions are skipped)\n');

const READ_TAR = String.raw`
import sys, json, tarfile, hashlib
with tarfile.open(sys.argv[1], 'r:') as t:
    out = []
    for m in t.getmembers():
        out.append({'name': m.name, 'size': m.size, 'mode': m.mode, 'uid': m.uid, 'gid': m.gid, 'mtime': m.mtime,
            'regular': m.isreg(), 'pax': sorted(m.pax_headers.keys()), 'sha256': hashlib.sha256(t.extractfile(m).read()).hexdigest()})
print(json.dumps(out))
`;

let dir: string;
let fx: Fixture;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'archive-tar-'));
  fx = makeFixture(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tar', () => {
  test('Python tarfile reads every member back; GNU tar extracts the same files', async () => {
    const layout = tarLayout(fx.members);
    const path = join(dir, 'plain.tar');
    expect(await writeArchive(layout, createWriteStream(path))).toBe(layout.totalSize);
    const full = readFileSync(path);
    expect(full.length).toBe(layout.totalSize);
    const paxed = new Set(['stamps/ngc_1234_é.fits', LONG_COMPONENT, DEEP]);
    const got = JSON.parse(await runPython(READ_TAR, [path]));
    expect(got).toEqual(
      fx.members.map((m, i) => ({
        name: m.name,
        size: m.size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: SECONDS,
        regular: true,
        pax: paxed.has(m.name) ? ['path'] : [],
        sha256: sha256(fx.contents[i]!),
      })),
    );
    layout.entries.forEach((e, i) => {
      expect(e.name).toBe(fx.members[i]!.name);
      expect(full.subarray(e.dataOffset, e.dataOffset + e.size).equals(fx.contents[i]!)).toBe(true);
    });
    if (hasGnuTar) {
      const out = join(dir, 'extracted');
      mkdirSync(out);
      const run = spawnSync('tar', ['-xf', path, '-C', out], { encoding: 'utf8' });
      expect([run.status, run.stderr]).toEqual([0, '']);
      fx.members.forEach((m, i) => expect([m.name, readFileSync(join(out, m.name)).equals(fx.contents[i]!)]).toEqual([m.name, true]));
    }
  });

  test('headers: ustar fields, prefix/name split, pax records, checksums, padding, end blocks', async () => {
    const layout = tarLayout(fx.members);
    const out = new Collector();
    await writeArchive(layout, out);
    const tar = out.data;
    // The first header, field by field.
    const h = tar.subarray(0, 512);
    expect(h.toString('latin1', 0, 100)).toBe('stamps/m31_g.fits'.padEnd(100, '\0'));
    expect(h.toString('latin1', 100, 136)).toBe('0000644\0' + '0000000\0' + '0000000\0' + '00000013200\0');
    expect(h.toString('latin1', 136, 148)).toBe(SECONDS.toString(8).padStart(11, '0') + '\0');
    expect(h.toString('latin1', 156, 157)).toBe('0');
    expect(h.toString('latin1', 257, 265)).toBe('ustar\x0000');
    expect(h.toString('latin1', 329, 345)).toBe('0000000\0' + '0000000\0');
    const headers = rawHeaders(tar).map(({ type, name, prefix, size, data }) => [type, name, prefix, size, data]);
    // A pax record's length counts its own digits: 2 + 30 bytes (é is 2), 3 + 139, 3 + 313.
    expect(headers).toEqual([
      ['0', 'stamps/m31_g.fits', '', 5760, ''],
      ['0', 'stamps/m31_r.fits', '', 1, ''],
      ['0', 'stamps/empty.fits', '', 0, ''],
      ['0', 'stamps/m31_i.fits', '', 1024, ''],
      ['x', '././@PaxHeader', '', 32, '32 path=stamps/ngc_1234_é.fits\n'],
      ['0', 'stamps/ngc_1234__.fits', '', 100_000, ''],
      ['0', 'a_stamp_with_a_rather_long_name_too.fits', `stamps/${'long_directory_name/'.repeat(5)}long_directory_name`, 777, ''],
      ['x', '././@PaxHeader', '', 142, `142 path=${LONG_COMPONENT}\n`],
      ['0', LONG_COMPONENT.slice(-100), '', 513, ''],
      ['x', '././@PaxHeader', '', 316, `316 path=${DEEP}\n`],
      ['0', DEEP.slice(-100), '', 511, ''],
      ['0', NAME_100, '', 2, ''],
      ['0', 'manifest.csv', '', fx.contents[9]!.length, ''],
    ]);
    // A 100-byte name fills its field with no NUL.
    const at100 = layout.entries[8]!.headerOffset;
    expect(tar.toString('latin1', at100, at100 + 101)).toBe(NAME_100 + '0');
    // Data padded to 512: the byte after the 5760-byte member's data up to the next header is zero.
    const e0 = layout.entries[0]!;
    expect(tar.subarray(e0.dataOffset + 5760, layout.entries[1]!.headerOffset).equals(Buffer.alloc(384))).toBe(true);
    expect(layout.entries[1]!.headerOffset).toBe(512 + 6144);
  });

  test('splitUstarName: the longest prefix ≤ 155 bytes whose rest fits 100', () => {
    expect(splitUstarName('a/b.fits')).toEqual({ prefix: '', name: 'a/b.fits' });
    expect(splitUstarName(NAME_100)).toEqual({ prefix: '', name: NAME_100 });
    expect(splitUstarName(`${'p'.repeat(155)}/${'n'.repeat(100)}`)).toEqual({ prefix: 'p'.repeat(155), name: 'n'.repeat(100) });
    expect(splitUstarName(`${'p'.repeat(156)}/${'n'.repeat(10)}`)).toBeUndefined();
    expect(splitUstarName(`p/${'n'.repeat(101)}`)).toBeUndefined();
    expect(splitUstarName(`${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}`)).toEqual({
      prefix: `${'a'.repeat(60)}/${'b'.repeat(60)}`,
      name: 'c'.repeat(60),
    });
  });

  test('synthetic 5 GiB and 9 GiB members: ustar size field, then a pax size record; Python lists a sparse copy', async () => {
    const five: ArchiveMember = {
      name: 'big/five.fits',
      size: 5 * GiB,
      crc32: 0,
      mtime: MTIME,
      source: { file: '/nonexistent/a', offset: 0 },
    };
    const nine: ArchiveMember = {
      name: 'big/nine.fits',
      size: 9 * GiB,
      crc32: 0,
      mtime: MTIME,
      source: { file: '/nonexistent/b', offset: 7 },
    };
    const after = bufferMember('after.txt', Buffer.from('after the big ones'), MTIME);
    const layout = tarLayout([five, nine, after]);
    const nineHeader = 512 + 5 * GiB;
    const afterHeader = nineHeader + 1536 + 9 * GiB;
    expect(layout.entries.map((e) => [e.name, e.headerOffset, e.dataOffset])).toEqual([
      ['big/five.fits', 0, 512],
      ['big/nine.fits', nineHeader, nineHeader + 1536],
      ['after.txt', afterHeader, afterHeader + 512],
    ]);
    expect(layout.totalSize).toBe(afterHeader + 1024 + 1024);
    expect(layout.segments[1]).toEqual({ kind: 'file', file: '/nonexistent/a', offset: 0, size: 5 * GiB, member: 'big/five.fits' });
    const header = (at: number): Buffer => {
      const pieces = segmentsInRange(layout, at, at + 511);
      expect(pieces.map((p) => p.kind)).toEqual(['bytes']);
      return (pieces[0] as { data: Buffer }).data;
    };
    // 5 GiB = 8^10 × 5: eleven octal digits, no pax.
    expect(header(0).toString('latin1', 124, 136)).toBe('50000000000\0');
    // 9 GiB does not fit: a pax header with its size, and 0 in the ustar field.
    const paxHeader = header(nineHeader);
    expect([paxHeader.toString('latin1', 156, 157), paxHeader.toString('latin1', 124, 136)]).toEqual(['x', '00000000023\0']);
    expect(header(nineHeader + 512).toString('latin1', 0, 20)).toBe('19 size=9663676416\n' + '\0');
    const ustar = header(nineHeader + 1024);
    expect([ustar.toString('latin1', 0, 13), ustar.toString('latin1', 124, 136), ustar.toString('latin1', 156, 157)]).toEqual([
      'big/nine.fits',
      '00000000000\0',
      '0',
    ]);
    const path = join(dir, 'sparse.tar');
    writeSparse(layout, path);
    const got = JSON.parse(
      await runPython(
        String.raw`
import sys, json, tarfile
with tarfile.open(sys.argv[1], 'r:') as t:
    members = t.getmembers()
    print(json.dumps({'members': [[m.name, m.size, m.offset_data] for m in members], 'after': t.extractfile('after.txt').read().decode()}))
`,
        [path],
      ),
    );
    expect(got).toEqual({
      members: [
        ['big/five.fits', 5 * GiB, 512],
        ['big/nine.fits', 9 * GiB, nineHeader + 1536],
        ['after.txt', 18, afterHeader + 512],
      ],
      after: 'after the big ones',
    });
    rmSync(path);
  });

  test('mtime before 1970 is written as 0', async () => {
    const layout = tarLayout([bufferMember('old.txt', Buffer.from('old'), new Date('1960-01-01T00:00:00Z'))]);
    const out = new Collector();
    await writeArchive(layout, out);
    expect(out.data.toString('latin1', 136, 148)).toBe('00000000000\0');
  });

  test('ranges: the bytes written equal the same slice of the whole archive', async () => {
    const layout = tarLayout(fx.members);
    const whole = new Collector();
    await writeArchive(layout, whole);
    const full = whole.data;
    const t = layout.totalSize;
    const [, , , m3, m4] = layout.entries;
    for (const [start, endInclusive] of [
      [0, 511],
      [511, 512],
      [m3!.dataOffset + 1000, m4!.dataOffset + 99],
      [m4!.dataOffset + 10, m4!.dataOffset + 90_000],
      [t - 1025, t - 1],
      [t - 1, t - 1],
    ] as const) {
      const out = new Collector();
      await writeArchive(layout, out, { start, endInclusive }, { chunkSize: 1000 });
      expect([start, endInclusive, out.data.equals(full.subarray(start, endInclusive + 1))]).toEqual([start, endInclusive, true]);
    }
  });

  test('hostile names are rejected', () => {
    for (const name of ['../x', 'a/../../b', '/abs', 'a\\b', 'nul\0', 'a//b', 'D:/x', '']) {
      expect(() => tarLayout([bufferMember(name, Buffer.from('x'), MTIME)])).toThrow(ArchiveError);
    }
    expect(() => tarLayout([bufferMember('a', Buffer.from('x'), MTIME), bufferMember('a', Buffer.from('y'), MTIME)])).toThrow(
      'listed twice',
    );
  });
});
