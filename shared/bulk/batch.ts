/**
 * A bulk job's files in its attempt directory, written by the worker's steps and read by the
 * api to serve the manifest while the job runs and the archives at any time:
 *
 *   plan.json          the start step's plan: one row per manifest row (input row × band ×
 *                      image) with what resolution found, and for each stamp to cut its part;
 *   part-<n>.json      the stamps part n cuts, grouped by image and ordered by pixel row;
 *   part-<n>.pack      part n's stamps, one after the other, each followed by its picture
 *                      with PREVIEW (each also a result of its own);
 *   part-<n>.done.json what became of each stamp of part n: written last, atomically, so a
 *                      part either has all its outcomes or none (a part redone after its
 *                      worker died overwrites the same files with the same bytes);
 *   rgb.pack           with RGB, the finish step's colour composites, one after the other
 *                      (replaced whole, by rename, when the finish step is done again);
 *   rgb.done.json      what became of each composite: written after rgb.pack, atomically;
 *   manifest.xml/.csv  the finish step's manifest (VOTable result; CSV member of the archive);
 *   archive.layout     the finish step's layout of the whole batch's archive (encodeLayout).
 *
 * Archives are never written: their layout (zip or tar of stored members, CRCs computed when
 * the stamps and pictures were made) is made from these files, and streamed from the packs. The
 * whole batch's is made once, by the finish step, and read back for every download; a part's on
 * request (a few thousand members).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { crc32, decodeLayout, tarLayout, zipLayout, type ArchiveLayout, type ArchiveMember } from '../archive';
import { writeManifests, type ManifestRow, type ManifestStatus } from './manifest';
import type { BulkPreview, BulkRgb, EdgeMode, Packaging, Plane } from './params';
import type { PixelBox, StampProvenance } from './stamp';

export const PLAN_FILE = 'plan.json';
export const MANIFEST_FILE = 'manifest.xml';
export const MANIFEST_CSV = 'manifest.csv';
export const MANIFEST_TYPE = 'application/x-votable+xml';
export const ARCHIVE_LAYOUT = 'archive.layout';

/**
 * Result places (uws_results.seq, a 32-bit integer on PostgreSQL): the manifest, the archive,
 * the part archives, the stamps (+ manifest row index), their pictures (+ the same index), then
 * the colour composites (+ input row).
 */
export const SEQ = { manifest: 0, archive: 1, part: 2, stamp: 10_000_000, preview: 1_000_000_000, rgb: 2_000_000_000 } as const;

export const RGB_PACK = 'rgb.pack';
export const RGB_DONE = 'rgb.done.json';

/** Result ids: a stamp's, its picture's (k its manifest row, 1-based), an input row's composite. */
export const stampResult = (index: number): string => `stamp-${index + 1}`;
export const previewResult = (index: number): string => `preview-${index + 1}`;
export const rgbResult = (row: number): string => `rgb-${row}`;

/**
 * One manifest row as planned: its `status` is what a cut would give (ok, partial) or final.
 * A row with a part has a stamp to cut, whose result is stampResult(its index).
 */
export interface PlannedRow extends Omit<ManifestRow, 'url' | 'bytes' | 'obsPublisherDid' | 'dataproductSubtype' | 'tMin'> {
  /** The image resolution found for it: an index into BatchPlan.images; absent when none. */
  readonly image?: number;
  /** The part that cuts it (1-based); absent for rows with nothing to cut. */
  readonly part?: number;
  /** Exact size of the stamp's FITS file, known before it is cut. */
  readonly bytes?: number;
}

/** An image rows were resolved to: the manifest's columns about it. */
export interface PlannedImage {
  /** ObsCore obs_publisher_did. */
  readonly did: string;
  /** ObsCore dataproduct_subtype. */
  readonly subtype: string | null;
  /** ObsCore t_min (MJD). */
  readonly tMin: number | null;
}

/** A colour composite to make (RGB): an input row whose stamps in the three bands are all to be cut. */
export interface PlannedComposite {
  /** The input row (1-based). */
  readonly row: number;
  /** The manifest rows (0-based indexes) of its red, green and blue stamps. */
  readonly indexes: readonly [number, number, number];
  /** Its name in the archive. */
  readonly member: string;
}

export interface BatchPlan {
  /** Epoch ms: every archive member is dated by it, so archives are the same bytes each time. */
  readonly createdAt: number;
  readonly packaging: Packaging;
  readonly dryRun: boolean;
  readonly parts: number;
  /** The images the rows name, each once (a plan of 30,000 rows repeating them took 40% more JSON). */
  readonly images: readonly PlannedImage[];
  readonly rows: readonly PlannedRow[];
  /** RGB: how the composites are drawn, and those to make (in input row order). */
  readonly rgb?: BulkRgb & { readonly composites: readonly PlannedComposite[] };
}

