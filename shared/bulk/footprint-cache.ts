/**
 * The footprints near a bulk job's positions, fetched once from the ObsCore store and kept in
 * memory so that 100,000 positions are placed without 100,000 queries.
 *
 * Fetching: the positions are grouped into cells of about a degree, and each occupied cell
 * becomes one 3-D box (the bounding box of its positions' unit vectors). One statement (per
 * 5,000 cells) joins those boxes against the footprints' R*Tree (`ivoa_obscore_rtree`, the
 * prefilter TAP and SIA use) and reads the ObsCore rows of the matching subtypes and collection:
 * its cost grows with the number of occupied cells and of images near them, not with the rows.
 *
 * Placing: the fetched footprints (s_region, ObsCore 1.1 §4.11) are bucketed in a grid of sky
 * cells about half an image wide; a position looks only at the images of its cell. Each image's
 * covering and inscribed caps settle most tests with a dot product; the rest go to shared/sky's
 * `contains` on s_region — the CONTAINS of TAP and SIA (ADQL 2.1 §4.2.3) — so the answers are its.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { OBSCORE_RTREE } from '../obscore/rtree';
import { contains, coveringCircle, parseStcs, ShapeError, skyBoundingBox, type Shape } from '../sky';

/** One ObsCore row that may hold some of the job's positions. */
export interface FootprintImage {
  /** The private row id `_id` (the R*Tree key). */
  readonly rowId: number;
  /** obs_publisher_did. */
  readonly did: string;
  /** dataproduct_subtype. */
  readonly subtype: string;
  /** obs_collection. */
  readonly collection: string;
  /** `_file`, relative to DATA_DIR. */
  readonly file: string;
  /** lsst_band, or null. */
  readonly lsstBand: string | null;
  /** em_min, em_max: metres (null: unknown). */
  readonly emMin: number | null;
  readonly emMax: number | null;
  /** t_min, t_max: MJD (null: unknown). */
  readonly tMin: number | null;
  readonly tMax: number | null;
  /** s_region, parsed. */
  readonly region: Shape;
}

/** Which rows can give a stamp at all: the job's subtypes (its own and rows' overrides) and COLLECTION. */
export interface FootprintFilter {
  readonly subtypes: readonly string[];
  /** undefined: any collection. */
  readonly collection: string | undefined;
}

const RAD = Math.PI / 180;
/** Side of the cells positions are grouped in for the R*Tree join, degrees. */
const QUERY_CELL_DEG = 1;
/** Cells per statement: keeps the bound JSON text to a few hundred kB. */
const CELLS_PER_STATEMENT = 5000;
/** Bounds of the in-memory grid's cell side, degrees: 1′ … 1°. */
const MIN_GRID_DEG = 1 / 60;
const MAX_GRID_DEG = 1;

/**
 * Equal-area-ish cells on the sphere: declination bands `side` degrees high, each cut into as
 * many right-ascension bins as fit `side` degrees wide at the band's edge nearer the pole.
 */
export class SkyCells {
  private readonly bands: number;
  /** Right-ascension bins of each band. */
  private readonly bins: Int32Array;
  /** A key is band × stride + bin. */
  private readonly stride: number;

  constructor(readonly side: number) {
    this.bands = Math.ceil(180 / side);
    this.bins = new Int32Array(this.bands);
    for (let band = 0; band < this.bands; band++) {
      const low = -90 + band * side;
      const high = Math.min(90, low + side);
      const nearPole = Math.max(Math.abs(low), Math.abs(high));
      this.bins[band] = Math.max(1, Math.floor((360 * Math.max(0, Math.cos(nearPole * RAD))) / side));
    }
    this.stride = Math.max(...this.bins) + 1;
  }

  private band(dec: number): number {
    return Math.min(this.bands - 1, Math.max(0, Math.floor((dec + 90) / this.side)));
  }

  private bin(band: number, ra: number): number {
    const bins = this.bins[band]!;
    return Math.min(bins - 1, Math.max(0, Math.floor((ra / 360) * bins)));
  }

  /** The cell of a position (ra in [0, 360), dec in [-90, 90]). */
  cellOf(ra: number, dec: number): number {
    const band = this.band(dec);
    return band * this.stride + this.bin(band, ra);
  }

  /**
   * Every cell that meets a longitude/latitude box (shared/sky's skyBoundingBox: raMin > raMax
   * wraps through 0, 0..360 is every longitude).
   */
  cellsOf(box: { raMin: number; raMax: number; decMin: number; decMax: number }): number[] {
    const cells: number[] = [];
    const full = box.raMax - box.raMin >= 360;
    for (let band = this.band(box.decMin); band <= this.band(box.decMax); band++) {
      const bins = this.bins[band]!;
      const push = (from: number, to: number): void => {
        for (let bin = from; bin <= to; bin++) cells.push(band * this.stride + bin);
      };
      if (full) push(0, bins - 1);
      else {
        const first = this.bin(band, ((box.raMin % 360) + 360) % 360);
        const last = this.bin(band, ((box.raMax % 360) + 360) % 360);
        if (first <= last && box.raMin <= box.raMax) push(first, last);
        else {
          // Wraps through RA 0 (or a box that crosses it within one bin: take the band).
          push(first, bins - 1);
          push(0, Math.min(last, first - 1));
        }
      }
    }
    return cells;
  }
}

