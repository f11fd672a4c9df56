/**
 * Archives of already-written members, laid out up front and streamed without a second copy.
 *
 * Workers append stamps to pack files and record each one's (file, offset, size, CRC-32). An
 * archive of them is then a list of segments: header bytes made here, and ranges of the pack
 * files. Its total length and the position of every member are known before a byte is sent,
 * so the api can answer HTTP Range requests (segmentsInRange) and stream any part of a
 * multi-GB archive through a small buffer (writeArchive).
 *
 * This module has the format-neutral part (members, segments, ranges, streaming) and the zip
 * format; tar.ts lays out the same members as POSIX tar.
 *
 * Zip (PKWARE APPNOTE.TXT 6.3.10): "stored" entries (method 0, §4.4.5) whose sizes and CRC are
 * in the local header, so no data descriptor (§4.3.9) is needed; UTF-8 names (general purpose
 * bit 11, §4.4.4, appendix D); Zip64 (§4.3.14, §4.3.15, §4.5.3) where a size, an offset or the
 * entry count exceeds the 32/16-bit fields.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { OutgoingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { crc32 } from './crc32';

/** Where a member's bytes are: a range of a pack file, or memory (small members: manifest.csv). */
export type MemberSource = { readonly file: string; readonly offset: number } | { readonly data: Buffer };

export interface ArchiveMember {
  /** A relative path with '/' separators, e.g. `stamps/abc_g.fits` (see checkMemberName). */
  readonly name: string;
  readonly size: number;
  /** The CRC-32 of the member's bytes (crc32.ts), computed when they were written. */
  readonly crc32: number;
  readonly mtime: Date;
  readonly source: MemberSource;
}

/** One piece of an archive: bytes made by the layout, or a range of a member's file. */
export type ArchiveSegment =
  | { readonly kind: 'bytes'; readonly data: Buffer }
  | { readonly kind: 'file'; readonly file: string; readonly offset: number; readonly size: number; readonly member: string };

/** Where a member lies in the archive. */
export interface ArchiveEntry {
  readonly name: string;
  readonly size: number;
  /** The first byte of the member's headers (tar: its PAX header when it has one). */
  readonly headerOffset: number;
  /** The first byte of its data. */
  readonly dataOffset: number;
}

export interface ArchiveLayout {
  readonly format: 'zip' | 'tar';
  readonly totalSize: number;
  /** In archive order; none is empty. */
  readonly segments: readonly ArchiveSegment[];
  /** segmentStarts[i] is the archive offset of segments[i]. */
  readonly segmentStarts: readonly number[];
  /** One per member, in archive order. */
  readonly entries: readonly ArchiveEntry[];
}

