/**
 * A bulk job's positions → the stamps to cut: for every row and band, the image (MATCH=best) or
 * images (MATCH=all) that hold the position, and the stamp's pixel box on each. Reads the ObsCore
 * store (set-wise: footprint-cache.ts) and each chosen image's header, once per file; no pixels.
 *
 * Every row × band (× image, for MATCH=all) gets exactly one entry, in input order: by row, then
 * band in request order, then image order. A bad row never fails the job: it gets a status.
 *
 * Conventions (all pixel coordinates 0-based, pixel i covering [i − ½, i + ½]):
 *   - matching: an image matches a row and band when its dataproduct_subtype is the row's (or
 *     the job's) DPSUBTYPE, its obs_collection is COLLECTION (if given), [t_min, t_max] meets the
 *     row's (or the job's) TIME, and its band matches: lsst_band equal to a band letter, or
 *     [em_min, em_max] meeting a wavelength interval. Intervals are closed, and a NULL column
 *     never satisfies a constraint, as in SIA 2.0 §2.1 (ObsCore 1.1 §4.14, §4.17 for the columns);
 *   - coverage: the image's s_region contains the position (as TAP's CONTAINS), and the
 *     position's pixel (through the image's own WCS, FITS WCS Papers I/II and SIP) lies on the
 *     image: −½ < x ≤ width − ½, and likewise y — exactly when Cutout2D's centre pixel is on it;
 *   - the box: astropy's Cutout2D(data, position, size) — nddata.utils.overlap_slices — to the
 *     pixel: for a side of n pixels, x0 = ⌈x − n/2⌉. For odd n the stamp is centred on the pixel
 *     holding the position (a position on a pixel edge goes to the lower pixel); for even n on
 *     the pixel corner line nearest to it (a tie to the lower one);
 *   - SIZE in arcsec or deg: n = round(SIZE / scale) per axis, half to even as numpy rounds, with
 *     the nominal scale of the projection plane (column norms of CD, or PC × CDELT: astropy's
 *     proj_plane_pixel_scales, which Cutout2D uses; SIP is not included); at least 1 pixel;
 *   - MATCH=best: the deepest image, depth being how far the position lies inside the image —
 *     min(x, width − 1 − x, y, height − 1 − y) pixels, times the image's nominal pixel scale so
 *     that images with different pixels compare in arcseconds — rounded to 1 µas; equal depths
 *     go to the smaller obs_publisher_did (code-unit order), so reruns give the same answer;
 *   - MATCH=all: every covering image, by t_min (unknown last), then obs_publisher_did;
 *   - too_large: the pixels to be cut (clipped box for EDGE=clip, full box otherwise) times the
 *     planes exceed `maxPixels`; it is checked before the edge, since no cut will be made.
 */
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Interval } from '../dali/interval';
import { FitsError, type FitsFile, openFitsSync, scalarLookup } from '../fits';
import { planCutout } from '../soda/plan';
import { SodaError } from '../soda/errors';
import { type CelestialWcs, parseWcs, WcsError } from '../wcs';
import { FootprintIndex, loadFootprints, type FootprintImage } from './footprint-cache';
import { BAND_LETTERS, parseBand, type BulkBand, type BulkRequest } from './params';
import type { PositionRow } from './positions';

/** The image a stamp is cut from. */
export interface ResolvedImage {
  /** obs_publisher_did. */
  readonly did: string;
  /** dataproduct_subtype. */
  readonly subtype: string;
  /** `_file`, relative to DATA_DIR. */
  readonly file: string;
  /** t_min (MJD), or null. */
  readonly tMin: number | null;
  /** The label of the requested band (BulkBand.label) the image was chosen for. */
  readonly band: string;
}

/** A rectangle of pixels: 0-based corner and size. */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly nx: number;
  readonly ny: number;
}

/**
 * planned: cut the full box; partial: the box runs off the image — cut the clipped box (and pad
 * it for EDGE=pad) unless `cut` is false (EDGE=skip); no_coverage: no matching image holds the
 * position; invalid: the row cannot be used; too_large: over the pixel limit, not cut; error:
 * the image could not be read.
 */
export type StampStatus = 'planned' | 'partial' | 'no_coverage' | 'invalid' | 'too_large' | 'error';

