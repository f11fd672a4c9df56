/**
 * extractTar (the client side of a batch's archive, scripts/bulk.ts): what tarLayout writes comes
 * back byte for byte, long and non-ASCII names through pax records included; a hostile archive
 * (a member outside the directory, a negative or absurd pax size, a truncated file) is refused.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, bufferMember, tarLayout, writeArchive } from '../../shared/archive';
import { extractTar } from '../../shared/archive/untar';

const MTIME = new Date(Date.UTC(2026, 0, 2));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'untar-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tar block: a ustar header with `name`, `size`, typeflag and a correct checksum. */
function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.fill(0x20, 148, 156);
  h.write(type, 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

test('round trip: every member of tarLayout back in place, pax names included', async () => {
  const long = `stamps/${'x'.repeat(120)}/deep_g.fits`;
  const members = [
    bufferMember('stamps/a_g.fits', Buffer.from('first'), MTIME),
    bufferMember('stamps/ngc_é.fits', Buffer.alloc(1000, 7), MTIME),
    bufferMember(long, Buffer.from('long name'), MTIME),
    bufferMember('manifest.csv', Buffer.from('row,id\r\n1,a\r\n'), MTIME),
  ];
  const file = join(dir, 'round.tar');
  await writeArchive(tarLayout(members), createWriteStream(file));
  const out = join(dir, 'round');
  expect(extractTar(file, out)).toEqual(members.map((m) => m.name));
  expect(readFileSync(join(out, 'stamps', 'ngc_é.fits')).equals(Buffer.alloc(1000, 7))).toBe(true);
  expect(readFileSync(join(out, ...long.split('/'))).toString()).toBe('long name');
});

test('hostile archives are refused: a name outside the directory, a negative pax size, a truncated member', () => {
  const outside = join(dir, 'outside.tar');
  writeFileSync(outside, Buffer.concat([header('../evil', 4, '0'), pad(Buffer.from('evil')), Buffer.alloc(1024)]));
  expect(() => extractTar(outside, join(dir, 'o1'))).toThrow(ArchiveError);

  const record = '14 size=-1536\n';
  const negative = join(dir, 'negative.tar');
  writeFileSync(
    negative,
    Buffer.concat([header('././@PaxHeader', record.length, 'x'), pad(Buffer.from(record)), header('a', 0, '0'), Buffer.alloc(1024)]),
  );
  expect(() => extractTar(negative, join(dir, 'o2'))).toThrow('tar: bad member size');

  const truncated = join(dir, 'truncated.tar');
  writeFileSync(truncated, Buffer.concat([header('a', 4096, '0'), Buffer.alloc(512)]));
  expect(() => extractTar(truncated, join(dir, 'o3'))).toThrow(ArchiveError);
});
