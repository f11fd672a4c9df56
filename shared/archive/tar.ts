/**
 * The same archives as zip.ts in tar: POSIX.1-2001 pax interchange format (IEEE Std 1003.1,
 * pax utility, "pax Interchange Format" and "ustar Interchange Format"). Each member is a
 * 512-byte ustar header, then its bytes padded with zeros to a multiple of 512; the archive
 * ends with two zero blocks. A member whose name ustar cannot hold (non-ASCII, or not
 * splittable into prefix ≤ 155 and name ≤ 100 bytes) or whose size needs more than the 11
 * octal digits of the size field (≥ 8 GiB) is preceded by a pax extended header (typeflag 'x')
 * with `path` and/or `size` records, which override the ustar fields.
 */
import { type ArchiveEntry, type ArchiveLayout, type ArchiveMember, ArchiveError, LayoutBuilder, checkMembers } from './zip';

const BLOCK = 512;
/** The largest value of an 11-digit octal field (size, mtime): 8 GiB − 1. */
const MAX_OCTAL_11 = 8 ** 11 - 1;
/** ustar field widths in bytes. */
const NAME_LENGTH = 100;
const PREFIX_LENGTH = 155;
/** The name Python's tarfile gives pax headers; readers ignore it. */
const PAX_HEADER_NAME = '././@PaxHeader';

/** An octal number, zero-padded to width − 1 digits and NUL-terminated (the NUL is already there). */
function octal(h: Buffer, at: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new ArchiveError(`tar: ${value} does not fit a ${width}-byte octal field`);
  h.write(digits, at, 'latin1');
}

/**
 * A ustar header block (field offsets from the ustar header table). name and prefix are ASCII
 * and fit their fields; mode 0644, uid and gid 0, no user or group names. The checksum is the
 * sum of the header's bytes with the checksum field counted as spaces, written as 6 octal
 * digits, NUL, space.
 */
function putUstarHeader(b: LayoutBuilder, name: string, prefix: string, size: number, mtime: number, type: '0' | 'x'): void {
  const { buf: h, at: o } = b.header(BLOCK);
  h.write(name, o, NAME_LENGTH, 'latin1');
  octal(h, o + 100, 8, 0o644); // mode
  octal(h, o + 108, 8, 0); // uid
  octal(h, o + 116, 8, 0); // gid
  octal(h, o + 124, 12, size);
  octal(h, o + 136, 12, mtime);
  h.fill(0x20, o + 148, o + 156); // chksum, as spaces while summing
  h.write(type, o + 156, 'latin1'); // typeflag
  h.write('ustar\0', o + 257, 'latin1'); // magic
  h.write('00', o + 263, 'latin1'); // version
  octal(h, o + 329, 8, 0); // devmajor
  octal(h, o + 337, 8, 0); // devminor
  h.write(prefix, o + 345, PREFIX_LENGTH, 'latin1');
  let sum = 0;
  for (let i = o; i < o + BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', o + 148, 'latin1');
}

/** The ustar (prefix, name) of an ASCII path, or undefined when it does not fit: the prefix is
 * the part before a '/', as long as possible. */
export function splitUstarName(path: string): { prefix: string; name: string } | undefined {
  if (path.length <= NAME_LENGTH) return { prefix: '', name: path };
  const slash = path.lastIndexOf('/', PREFIX_LENGTH);
  if (slash <= 0) return undefined;
  const name = path.slice(slash + 1);
  return name.length <= NAME_LENGTH && name !== '' ? { prefix: path.slice(0, slash), name } : undefined;
}

/** A pax record, "<length> <key>=<value>\n", whose decimal length counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const rest = Buffer.byteLength(` ${key}=${value}\n`, 'utf8');
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return Buffer.from(`${length} ${key}=${value}\n`, 'utf8');
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * The tar archive of `members`, in their order. Pure: reads no file. Throws ArchiveError for a
 * bad member. mtime is whole seconds, clamped to 0..8^11 − 1.
 */
export function tarLayout(members: readonly ArchiveMember[]): ArchiveLayout {
  checkMembers(members);
  const b = new LayoutBuilder();
  const entries: ArchiveEntry[] = [];
  for (const m of members) {
    const headerOffset = b.position;
    const mtime = Math.min(Math.max(Math.floor(m.mtime.getTime() / 1000), 0), MAX_OCTAL_11);
    const ascii = /^[\x20-\x7e]*$/.test(m.name);
    const split = ascii ? splitUstarName(m.name) : undefined;
    const records: Buffer[] = [];
    if (split === undefined) records.push(paxRecord('path', m.name));
    if (m.size > MAX_OCTAL_11) records.push(paxRecord('size', String(m.size)));
    // Without pax support a reader still sees a plausible (ASCII, truncated) name.
    const ustar = split ?? splitUstarName(m.name.replace(/[^\x20-\x7e]/g, '_')) ?? { prefix: '', name: fallbackName(m.name) };
    if (records.length > 0) {
      const data = Buffer.concat(records);
      putUstarHeader(b, PAX_HEADER_NAME, '', data.length, mtime, 'x');
      const { buf, at } = b.header(data.length + padding(data.length)); // zero-padded
      data.copy(buf, at);
    }
    putUstarHeader(b, ustar.name, ustar.prefix, m.size > MAX_OCTAL_11 ? 0 : m.size, mtime, '0');
    entries.push({ name: m.name, size: m.size, headerOffset, dataOffset: b.position });
    b.member(m);
    b.header(padding(m.size)); // zeros
  }
  b.header(2 * BLOCK); // end of archive: two zero blocks
  return b.finish('tar', entries);
}

/** The last NAME_LENGTH ASCII characters of the name, for the ustar field of a pax member. */
function fallbackName(name: string): string {
  return name
    .replace(/[^\x20-\x7e]/g, '_')
    .slice(-NAME_LENGTH)
    .replace(/^\/+/, '');
}