/** One stamp of a part: its manifest row (0-based index; its result is stampResult(index)), where to cut it and how. */
export interface PartStamp {
  readonly index: number;
  /** Its image: an index into PartPlan.images. */
  readonly image: number;
  readonly box: PixelBox;
  /** Its name in the archive. */
  readonly member: string;
  /** The name of its picture in the archive (PREVIEW). */
  readonly preview?: string;
  /** What the stamp's primary header records, but the image's DID (PartImage.did). */
  readonly provenance: Omit<StampProvenance, 'did'>;
}

/** An image a part cuts from: each is written once per part, not once per stamp. */
export interface PartImage {
  /** The image's file (a real path inside DATA_DIR). */
  readonly source: string;
  /** Its obs_publisher_did, recorded in each stamp's provenance. */
  readonly did: string;
}

/** What a part needs, without reading the whole plan. */
export interface PartPlan {
  readonly planes: readonly Plane[];
  readonly edge: Exclude<EdgeMode, 'skip'>;
  readonly packaging: Packaging;
  /** BatchPlan.createdAt. */
  readonly createdAt: number;
  /** PREVIEW: a picture of each stamp cut. */
  readonly preview?: BulkPreview;
  readonly images: readonly PartImage[];
  /** By image, then pixel row. */
  readonly stamps: readonly PartStamp[];
}

/** Bytes written to a pack: where they are, and the CRC-32 an archive member needs. */
export interface Packed {
  readonly offset: number;
  readonly bytes: number;
  readonly crc32: number;
}

/** A picture in a pack, or why it could not be drawn. */
export type PackedPicture = Packed | { readonly message: string };

/** What became of one stamp of a part. */
export interface StampOutcome {
  readonly index: number;
  readonly status: ManifestStatus;
  readonly message?: string;
  /** Where the stamp is in the part's pack, for ok and partial. */
  readonly offset?: number;
  readonly bytes?: number;
  readonly crc32?: number;
  /** Its picture (PREVIEW), for ok and partial. */
  readonly preview?: PackedPicture;
}

/** What became of a planned colour composite: in rgb.pack, or why it could not be made. */
export type CompositeOutcome = PlannedComposite & PackedPicture;

export const partFile = (part: number): string => `part-${part}.json`;
export const packFile = (part: number): string => `part-${part}.pack`;
export const doneFile = (part: number): string => `part-${part}.done.json`;
export const archiveFile = (packaging: Exclude<Packaging, 'none'>, part?: number): string =>
  `${part === undefined ? 'archive' : `part-${part}`}.${packaging}`;
export const ARCHIVE_TYPES = { zip: 'application/zip', tar: 'application/x-tar' } as const;

