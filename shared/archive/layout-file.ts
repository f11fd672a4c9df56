/**
 * An archive's layout kept in a file, so that whoever serves the archive reads it back instead
 * of laying the archive out again: a bulk batch of 27,000 stamps took the api 0.3–0.4 s before
 * the first byte of every download and every Range request (its plan read, its members listed,
 * the zip laid out), against ~20 ms to read this.
 *
 * Format: "VOLAYOUT1\n", the length of a JSON header (u32 little-endian), the header, then the
 * header bytes of every 'bytes' segment one after the other. The header holds the format, the
 * total size, the member files (relative to a directory, and only inside it), the members'
 * names, and numbers in flat arrays: per segment [0, length] for bytes (in the order of the
 * blob) or [1, file, offset, size, member] for a range of a file; per entry [size,
 * headerOffset, dataOffset].
 */
import path from 'node:path';
import { containedPath } from '../storage';
import { ArchiveError, type ArchiveEntry, type ArchiveLayout, type ArchiveSegment } from './zip';

const MAGIC = Buffer.from('VOLAYOUT1\n', 'latin1');

interface LayoutHeader {
  readonly format: ArchiveLayout['format'];
  readonly totalSize: number;
  readonly files: readonly string[];
  readonly names: readonly string[];
  readonly segments: readonly number[];
  readonly entries: readonly number[];
}

/** The layout as bytes; its member files must lie inside `dir` and are recorded relative to it. */
export function encodeLayout(layout: ArchiveLayout, dir: string): Buffer {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const names = layout.entries.map((e) => e.name);
  const nameIndex = new Map(names.map((name, k) => [name, k]));
  const segments: number[] = [];
  const blobs: Buffer[] = [];
  for (const s of layout.segments) {
    if (s.kind === 'bytes') {
      segments.push(0, s.data.length);
      blobs.push(s.data);
      continue;
    }
    let k = fileIndex.get(s.file);
    if (k === undefined) {
      const relative = path.relative(dir, s.file);
      if (containedPath(dir, relative) !== path.resolve(s.file)) throw new ArchiveError(`${s.file} is not inside ${dir}`);
      fileIndex.set(s.file, (k = files.length));
      files.push(relative);
    }
    const member = nameIndex.get(s.member);
    if (member === undefined) throw new ArchiveError(`archive segment of ${JSON.stringify(s.member)}, which has no entry`);
    segments.push(1, k, s.offset, s.size, member);
  }
  const entries: number[] = [];
  for (const e of layout.entries) entries.push(e.size, e.headerOffset, e.dataOffset);
  const header: LayoutHeader = { format: layout.format, totalSize: layout.totalSize, files, names, segments, entries };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([MAGIC, length, json, ...blobs]);
}

/**
 * The layout `encodeLayout` wrote, its files resolved against `dir`. Throws ArchiveError for
 * bytes that are not such a layout, or that name a file outside `dir`.
 */
export function decodeLayout(data: Buffer, dir: string): ArchiveLayout {
  const bad = (why: string): never => {
    throw new ArchiveError(`not an archive layout: ${why}`);
  };
  if (data.length < MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) bad('no VOLAYOUT1 mark');
  const jsonLength = data.readUInt32LE(MAGIC.length);
  const blobStart = MAGIC.length + 4 + jsonLength;
  if (blobStart > data.length) bad('its header runs past its end');
  let header: LayoutHeader;
  try {
    header = JSON.parse(data.toString('utf8', MAGIC.length + 4, blobStart)) as LayoutHeader;
  } catch (err) {
    return bad(`its header is not JSON (${(err as Error).message})`);
  }
  const files = header.files.map((name) => containedPath(dir, name) ?? bad(`${JSON.stringify(name)} is not inside ${dir}`));
  const segments: ArchiveSegment[] = [];
  const starts: number[] = [];
  let position = 0;
  let blob = blobStart;
  const numbers = header.segments;
  for (let i = 0; i < numbers.length;) {
    starts.push(position);
    if (numbers[i] === 0) {
      const length = numbers[i + 1]!;
      if (blob + length > data.length) bad('its header bytes run past its end');
      segments.push({ kind: 'bytes', data: data.subarray(blob, blob + length) });
      blob += length;
      position += length;
      i += 2;
    } else {
      const [file, offset, size, member] = [numbers[i + 1]!, numbers[i + 2]!, numbers[i + 3]!, numbers[i + 4]!];
      segments.push({
        kind: 'file',
        file: files[file] ?? bad(`file ${file}`),
        offset,
        size,
        member: header.names[member] ?? bad(`member ${member}`),
      });
      position += size;
      i += 5;
    }
  }
  if (position !== header.totalSize || blob !== data.length) bad(`its segments make ${position} bytes, not ${header.totalSize}`);
  const entries: ArchiveEntry[] = header.names.map((name, k) => ({
    name,
    size: header.entries[3 * k]!,
    headerOffset: header.entries[3 * k + 1]!,
    dataOffset: header.entries[3 * k + 2]!,
  }));
  return { format: header.format, totalSize: header.totalSize, segments, segmentStarts: starts, entries };
}
