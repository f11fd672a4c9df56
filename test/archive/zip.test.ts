/**
 * shared/archive: CRC-32, zip layouts read back by Python's zipfile (and `unzip -t` when it is
 * installed), Zip64 on synthetic members, byte ranges, and the streaming writer (backpressure,
 * short files, closed destinations).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeSync,
  createWriteStream,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import {
  ArchiveError,
  type ArchiveLayout,
  type ArchiveMember,
  bufferMember,
  checkMemberName,
  crc32,
  crc32Portable,
  decodeLayout,
  dosDateTime,
  encodeLayout,
  segmentsInRange,
  tarLayout,
  writeArchive,
  zipLayout,
} from '../../shared/archive';
import { seededRandom } from '../../shared/random';
import { runPython } from '../helpers/python';

const GiB = 2 ** 30;
const MTIME = new Date('2024-03-05T06:07:09.500Z');

function bytes(seed: number, n: number): Buffer {
  const next = seededRandom('archive-test', seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Fixture {
  readonly dir: string;
  readonly members: ArchiveMember[];
  readonly contents: Buffer[];
  readonly packs: Record<string, string>;
}

/** Two pack files with members at offsets separated by unrelated bytes, and an in-memory manifest. */
function makeFixture(dir: string): Fixture {
  const plan: Record<string, Array<[string, Buffer]>> = {
    'pack-a': [
      ['stamps/m31_g.fits', bytes(1, 5760)],
      ['stamps/m31_r.fits', bytes(2, 1)],
      ['stamps/empty.fits', Buffer.alloc(0)],
      ['stamps/m31_i.fits', bytes(3, 5000)],
    ],
    'pack-b': [
      ['stamps/ngc_1234_é.fits', bytes(4, 100_000)],
      [`stamps/${'long_directory_name/'.repeat(6)}a_stamp_with_a_rather_long_name_too.fits`, bytes(5, 777)],
    ],
  };
  const members: ArchiveMember[] = [];
  const contents: Buffer[] = [];
  const packs: Record<string, string> = {};
  for (const [pack, list] of Object.entries(plan)) {
    const file = join(dir, pack);
    packs[pack] = file;
    const parts: Buffer[] = [Buffer.from('JUNKJUNK')];
    let offset = 8;
    for (const [name, data] of list) {
      members.push({ name, size: data.length, crc32: crc32(data), mtime: MTIME, source: { file, offset } });
      contents.push(data);
      parts.push(data, Buffer.from('xyz'));
      offset += data.length + 3;
    }
    writeFileSync(file, Buffer.concat(parts));
  }
  const manifest = Buffer.from('name,size\n' + members.map((m) => `${m.name},${m.size}`).join('\n') + '\n');
  members.push(bufferMember('manifest.csv', manifest, MTIME));
  contents.push(manifest);
  return { dir, members, contents, packs };
}

/** Collects what is written. */
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

async function writeToFile(layout: ArchiveLayout, path: string): Promise<Buffer> {
  const written = await writeArchive(layout, createWriteStream(path));
  expect(written).toBe(layout.totalSize);
  return readFileSync(path);
}

/** The archive's bytes start..start+length-1, which must all be header bytes (no file read). */
function headerBytes(layout: ArchiveLayout, start: number, length: number): Buffer {
  return Buffer.concat(
    segmentsInRange(layout, start, start + length - 1).map((s) => {
      if (s.kind !== 'bytes') throw new Error(`bytes ${start}+${length} include member data`);
      return s.data;
    }),
  );
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

function u64(b: Buffer, at: number): number {
  return Number(b.readBigUInt64LE(at));
}

/** This process's open descriptors on files under the test directory (Linux /proc). */
function openFds(): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // closed meanwhile (readdir's own)
      throw err;
    }
    if (target.startsWith(dir + '/')) targets.push(target);
  }
  return targets;
}
const hasUnzip = spawnSync('sh', ['-c', 'command -v unzip'], { stdio: 'ignore' }).status === 0;
if (!hasUnzip) process.stderr.write('\n(unzip is not installed: the `unzip -t` assertions are skipped)\n');

