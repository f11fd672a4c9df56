/**
 * CRC-32 as zip needs it (PKWARE APPNOTE 6.3.10 §4.4.7: the ISO 3309 / ITU-T V.42 polynomial
 * 0x04C11DB7, reflected 0xEDB88320, initial value and final XOR 0xFFFFFFFF). Workers compute it
 * while they cut a stamp, so serving a zip never reads a member twice.
 *
 * Node ≥ 20.15 has zlib.crc32 (native, several GB/s); older Node 20 releases (which
 * package.json's "engines" still admits) get the slicing-by-8 table version below, which gives
 * the same values.
 */
import zlib from 'node:zlib';

/**
 * The CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it; 0 to
 * start): crc32(b, crc32(a)) === crc32(a ‖ b). An unsigned 32-bit integer.
 */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof zlib.crc32 === 'function' ? (data, previous = 0) => zlib.crc32(data, previous) : crc32Portable;

/** Eight 256-entry tables: TABLES[k * 256 + n] is the CRC of byte n followed by k zero bytes. */
const TABLES = ((): Int32Array => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * The same function in JavaScript, slicing-by-8 (eight bytes per step through eight tables):
 * used when zlib.crc32 is missing, exported so tests compare it with zlib and benchmarks time it.
 */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  while (i < end8) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < data.length) crc = t[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