/** Unit vector of a position (x towards RA 0, z towards the north pole), as the R*Tree keys it. */
function unitVector(ra: number, dec: number): [number, number, number] {
  const cosDec = Math.cos(dec * RAD);
  return [cosDec * Math.cos(ra * RAD), cosDec * Math.sin(ra * RAD), Math.sin(dec * RAD)];
}

/** Grows a box [xmin, xmax, ymin, ymax, zmin, zmax] of a map by a point, or starts it. */
function extend(boxes: Map<number, number[]>, key: number, x: number, y: number, z: number): void {
  const box = boxes.get(key);
  if (box === undefined) boxes.set(key, [x, x, y, y, z, z]);
  else {
    if (x < box[0]!) box[0] = x;
    if (x > box[1]!) box[1] = x;
    if (y < box[2]!) box[2] = y;
    if (y > box[3]!) box[3] = y;
    if (z < box[4]!) box[4] = z;
    if (z > box[5]!) box[5] = z;
  }
}

/**
 * The bounding boxes [xmin, xmax, ymin, ymax, zmin, zmax] of the positions' unit vectors, one per
 * occupied degree cell. An R*Tree probe costs about as much as ten hits (1M-row store with 16 KiB
 * pages: ~14 µs a probe), so boxes are kept few rather than tight: 100,000 all-sky positions on
 * that store take 37k probes and 385k hits (1.1 s); tenth-of-a-degree boxes for sparse cells took
 * 99k probes and 171k hits (2.4 s).
 */
export function positionBoxes(positions: readonly { readonly ra: number; readonly dec: number }[]): number[][] {
  const cells = new SkyCells(QUERY_CELL_DEG);
  const boxes = new Map<number, number[]>();
  for (const { ra, dec } of positions) {
    const [x, y, z] = unitVector(ra, dec);
    extend(boxes, cells.cellOf(ra, dec), x, y, z);
  }
  return [...boxes.values()];
}

interface Row {
  _id: number;
  obs_publisher_did: string;
  dataproduct_subtype: string;
  obs_collection: string;
  _file: string;
  lsst_band: string | null;
  em_min: number | null;
  em_max: number | null;
  t_min: number | null;
  t_max: number | null;
  s_region: string | null;
}

/**
 * The rows whose R*Tree box meets a box of the positions, of one of the subtypes (and the
 * collection), with a file to cut. `json_each` carries the boxes, so the statement needs no
 * temporary table and runs on a read-only or query_only connection. CROSS JOIN keeps SQLite's
 * planner from starting at the subtype index (every row of a subtype) instead of the boxes.
 */
const CANDIDATES_SQL =
  'SELECT o._id, o.obs_publisher_did, o.dataproduct_subtype, o.obs_collection, o._file, o.lsst_band, ' +
  'o.em_min, o.em_max, o.t_min, o.t_max, o.s_region FROM ivoa_obscore AS o WHERE o._id IN (' +
  `SELECT r.id FROM json_each(@boxes) AS j CROSS JOIN "${OBSCORE_RTREE}" AS r ` +
  'WHERE r.xmin <= j.value ->> 1 AND r.xmax >= j.value ->> 0 AND r.ymin <= j.value ->> 3 AND r.ymax >= j.value ->> 2 ' +
  'AND r.zmin <= j.value ->> 5 AND r.zmax >= j.value ->> 4) ' +
  'AND o.dataproduct_subtype IN (SELECT value FROM json_each(@subtypes)) AND (@collection IS NULL OR o.obs_collection = @collection) ' +
  'AND o._file IS NOT NULL AND o.s_region IS NOT NULL';

/**
 * The images whose footprint box meets the positions' boxes, ordered by row id. A row whose
 * s_region cannot be read is left out: no position query (TAP, SIA) can find it either.
 */