function unzipTest(path: string): void {
  if (!hasUnzip) return;
  const run = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(/^No errors detected in compressed data of /);
  expect(run.status).toBe(0);
}

const READ_ZIP = String.raw`
import sys, json, zipfile, hashlib
with zipfile.ZipFile(sys.argv[1]) as z:
    out = {'testzip': z.testzip(), 'entries': []}
    for i in z.infolist():
        out['entries'].append({'name': i.filename, 'size': i.file_size, 'csize': i.compress_size,
            'method': i.compress_type, 'utf8': bool(i.flag_bits & 0x800), 'crc': i.CRC,
            'date_time': list(i.date_time), 'mode': i.external_attr >> 16, 'system': i.create_system,
            'offset': i.header_offset, 'sha256': hashlib.sha256(z.read(i)).hexdigest()})
print(json.dumps(out))
`;

let dir: string;
let fx: Fixture;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'archive-zip-'));
  fx = makeFixture(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crc32', () => {
  test('reference values, continuation, and the table version equal zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(crc32Portable(Buffer.alloc(0))).toBe(0);
    expect(crc32Portable(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    const data = bytes(9, 100_003);
    expect(crc32(data.subarray(40_000), crc32(data.subarray(0, 40_000)))).toBe(crc32(data));
    expect(crc32Portable(data.subarray(7), crc32Portable(data.subarray(0, 7)))).toBe(zlib.crc32(data));
    for (let n = 0; n <= 40; n++) expect([n, crc32Portable(data.subarray(3, 3 + n))]).toEqual([n, zlib.crc32(data.subarray(3, 3 + n))]);
  });
});

