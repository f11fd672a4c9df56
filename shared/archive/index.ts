/**
 * Archives (zip, tar) of members already written to pack files, assembled on the fly: each is
 * laid out up front as header bytes and file ranges (its total size and every member's
 * position known before the first byte, for HTTP Range), then streamed with backpressure
 * through at most two 1 MiB buffers. Workers record each stamp's (file, offset, size, crc32)
 * when they cut it.
 *
 * Typical use (api):
 *   const layout = zipLayout([...stamps, bufferMember('manifest.csv', csv, jobTime)]);
 *   res.setHeader('Content-Length', layout.totalSize);
 *   await writeArchive(layout, res);                         // or with { start, endInclusive }
 *   // on rejection (short pack file, client gone): res.destroy()
 * Typical use (worker): append the stamp to its pack, record { file, offset, size: buf.length,
 * crc32: crc32(buf) }.
 */
export { crc32, crc32Portable } from './crc32';
export {
  ArchiveError,
  bufferMember,
  checkMemberName,
  dosDateTime,
  segmentsInRange,
  writeArchive,
  zipLayout,
  type ArchiveEntry,
  type ArchiveLayout,
  type ArchiveMember,
  type ArchiveSegment,
  type ByteRange,
  type MemberSource,
  type WriteArchiveOptions,
  type ZipOptions,
} from './zip';
export { tarLayout } from './tar';
export { decodeLayout, encodeLayout } from './layout-file';