export function loadFootprints(
  db: BetterSqlite3.Database,
  positions: readonly { readonly ra: number; readonly dec: number }[],
  filter: FootprintFilter,
): FootprintImage[] {
  if (positions.length === 0 || filter.subtypes.length === 0) return [];
  const boxes = positionBoxes(positions);
  const statement = db.prepare(CANDIDATES_SQL);
  const byId = new Map<number, FootprintImage>();
  const subtypes = JSON.stringify(filter.subtypes);
  for (let start = 0; start < boxes.length; start += CELLS_PER_STATEMENT) {
    const chunk = JSON.stringify(boxes.slice(start, start + CELLS_PER_STATEMENT));
    for (const row of statement.iterate({ boxes: chunk, subtypes, collection: filter.collection ?? null }) as IterableIterator<Row>) {
      if (byId.has(row._id) || row.s_region === null) continue;
      let region: Shape;
      try {
        region = parseStcs(row.s_region, 's_region');
      } catch (err) {
        if (err instanceof ShapeError) continue;
        throw err;
      }
      byId.set(row._id, {
        rowId: row._id,
        did: row.obs_publisher_did,
        subtype: row.dataproduct_subtype,
        collection: row.obs_collection,
        file: row._file,
        lsstBand: row.lsst_band,
        emMin: row.em_min,
        emMax: row.em_max,
        tMin: row.t_min,
        tMax: row.t_max,
        region,
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.rowId - b.rowId);
}

/** The median of the images' sizes (their bounding boxes' declination extent), degrees. */
function typicalSize(boxes: readonly { decMin: number; decMax: number }[]): number {
  const sizes = boxes.map((b) => b.decMax - b.decMin).sort((a, b) => a - b);
  return sizes[Math.floor(sizes.length / 2)] ?? MAX_GRID_DEG;
}

/** Caps are widened (outer) and narrowed (inner) by this much: rounding never changes an answer. */
const CAP_MARGIN_RAD = 1e-9;

/**
 * Two caps around an image's footprint that settle most containment tests with one dot product:
 * outside the covering cap the position is outside; inside the inscribed cap it is inside. The
 * inscribed cap's radius is the centre's distance to the nearest edge's great circle: a cap
 * that meets none of the great circles the boundary lies on, around an inside point, is inside.
 */
interface Caps {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  /** cos of the covering radius (widened): a smaller dot product is outside. */
  readonly cosOuter: number;
  /** cos of the inscribed radius (narrowed), or 2 when there is none: a larger dot product is inside. */
  readonly cosInner: number;
}

function capsOf(region: Shape): Caps {
  const cover = coveringCircle(region);
  const [x, y, z] = unitVector(cover.center.ra, cover.center.dec);
  const cosOuter = Math.cos(Math.min(Math.PI, cover.radius * RAD + CAP_MARGIN_RAD));
  let cosInner = 2;
  if (region.kind === 'polygon' && contains(region, cover.center)) {
    const vertices = region.vertices.map((v) => unitVector(v.ra, v.dec));
    let sinNearest = 1;
    vertices.forEach(([ax, ay, az], i) => {
      const [bx, by, bz] = vertices[(i + 1) % vertices.length]!;
      // The edge's pole a × b: the sine of the distance to its great circle is |c · pole| / |pole|.
      const px = ay * bz - az * by;
      const py = az * bx - ax * bz;
      const pz = ax * by - ay * bx;
      const length = Math.hypot(px, py, pz);
      if (length > 0) sinNearest = Math.min(sinNearest, Math.abs(x * px + y * py + z * pz) / length);
    });
    const inner = Math.asin(sinNearest) - CAP_MARGIN_RAD;
    if (inner > 0) cosInner = Math.cos(inner);
  }
  return { x, y, z, cosOuter, cosInner };
}

/** The images in memory, bucketed by sky cell: which of them hold a position. */
export class FootprintIndex {
  private readonly cells: SkyCells;
  private readonly buckets = new Map<number, number[]>();
  private readonly caps: readonly Caps[];

  constructor(readonly images: readonly FootprintImage[]) {
    const boxes = images.map((image) => skyBoundingBox(image.region));
    this.caps = images.map((image) => capsOf(image.region));
    // Cells about half an image wide: a position sees the few images of its cell, and an image
    // lands in a handful of cells.
    const side = Math.min(MAX_GRID_DEG, Math.max(MIN_GRID_DEG, typicalSize(boxes) / 2));
    this.cells = new SkyCells(side);
    boxes.forEach((box, index) => {
      for (const cell of this.cells.cellsOf(box)) {
        const bucket = this.buckets.get(cell);
        if (bucket === undefined) this.buckets.set(cell, [index]);
        else bucket.push(index);
      }
    });
  }

  /**
   * Indices (into `images`, ascending) of the images whose footprint contains the position
   * (boundary included, as shared/sky's `contains`) and that `accept` lets through.
   */
  covering(ra: number, dec: number, accept: (image: FootprintImage) => boolean): number[] {
    const bucket = this.buckets.get(this.cells.cellOf(ra, dec));
    if (bucket === undefined) return [];
    const [px, py, pz] = unitVector(ra, dec);
    let point: { ra: number; dec: number } | undefined;
    const found: number[] = [];
    for (const index of bucket) {
      const caps = this.caps[index]!;
      const cos = px * caps.x + py * caps.y + pz * caps.z;
      if (cos < caps.cosOuter) continue;
      const image = this.images[index]!;
      if (!accept(image)) continue;
      if (cos > caps.cosInner || contains(image.region, (point ??= { ra, dec }))) found.push(index);
    }
    return found;
  }
}