describe('zip', () => {
  test('Python zipfile reads every member back: names, sizes, bytes, CRC, dates, UTF-8, mode', async () => {
    const layout = zipLayout(fx.members);
    const path = join(dir, 'plain.zip');
    const full = await writeToFile(layout, path);
    expect(full.length).toBe(layout.totalSize);
    const got = JSON.parse(await runPython(READ_ZIP, [path]));
    expect(got.testzip).toBeNull();
    expect(got.entries).toEqual(
      fx.members.map((m, i) => ({
        name: m.name,
        size: m.size,
        csize: m.size,
        method: 0,
        utf8: true,
        crc: m.crc32,
        date_time: [2024, 3, 5, 6, 7, 8],
        mode: 0o100644,
        system: 3,
        offset: layout.entries[i]!.headerOffset,
        sha256: sha256(fx.contents[i]!),
      })),
    );
    unzipTest(path);
    // Every member's bytes are where the layout says, after a local header.
    layout.entries.forEach((e, i) => {
      expect(e.name).toBe(fx.members[i]!.name);
      expect(full.readUInt32LE(e.headerOffset)).toBe(0x04034b50);
      expect(full.subarray(e.dataOffset, e.dataOffset + e.size).equals(fx.contents[i]!)).toBe(true);
    });
    // Consecutive headers share a segment: 5 non-empty file members, then manifest.csv's local
    // header, its bytes (the caller's buffer, not copied), and the central directory.
    expect(layout.segments.map((s) => s.kind).join(' ')).toBe('bytes file bytes file bytes file bytes file bytes file bytes bytes bytes');
    expect(layout.segments[11]).toEqual({ kind: 'bytes', data: fx.contents[6] });
    expect((layout.segments[11] as { data: Buffer }).data).toBe(fx.contents[6]);
  });

  test('forceZip64: Zip64 fields on every entry and the Zip64 end records; Python and unzip read it', async () => {
    const layout = zipLayout(fx.members, { forceZip64: true });
    const path = join(dir, 'forced64.zip');
    const full = await writeToFile(layout, path);
    const got = JSON.parse(await runPython(READ_ZIP, [path]));
    expect(got.testzip).toBeNull();
    expect(got.entries.map((e: { name: string; sha256: string }) => [e.name, e.sha256])).toEqual(
      fx.members.map((m, i) => [m.name, sha256(fx.contents[i]!)]),
    );
    unzipTest(path);
    // Local header of the first member: version 4.5, 32-bit sizes 0xFFFFFFFF, Zip64 field first.
    expect(full.readUInt16LE(4)).toBe(45);
    expect(full.readUInt32LE(18)).toBe(0xffffffff);
    expect(full.readUInt32LE(22)).toBe(0xffffffff);
    const nameLength = full.readUInt16LE(26);
    expect(full.readUInt16LE(30 + nameLength)).toBe(1);
    expect(full.readUInt16LE(32 + nameLength)).toBe(16);
    expect(u64(full, 34 + nameLength)).toBe(5760);
    expect(u64(full, 42 + nameLength)).toBe(5760);
    // Zip64 end record + locator + end record.
    const end = full.length - 22;
    expect(full.readUInt32LE(end - 20)).toBe(0x07064b50);
    const record = u64(full, end - 20 + 8);
    expect(record).toBe(end - 20 - 56);
    expect(full.readUInt32LE(record)).toBe(0x06064b50);
    expect(u64(full, record + 32)).toBe(fx.members.length);
  });

  test('Zip64 layout of a synthetic 5 GiB member, checked field by field and by Python on a sparse file', async () => {
    const big: ArchiveMember = {
      name: 'stamps/big.fits',
      size: 5 * GiB,
      crc32: 0x12345678,
      mtime: MTIME,
      source: { file: '/nonexistent/pack', offset: 12 },
    };
    const after = bufferMember('stamps/after.fits', Buffer.from('after the big one'), MTIME);
    const layout = zipLayout([big, after]);
    // Local header of the big member: 30 + 15 (name) + 20 (Zip64: size, compressed size) + 9 (UT).
    const local = headerBytes(layout, 0, 74);
    expect(local.readUInt16LE(4)).toBe(45);
    expect(local.readUInt32LE(18)).toBe(0xffffffff);
    expect(local.readUInt32LE(22)).toBe(0xffffffff);
    expect(local.readUInt16LE(28)).toBe(29);
    expect(local.toString('utf8', 30, 45)).toBe('stamps/big.fits');
    expect([local.readUInt16LE(45), local.readUInt16LE(47), u64(local, 49), u64(local, 57)]).toEqual([1, 16, 5 * GiB, 5 * GiB]);
    expect([local.readUInt16LE(65), local.readUInt16LE(67), local.readUInt8(69), local.readUInt32LE(70)]).toEqual([
      0x5455,
      5,
      1,
      MTIME.getTime() / 1000 - 0.5,
    ]);
    expect(layout.segments[1]).toEqual({ kind: 'file', file: '/nonexistent/pack', offset: 12, size: 5 * GiB, member: 'stamps/big.fits' });
    expect(layout.entries.map((e) => [e.headerOffset, e.dataOffset])).toEqual([
      [0, 74],
      [74 + 5 * GiB, 74 + 5 * GiB + 56],
    ]);
    // The small member's local header needs no Zip64: it has no offset field.
    const local2 = headerBytes(layout, 74 + 5 * GiB, 56);
    expect([local2.readUInt16LE(4), local2.readUInt32LE(18), local2.readUInt16LE(28)]).toEqual([10, 17, 9]);
    // Central directory: big has both sizes in Zip64 and offset 0; small has only its offset.
    const cdOffset = 74 + 5 * GiB + 56 + 17;
    const cdSize = 46 + 15 + 20 + 9 + (46 + 17 + 12 + 9);
    expect(layout.totalSize).toBe(cdOffset + cdSize + 56 + 20 + 22);
    const tail = headerBytes(layout, cdOffset, layout.totalSize - cdOffset);
    expect(tail.readUInt32LE(0)).toBe(0x02014b50);
    expect([tail.readUInt16LE(6), tail.readUInt32LE(20), tail.readUInt32LE(24), tail.readUInt16LE(30), tail.readUInt32LE(42)]).toEqual([
      45, 0xffffffff, 0xffffffff, 29, 0,
    ]);
    expect([tail.readUInt16LE(61), tail.readUInt16LE(63), u64(tail, 65), u64(tail, 73)]).toEqual([1, 16, 5 * GiB, 5 * GiB]);
    const c2 = 90;
    expect(tail.readUInt32LE(c2)).toBe(0x02014b50);
    expect([
      tail.readUInt16LE(c2 + 6),
      tail.readUInt32LE(c2 + 20),
      tail.readUInt32LE(c2 + 24),
      tail.readUInt16LE(c2 + 30),
      tail.readUInt32LE(c2 + 42),
    ]).toEqual([45, 17, 17, 21, 0xffffffff]);
    expect([tail.readUInt16LE(c2 + 63), tail.readUInt16LE(c2 + 65), u64(tail, c2 + 67)]).toEqual([1, 8, 74 + 5 * GiB]);
    // Zip64 end record, locator, end record.
    const z = cdSize;
    expect([
      tail.readUInt32LE(z),
      u64(tail, z + 4),
      tail.readUInt16LE(z + 14),
      u64(tail, z + 24),
      u64(tail, z + 32),
      u64(tail, z + 40),
      u64(tail, z + 48),
    ]).toEqual([0x06064b50, 44, 45, 2, 2, cdSize, cdOffset]);
    expect([tail.readUInt32LE(z + 56), tail.readUInt32LE(z + 60), u64(tail, z + 64), tail.readUInt32LE(z + 72)]).toEqual([
      0x07064b50,
      0,
      cdOffset + cdSize,
      1,
    ]);
    const e = z + 76;
    expect([
      tail.readUInt32LE(e),
      tail.readUInt16LE(e + 8),
      tail.readUInt16LE(e + 10),
      tail.readUInt32LE(e + 12),
      tail.readUInt32LE(e + 16),
    ]).toEqual([0x06054b50, 2, 2, cdSize, 0xffffffff]);
    // A reader agrees: the big member's data is a hole in a sparse file, the small one is read.
    const path = join(dir, 'sparse64.zip');
    writeSparse(layout, path);
    const got = JSON.parse(
      await runPython(
        String.raw`
import sys, json, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({'entries': [[i.filename, i.file_size, i.header_offset] for i in z.infolist()], 'after': z.read('stamps/after.fits').decode()}))
`,
        [path],
      ),
    );
    expect(got).toEqual({
      entries: [
        ['stamps/big.fits', 5 * GiB, 0],
        ['stamps/after.fits', 17, 74 + 5 * GiB],
      ],
      after: 'after the big one',
    });
    rmSync(path);
  });

  test('Zip64 thresholds: 0xFFFFFFFF is already a Zip64 size, 65,535 entries already need the Zip64 end records', () => {
    const sized = (size: number): ArchiveMember => ({
      name: 'a',
      size,
      crc32: 0,
      mtime: MTIME,
      source: { file: '/nonexistent', offset: 0 },
    });
    const local = (size: number): number[] => {
      const h = headerBytes(zipLayout([sized(size)]), 0, 30);
      return [h.readUInt16LE(4), h.readUInt32LE(22), h.readUInt16LE(28)];
    };
    expect(local(0xfffffffe)).toEqual([10, 0xfffffffe, 9]);
    expect(local(0xffffffff)).toEqual([45, 0xffffffff, 29]);
    const tailSignature = (count: number): number[] => {
      const layout = zipLayout(Array.from({ length: count }, (_, i) => ({ ...sized(0), name: `${i}` })));
      const end = headerBytes(layout, layout.totalSize - 22, 22);
      const locator = headerBytes(layout, layout.totalSize - 42, 4);
      return [end.readUInt16LE(10), locator.readUInt32LE(0)];
    };
    const [count, signature] = tailSignature(65_534);
    expect(count).toBe(65_534);
    expect(signature).not.toBe(0x07064b50);
    expect(tailSignature(65_535)).toEqual([0xffff, 0x07064b50]);
  });

  // Python lists all and reads a sample (testzip() would take seconds); `unzip -t` checks every CRC.
  test('70,000 members: the Zip64 end records carry the count; Python reads them all', async () => {
    const n = 70_000;
    const datas = Array.from({ length: n }, (_, i) => Buffer.from(`${i}\n`));
    const pack = join(dir, 'many.pack');
    writeFileSync(pack, Buffer.concat(datas));
    let offset = 0;
    const members = datas.map((data, i): ArchiveMember => {
      const m = { name: `s/${i}.fits`, size: data.length, crc32: crc32(data), mtime: MTIME, source: { file: pack, offset } };
      offset += data.length;
      return m;
    });
    const layout = zipLayout(members);
    const path = join(dir, 'many.zip');
    const full = await writeToFile(layout, path);
    const end = full.length - 22;
    expect([full.readUInt32LE(end), full.readUInt16LE(end + 8), full.readUInt16LE(end + 10)]).toEqual([0x06054b50, 0xffff, 0xffff]);
    const record = u64(full, end - 20 + 8);
    expect([full.readUInt32LE(record), u64(full, record + 24), u64(full, record + 32)]).toEqual([0x06064b50, n, n]);
    const got = JSON.parse(
      await runPython(
        String.raw`
import sys, json, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    infos = z.infolist()
    sample = [[infos[k].filename, z.read(infos[k]).decode()] for k in (0, 65534, 65535, 69999)]
    misnamed = sum(1 for k, i in enumerate(infos) if i.filename != 's/%d.fits' % k)
    print(json.dumps({'count': len(infos), 'misnamed': misnamed, 'bytes': sum(i.file_size for i in infos), 'sample': sample}))
`,
        [path],
      ),
    );
    expect(got).toEqual({
      count: n,
      misnamed: 0,
      bytes: readFileSync(pack).length,
      sample: [
        ['s/0.fits', '0\n'],
        ['s/65534.fits', '65534\n'],
        ['s/65535.fits', '65535\n'],
        ['s/69999.fits', '69999\n'],
      ],
    });
    unzipTest(path);
  });

  test('DOS date and time: UTC fields, even seconds, clamped to 1980..2107', () => {
    expect(dosDateTime(MTIME)).toEqual({ time: (6 << 11) | (7 << 5) | 4, date: (44 << 9) | (3 << 5) | 5 });
    expect(dosDateTime(new Date('1970-01-01T00:00:00Z'))).toEqual({ time: 0, date: (1 << 5) | 1 });
    expect(dosDateTime(new Date('2200-06-01T00:00:00Z'))).toEqual({ time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 });
  });

  test('hostile names and bad members are rejected', () => {
    const member = (name: string): ArchiveMember => ({ ...fx.members[0]!, name });
    const hostile = [
      '../x.fits',
      'stamps/../../x',
      '..',
      '/etc/passwd',
      'a\\b.fits',
      'a\0b',
      '',
      'a//b',
      './a',
      'stamps/',
      'C:/x',
      'c:x',
      'a\nb',
      'x\ud800',
    ];
    for (const name of hostile) {
      expect(() => checkMemberName(name)).toThrow(ArchiveError);
      expect(() => zipLayout([member(name)])).toThrow(`archive member name ${JSON.stringify(name)} is not allowed`);
    }
    for (const name of ['stamps/a..b.fits', 'stamps/ngc_é.fits', '.hidden', 'manifest.csv'])
      expect(() => checkMemberName(name)).not.toThrow();
    expect(() => zipLayout([member('a.fits'), member('a.fits')])).toThrow('archive member "a.fits" is listed twice');
    expect(() => zipLayout([{ ...member('a'), size: -1 }])).toThrow('size -1 is not a non-negative integer');
    expect(() => zipLayout([{ ...member('a'), size: 1.5 }])).toThrow('size 1.5 is not a non-negative integer');
    expect(() => zipLayout([{ ...member('a'), crc32: 2 ** 32 }])).toThrow('is not an unsigned 32-bit integer');
    expect(() => zipLayout([{ ...member('a'), mtime: new Date(NaN) }])).toThrow('mtime is not a valid Date');
    expect(() => zipLayout([{ ...member('a'), source: { file: 'p', offset: -3 } }])).toThrow('source offset -3');
    const manifest = fx.members[fx.members.length - 1]!;
    expect(() => zipLayout([{ ...manifest, crc32: (manifest.crc32 ^ 1) >>> 0 }])).toThrow('crc32 does not match its data');
    expect(() => zipLayout([{ ...manifest, size: manifest.size + 1 }])).toThrow('bytes of data');
  });
});

