/**
 * The manifest of a bulk job: one row per stamp asked for (input row × band × image), saying
 * what became of it. It is the job's `manifest` result (VOTable 1.4 TABLEDATA: FIELDs with
 * units and UCDs, so TOPCAT plots it and joins it back to the input on `row`) and
 * `manifest.csv` inside the archive (RFC 4180, CRLF). Written with the project's streaming
 * result writers (shared/votable createWriter), so 100,000 rows take constant memory.
 *
 * Columns (MANIFEST_FIELDS): row, id, ra, dec, band, status, message, obs_publisher_did,
 * dataproduct_subtype, t_min, x0, y0, nx, ny, member, preview, rgb, url, bytes. A value that is
 * missing (no image found: no did, no box; an invalid row: no position; no picture asked for)
 * is null: an empty TD in the VOTable (§6), an empty field in the CSV. The picture columns are
 * there whether pictures were asked for or not, so every manifest has one layout.
 *
 * Member names (paths inside the archive): stamps/<stem>_<band>[_<n>].fits, the stem from
 * safeMemberStem (positions.ts); a stamp's picture previews/<stem>_<band>[_<n>].png|jpg (the
 * stamp's name in another folder); a row's colour composite previews/<stem>_rgb.png|jpg.
 * MemberNamer keeps them unique within a job.
 */
import type { Writable } from 'node:stream';
import { createWriter } from '../votable';
import { fileExtensionOf, type PreviewFormat } from '../preview';
import type { BeginInfo, Cell, FieldDef, ResultWriter, WriterOptions } from '../votable/types';
import { safeMemberStem } from './positions';

export const MANIFEST_STATUSES = ['ok', 'partial', 'no_coverage', 'invalid', 'too_large', 'error', 'not_run'] as const;
/**
 * ok: the stamp was cut whole; partial: it runs off the image (clipped or padded, per EDGE);
 * no_coverage: no image of the band covers the position; invalid: the row cannot be used (no
 * position, a bad value); too_large: the stamp exceeds the size limit; error: cutting failed;
 * not_run: the job stopped (limit, abort) before this row.
 */
export type ManifestStatus = (typeof MANIFEST_STATUSES)[number];

/** One manifest row; absent and null values are written as nulls. */
export interface ManifestRow {
  /** 1-based row of the positions table (or the POSITION's number). */
  readonly row: number;
  /** The row's id column, else the row number as text. */
  readonly id: string;
  /** Requested position, ICRS degrees; NaN (an invalid row) is written as null. */
  readonly ra?: number | null;
  readonly dec?: number | null;
  /** Band label: a filter letter or an interval's label (BulkBand.label). */
  readonly band?: string | null;
  readonly status: ManifestStatus;
  /** Why the status is not ok, or why a picture asked for is missing (empty text is written as null). */
  readonly message?: string | null;
  /** The image cut: its ObsCore obs_publisher_did and dataproduct_subtype. */
  readonly obsPublisherDid?: string | null;
  readonly dataproductSubtype?: string | null;
  /** The image's t_min (MJD). */
  readonly tMin?: number | null;
  /** The stamp's pixel box in the image, 0-based (the overlap with EDGE=clip, the full box with pad). */
  readonly x0?: number | null;
  readonly y0?: number | null;
  readonly nx?: number | null;
  readonly ny?: number | null;
  /** The stamp's path inside the archive (memberName). */
  readonly member?: string | null;
  /** The path of the stamp's picture inside the archive (PREVIEW; previewMemberName). */
  readonly preview?: string | null;
  /** The path of the row's colour composite inside the archive (RGB), on each of its three stamps' rows. */
  readonly rgb?: string | null;
  /** The stamp as a result of its own. */
  readonly url?: string | null;
  /** Size of the stamp's FITS file. */
  readonly bytes?: number | null;
}

const text = (name: string, ucd: string, description: string): FieldDef => ({ name, datatype: 'char', arraysize: '*', ucd, description });