/** A member that cannot be archived, or a member file that does not hold what it should. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/** A member held in memory (manifest.csv): its size and CRC computed here. */
export function bufferMember(name: string, data: Buffer, mtime: Date): ArchiveMember {
  return { name, size: data.length, crc32: crc32(data), mtime, source: { data } };
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the formats (checkMembers, like the builder below, is for tar.ts and not
// exported by index.ts)

/**
 * Throws unless `name` is a plain relative path: not empty, no NUL or other control character,
 * no backslash, no leading '/', no drive letter, no empty, '.' or '..' component, no lone
 * surrogate (it would not survive UTF-8). Extracting such an archive writes only below the
 * directory it is extracted into. One pass over the code units: layouts check every member.
 */
export function checkMemberName(name: string): void {
  const bad = (why: string): never => {
    throw new ArchiveError(`archive member name ${JSON.stringify(name)} is not allowed: ${why}`);
  };
  if (typeof name !== 'string' || name === '') bad('empty');
  if (/^[A-Za-z]:/.test(name)) bad('drive letter');
  let componentStart = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0x2f; // the end closes the last component
    if (c === 0x2f) {
      const length = i - componentStart;
      if (length === 0) bad(i === 0 ? 'absolute path' : 'empty path component');
      if (name.charCodeAt(componentStart) === 0x2e && (length === 1 || (length === 2 && name.charCodeAt(i - 1) === 0x2e))) {
        bad(`path component ${JSON.stringify(name.slice(componentStart, i))}`);
      }
      componentStart = i + 1;
    } else if (c < 0x20 || c === 0x7f) {
      bad('control character');
    } else if (c === 0x5c) {
      bad('backslash');
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = name.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) bad('lone surrogate');
      i++;
    }
  }
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Checks every member (names, numbers, in-memory data) and that no name is used twice. */
export function checkMembers(members: readonly ArchiveMember[]): void {
  const seen = new Set<string>();
  for (const m of members) {
    checkMemberName(m.name);
    if (seen.has(m.name)) throw new ArchiveError(`archive member ${JSON.stringify(m.name)} is listed twice`);
    seen.add(m.name);
    const bad = (why: string): never => {
      throw new ArchiveError(`archive member ${JSON.stringify(m.name)}: ${why}`);
    };
    if (!isSize(m.size)) bad(`size ${m.size} is not a non-negative integer`);
    if (!Number.isInteger(m.crc32) || m.crc32 < 0 || m.crc32 > 0xffffffff) bad(`crc32 ${m.crc32} is not an unsigned 32-bit integer`);
    if (!(m.mtime instanceof Date) || Number.isNaN(m.mtime.getTime())) bad('mtime is not a valid Date');
    if ('data' in m.source) {
      if (m.source.data.length !== m.size) bad(`size ${m.size} but ${m.source.data.length} bytes of data`);
      if (crc32(m.source.data) !== m.crc32) bad('crc32 does not match its data');
    } else {
      if (typeof m.source.file !== 'string' || m.source.file === '') bad('no source file');
      if (!isSize(m.source.offset)) bad(`source offset ${m.source.offset} is not a non-negative integer`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building layouts

/** Header bytes are written into arenas of this size: few allocations, few segments. */
const ARENA_SIZE = 64 * 1024;

/**
 * Sequential little-endian writes into a header reserved by LayoutBuilder.header: zip headers
 * are written field by field in the order of APPNOTE's tables. `buf` and `at` are public for
 * formats that write at fixed offsets (tar).
 */
export class HeaderCursor {
  buf = Buffer.alloc(0);
  at = 0;

  u8(v: number): this {
    this.buf[this.at++] = v;
    return this;
  }
  u16(v: number): this {
    this.at = this.buf.writeUInt16LE(v, this.at);
    return this;
  }
  u32(v: number): this {
    this.at = this.buf.writeUInt32LE(v, this.at);
    return this;
  }
  /** A 64-bit field; archive numbers stay below 2^53. */
  u64(v: number): this {
    this.buf.writeUInt32LE(v % 0x100000000, this.at);
    this.at = this.buf.writeUInt32LE(Math.floor(v / 0x100000000), this.at + 4);
    return this;
  }
  utf8(text: string, byteLength: number): this {
    this.at += this.buf.write(text, this.at, byteLength, 'utf8');
    return this;
  }
}

/**
 * Accumulates segments and the running archive offset (used by zip and tar). Headers are
 * reserved in zero-filled arenas and filled in through one reused cursor (no buffer per
 * header: layouts of 100,000 members stay fast); consecutive headers share one segment.
 */
export class LayoutBuilder {
  private readonly segments: ArchiveSegment[] = [];
  private readonly starts: number[] = [];
  private readonly cursor = new HeaderCursor();
  private arena = Buffer.alloc(0);
  private arenaUsed = 0;
  /** The pending run of header bytes is arena[runFrom, arenaUsed), at archive offset runStart. */
  private runFrom = -1;
  private runStart = 0;
  /** The archive offset of the next byte. */
  position = 0;

  /** Appends `length` zero bytes to the archive; the cursor is at their start, valid until the
   * next call. */
  header(length: number): HeaderCursor {
    if (this.arenaUsed + length > this.arena.length) {
      this.flush();
      this.arena = Buffer.alloc(Math.max(ARENA_SIZE, length));
      this.arenaUsed = 0;
    }
    if (this.runFrom < 0) {
      this.runFrom = this.arenaUsed;
      this.runStart = this.position;
    }
    this.cursor.buf = this.arena;
    this.cursor.at = this.arenaUsed;
    this.arenaUsed += length;
    this.position += length;
    return this.cursor;
  }

  /** The member's bytes, from its file or memory (a segment of its own, not copied). */
  member(m: ArchiveMember): void {
    if (m.size === 0) return;
    this.flush();
    if ('data' in m.source) this.push({ kind: 'bytes', data: m.source.data });
    else this.push({ kind: 'file', file: m.source.file, offset: m.source.offset, size: m.size, member: m.name });
    this.position += m.size;
  }

  finish(format: ArchiveLayout['format'], entries: readonly ArchiveEntry[]): ArchiveLayout {
    this.flush();
    return { format, totalSize: this.position, segments: this.segments, segmentStarts: this.starts, entries };
  }

  private push(segment: ArchiveSegment): void {
    this.segments.push(segment);
    this.starts.push(this.position);
  }

  private flush(): void {
    if (this.runFrom < 0 || this.runFrom === this.arenaUsed) return;
    this.segments.push({ kind: 'bytes', data: this.arena.subarray(this.runFrom, this.arenaUsed) });
    this.starts.push(this.runStart);
    this.runFrom = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Zip

const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
const LOCAL_HEADER = 0x04034b50; // §4.3.7
const CENTRAL_HEADER = 0x02014b50; // §4.3.12
const ZIP64_END = 0x06064b50; // §4.3.14
const ZIP64_LOCATOR = 0x07064b50; // §4.3.15
const END_OF_CENTRAL = 0x06054b50; // §4.3.16
const ZIP64_EXTRA = 0x0001; // §4.5.3
const TIMESTAMP_EXTRA = 0x5455; // §4.6.1 third-party: Info-ZIP extended timestamp ("UT")
/** Bit 11, language encoding flag: the name is UTF-8 (§4.4.4). */
const FLAG_UTF8 = 0x0800;
/** §4.4.3.2: 1.0 is enough for stored entries, 4.5 for Zip64. */
const VERSION_STORED = 10;
const VERSION_ZIP64 = 45;
/** §4.4.2: upper byte 3 = UNIX (so external attributes hold a mode), lower byte 6.3. */
const VERSION_MADE_BY = (3 << 8) | 63;
/** §4.4.15: for UNIX hosts the high 16 bits are st_mode: a regular file, rw-r--r--. */
const EXTERNAL_ATTRIBUTES = 0o100644 * 0x10000;

export interface ZipOptions {
  /**
   * Zip64 fields on every entry and the Zip64 end records even when the 32-bit fields would
   * do (for readers' tests, and for clients that want one format whatever the size).
   */
  readonly forceZip64?: boolean;
}

/**
 * MS-DOS date and time (§4.4.6) of `date` in UTC — they carry no time zone; the extended
 * timestamp field has the exact instant. Clamped to the representable 1980-01-01..2107-12-31,
 * seconds rounded down to even.
 */
export function dosDateTime(date: Date): { time: number; date: number } {
  const year = date.getUTCFullYear();
  if (year < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (year > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

interface ZipEntryFields {
  readonly member: ArchiveMember;
  readonly nameLength: number;
  readonly dos: { time: number; date: number };
  /** Seconds since 1970 for the extended timestamp, or -1 when they do not fit it. */
  readonly unixTime: number;
  readonly offset: number;
}

/** §4.5.3: the Zip64 extended information field with the given 64-bit values, in order. */
function putZip64Extra(c: HeaderCursor, values: readonly number[]): void {
  c.u16(ZIP64_EXTRA).u16(8 * values.length);
  for (const v of values) c.u64(v);
}

/** The Info-ZIP "UT" field with the modification time only (flags bit 0): the same 9 bytes in
 * local and central headers. Left out when the time does not fit its signed 32-bit seconds. */
function putTimestampExtra(c: HeaderCursor, e: ZipEntryFields): void {
  if (e.unixTime >= 0) c.u16(TIMESTAMP_EXTRA).u16(5).u8(1).u32(e.unixTime);
}

const timestampLength = (e: ZipEntryFields): number => (e.unixTime < 0 ? 0 : 9);

/** §4.3.7. With Zip64 (§4.5.3: "MUST include BOTH original and compressed file size fields")
 * the 32-bit size fields hold 0xFFFFFFFF. Stored, so compressed size = size. */
function putLocalHeader(b: LayoutBuilder, e: ZipEntryFields, zip64: boolean): void {
  const { size, crc32: crc, name } = e.member;
  const extraLength = (zip64 ? 20 : 0) + timestampLength(e);
  const c = b.header(30 + e.nameLength + extraLength);
  c.u32(LOCAL_HEADER)
    .u16(zip64 ? VERSION_ZIP64 : VERSION_STORED) // version needed to extract
    .u16(FLAG_UTF8)
    .u16(0) // compression method: stored
    .u16(e.dos.time)
    .u16(e.dos.date)
    .u32(crc)
    .u32(zip64 ? MAX32 : size) // compressed size
    .u32(zip64 ? MAX32 : size) // uncompressed size
    .u16(e.nameLength)
    .u16(extraLength)
    .utf8(name, e.nameLength);
  if (zip64) putZip64Extra(c, [size, size]);
  putTimestampExtra(c, e);
}

/** §4.3.12. A 32-bit field that does not fit holds 0xFFFFFFFF and its value goes in the Zip64
 * field, which has only those values, in the order size, compressed size, offset (§4.5.3). */
function putCentralHeader(b: LayoutBuilder, e: ZipEntryFields, force: boolean): void {
  const { size, crc32: crc, name } = e.member;
  const bigSize = force || size >= MAX32;
  const bigOffset = force || e.offset >= MAX32;
  const values = bigSize ? [size, size] : [];
  if (bigOffset) values.push(e.offset);
  const extraLength = (values.length > 0 ? 4 + 8 * values.length : 0) + timestampLength(e);
  const c = b.header(46 + e.nameLength + extraLength);
  c.u32(CENTRAL_HEADER)
    .u16(VERSION_MADE_BY)
    .u16(values.length > 0 ? VERSION_ZIP64 : VERSION_STORED) // version needed to extract
    .u16(FLAG_UTF8)
    .u16(0) // compression method: stored
    .u16(e.dos.time)
    .u16(e.dos.date)
    .u32(crc)
    .u32(bigSize ? MAX32 : size) // compressed size
    .u32(bigSize ? MAX32 : size) // uncompressed size
    .u16(e.nameLength)
    .u16(extraLength)
    .u16(0) // file comment length
    .u16(0) // disk number start
    .u16(0) // internal file attributes
    .u32(EXTERNAL_ATTRIBUTES)
    .u32(bigOffset ? MAX32 : e.offset) // relative offset of local header
    .utf8(name, e.nameLength);
  if (values.length > 0) putZip64Extra(c, values);
  putTimestampExtra(c, e);
}

/**
 * §4.3.14 Zip64 end of central directory record (56 bytes, no extensible data) and §4.3.15
 * its locator (20 bytes): one disk, so disk numbers 0 and a total of 1 disk.
 */
function putZip64End(b: LayoutBuilder, count: number, cdSize: number, cdOffset: number): void {
  b.header(56 + 20)
    .u32(ZIP64_END)
    .u64(56 - 12) // size of the rest of the record
    .u16(VERSION_MADE_BY)
    .u16(VERSION_ZIP64)
    .u32(0) // number of this disk
    .u32(0) // disk with the start of the central directory
    .u64(count) // entries on this disk
    .u64(count) // entries in total
    .u64(cdSize)
    .u64(cdOffset)
    .u32(ZIP64_LOCATOR)
    .u32(0) // disk with the Zip64 end record
    .u64(cdOffset + cdSize) // offset of the Zip64 end record
    .u32(1); // total number of disks
}

/** §4.3.16, with 0xFFFF / 0xFFFFFFFF where the Zip64 record has the value. */
function putEndOfCentral(b: LayoutBuilder, count: number, cdSize: number, cdOffset: number): void {
  b.header(22)
    .u32(END_OF_CENTRAL)
    .u16(0) // number of this disk
    .u16(0) // disk with the start of the central directory
    .u16(Math.min(count, MAX16)) // entries on this disk
    .u16(Math.min(count, MAX16)) // entries in total
    .u32(Math.min(cdSize, MAX32))
    .u32(Math.min(cdOffset, MAX32))
    .u16(0); // comment length
}

/**
 * The zip archive of `members`, in their order: for each, its local header then its bytes;
 * then the central directory, the Zip64 end records when needed, and the end of central
 * directory record. Pure: reads no file. Throws ArchiveError for a bad member.
 */
export function zipLayout(members: readonly ArchiveMember[], options: ZipOptions = {}): ArchiveLayout {
  checkMembers(members);
  const force = options.forceZip64 === true;
  const b = new LayoutBuilder();
  const fields: ZipEntryFields[] = [];
  const entries: ArchiveEntry[] = [];
  for (const member of members) {
    const nameLength = Buffer.byteLength(member.name, 'utf8');
    if (nameLength > MAX16) throw new ArchiveError(`archive member name longer than ${MAX16} bytes: ${member.name.slice(0, 80)}…`);
    const seconds = Math.floor(member.mtime.getTime() / 1000);
    const e: ZipEntryFields = {
      member,
      nameLength,
      dos: dosDateTime(member.mtime),
      unixTime: seconds >= 0 && seconds <= 0x7fffffff ? seconds : -1,
      offset: b.position,
    };
    fields.push(e);
    putLocalHeader(b, e, force || member.size >= MAX32);
    entries.push({ name: member.name, size: member.size, headerOffset: e.offset, dataOffset: b.position });
    b.member(member);
  }
  const cdOffset = b.position;
  for (const e of fields) putCentralHeader(b, e, force);
  const cdSize = b.position - cdOffset;
  if (force || members.length >= MAX16 || cdSize >= MAX32 || cdOffset >= MAX32) putZip64End(b, members.length, cdSize, cdOffset);
  putEndOfCentral(b, members.length, cdSize, cdOffset);
  return b.finish('zip', entries);
}

// ---------------------------------------------------------------------------------------------
// Ranges and streaming

function segmentLength(s: ArchiveSegment): number {
  return s.kind === 'bytes' ? s.data.length : s.size;
}

/**
 * The pieces of the archive's bytes start..endInclusive (an HTTP byte range, RFC 9110 §14.1.2,
 * already resolved against totalSize). Throws RangeError unless 0 ≤ start ≤ endInclusive <
 * totalSize.
 */
export function segmentsInRange(layout: ArchiveLayout, start: number, endInclusive: number): ArchiveSegment[] {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endInclusive) ||
    start < 0 ||
    endInclusive < start ||
    endInclusive >= layout.totalSize
  ) {
    throw new RangeError(`byte range ${start}-${endInclusive} is not within the archive's ${layout.totalSize} bytes`);
  }
  const { segments, segmentStarts: starts } = layout;
  // The last segment starting at or before `start`.
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (starts[mid]! <= start) lo = mid;
    else hi = mid - 1;
  }
  const end = endInclusive + 1;
  const out: ArchiveSegment[] = [];
  for (let i = lo; i < segments.length && starts[i]! < end; i++) {
    const s = segments[i]!;
    const at = starts[i]!;
    const from = Math.max(start, at) - at;
    const to = Math.min(end, at + segmentLength(s)) - at;
    if (to <= from) continue;
    if (from === 0 && to === segmentLength(s)) out.push(s);
    else if (s.kind === 'bytes') out.push({ kind: 'bytes', data: s.data.subarray(from, to) });
    else out.push({ ...s, offset: s.offset + from, size: to - from });
  }
  return out;
}

/** An inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  readonly start: number;
  readonly endInclusive: number;
}

export interface WriteArchiveOptions {
  /** The size of each write and the largest read (default 1 MiB). writeArchive holds at most
   * two such buffers: the chunk being filled and the read window of small members. */
  readonly chunkSize?: number;
  /** End `out` after the last byte and wait for 'finish' (default true). */
  readonly end?: boolean;
  /** Stops the writing; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

const DEFAULT_CHUNK = 1 << 20;
/** Open member files kept at once: members of a pack usually follow each other. */
const MAX_OPEN_FILES = 4;
/** Members of a pack further apart than this are read separately, not in one read. */
const MAX_GAP = 64 * 1024;

/**
 * Streams the archive (or the bytes of `range`) to `out`, honouring backpressure: bytes are
 * gathered into chunks of chunkSize and the next chunk is only filled once `out` has room.
 * Members larger than a chunk are read straight into the chunks; smaller ones through a
 * read window of the same size, one positioned read for a run of members that follow each
 * other in their pack (a read per 20 KiB stamp would cost more than the copy). Holds at most
 * two chunks plus what `out` buffers; closes every file it opened. Resolves with the number
 * of bytes written.
 *
 * Rejects with an ArchiveError naming the file when a member file is shorter than declared,
 * and when `out` closes or fails before the end. On failure `out` is left as it is: the
 * caller destroys it (an HTTP response already sent in part must be cut short so that the
 * client sees an incomplete body rather than a wrong one).
 */
export async function writeArchive(
  layout: ArchiveLayout,
  out: Writable,
  range?: ByteRange,
  options: WriteArchiveOptions = {},
): Promise<number> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize ${chunkSize} is not a positive integer`);
  const pieces = range === undefined ? layout.segments : segmentsInRange(layout, range.start, range.endInclusive);
  const output = new ChunkedOutput(out, chunkSize, options.signal);
  const files = new OpenFiles();
  const window = new ReadWindow(chunkSize);
  try {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      output.check();
      if (piece.kind === 'bytes') await output.put(piece.data);
      else if (piece.size > chunkSize) await output.putFile(await files.get(piece.file), piece);
      else await output.put(await window.read(files, pieces, i));
    }
    await output.flush();
    if (options.end ?? true) await output.end();
    return output.written;
  } finally {
    output.release();
    await files.closeAll();
  }
}

type FilePiece = Extract<ArchiveSegment, { kind: 'file' }>;

function shortFile(piece: FilePiece, endsAt: number): ArchiveError {
  return new ArchiveError(
    `archive member ${JSON.stringify(piece.member)}: ${piece.file} is shorter than declared ` +
      `(bytes ${piece.offset}..${piece.offset + piece.size - 1} wanted, the file ends at byte ${endsAt})`,
  );
}

/** Member files opened for reading, the least recently used closed beyond MAX_OPEN_FILES. */
class OpenFiles {
  private readonly handles = new Map<string, FileHandle>();

  async get(file: string): Promise<FileHandle> {
    let fh = this.handles.get(file);
    if (fh !== undefined) {
      this.handles.delete(file); // re-inserted below: the most recently used is last
    } else {
      if (this.handles.size >= MAX_OPEN_FILES) {
        const [oldest, old] = this.handles.entries().next().value as [string, FileHandle];
        this.handles.delete(oldest);
        await old.close();
      }
      fh = await open(file, 'r');
    }
    this.handles.set(file, fh);
    return fh;
  }

  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(all.map((fh) => fh.close()));
  }
}

/** One buffer holding a run of a pack file: the bytes of consecutive small members. */
class ReadWindow {
  private buffer: Buffer | undefined;
  private file = '';
  private start = 0;
  private end = 0;

  constructor(private readonly size: number) {}

  /**
   * The bytes of pieces[i], a file piece no larger than the window: from the window, or after
   * reading it together with the file pieces after it that continue in the same file. Valid
   * until the next call.
   */
  async read(files: OpenFiles, pieces: readonly ArchiveSegment[], i: number): Promise<Buffer> {
    const p = pieces[i] as FilePiece;
    if (p.file !== this.file || p.offset < this.start || p.offset + p.size > this.end) {
      let end = p.offset + p.size;
      for (let j = i + 1; j < pieces.length; j++) {
        const next = pieces[j]!;
        if (next.kind === 'bytes') continue;
        if (next.file !== p.file || next.offset < end || next.offset - end > MAX_GAP || next.offset + next.size - p.offset > this.size)
          break;
        end = next.offset + next.size;
      }
      const buffer = (this.buffer ??= Buffer.allocUnsafeSlow(this.size));
      const fh = await files.get(p.file);
      let got = 0;
      while (got < end - p.offset) {
        const { bytesRead } = await fh.read(buffer, got, end - p.offset - got, p.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.file = p.file;
      this.start = p.offset;
      this.end = p.offset + got;
      if (got < p.size) throw shortFile(p, p.offset + got);
    }
    return this.buffer!.subarray(p.offset - this.start, p.offset - this.start + p.size);
  }
}

/** Chunks kept for reuse once `out` has sent them. */
const SPARE_CHUNKS = 4;

/**
 * Bytes gathered into chunks and written to `out` with backpressure. When `out` is a socket or
 * an HTTP response, which are done with a buffer once its write has called back, that chunk is
 * filled again: a 2 GB archive then allocates a few chunks, not two thousand (each new one is
 * fresh memory to fault in, and garbage V8 collects in full GCs). Other streams may keep the
 * buffer after calling back (a PassThrough holds it until it is read): they get new ones.
 */
class ChunkedOutput {
  written = 0;
  private chunk: Buffer | undefined;
  private readonly spare: Buffer[] = [];
  private used = 0;
  private failure: Error | undefined;
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
  };

  private readonly reuse: boolean;

  constructor(
    private readonly out: Writable,
    private readonly size: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    out.on('error', this.onError);
    this.reuse = out instanceof Socket || out instanceof OutgoingMessage;
  }

  /** Throws when writing must stop: aborted, `out` failed, closed or ended. */
  check(): void {
    this.signal?.throwIfAborted();
    if (this.failure) throw this.failure;
    if (this.out.destroyed || this.out.writableEnded) throw new ArchiveError('the destination closed before the archive was written');
  }

  async put(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length;) {
      const n = data.copy(this.room(), this.used, at);
      this.used += n;
      at += n;
      if (this.used === this.size) await this.flush();
    }
  }

  /** The piece's bytes read from `fh` straight into the chunks. */
  async putFile(fh: FileHandle, piece: FilePiece): Promise<void> {
    for (let done = 0; done < piece.size;) {
      this.check();
      const n = Math.min(this.size - this.used, piece.size - done);
      const { bytesRead } = await fh.read(this.room(), this.used, n, piece.offset + done);
      if (bytesRead === 0) throw shortFile(piece, piece.offset + done);
      this.used += bytesRead;
      done += bytesRead;
      if (this.used === this.size) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.chunk === undefined || this.used === 0) return;
    const chunk = this.chunk;
    const data = this.used === chunk.length ? chunk : chunk.subarray(0, this.used);
    this.chunk = undefined; // `out` keeps the buffer until it is sent: another one is filled
    this.used = 0;
    this.check();
    this.written += data.length;
    const sent = (err?: Error | null): void => {
      if (!err && this.spare.length < SPARE_CHUNKS) this.spare.push(chunk);
    };
    if (!(this.reuse ? this.out.write(data, sent) : this.out.write(data))) await drained(this.out, this.signal);
  }

  async end(): Promise<void> {
    this.check();
    this.out.end();
    await finished(this.out, { readable: false }); // a socket's readable side is not ours to wait for
    if (this.failure) throw this.failure;
  }

  release(): void {
    this.out.off('error', this.onError);
  }

  private room(): Buffer {
    return (this.chunk ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(this.size));
  }
}

/** Resolves on 'drain'; rejects when `out` fails or closes first, or on abort. */
function drained(out: Writable, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('error', onFail);
      out.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onFail = (err: Error): void => done(err);
    const onClose = (): void => done(new ArchiveError('the destination closed before the archive was written'));
    const onAbort = (): void => done(abortReason(signal));
    if (out.destroyed) return onClose();
    if (signal?.aborted) return onAbort();
    out.on('drain', onDrain);
    out.on('error', onFail);
    out.on('close', onClose);
    signal?.addEventListener('abort', onAbort);
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new ArchiveError('writing the archive was aborted');
}
