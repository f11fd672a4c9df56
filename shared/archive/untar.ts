/**
 * Unpacks a tar file as tar.ts writes them (ustar headers, pax `path` and `size` records) into
 * a directory: the client side of a batch's archive (scripts/bulk.ts). Member names are
 * checked as the writer checks them (relative, no `..`), so an archive cannot write outside
 * the directory; other entry types than files and pax headers are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError, checkMemberName } from './zip';

const BLOCK = 512;
const COPY_CHUNK = 1 << 20;
/** The largest pax extended header read (tar.ts writes a few hundred bytes). */
const MAX_PAX_BYTES = 1 << 20;

function field(h: Buffer, at: number, length: number): string {
  const raw = h.subarray(at, at + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octalField(h: Buffer, at: number, length: number): number {
  const text = field(h, at, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new ArchiveError(`tar: bad octal field ${JSON.stringify(text)}`);
  return text === '' ? 0 : parseInt(text, 8);
}

/** The records of a pax extended header: `<length> <key>=<value>\n` each. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0) throw new ArchiveError('tar: bad pax record');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Extracts every file member of the tar at `file` into `dir`; returns their names in order. */
export function extractTar(file: string, dir: string): string[] {
  const fd = fs.openSync(file, 'r');
  const names: string[] = [];
  const header = Buffer.alloc(BLOCK);
  const chunk = Buffer.allocUnsafe(COPY_CHUNK);
  let at = 0;
  let pax = new Map<string, string>();
  const read = (into: Buffer, length: number, position: number) => {
    const n = fs.readSync(fd, into, 0, length, position);
    if (n < length) throw new ArchiveError(`tar: ${file} ends inside a member (byte ${position + n})`);
  };
  try {
    for (;;) {
      if (fs.readSync(fd, header, 0, BLOCK, at) < BLOCK) throw new ArchiveError(`tar: ${file} ends without its end blocks`);
      if (header.every((b) => b === 0)) break;
      const type = String.fromCharCode(header[156]!);
      const prefix = field(header, 345, 155);
      const name = pax.get('path') ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      const size = pax.has('size') ? Number(pax.get('size')) : octalField(header, 124, 12);
      // A hostile archive must not send the reader backwards or ask for absurd buffers.
      if (!Number.isSafeInteger(size) || size < 0)
        throw new ArchiveError(`tar: bad member size ${JSON.stringify(pax.get('size') ?? size)}`);
      if (type === 'x' && size > MAX_PAX_BYTES) throw new ArchiveError(`tar: a pax header of ${size} bytes`);
      pax = new Map();
      const data = at + BLOCK;
      at = data + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x') {
        const records = Buffer.alloc(size);
        read(records, size, data);
        pax = paxRecords(records);
        continue;
      }
      if (type !== '0' && type !== '\0') continue;
      checkMemberName(name);
      const target = path.join(dir, ...name.split('/'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const out = fs.openSync(target, 'w');
      try {
        for (let done = 0; done < size;) {
          const n = Math.min(COPY_CHUNK, size - done);
          read(chunk, n, data + done);
          fs.writeSync(out, chunk, 0, n);
          done += n;
        }
      } finally {
        fs.closeSync(out);
      }
      names.push(name);
    }
  } finally {
    fs.closeSync(fd);
  }
  return names;
}