/** The manifest's columns, in order (VOTable 1.4 FIELD attributes; UCD1+ words; ObsCore's for its columns). */
export const MANIFEST_FIELDS: readonly FieldDef[] = [
  { name: 'row', datatype: 'int', ucd: 'meta.record', description: '1-based row of the positions table: join the input on it' },
  text('id', 'meta.id', "The row's id column, else its row number"),
  { name: 'ra', datatype: 'double', unit: 'deg', ucd: 'pos.eq.ra;meta.main', description: 'Requested right ascension (ICRS)' },
  { name: 'dec', datatype: 'double', unit: 'deg', ucd: 'pos.eq.dec;meta.main', description: 'Requested declination (ICRS)' },
  text('band', 'instr.bandpass', 'Band: a filter letter, or a wavelength interval lo_hi in units of 1e-9 m'),
  text('status', 'meta.code.status', `What became of the stamp: ${MANIFEST_STATUSES.join(', ')}`),
  text('message', 'meta.note', 'Why the status is not ok, or why a picture asked for is missing'),
  text('obs_publisher_did', 'meta.ref.ivoid', 'Dataset identifier of the image cut (ObsCore obs_publisher_did)'),
  text('dataproduct_subtype', 'meta.code.class', 'Data product subtype of the image cut (ObsCore)'),
  {
    name: 't_min',
    datatype: 'double',
    unit: 'd',
    ucd: 'time.start;obs.exposure',
    description: 'Start of the observation of the image (MJD)',
  },
  {
    name: 'x0',
    datatype: 'int',
    unit: 'pixel',
    ucd: 'pos.cartesian.x;instr.pixel',
    description: 'First column of the stamp in the image (0-based)',
  },
  {
    name: 'y0',
    datatype: 'int',
    unit: 'pixel',
    ucd: 'pos.cartesian.y;instr.pixel',
    description: 'First row of the stamp in the image (0-based)',
  },
  { name: 'nx', datatype: 'int', unit: 'pixel', ucd: 'meta.number;instr.pixel', description: 'Columns of the stamp' },
  { name: 'ny', datatype: 'int', unit: 'pixel', ucd: 'meta.number;instr.pixel', description: 'Rows of the stamp' },
  text('member', 'meta.ref;meta.file', "The stamp's path inside the archive"),
  text('preview', 'meta.ref;meta.file', "The path of the stamp's picture inside the archive (PREVIEW)"),
  text('rgb', 'meta.ref;meta.file', "The path of the row's colour composite inside the archive (RGB), made of this stamp and two others"),
  text('url', 'meta.ref.url', 'The stamp as a result of its own'),
  { name: 'bytes', datatype: 'long', unit: 'byte', ucd: 'phys.size;meta.file', description: "Size of the stamp's FITS file" },
];

function numberCell(value: number | null | undefined): Cell {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

function textCell(value: string | null | undefined): Cell {
  return value === null || value === undefined || value === '' ? null : value;
}

/** The row's cells in MANIFEST_FIELDS order. */
export function manifestCells(r: ManifestRow): Cell[] {
  return [
    r.row,
    r.id,
    numberCell(r.ra),
    numberCell(r.dec),
    textCell(r.band),
    r.status,
    textCell(r.message),
    textCell(r.obsPublisherDid),
    textCell(r.dataproductSubtype),
    numberCell(r.tMin),
    numberCell(r.x0),
    numberCell(r.y0),
    numberCell(r.nx),
    numberCell(r.ny),
    textCell(r.member),
    textCell(r.preview),
    textCell(r.rgb),
    textCell(r.url),
    numberCell(r.bytes),
  ];
}

export interface ManifestWriteOptions extends WriterOptions {
  /** INFOs and PARAMs of the VOTable (ignored by CSV); the TABLE is named `manifest`. */
  readonly info?: BeginInfo;
}

/**
 * The manifest to each of `writers` in one pass over `rows` (each row's cells are made once
 * for all of them: the finish step writes the VOTable and the CSV together).
 */
async function writeManifest(
  writers: readonly ResultWriter[],
  rows: Iterable<ManifestRow> | AsyncIterable<ManifestRow>,
  info: BeginInfo | undefined,
): Promise<void> {
  for (const writer of writers) await writer.begin([...MANIFEST_FIELDS], { tableName: 'manifest', ...info });
  // Each writer takes the row in turn; one that must wait first holds back those after it.
  const put = (cells: Cell[], from = 0): Promise<void> | undefined => {
    for (let i = from; i < writers.length; i++) {
      const wait = writers[i]!.row(cells);
      if (wait) return wait.then(() => put(cells, i + 1));
    }
    return undefined;
  };
  // Not `for await` over a plain iterable: it awaits every row (30,000 rows: ~17 ms).
  if (Symbol.iterator in rows) {
    for (const row of rows) {
      const wait = put(manifestCells(row));
      if (wait) await wait;
    }
  } else {
    for await (const row of rows) await put(manifestCells(row));
  }
  for (const writer of writers) await writer.end(false);
}

/** The manifest as a VOTable 1.4 (TABLEDATA) to `out`, ended unless options.endStream is false. */
export function writeManifestVotable(
  rows: Iterable<ManifestRow> | AsyncIterable<ManifestRow>,
  out: Writable,
  options: ManifestWriteOptions = {},
): Promise<void> {
  return writeManifests(rows, [{ format: 'votable', out }], options);
}

/** The manifest as CSV (RFC 4180: a header line, CRLF) to `out`, ended unless options.endStream is false. */
export function writeManifestCsv(
  rows: Iterable<ManifestRow> | AsyncIterable<ManifestRow>,
  out: Writable,
  options: ManifestWriteOptions = {},
): Promise<void> {
  return writeManifests(rows, [{ format: 'csv', out }], options);
}

/** The manifest in several formats at once (one pass over `rows`), each to its own stream. */
export function writeManifests(
  rows: Iterable<ManifestRow> | AsyncIterable<ManifestRow>,
  outputs: readonly { readonly format: 'votable' | 'csv'; readonly out: Writable }[],
  options: ManifestWriteOptions = {},
): Promise<void> {
  return writeManifest(
    outputs.map((o) => createWriter(o.format, o.out, options)),
    rows,
    options.info,
  );
}

/** Characters a member name keeps from a band label (labels from params.ts have no others). */
function safeLabel(band: string): string {
  return band.replace(/[^A-Za-z0-9._-]/gu, '_');
}

/**
 * `stamps/<stem>_<band>[_<n>].fits`: `stem` from safeMemberStem, `n` (if given) telling apart
 * several stamps of one row and band (MATCH=all: one per image). Unique only per id; see MemberNamer.
 */
export function memberName(stem: string, band: string, n?: number | string): string {
  return `stamps/${stem}_${safeLabel(band)}${n === undefined ? '' : `_${n}`}.fits`;
}

/** The member name's file name without its folder and extension: what MemberNamer keeps unique. */
function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).replace(/\.[^.]*$/u, '');
}