export interface PlannedStamp {
  /** The row's 1-based number in the positions table. */
  readonly row: number;
  readonly id: string;
  readonly ra: number;
  readonly dec: number;
  /** The requested band's label. */
  readonly band: string;
  readonly status: StampStatus;
  /** Why, for anything but planned; '' for planned. */
  readonly message: string;
  /** Whether a cutout is to be made: planned, and partial with EDGE=clip or pad. */
  readonly cut: boolean;
  readonly image?: ResolvedImage;
  /** The full requested box in the image's pixel grid (may extend past the image). */
  readonly box?: PixelBox;
  /** The part of `box` on the image (never empty). */
  readonly clipped?: PixelBox;
  /** MATCH=all: the image's 0-based index among those of the row and band. */
  readonly n?: number;
}

export interface ResolveLimits {
  /** Most pixels one stamp may hold over all its planes (CUTOUT_MAX_PIXELS). */
  readonly maxPixels: number;
}

/** The WCS of an image's IMAGE plane, read once per file; or why it cannot be used. */
type ImageGeometry =
  | {
      readonly ok: true;
      readonly wcs: CelestialWcs;
      readonly width: number;
      readonly height: number;
      /** Nominal degrees per pixel along x and y (astropy's proj_plane_pixel_scales). */
      readonly scaleX: number;
      readonly scaleY: number;
    }
  | { readonly ok: false; readonly message: string };

/** Placement states of a covering image: not yet computed, centre pixel on it, off it, header unreadable. */
const UNKNOWN = 0;
const ON = 1;
const OFF = 2;
const UNREADABLE = 3;

/** Depths are compared in units of 1 µas: closer than that they tie, and the did decides. */
const DEPTH_QUANTUM_DEG = 1 / 3.6e9;
const NO_FILTERS = { spatial: null, band: null, time: null, pol: null } as const;
const NO_COVERAGE_INFO = { emMin: null, emMax: null, tMin: null, tMax: null } as const;

/** numpy's round (half to even), which Cutout2D applies to sizes. */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/**
 * The box of `n` pixels along one axis centred on the 0-based coordinate `x`, as astropy's
 * overlap_slices: first pixel ⌈x − n/2⌉.
 */
export function boxStart(x: number, n: number): number {
  return Math.ceil(x - n / 2);
}

/** The full box of nx × ny pixels around the 0-based position (x, y), as Cutout2D cuts it. */
export function stampBox(x: number, y: number, nx: number, ny: number): PixelBox {
  return { x0: boxStart(x, nx), y0: boxStart(y, ny), nx, ny };
}

/** The part of `box` on a width × height image, or undefined when none of it is. */
export function clipBox(box: PixelBox, width: number, height: number): PixelBox | undefined {
  const x0 = Math.max(0, box.x0);
  const y0 = Math.max(0, box.y0);
  const x1 = Math.min(width, box.x0 + box.nx);
  const y1 = Math.min(height, box.y0 + box.ny);
  return x1 > x0 && y1 > y0 ? { x0, y0, nx: x1 - x0, ny: y1 - y0 } : undefined;
}

/** FITS WCS Paper I §2.1: the matrix's columns are the pixel axes; their norms are the nominal scales. */
function axisScales(wcs: CelestialWcs): { scaleX: number; scaleY: number } {
  const [m11, m12, m21, m22] = wcs.matrix;
  return { scaleX: Math.hypot(m11, m21), scaleY: Math.hypot(m12, m22) };
}

/** A Node.js system error (checked by shape: errors from another realm fail instanceof). */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && 'message' in err;
}

/**
 * Reads an image's geometry: the HDUs a SODA cutout would cut (shared/soda planCutout), of
 * which the one named IMAGE (Rubin calexp/coadd planes), else the first; its own WCS.
 */
function readGeometry(absolute: string): ImageGeometry {
  let file: FitsFile;
  try {
    file = openFitsSync(absolute);
  } catch (err) {
    // Not FITS, or a missing or unreadable file (ENOENT, EACCES, …: a system error, by its code).
    if (err instanceof FitsError || isSystemError(err)) return { ok: false, message: `the file cannot be read: ${err.message}` };
    throw err;
  }
  try {
    const plan = planCutout(file, NO_FILTERS, NO_COVERAGE_INFO);
    const planned = plan?.hdus.find((h) => h.name === 'IMAGE') ?? plan?.hdus[0];
    if (planned === undefined) return { ok: false, message: 'the file has no image to cut' };
    const hdu = file.hdus[planned.index]!;
    const wcs = parseWcs(scalarLookup(hdu.header), { imageSize: planned.imageSize });
    if (!wcs.icrsCompatible) return { ok: false, message: `its WCS is in ${wcs.radesys}, not ICRS` };
    const [width, height] = planned.imageSize;
    return { ok: true, wcs, width, height, ...axisScales(wcs) };
  } catch (err) {
    if (err instanceof SodaError) return { ok: false, message: err.detail };
    if (err instanceof WcsError || err instanceof FitsError) return { ok: false, message: err.message };
    throw err;
  } finally {
    file.close();
  }
}

