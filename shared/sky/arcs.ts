/**
 * Great-circle arc primitives on unit vectors (internal). An arc is the shorter great-circle path
 * between two vertices, as DALI 1.1 §3.3 defines polygon edges; arcs are therefore < 180°.
 */
import type { Vec3 } from './types';
import { add, cross, dot, negate, norm, normalize, scale, sub, vectorAngle } from './vector';

export interface Arc {
  readonly a: Vec3;
  readonly b: Vec3;
  /** Unit normal a×b/|a×b| (the arc runs counter-clockwise about it); undefined when a ≈ b. */
  readonly pole: Vec3 | undefined;
}

export function makeArc(a: Vec3, b: Vec3): Arc {
  return { a, b, pole: normalize(cross(a, b)) };
}

/**
 * Whether `x`, a vector on (or within `tolerance` radians of) the arc's great circle, lies between
 * the endpoints. (a×x)·pole and (x×b)·pole are the sines of the angles a→x and x→b along the
 * circle; the midpoint test rejects the antipodal candidate that those sines cannot tell apart.
 */
export function isWithinArc(arc: Arc, x: Vec3, tolerance: number): boolean {
  const pole = arc.pole;
  if (pole === undefined) return vectorAngle(arc.a, x) <= tolerance;
  const xn = normalize(x);
  if (xn === undefined) return false;
  return dot(add(arc.a, arc.b), xn) > 0 && dot(cross(arc.a, xn), pole) >= -tolerance && dot(cross(xn, arc.b), pole) >= -tolerance;
}

/** Minimum angular distance (radians) from unit vector `p` to any point of the arc. */
export function distanceToArc(p: Vec3, arc: Arc): number {
  const pole = arc.pole;
  if (pole !== undefined) {
    const s = dot(p, pole);
    const projected = sub(p, scale(pole, s));
    const projectedLength = norm(projected);
    // The nearest point of the whole great circle is p's projection; it is the nearest point of
    // the arc only when it falls between the endpoints (distance grows monotonically away from it).
    if (projectedLength > 1e-15 && isWithinArc(arc, projected, 0)) {
      return Math.atan2(Math.abs(s), projectedLength);
    }
  }
  return Math.min(vectorAngle(p, arc.a), vectorAngle(p, arc.b));
}

/** Maximum angular distance (radians) from `p` to the arc: the antipode's minimum, reflected. */
export function farthestDistanceOnArc(p: Vec3, arc: Arc): number {
  return Math.PI - distanceToArc(negate(p), arc);
}

/** Whether two arcs share at least one point (touching within `tolerance` radians counts). */
export function arcsIntersect(first: Arc, second: Arc, tolerance: number): boolean {
  if (first.pole === undefined) return distanceToArc(first.a, second) <= tolerance;
  if (second.pole === undefined) return distanceToArc(second.a, first) <= tolerance;
  // Quick reject: one arc entirely on one side of the other's great circle.
  const sideC = dot(first.pole, second.a);
  const sideD = dot(first.pole, second.b);
  if ((sideC > tolerance && sideD > tolerance) || (sideC < -tolerance && sideD < -tolerance)) return false;
  const sideA = dot(second.pole, first.a);
  const sideB = dot(second.pole, first.b);
  if ((sideA > tolerance && sideB > tolerance) || (sideA < -tolerance && sideB < -tolerance)) return false;
  // Touching at or near an endpoint (also the only test for arcs on one great circle).
  if (
    distanceToArc(first.a, second) <= tolerance ||
    distanceToArc(first.b, second) <= tolerance ||
    distanceToArc(second.a, first) <= tolerance ||
    distanceToArc(second.b, first) <= tolerance
  ) {
    return true;
  }
  // The two great circles meet at ±(pole1 × pole2); the arcs cross if one of those is on both.
  const line = normalize(cross(first.pole, second.pole));
  if (line === undefined) return false;
  for (const x of [line, negate(line)]) {
    if (isWithinArc(first, x, tolerance) && isWithinArc(second, x, tolerance)) return true;
  }
  return false;
}

/** Smallest and largest value of `p·axis` over the arc (for bounding boxes). */
export function arcExtentAlong(arc: Arc, axis: Vec3): { min: number; max: number } {
  let min = Math.min(dot(arc.a, axis), dot(arc.b, axis));
  let max = Math.max(dot(arc.a, axis), dot(arc.b, axis));
  const pole = arc.pole;
  if (pole !== undefined) {
    // The extremes of p·axis on the great circle lie at ±(axis projected onto its plane).
    const top = normalize(sub(axis, scale(pole, dot(axis, pole))));
    if (top !== undefined) {
      if (isWithinArc(arc, top, 0)) max = Math.max(max, dot(top, axis));
      const bottom = negate(top);
      if (isWithinArc(arc, bottom, 0)) min = Math.min(min, dot(bottom, axis));
    }
  }
  return { min, max };
}

export interface ParallelCrossing {
  /** Points where the arc meets the parallel z = sin(latitude). */
  readonly points: readonly Vec3[];
  /** The arc runs along the parallel (only possible for the equator, the one great-circle parallel). */
  readonly alongParallel: boolean;
}

/**
 * Where an arc meets the parallel of latitude `latitudeRad`. Parametrising the arc as
 * p(t) = a·cos t + w·sin t (w the unit tangent at a), z(t) = R·cos(t − α) and the crossings solve
 * R·cos(t − α) = sin(latitude) for t in [0, length].
 */
export function arcParallelCrossing(arc: Arc, latitudeRad: number, tolerance: number): ParallelCrossing {
  const target = Math.sin(latitudeRad);
  const pole = arc.pole;
  if (pole === undefined) {
    return { points: Math.abs(arc.a.z - target) <= tolerance ? [arc.a] : [], alongParallel: false };
  }
  const w = cross(pole, arc.a);
  const amplitude = Math.hypot(arc.a.z, w.z);
  if (amplitude < 1e-15) {
    return { points: [], alongParallel: Math.abs(target) <= tolerance };
  }
  if (Math.abs(target) > amplitude + tolerance) return { points: [], alongParallel: false };
  const phase = Math.atan2(w.z, arc.a.z);
  const halfWidth = Math.acos(Math.max(-1, Math.min(1, target / amplitude)));
  const length = vectorAngle(arc.a, arc.b);
  const points: Vec3[] = [];
  for (const t0 of [phase - halfWidth, phase + halfWidth]) {
    let t = t0 % (2 * Math.PI);
    if (t < 0) t += 2 * Math.PI;
    if (t > 2 * Math.PI - tolerance) t -= 2 * Math.PI;
    if (t >= -tolerance && t <= length + tolerance) {
      points.push(add(scale(arc.a, Math.cos(t)), scale(w, Math.sin(t))));
    }
  }
  return { points, alongParallel: false };
}
