/**
 * Validating constructors. Every shape the rest of the module returns is built here, so the
 * invariants documented in types.ts hold: longitudes in [0, 360), latitudes in [-90, 90], radii
 * in (0, 180], polygons simple and wound as DALI 1.1 §3.3 prescribes.
 */
import type { Circle, Point, PointShape, Polygon, Range, Vec3 } from './types';
import { ShapeError } from './errors';
import { arcsIntersect, distanceToArc, makeArc } from './arcs';
import { analysePolygon } from './polygon';
import {
  BOUNDARY_TOLERANCE_RAD,
  RAD_PER_DEG,
  add,
  cross,
  dot,
  fromVector,
  norm,
  normalize,
  normalizeRa,
  scale,
  toUnitVector,
  vectorAngle,
} from './vector';

/** Polygons with more vertices skip the O(n²) self-intersection check. */
const MAX_VERTICES_CHECKED_FOR_CROSSINGS = 1000;

/** A number as DALI writes it: shortest round-trip decimal, infinities as `+Inf`/`-Inf`. */
export function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function checkLongitude(ra: number, context: string | undefined): number {
  if (!Number.isFinite(ra)) throw new ShapeError(`longitude ${formatNumber(ra)} is not a finite number`, context);
  return normalizeRa(ra);
}

function checkLatitude(dec: number, context: string | undefined): number {
  if (!(dec >= -90 && dec <= 90)) throw new ShapeError(`latitude ${formatNumber(dec)} out of range [-90, 90]`, context);
  return dec;
}

/** Checks a position; longitudes outside [0, 360) are accepted and reduced into it. */
export function makePoint(ra: number, dec: number, context?: string): Point {
  return { ra: checkLongitude(ra, context), dec: checkLatitude(dec, context) };
}

export function makePointShape(ra: number, dec: number, context?: string): PointShape {
  return { kind: 'point', ...makePoint(ra, dec, context) };
}

export function makeCircle(center: Point, radius: number, context?: string): Circle {
  const checkedCenter = makePoint(center.ra, center.dec, context);
  if (Number.isNaN(radius)) throw new ShapeError('radius NaN is not a number', context);
  if (radius <= 0) throw new ShapeError(`radius must be positive (got ${formatNumber(radius)})`, context);
  if (radius > 180) throw new ShapeError(`radius ${formatNumber(radius)} exceeds 180 degrees`, context);
  return { kind: 'circle', center: checkedCenter, radius };
}

function describe(p: Point): string {
  return `(${formatNumber(p.ra)}, ${formatNumber(p.dec)})`;
}

/**
 * Validates and normalises a polygon: consecutive repeated vertices (e.g. a closing vertex equal
 * to the first) are dropped; at least 3 distinct vertices are needed; edges may not join
 * antipodal vertices (the great circle would be undefined), fold back, or cross (DALI 1.1 §3.3
 * requires a simple polygon). Either winding is accepted: the interior is taken to be the smaller
 * region and the vertices are reordered, keeping the first, into DALI's counter-clockwise order.
 */
export function makePolygon(vertices: readonly Point[], context?: string): Polygon {
  const points: Point[] = [];
  const vectors: Vec3[] = [];
  for (const vertex of vertices) {
    const point = makePoint(vertex.ra, vertex.dec, context);
    const vector = toUnitVector(point);
    const previous = vectors[vectors.length - 1];
    if (previous !== undefined && vectorAngle(previous, vector) <= BOUNDARY_TOLERANCE_RAD) continue;
    points.push(point);
    vectors.push(vector);
  }
  while (vectors.length > 1 && vectorAngle(vectors[vectors.length - 1]!, vectors[0]!) <= BOUNDARY_TOLERANCE_RAD) {
    vectors.pop();
    points.pop();
  }
  const n = points.length;
  if (n < 3) throw new ShapeError(`polygon needs at least 3 distinct vertices (got ${n})`, context);

  let perimeter = 0;
  for (let i = 0; i < n; i++) {
    const a = vectors[i]!;
    const b = vectors[(i + 1) % n]!;
    if (norm(cross(a, b)) < 1e-12 && a.x * b.x + a.y * b.y + a.z * b.z < 0) {
      throw new ShapeError(
        `polygon edge ${i + 1} joins antipodal vertices ${describe(points[i]!)} and ${describe(points[(i + 1) % n]!)}`,
        context,
      );
    }
    perimeter += vectorAngle(a, b);
  }
  const firstPole = normalize(cross(vectors[0]!, vectors[1]!))!;
  if (vectors.every((v) => Math.abs(dot(v, firstPole)) <= BOUNDARY_TOLERANCE_RAD)) {
    throw new ShapeError('polygon has zero area (its vertices lie on one great circle)', context);
  }
  for (let i = 0; i < n; i++) {
    const previous = vectors[(i + n - 1) % n]!;
    const current = vectors[i]!;
    const next = vectors[(i + 1) % n]!;
    if (
      distanceToArc(next, makeArc(previous, current)) <= BOUNDARY_TOLERANCE_RAD ||
      distanceToArc(previous, makeArc(current, next)) <= BOUNDARY_TOLERANCE_RAD
    ) {
      throw new ShapeError(`polygon edges ${((i + n - 1) % n) + 1} and ${i + 1} fold back onto each other`, context);
    }
  }
  if (n <= MAX_VERTICES_CHECKED_FOR_CROSSINGS) {
    const arcs = vectors.map((v, i) => makeArc(v, vectors[(i + 1) % n]!));
    for (let i = 0; i < n; i++) {
      for (let j = i + 2; j < n; j++) {
        if (i === 0 && j === n - 1) continue; // adjacent through the closing edge
        if (arcsIntersect(arcs[i]!, arcs[j]!, BOUNDARY_TOLERANCE_RAD)) {
          throw new ShapeError(`polygon is self-intersecting (edges ${i + 1} and ${j + 1} cross)`, context);
        }
      }
    }
  }
  const geometry = analysePolygon(vectors);
  if (geometry.areaSr <= 1e-12 * perimeter * perimeter) {
    throw new ShapeError('polygon has zero area', context);
  }
  // DALI order has the interior on the right of each edge seen from outside (orientation −1).
  const ordered = geometry.orientation === -1 ? points : [points[0]!, ...points.slice(1).reverse()];
  return { kind: 'polygon', vertices: ordered };
}

