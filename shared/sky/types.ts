/**
 * Shape model for sky regions. All angles are degrees, positions are ICRS (longitude = RA,
 * latitude = Dec). Shapes are plain immutable data so they serialise and compare easily; build
 * them with the `make*` constructors (or the parsers) which validate and normalise them.
 */

/** A position on the sky (DALI 1.1 §3.3 `point`): `ra` in [0, 360), `dec` in [-90, 90]. */
export interface Point {
  readonly ra: number;
  readonly dec: number;
}

/** A position used as a shape (STC-S `Position`, ADQL POINT). */
export interface PointShape extends Point {
  readonly kind: 'point';
}

/** A spherical cap (DALI 1.1 §3.3 `circle`): all points within `radius` degrees of `center`. */
export interface Circle {
  readonly kind: 'circle';
  readonly center: Point;
  /** Opening angle in degrees, in (0, 180]. */
  readonly radius: number;
}

/**
 * A simple spherical polygon (DALI 1.1 §3.3 `polygon`) whose edges are the shorter great-circle
 * arcs between consecutive vertices (the last vertex joins the first).
 *
 * Normalised form (what `makePolygon` returns): the interior is the smaller of the two regions the
 * boundary separates (never more than a hemisphere), and the vertices are listed counter-clockwise
 * as seen from the centre of the sphere looking out (east to the left of north), which is the
 * winding DALI 1.1 §3.3 and STC 1.33 prescribe. Input in either winding is accepted.
 */
export interface Polygon {
  readonly kind: 'polygon';
  readonly vertices: readonly Point[];
}

/**
 * A longitude/latitude box (SODA 1.0 `POS=RANGE`, DALI interval semantics): the region
 * `decMin <= dec <= decMax` and longitude from `raMin` eastwards to `raMax`. `raMin > raMax` means
 * the interval wraps through RA 0/360. `-Infinity`/`+Infinity` mean unbounded (RANGE -Inf +Inf …):
 * an unbounded longitude side extends to 0 or 360, an unbounded latitude side to the pole. The
 * latitude edges are parallels (small circles), not great circles.
 */
export interface Range {
  readonly kind: 'range';
  readonly raMin: number;
  readonly raMax: number;
  readonly decMin: number;
  readonly decMax: number;
}

/** Any region the geometry functions accept. */
export type Shape = PointShape | Circle | Polygon | Range;

/** A 3-D Cartesian vector; positions are unit vectors (x towards RA 0, z towards the north pole). */
export interface Vec3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

/** An axis-aligned box in unit-vector space, e.g. for an SQLite R*Tree over footprints. */
export interface CartesianBox {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
  readonly zMin: number;
  readonly zMax: number;
}