/** A name beside `file` that no other writer uses: to write it under, then rename it into place. */
export function temporaryName(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/** Writes `data` to `file` so that readers see the old file or the whole new one. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const temporary = temporaryName(file);
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

/** writeFileAtomic of `value` as JSON. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value));
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function readPlan(dir: string): BatchPlan {
  return readJson<BatchPlan>(path.join(dir, PLAN_FILE));
}

export function readPart(dir: string, part: number): PartPlan {
  return readJson<PartPlan>(path.join(dir, partFile(part)));
}

/** Part n's outcomes, or undefined while it has not finished. */
export function readDone(dir: string, part: number): StampOutcome[] | undefined {
  try {
    return readJson<StampOutcome[]>(path.join(dir, doneFile(part)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every finished part's outcomes, by manifest row index. */
export function readOutcomes(dir: string, plan: BatchPlan): Map<number, StampOutcome> {
  const outcomes = new Map<number, StampOutcome>();
  for (let part = 1; part <= plan.parts; part++) {
    for (const outcome of readDone(dir, part) ?? []) outcomes.set(outcome.index, outcome);
  }
  return outcomes;
}

/** The composites' outcomes (the finish step's), or none before it wrote them. */
export function readComposites(dir: string): CompositeOutcome[] {
  try {
    return readJson<CompositeOutcome[]>(path.join(dir, RGB_DONE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** What the parts and the finish step have made so far: the stamps' outcomes, and the composites' by manifest row index. */
export interface BatchState {
  readonly outcomes: ReadonlyMap<number, StampOutcome>;
  readonly composites: ReadonlyMap<number, CompositeOutcome>;
}

/** Each composite under the manifest rows of its three stamps. */
export function compositesByIndex(composites: readonly CompositeOutcome[]): Map<number, CompositeOutcome> {
  const byIndex = new Map<number, CompositeOutcome>();
  for (const composite of composites) for (const index of composite.indexes) byIndex.set(index, composite);
  return byIndex;
}

export function readBatchState(dir: string, plan: BatchPlan): BatchState {
  return { outcomes: readOutcomes(dir, plan), composites: compositesByIndex(plan.rgb ? readComposites(dir) : []) };
}

/** Whether the picture was drawn (and where it is), rather than why not. */
export function isPacked<T extends PackedPicture>(picture: T | undefined): picture is T & Packed {
  return picture !== undefined && 'offset' in picture;
}

/** A cut stamp's message, followed by why its picture or its row's composite is missing (`a; b`). */
function messageOf(
  own: string | null | undefined,
  picture: PackedPicture | undefined,
  composite: CompositeOutcome | undefined,
): string | null | undefined {
  const noPicture = picture === undefined || isPacked(picture) ? undefined : picture.message;
  const noComposite = composite === undefined || isPacked(composite) ? undefined : composite.message;
  // Most rows: nothing to add, and nothing made for them.
  if (noPicture === undefined && noComposite === undefined) return own;
  return [own, noPicture, noComposite].filter((m) => m).join('; ');
}

/**
 * The manifest's rows: each planned row with its stamp's outcome (and its picture's, and its
 * row's composite's), or `not_run` with `pending` as its message while its part has not finished.
 */
export function* manifestRows(
  plan: BatchPlan,
  state: BatchState,
  resultUrl: (resultId: string) => string,
  pending: string,
): Generator<ManifestRow> {
  for (const [index, row] of plan.rows.entries()) {
    const image = row.image === undefined ? undefined : plan.images[row.image];
    if (row.part === undefined || plan.dryRun) {
      // The manifest's writers read the columns by name: a planned row with its image's.
      yield {
        ...row,
        obsPublisherDid: image?.did ?? null,
        dataproductSubtype: image?.subtype ?? null,
        tMin: image?.tMin ?? null,
      };
      continue;
    }
    const outcome = state.outcomes.get(index);
    const composite = state.composites.get(index);
    const cut = outcome?.offset !== undefined;
    const picture = outcome?.preview;
    yield {
      row: row.row,
      id: row.id,
      ra: row.ra,
      dec: row.dec,
      band: row.band,
      status: outcome ? outcome.status : 'not_run',
      message: outcome ? messageOf(outcome.message ?? row.message, picture, composite) : pending,
      obsPublisherDid: image?.did ?? null,
      dataproductSubtype: image?.subtype ?? null,
      tMin: image?.tMin ?? null,
      x0: row.x0,
      y0: row.y0,
      nx: row.nx,
      ny: row.ny,
      member: cut ? row.member : null,
      preview: cut && isPacked(picture) ? row.preview : null,
      rgb: isPacked(composite) ? composite.member : null,
      url: cut ? resultUrl(stampResult(index)) : null,
      bytes: cut ? (outcome.bytes ?? null) : null,
    };
  }
}

/**
 * The manifest as bytes in each of `formats`, made in one pass over `rows`: VOTable (the
 * `manifest` result), CSV (the archive's member).
 */
export async function manifestBytes(rows: Iterable<ManifestRow>, formats: readonly ('votable' | 'csv')[]): Promise<Buffer[]> {
  const outputs = formats.map((format) => {
    const chunks: Buffer[] = [];
    // A stream that never asks the writers to wait (a PassThrough made them wait for 'drain').
    const out = new Writable({
      highWaterMark: Number.MAX_SAFE_INTEGER,
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    return { format, out, chunks };
  });
  await writeManifests(rows, outputs);
  return outputs.map((o) => Buffer.concat(o.chunks));
}

/**
 * Appends to `out` a stamp's member, and its picture's after it: each where it lies in the
 * part's pack (`source.offset`), which is the order they were written in.
 */
function pushPackedMembers(
  out: ArchiveMember[],
  file: string,
  mtime: Date,
  member: string,
  preview: string | null | undefined,
  outcome: StampOutcome,
): void {
  if (outcome.offset === undefined) return;
  out.push({ name: member, size: outcome.bytes!, crc32: outcome.crc32!, mtime, source: { file, offset: outcome.offset } });
  const picture = outcome.preview;
  if (preview && isPacked(picture)) {
    out.push({ name: preview, size: picture.bytes, crc32: picture.crc32, mtime, source: { file, offset: picture.offset } });
  }
}

/** A member's place in the packs: part, then offset in the part's pack. */
const packOffset = (m: ArchiveMember): number => ('file' in m.source ? m.source.offset : 0);

/**
 * The stamps the batch cut (and their pictures), as archive members in the order they lie
 * in the packs (part by part, each in the order it was cut): the archive is then read straight
 * through, a pack at a time, with few large reads; manifest.csv says which row is which member.
 */
export function stampMembers(
  dir: string,
  plan: BatchPlan,
  outcomes: ReadonlyMap<number, StampOutcome> = readOutcomes(dir, plan),
): ArchiveMember[] {
  const mtime = new Date(plan.createdAt);
  const byPart: ArchiveMember[][] = [];
  const packs: string[] = [];
  // Walked in the outcomes' order, which readOutcomes makes part by part in pack order: a
  // part's members are then sorted already (checked below), and no path is joined per stamp.
  for (const [index, outcome] of outcomes) {
    const row = plan.rows[index];
    if (row?.part === undefined || !row.member) continue;
    const file = (packs[row.part] ??= path.join(dir, packFile(row.part)));
    pushPackedMembers((byPart[row.part] ??= []), file, mtime, row.member, row.preview, outcome);
  }
  const all: ArchiveMember[] = [];
  for (const members of byPart) {
    if (members === undefined) continue;
    for (let i = 1; i < members.length; i++) {
      if (packOffset(members[i]!) < packOffset(members[i - 1]!)) {
        members.sort((a, b) => packOffset(a) - packOffset(b));
        break;
      }
    }
    for (const m of members) all.push(m);
  }
  return all;
}

/** The stamps part `part` cut (and their pictures), as archive members (from its own files: no need of the whole plan). */
export function partMembers(dir: string, part: number, plan: PartPlan, outcomes: readonly StampOutcome[]): ArchiveMember[] {
  const byIndex = new Map(outcomes.map((o) => [o.index, o]));
  const mtime = new Date(plan.createdAt);
  const file = path.join(dir, packFile(part));
  const members: ArchiveMember[] = [];
  // In the order they were cut: the archive then reads the pack straight through.
  for (const stamp of plan.stamps) {
    const outcome = byIndex.get(stamp.index);
    if (outcome !== undefined) pushPackedMembers(members, file, mtime, stamp.member, stamp.preview, outcome);
  }
  return members;
}

/** The colour composites made, as archive members, in the order they lie in rgb.pack. */
export function compositeMembers(dir: string, plan: BatchPlan): ArchiveMember[] {
  if (!plan.rgb) return [];
  const mtime = new Date(plan.createdAt);
  const file = path.join(dir, RGB_PACK);
  return readComposites(dir)
    .filter((c) => isPacked(c))
    .map((c) => ({ name: c.member, size: c.bytes, crc32: c.crc32, mtime, source: { file, offset: c.offset } }));
}

/** An archive of `members` in the job's format. */
export function archiveLayout(packaging: Exclude<Packaging, 'none'>, members: readonly ArchiveMember[]): ArchiveLayout {
  return packaging === 'zip' ? zipLayout(members) : tarLayout(members);
}

/**
 * The whole batch's archive as the finish step laid it out (ARCHIVE_LAYOUT), or undefined when
 * it has not (a batch not finished, PACKAGE=none, or finished by a version that did not keep it).
 */
export function readBatchArchive(dir: string): ArchiveLayout | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(path.join(dir, ARCHIVE_LAYOUT));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeLayout(data, dir);
}

/**
 * The whole batch's archive: every stamp and picture, the composites, then manifest.csv
 * (written by the finish step, which passes the parts' outcomes it has already read and the
 * CSV's bytes it has just written to the file). The manifest is a member read from its file,
 * like the stamps, not bytes kept in the layout: a 100,000-row batch's would otherwise be
 * ~70 MB of the layout file the api reads for every download.
 */
export function batchArchive(
  dir: string,
  plan: BatchPlan,
  outcomes?: ReadonlyMap<number, StampOutcome>,
  manifestCsv?: Buffer,
): ArchiveLayout {
  if (plan.packaging === 'none') throw new Error('a batch with PACKAGE=none has no archive');
  const file = path.join(dir, MANIFEST_CSV);
  const csv = manifestCsv ?? fs.readFileSync(file);
  const manifest: ArchiveMember = {
    name: MANIFEST_CSV,
    size: csv.length,
    crc32: crc32(csv),
    mtime: new Date(plan.createdAt),
    source: { file, offset: 0 },
  };
  return archiveLayout(plan.packaging, [...stampMembers(dir, plan, outcomes), ...compositeMembers(dir, plan), manifest]);
}