describe('ranges', () => {
  test('the bytes written for a range equal the same slice of the whole archive', async () => {
    const layout = zipLayout(fx.members);
    const whole = new Collector();
    await writeArchive(layout, whole);
    const full = whole.data;
    expect(full.length).toBe(layout.totalSize);
    const [, , , m3, m4] = layout.entries;
    const t = layout.totalSize;
    const ranges: Array<[number, number]> = [
      [0, 0],
      [0, 29],
      [layout.entries[0]!.dataOffset - 5, layout.entries[0]!.dataOffset + 5],
      [m4!.dataOffset + 1000, m4!.dataOffset + 50_000],
      [m3!.dataOffset + 4990, m4!.dataOffset + 10],
      [10, t - 10],
      [t - 22, t - 1],
      [t - 1, t - 1],
      [0, t - 1],
    ];
    for (const [start, endInclusive] of ranges) {
      for (const chunkSize of [undefined, 777]) {
        const out = new Collector();
        const n = await writeArchive(layout, out, { start, endInclusive }, { chunkSize });
        expect([start, endInclusive, chunkSize, n]).toEqual([start, endInclusive, chunkSize, endInclusive - start + 1]);
        expect(out.data.equals(full.subarray(start, endInclusive + 1))).toBe(true);
      }
    }
    // A range inside one member is one piece of its pack file.
    const src = fx.members[4]!.source as { file: string; offset: number };
    expect(segmentsInRange(layout, m4!.dataOffset + 1000, m4!.dataOffset + 50_000)).toEqual([
      { kind: 'file', file: fx.packs['pack-b'], offset: src.offset + 1000, size: 49_001, member: fx.members[4]!.name },
    ]);
    expect(segmentsInRange(layout, t - 1, t - 1)).toEqual([{ kind: 'bytes', data: full.subarray(t - 1) }]);
    for (const [start, end] of [
      [-1, 0],
      [5, 4],
      [0, t],
      [1.5, 2],
    ] as const) {
      expect(() => segmentsInRange(layout, start, end)).toThrow(RangeError);
    }
  });
});