/** Closed intervals meet; a NULL bound never satisfies a constraint (SIA 2.0 §2.1). */
function meets(lo: number, hi: number, min: number | null, max: number | null): boolean {
  return min !== null && max !== null && min <= hi && max >= lo;
}

function bandMatches(band: BulkBand, image: FootprintImage): boolean {
  if (band.kind === 'letter') return image.lsstBand === band.label;
  return meets(band.lo, band.hi, image.emMin, image.emMax);
}

/** The row's time: its own bounds, each side defaulting to the job's TIME; undefined: any time. */
function rowTime(row: PositionRow, time: Interval | undefined): Interval | undefined {
  if (row.tMin === undefined && row.tMax === undefined) return time;
  return { lo: row.tMin ?? time?.lo ?? -Infinity, hi: row.tMax ?? time?.hi ?? Infinity };
}

function formatMjd(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : '-Inf';
}

/** Compares placements for MATCH=all: t_min (unknown last), then did. */
function byTimeThenDid(a: FootprintImage, b: FootprintImage): number {
  if (a.tMin !== b.tMin) {
    if (a.tMin === null) return 1;
    if (b.tMin === null) return -1;
    return a.tMin - b.tMin;
  }
  return a.did < b.did ? -1 : a.did > b.did ? 1 : 0;
}

/** One manifest entry; every entry has every field (undefined where it does not apply), so they share one shape. */
function stampOf(
  row: PositionRow,
  band: string,
  status: StampStatus,
  message: string,
  cut: boolean,
  image: ResolvedImage | undefined,
  box: PixelBox | undefined,
  clipped: PixelBox | undefined,
  n: number | undefined,
): PlannedStamp {
  return { row: row.row, id: row.id, ra: row.ra, dec: row.dec, band, status, message, cut, image, box, clipped, n };
}

/**
 * The stamps of a bulk job: one entry per row × band (× image for MATCH=all), in input order.
 * `dataDir` is DATA_DIR (ObsCore `_file` is relative to it). Reads the ObsCore store through
 * `db` (read-only use) and the headers of the images it needs, each file once.
 */
export function resolveStamps(
  db: BetterSqlite3.Database,
  dataDir: string,
  rows: readonly PositionRow[],
  request: BulkRequest,
  limits: ResolveLimits,
): PlannedStamp[] {
  return new Resolver(db, dataDir, rows, request, limits).run();
}

/** The state of one resolution: the footprints, the headers read so far, shared entry parts. */
class Resolver {
  private readonly index: FootprintIndex;
  private readonly jobBands: readonly BulkBand[];
  private readonly planes: number;
  /** Per image (index into the footprint index): its geometry once read. */
  private readonly geometries: (ImageGeometry | undefined)[] = [];
  /** Geometries by file: two ObsCore rows naming one file read it once. */
  private readonly byFile = new Map<string, ImageGeometry>();
  /** Per band label, per image: the entries' ResolvedImage (shared, as entries are read-only). */
  private readonly resolved = new Map<string, (ResolvedImage | undefined)[]>();
  /** no_coverage messages of rows without overrides, per band label. */
  private readonly noCoverage = new Map<string, string>();
  /** The current row's placements on its covering images (see place). */
  private placed = new Uint8Array(16);
  private xs = new Float64Array(16);
  private ys = new Float64Array(16);
  private depths = new Float64Array(16);

  constructor(
    db: BetterSqlite3.Database,
    private readonly dataDir: string,
    private readonly rows: readonly PositionRow[],
    private readonly request: BulkRequest,
    private readonly limits: ResolveLimits,
  ) {
    const usable = rows.filter((row) => row.invalid === undefined && Number.isFinite(row.ra) && Number.isFinite(row.dec));
    const subtypes = [...new Set([request.dpsubtype, ...usable.map((row) => row.dpsubtype ?? request.dpsubtype)])];
    this.index = new FootprintIndex(loadFootprints(db, usable, { subtypes, collection: request.collection }));
    this.jobBands = request.bands.length > 0 ? request.bands : BAND_LETTERS.map((letter) => parseBand(letter, 'BAND'));
    this.planes = Math.max(1, request.planes.length);
  }