/**
 * Validates a longitude/latitude range (the SODA 1.0 POS=RANGE shape). ±Infinity marks an unbounded
 * side. Finite longitudes are reduced into [0, 360] keeping the interval they describe
 * (e.g. -10..10 becomes 350..10, which wraps; a span of 360° or more becomes 0..360).
 */
export function makeRange(raMin: number, raMax: number, decMin: number, decMax: number, context?: string): Range {
  for (const value of [raMin, raMax, decMin, decMax]) {
    if (Number.isNaN(value)) throw new ShapeError('range bound NaN is not a number', context);
  }
  if (raMin === Infinity) throw new ShapeError('longitude lower bound cannot be +Inf', context);
  if (raMax === -Infinity) throw new ShapeError('longitude upper bound cannot be -Inf', context);
  if (decMin === Infinity) throw new ShapeError('latitude lower bound cannot be +Inf', context);
  if (decMax === -Infinity) throw new ShapeError('latitude upper bound cannot be -Inf', context);
  for (const dec of [decMin, decMax]) {
    if (Number.isFinite(dec)) checkLatitude(dec, context);
  }
  if (decMin > decMax) {
    throw new ShapeError(`latitude lower bound ${formatNumber(decMin)} exceeds upper bound ${formatNumber(decMax)}`, context);
  }
  let lower = raMin;
  let upper = raMax;
  if (Number.isFinite(lower) && Number.isFinite(upper)) {
    if (upper - lower >= 360) {
      lower = 0;
      upper = 360;
    } else {
      const unwrapped = upper > lower;
      lower = normalizeRa(lower);
      upper = normalizeRa(upper);
      if (upper === 0 && unwrapped) upper = 360;
    }
  } else {
    for (const ra of [lower, upper]) {
      if (Number.isFinite(ra) && !(ra >= 0 && ra <= 360)) {
        throw new ShapeError(`longitude ${formatNumber(ra)} out of range [0, 360] next to an unbounded side`, context);
      }
    }
  }
  return { kind: 'range', raMin: lower, raMax: upper, decMin, decMax };
}

/**
 * The STC-S / ADQL BOX as a polygon. STC 1.33 defines a box by a cross centred on
 * `center` whose arms run along the coordinate axes for half the width (longitude direction) and
 * half the height; the sides are great circles meeting the arm ends at right angles. In the
 * gnomonic projection about the centre those sides are the straight lines x = ±tan(w/2),
 * y = ±tan(h/2), so the corners are centre + (±tan(w/2))·east + (±tan(h/2))·north, normalised.
 */
export function makeBox(center: Point, width: number, height: number, context?: string): Polygon {
  const c = makePoint(center.ra, center.dec, context);
  for (const [name, size] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isFinite(size)) throw new ShapeError(`box ${name} ${formatNumber(size)} is not a finite number`, context);
    if (size <= 0) throw new ShapeError(`box ${name} must be positive (got ${formatNumber(size)})`, context);
    if (size >= 180) throw new ShapeError(`box ${name} ${formatNumber(size)} must be less than 180 degrees`, context);
  }
  const ra = c.ra * RAD_PER_DEG;
  const dec = c.dec * RAD_PER_DEG;
  const centre = toUnitVector(c);
  const east: Vec3 = { x: -Math.sin(ra), y: Math.cos(ra), z: 0 };
  const north: Vec3 = { x: -Math.sin(dec) * Math.cos(ra), y: -Math.sin(dec) * Math.sin(ra), z: Math.cos(dec) };
  const halfX = Math.tan((width / 2) * RAD_PER_DEG);
  const halfY = Math.tan((height / 2) * RAD_PER_DEG);
  const corners = [
    [halfX, -halfY],
    [halfX, halfY],
    [-halfX, halfY],
    [-halfX, -halfY],
  ].map(([x, y]) => fromVector(normalize(add(centre, add(scale(east, x!), scale(north, y!))))!));
  return makePolygon(corners, context);
}