/** An HTTP server on 127.0.0.1 answering every request with writeArchive(layout); `outcomes` hears how each ended. */
async function archiveServer(
  layout: ArchiveLayout,
  options: { chunkSize?: number } = {},
  outcomes: string[] = [],
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Length', layout.totalSize);
    writeArchive(layout, res, undefined, options).then(
      (n) => outcomes.push(`sent ${n}`),
      (err: Error) => outcomes.push(err.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The whole body of a GET. */
function download(port: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    get({ host: '127.0.0.1', port }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });
}

describe('writeArchive', () => {
  test('backpressure: a slow destination never has more than one chunk waiting', async () => {
    const layout = zipLayout(fx.members);
    let maxQueued = 0;
    const received: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        maxQueued = Math.max(maxQueued, this.writableLength);
        received.push(chunk);
        setTimeout(callback, 1);
      },
    });
    await writeArchive(layout, slow, undefined, { chunkSize: 4096 });
    const full = Buffer.concat(received);
    expect(full.length).toBe(layout.totalSize);
    expect(received.length).toBe(Math.ceil(layout.totalSize / 4096));
    expect(maxQueued).toBe(4096);
    expect(full.subarray(layout.entries[4]!.dataOffset, layout.entries[4]!.dataOffset + 100_000).equals(fx.contents[4]!)).toBe(true);
  });

  test('a member file shorter than declared: rejects naming the file, closes what it opened', async () => {
    const short = join(dir, 'short-pack');
    writeFileSync(short, readFileSync(fx.packs['pack-b']!));
    const members = fx.members.map((m) =>
      'file' in m.source && m.source.file === fx.packs['pack-b'] ? { ...m, source: { ...m.source, file: short } } : m,
    );
    const layout = zipLayout(members);
    expect(openFds()).toEqual([]);
    // Member 4 (100,000 bytes at offset 8) cut, read straight into 8 KiB chunks.
    truncateSync(short, 8 + 60_000);
    await expect(writeArchive(layout, new Collector(), undefined, { chunkSize: 8192 })).rejects.toThrow(
      `archive member "stamps/ngc_1234_é.fits": ${short} is shorter than declared (bytes 8..100007 wanted, the file ends at byte 60008)`,
    );
    expect(openFds()).toEqual([]);
    // Member 5 (777 bytes at 100,011) cut, read through the window with member 4.
    writeFileSync(short, readFileSync(fx.packs['pack-b']!).subarray(0, 100_011 + 500));
    await expect(writeArchive(layout, new Collector())).rejects.toThrow(
      `archive member "${fx.members[5]!.name}": ${short} is shorter than declared (bytes 100011..100787 wanted, the file ends at byte 100511)`,
    );
    // A range that ends before the cut is served.
    const cut = layout.entries[5]!.dataOffset + 499;
    const part = new Collector();
    await writeArchive(layout, part, { start: 0, endInclusive: cut });
    expect(part.data.length).toBe(cut + 1);
    expect(openFds()).toEqual([]);
    const missing = fx.members.map((m) => ('file' in m.source ? { ...m, source: { ...m.source, file: join(dir, 'no-such-pack') } } : m));
    await expect(writeArchive(zipLayout(missing), new Collector())).rejects.toThrow(join(dir, 'no-such-pack'));
    expect(openFds()).toEqual([]);
  });

  test('a destination closed or an abort mid-way rejects instead of hanging, and closes the files', async () => {
    const layout = zipLayout(fx.members);
    expect(openFds()).toEqual([]);
    const closing = new Writable({
      highWaterMark: 16,
      write(_chunk: Buffer, _encoding, callback) {
        setTimeout(callback, 1);
      },
    });
    setTimeout(() => closing.destroy(), 5);
    await expect(writeArchive(layout, closing, undefined, { chunkSize: 1024 })).rejects.toThrow(
      'the destination closed before the archive was written',
    );
    expect(openFds()).toEqual([]);

    const controller = new AbortController();
    const slow = new Writable({
      highWaterMark: 16,
      write(_chunk: Buffer, _encoding, callback) {
        setTimeout(callback, 1);
      },
    });
    setTimeout(() => controller.abort(new Error('client went away')), 5);
    await expect(writeArchive(layout, slow, undefined, { chunkSize: 1024, signal: controller.signal })).rejects.toThrow('client went away');
    expect(openFds()).toEqual([]);
  });

  test('over HTTP the chunks are reused once sent (a few allocated for thousands written); to other streams never', async () => {
    const stamp = fx.members[4]!;
    const layout = zipLayout(Array.from({ length: 200 }, (_, i) => ({ ...stamp, name: `stamps/${i}.fits` })));
    const chunkSize = 8192;
    const allocations = jest.spyOn(Buffer, 'allocUnsafeSlow');
    const server = await archiveServer(layout, { chunkSize });
    try {
      const body = await download(server.port);
      // Chunks of the archive (20 MB / 8 KiB ≈ 2,450), plus the read window.
      const overHttp = allocations.mock.calls.filter(([n]) => n === chunkSize).length;
      expect(overHttp).toBeLessThanOrEqual(8);
      allocations.mockClear();
      // A stream that keeps what it was given: every chunk its own, and the bytes still right.
      const whole = new Collector();
      await writeArchive(layout, whole, undefined, { chunkSize });
      expect(allocations.mock.calls.filter(([n]) => n === chunkSize).length).toBe(Math.ceil(layout.totalSize / chunkSize));
      expect(body.length).toBe(layout.totalSize);
      expect(body.equals(whole.data)).toBe(true);
    } finally {
      allocations.mockRestore();
      await server.close();
    }
  });

  test('over HTTP: a full download, then a client that goes away mid-way (writeArchive rejects, files closed)', async () => {
    // 20 MB, more than the kernel's socket buffers can take before the client goes away.
    const stamp = fx.members[4]!;
    const layout = zipLayout(Array.from({ length: 200 }, (_, i) => ({ ...stamp, name: `stamps/${i}.fits` })));
    const outcomes: string[] = [];
    const server = await archiveServer(layout, {}, outcomes);
    const { port } = server;
    try {
      const body = await download(port);
      const whole = new Collector();
      await writeArchive(layout, whole);
      expect(body.equals(whole.data)).toBe(true);
      await new Promise<void>((resolve) => {
        const req = get({ host: '127.0.0.1', port }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
      });
      for (let i = 0; i < 200 && outcomes.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(outcomes).toEqual([`sent ${layout.totalSize}`, 'the destination closed before the archive was written']);
      expect(openFds()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('layout files (encodeLayout, decodeLayout)', () => {
  const archiveBytes = async (layout: ArchiveLayout, range?: { start: number; endInclusive: number }): Promise<Buffer> => {
    const out = new Collector();
    await writeArchive(layout, out, range);
    return out.data;
  };

  test.each(['zip', 'tar'] as const)('%s: read back, the same archive byte for byte, whole and in ranges', async (format) => {
    const members = [...fx.members, bufferMember('extra/notes.csv', Buffer.from('row,member\n1,a\n'), MTIME)];
    const layout = format === 'zip' ? zipLayout(members) : tarLayout(members);
    const back = decodeLayout(encodeLayout(layout, dir), dir);
    expect(back.format).toBe(format);
    expect(back.totalSize).toBe(layout.totalSize);
    expect(back.segmentStarts).toEqual(layout.segmentStarts);
    expect(back.entries).toEqual(layout.entries);
    expect((await archiveBytes(back)).equals(await archiveBytes(layout))).toBe(true);
    const range = { start: 1000, endInclusive: layout.totalSize - 77 };
    expect((await archiveBytes(back, range)).equals(await archiveBytes(layout, range))).toBe(true);
  });

  test('files are kept relative to the directory, and only inside it', () => {
    const layout = zipLayout(fx.members);
    const encoded = encodeLayout(layout, dir);
    expect(encoded.includes(Buffer.from(dir))).toBe(false);
    // The same files under another directory: the layout follows the directory it is read with.
    const moved = decodeLayout(encoded, '/elsewhere');
    const files = moved.segments.flatMap((s) => (s.kind === 'file' ? [s.file] : []));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.startsWith('/elsewhere/'))).toBe(true);
    // A member file outside the directory cannot be written into one, nor read out of one.
    expect(() => encodeLayout(layout, join(dir, 'sub'))).toThrow(ArchiveError);
    const jsonEnd = 14 + encoded.readUInt32LE(10);
    const header = JSON.parse(encoded.toString('utf8', 14, jsonEnd)) as { files: string[] };
    header.files[0] = `../${header.files[0]}`;
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    const tampered = Buffer.concat([encoded.subarray(0, 10), length, json, encoded.subarray(jsonEnd)]);
    expect(() => decodeLayout(tampered, dir)).toThrow(/is not inside/);
  });

  test('bytes that are not a layout, or one cut short: ArchiveError', () => {
    const encoded = encodeLayout(zipLayout(fx.members), dir);
    expect(() => decodeLayout(Buffer.from('PK\u0003\u0004'), dir)).toThrow('not an archive layout: no VOLAYOUT1 mark');
    expect(() => decodeLayout(encoded.subarray(0, encoded.length - 10), dir)).toThrow(ArchiveError);
    expect(() => decodeLayout(encoded.subarray(0, 40), dir)).toThrow('not an archive layout: its header runs past its end');
    const broken = Buffer.from(encoded);
    broken[14] = 0x78; // the header's opening '{' made an 'x'
    expect(() => decodeLayout(broken, dir)).toThrow(/^not an archive layout: its header is not JSON/);
  });
});
