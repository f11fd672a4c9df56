/**
 * Derived geometry of spherical polygons (internal): unit-vector vertices, edge arcs, winding,
 * area, convexity. Computed once per Polygon object and cached.
 */
import type { Polygon, Vec3 } from './types';
import { type Arc, distanceToArc, makeArc } from './arcs';
import { BOUNDARY_TOLERANCE_RAD, add, cross, dot, norm, normalize, scale, sub, toUnitVector } from './vector';

export interface PolygonGeometry {
  readonly vertices: readonly Vec3[];
  /** arcs[i] runs from vertices[i] to vertices[i + 1] (cyclically). */
  readonly arcs: readonly Arc[];
  /**
   * +1 when the interior (the smaller region) lies to the left of each edge as seen from outside
   * the sphere, −1 when to the right; normalised polygons (DALI order) have −1.
   */
  readonly orientation: 1 | -1;
  /** Area of the interior in steradians, at most 2π. */
  readonly areaSr: number;
  readonly convex: boolean;
  /** For convex polygons: per-edge unit normals pointing into the interior (half-space test). */
  readonly inwardPoles: readonly Vec3[] | undefined;
}

const FULL_SPHERE_SR = 4 * Math.PI;
const cache = new WeakMap<Polygon, PolygonGeometry>();

export function polygonGeometry(polygon: Polygon): PolygonGeometry {
  let geometry = cache.get(polygon);
  if (geometry === undefined) {
    geometry = analysePolygon(polygon.vertices.map(toUnitVector));
    cache.set(polygon, geometry);
  }
  return geometry;
}

/**
 * Triple product a·(b×c) evaluated on differences from `origin` (a vertex or a point near the
 * polygon) so small polygons keep their precision: r·(a×b) = r·((a−r)×(b−r)).
 */
function tripleProductAbout(origin: Vec3, a: Vec3, b: Vec3): number {
  return dot(origin, cross(sub(a, origin), sub(b, origin)));
}

/**
 * Signed area (sr) of the region left of the boundary as seen from outside, modulo 4π: a fan of
 * signed triangles from a reference direction, each by the Van Oosterom & Strackee (1983) formula
 * tan(E/2) = r·(a×b) / (1 + r·a + a·b + b·r), which is exact for any triangle size.
 */
function signedLeftArea(vertices: readonly Vec3[]): number {
  let sum: Vec3 = { x: 0, y: 0, z: 0 };
  for (const v of vertices) sum = add(sum, v);
  const reference = normalize(sum) ?? vertices[0]!;
  let area = 0;
  for (let i = 0; i < vertices.length; i++) {
    const a = vertices[i]!;
    const b = vertices[(i + 1) % vertices.length]!;
    const numerator = tripleProductAbout(reference, a, b);
    const denominator = 1 + dot(reference, a) + dot(a, b) + dot(b, reference);
    area += 2 * Math.atan2(numerator, denominator);
  }
  return area;
}

export function analysePolygon(vertices: readonly Vec3[]): PolygonGeometry {
  const n = vertices.length;
  const arcs = vertices.map((v, i) => makeArc(v, vertices[(i + 1) % n]!));
  const signed = signedLeftArea(vertices);
  let orientation: 1 | -1;
  let areaSr: number;
  if (signed > -2 * Math.PI && signed <= 2 * Math.PI) {
    // Usual case, kept apart from the modular reduction so tiny polygons keep their precision.
    orientation = signed >= 0 ? 1 : -1;
    areaSr = Math.abs(signed);
  } else {
    const leftArea = ((signed % FULL_SPHERE_SR) + FULL_SPHERE_SR) % FULL_SPHERE_SR;
    orientation = leftArea <= 2 * Math.PI ? 1 : -1;
    areaSr = orientation === 1 ? leftArea : FULL_SPHERE_SR - leftArea;
  }
  // Convex when every vertex turns towards the interior (collinear vertices allowed).
  let convex = true;
  for (let i = 0; i < n && convex; i++) {
    const previous = vertices[(i + n - 1) % n]!;
    const current = vertices[i]!;
    const next = vertices[(i + 1) % n]!;
    const toPrevious = sub(previous, current);
    const toNext = sub(next, current);
    const turn = dot(toNext, cross(toPrevious, current)) * orientation;
    if (turn < -1e-12 * norm(toPrevious) * norm(toNext)) convex = false;
  }
  let inwardPoles: Vec3[] | undefined;
  if (convex) {
    inwardPoles = [];
    for (const arc of arcs) if (arc.pole !== undefined) inwardPoles.push(scale(arc.pole, orientation));
  }
  return { vertices, arcs, orientation, areaSr, convex, inwardPoles };
}

/** Component of v − p perpendicular to p: the direction of v as seen from p, precisely for v ≈ p. */
function tangentFrom(p: Vec3, v: Vec3): Vec3 {
  const d = sub(v, p);
  return sub(d, scale(p, dot(d, p)));
}

/**
 * Point-in-polygon on the sphere, boundary included. Convex polygons: inside every edge's
 * hemisphere. Otherwise the winding number: the azimuth swept by the boundary as seen from p is
 * ±2π when p is inside (sign given by the orientation) and 0 when outside. Limitation: a point
 * whose antipode is also inside (only possible for thin polygons spanning more than 180°) reads 0.
 */
export function polygonContainsVector(geometry: PolygonGeometry, p: Vec3): boolean {
  if (geometry.inwardPoles !== undefined) {
    for (const pole of geometry.inwardPoles) if (dot(pole, p) < -BOUNDARY_TOLERANCE_RAD) return false;
    return true;
  }
  for (const arc of geometry.arcs) if (distanceToArc(p, arc) <= BOUNDARY_TOLERANCE_RAD) return true;
  let swept = 0;
  for (const arc of geometry.arcs) {
    const ta = tangentFrom(p, arc.a);
    const tb = tangentFrom(p, arc.b);
    swept += Math.atan2(dot(p, cross(ta, tb)), dot(ta, tb));
  }
  return swept * geometry.orientation > Math.PI;
}