  run(): PlannedStamp[] {
    const out: PlannedStamp[] = [];
    for (const row of this.rows) this.resolveRow(row, out);
    return out;
  }

  private geometry(i: number): ImageGeometry {
    let geometry = this.geometries[i];
    if (geometry === undefined) {
      const file = this.index.images[i]!.file;
      geometry = this.byFile.get(file);
      if (geometry === undefined) {
        geometry = readGeometry(path.resolve(this.dataDir, file));
        this.byFile.set(file, geometry);
      }
      this.geometries[i] = geometry;
    }
    return geometry;
  }

  private resolvedImage(i: number, band: string): ResolvedImage {
    let images = this.resolved.get(band);
    if (images === undefined) this.resolved.set(band, (images = []));
    let resolved = images[i];
    if (resolved === undefined) {
      const image = this.index.images[i]!;
      resolved = { did: image.did, subtype: image.subtype, file: image.file, tMin: image.tMin, band };
      images[i] = resolved;
    }
    return resolved;
  }

  private noCoverageMessage(subtype: string, band: BulkBand, time: Interval | undefined): string {
    const plain = subtype === this.request.dpsubtype && time === this.request.time;
    const cached = plain ? this.noCoverage.get(band.label) : undefined;
    if (cached !== undefined) return cached;
    const { collection } = this.request;
    const message = [
      `no ${subtype} image`,
      collection === undefined ? '' : ` of collection ${collection}`,
      ` in band ${band.label}`,
      time === undefined ? '' : ` between MJD ${formatMjd(time.lo)} and ${formatMjd(time.hi)}`,
      ' covers the position',
    ].join('');
    if (plain) this.noCoverage.set(band.label, message);
    return message;
  }

  /**
   * Where the row's position falls on covering image k: fills xs, ys, depths, placed[k] (ON,
   * OFF or UNREADABLE). Computed when first needed, then shared by every band.
   */
  private place(row: PositionRow, k: number, i: number): number {
    let state = this.placed[k]!;
    if (state !== UNKNOWN) return state;
    const geometry = this.geometry(i);
    if (!geometry.ok) state = UNREADABLE;
    else {
      const { x, y } = geometry.wcs.skyToPixel0(row.ra, row.dec);
      const { width, height } = geometry;
      // Cutout2D's centre pixel ⌈x − ½⌉ must be on the image (NaN: the position does not project).
      if (x > -0.5 && x <= width - 0.5 && y > -0.5 && y <= height - 0.5) {
        state = ON;
        this.xs[k] = x;
        this.ys[k] = y;
        const pixels = Math.min(x, width - 1 - x, y, height - 1 - y);
        this.depths[k] = Math.round((pixels * geometry.wcs.pixelScale) / DEPTH_QUANTUM_DEG);
      } else state = OFF;
    }
    this.placed[k] = state;
    return state;
  }

  /** Makes room for `n` covering images in the placement buffers, and marks them unknown. */
  private resetPlacements(n: number): void {
    if (this.placed.length < n) {
      const size = Math.max(n, 2 * this.placed.length);
      this.placed = new Uint8Array(size);
      this.xs = new Float64Array(size);
      this.ys = new Float64Array(size);
      this.depths = new Float64Array(size);
    } else this.placed.fill(UNKNOWN, 0, n);
  }