/** `previews/<stem>_<band>[_<n>].png|jpg`: the picture of the stamp named `stampMember`. */
export function previewMemberName(stampMember: string, format: PreviewFormat): string {
  return `previews/${baseName(stampMember)}.${fileExtensionOf(format)}`;
}

/** `previews/<stem>_rgb[_<n>].png|jpg`: a row's colour composite. */
export function rgbMemberName(stem: string, format: PreviewFormat, n?: string): string {
  return `previews/${stem}_rgb${n === undefined ? '' : `_${n}`}.${fileExtensionOf(format)}`;
}

/**
 * Hands out the member names of one job, each unique regardless of case (archives are unpacked
 * on macOS and Windows, whose file systems ignore it): memberName(safeMemberStem(id), band, n),
 * and when that is taken (two rows with one id, or ids differing only in case) the same with
 * `_<row>` appended, then `_<row>_2`, `_<row>_3`, … should even that be taken; composites
 * likewise (rgbMemberName). Names are kept unique by their file name without folder and
 * extension, so a stamp's picture (previewMemberName: the same file name) is unique with it,
 * and a composite's name never equals a picture's.
 */
export class MemberNamer {
  private readonly taken = new Set<string>();

  /** Names handed out so far. */
  get size(): number {
    return this.taken.size;
  }

  /** Whether `name` (regardless of case, folder and extension) has been handed out. */
  has(name: string): boolean {
    return this.taken.has(baseName(name).toLowerCase());
  }

  /** A new unique name for the stamp of input row `row` (1-based), whose id is `id`, in `band`. */
  name(id: string, band: string, row: number, n?: number): string {
    const stem = safeMemberStem(id);
    const suffix = n === undefined ? '' : `${n}_`;
    return this.unique(memberName(stem, band, n), (k) => memberName(stem, band, `${suffix}${row}${k === 1 ? '' : `_${k}`}`));
  }

  /** A new unique name for the colour composite of input row `row`, whose id is `id`. */
  rgb(id: string, row: number, format: PreviewFormat): string {
    const stem = safeMemberStem(id);
    return this.unique(rgbMemberName(stem, format), (k) => rgbMemberName(stem, format, `${row}${k === 1 ? '' : `_${k}`}`));
  }

  /** `first`, or the first of retry(1), retry(2), … not taken; taken from now on. */
  private unique(first: string, retry: (k: number) => string): string {
    let name = first;
    for (let k = 1; this.has(name); k++) name = retry(k);
    this.taken.add(baseName(name).toLowerCase());
    return name;
  }
}