  private resolveRow(row: PositionRow, out: PlannedStamp[]): void {
    const { request, index } = this;
    const bands = row.bandSpec ? [row.bandSpec] : this.jobBands;
    const invalid = row.invalid ?? (Number.isFinite(row.ra) && Number.isFinite(row.dec) ? undefined : 'the row has no position');
    if (invalid !== undefined) {
      for (const band of bands) out.push(stampOf(row, band.label, 'invalid', invalid, false, undefined, undefined, undefined, undefined));
      return;
    }
    const subtype = row.dpsubtype ?? request.dpsubtype;
    const time = rowTime(row, request.time);
    const covering = index.covering(
      row.ra,
      row.dec,
      (image) => image.subtype === subtype && (time === undefined || meets(time.lo, time.hi, image.tMin, image.tMax)),
    );
    this.resetPlacements(covering.length);
    const size = row.size ?? request.size.value;
    for (const band of bands) {
      const before = out.length;
      if (request.match === 'best') {
        // The deepest image; equal depths to the smaller did. Unreadable images are passed
        // over, but when every covering image is unreadable the row reports the error.
        let best = -1;
        let unreadable = -1;
        for (let k = 0; k < covering.length; k++) {
          const image = index.images[covering[k]!]!;
          if (!bandMatches(band, image)) continue;
          const state = this.place(row, k, covering[k]!);
          if (state === ON) {
            const depth = this.depths[k]!;
            const bestDepth = best < 0 ? -Infinity : this.depths[best]!;
            if (depth > bestDepth || (depth === bestDepth && image.did < index.images[covering[best]!]!.did)) best = k;
          } else if (state === UNREADABLE && (unreadable < 0 || image.did < index.images[covering[unreadable]!]!.did)) {
            unreadable = k;
          }
        }
        const chosen = best >= 0 ? best : unreadable;
        if (chosen >= 0) out.push(this.stamp(row, band, covering[chosen]!, chosen, size, undefined));
      } else {
        const chosen: number[] = [];
        for (let k = 0; k < covering.length; k++) {
          if (bandMatches(band, index.images[covering[k]!]!) && this.place(row, k, covering[k]!) !== OFF) chosen.push(k);
        }
        chosen.sort((a, b) => byTimeThenDid(index.images[covering[a]!]!, index.images[covering[b]!]!));
        chosen.forEach((k, n) => out.push(this.stamp(row, band, covering[k]!, k, size, n)));
      }
      if (out.length === before) {
        const message = this.noCoverageMessage(subtype, band, time);
        out.push(stampOf(row, band.label, 'no_coverage', message, false, undefined, undefined, undefined, undefined));
      }
    }
  }

  /** The entry of the row's stamp on image i (covering image k, placed ON or UNREADABLE). */
  private stamp(row: PositionRow, band: BulkBand, i: number, k: number, size: number, n: number | undefined): PlannedStamp {
    const resolved = this.resolvedImage(i, band.label);
    const geometry = this.geometry(i);
    if (!geometry.ok) {
      const image = this.index.images[i]!;
      const message = `image ${image.did} (${image.file}): ${geometry.message}`;
      return stampOf(row, band.label, 'error', message, false, resolved, undefined, undefined, n);
    }
    const { request, limits, planes } = this;
    const [nx, ny] = sidePixels(geometry, size, request.size.unit);
    const box = stampBox(this.xs[k]!, this.ys[k]!, nx, ny);
    const { width, height } = geometry;
    const runsOff = box.x0 < 0 || box.y0 < 0 || box.x0 + nx > width || box.y0 + ny > height;
    // The centre pixel is on the image (place), so the clipped box is never empty.
    const clipped = runsOff ? clipBox(box, width, height)! : box;
    const cutPixels = (request.edge === 'clip' ? clipped.nx * clipped.ny : nx * ny) * planes;
    const entry = (status: StampStatus, message: string, cut: boolean): PlannedStamp =>
      stampOf(row, band.label, status, message, cut, resolved, box, clipped, n);
    if (cutPixels > limits.maxPixels) {
      const shape = request.edge === 'clip' ? `${clipped.nx}×${clipped.ny}` : `${nx}×${ny}`;
      const perPlane = planes > 1 ? ` × ${planes} planes` : '';
      return entry('too_large', `the stamp would hold ${cutPixels} pixels (${shape}${perPlane}); the limit is ${limits.maxPixels}`, false);
    }
    if (!runsOff) return entry('planned', '', true);
    const onImage = `${clipped.nx}×${clipped.ny} of its ${nx}×${ny} pixels are on the image`;
    switch (request.edge) {
      case 'clip':
        return entry('partial', `the stamp runs off the image edge: clipped, ${onImage} (EDGE=clip)`, true);
      case 'pad':
        return entry('partial', `the stamp runs off the image edge: ${onImage}, padded to full size (EDGE=pad)`, true);
      case 'skip':
        return entry('partial', `skipped: the stamp runs off the image edge, ${onImage} (EDGE=skip)`, false);
    }
  }
}

/** The stamp's side in pixels along x and y on this image. */
function sidePixels(geometry: { scaleX: number; scaleY: number }, size: number, unit: BulkRequest['size']['unit']): [number, number] {
  if (unit === 'pix') return [size, size];
  const degrees = unit === 'arcsec' ? size / 3600 : size;
  return [Math.max(1, roundHalfEven(degrees / geometry.scaleX)), Math.max(1, roundHalfEven(degrees / geometry.scaleY))];
}
