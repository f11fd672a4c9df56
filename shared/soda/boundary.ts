/**
 * The outline of a SODA region (SODA 1.0 §3.3.1: CIRCLE, RANGE, POLYGON) as arcs of circles on
 * the unit sphere, the parts of those arcs near an image, and points along them. Circles are
 * small circles about their centre, polygon edges and RANGE meridians are great circles, RANGE
 * latitude edges are parallels (small circles about the pole). Pure spherical geometry.
 */
import { type Circle, type Polygon, type Range, type Vec3, skyBoundingBox, toUnitVector } from '../sky';

const RAD = Math.PI / 180;
const TWO_PI = 2 * Math.PI;
const GREAT = Math.PI / 2;
const X: Vec3 = { x: 1, y: 0, z: 0 };
const Y: Vec3 = { x: 0, y: 1, z: 0 };
const Z: Vec3 = { x: 0, y: 0, z: 1 };

/**
 * The points P(φ) = cos r·axis + sin r·(cos φ·e1 + sin φ·e2) for φ from `from` to `to`
 * (radians, to − from ≤ 2π): an arc of the circle of angular radius r about `axis`, where
 * axis, e1, e2 are orthonormal. r = π/2 is a great circle.
 */
export interface BoundaryArc {
  readonly axis: Vec3;
  readonly radius: number;
  readonly e1: Vec3;
  readonly e2: Vec3;
  readonly from: number;
  readonly to: number;
}

function dot(a: Vec3, b: Vec3): number {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return { x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x };
}

function unit(a: Vec3): Vec3 {
  const n = Math.hypot(a.x, a.y, a.z);
  return { x: a.x / n, y: a.y / n, z: a.z / n };
}

/** The great-circle edge from a to b, the shorter way (DALI 1.1 §3.3 polygon edges). */
function greatArc(a: Vec3, b: Vec3): BoundaryArc {
  const normal = cross(a, b);
  const axis = unit(normal);
  return { axis, radius: GREAT, e1: a, e2: cross(axis, a), from: 0, to: Math.atan2(Math.hypot(normal.x, normal.y, normal.z), dot(a, b)) };
}

function circleBoundary(circle: Circle): BoundaryArc[] {
  const { ra, dec } = circle.center;
  const a = ra * RAD;
  const d = dec * RAD;
  const east: Vec3 = { x: -Math.sin(a), y: Math.cos(a), z: 0 };
  const north: Vec3 = { x: -Math.sin(d) * Math.cos(a), y: -Math.sin(d) * Math.sin(a), z: Math.cos(d) };
  return [{ axis: toUnitVector(circle.center), radius: circle.radius * RAD, e1: east, e2: north, from: 0, to: TWO_PI }];
}

function polygonBoundary(polygon: Polygon): BoundaryArc[] {
  const vectors = polygon.vertices.map(toUnitVector);
  return vectors.map((v, i) => greatArc(v, vectors[(i + 1) % vectors.length]!));
}

/**
 * Meridian edges (unless the range spans all longitudes) and parallel edges (unless at a pole).
 * skyBoundingBox of a Range is the range itself with ±Inf resolved to 0/360 and ±90 (SODA 1.0
 * §3.3.1: open sides).
 */
function rangeBoundary(range: Range): BoundaryArc[] {
  const box = skyBoundingBox(range);
  const start = box.raMin;
  const width = box.raMax - box.raMin + (box.raMax < box.raMin ? 360 : 0);
  const arcs: BoundaryArc[] = [];
  if (width < 360) {
    for (const lon of [start, start + width]) {
      const equator: Vec3 = { x: Math.cos(lon * RAD), y: Math.sin(lon * RAD), z: 0 };
      arcs.push({ axis: cross(equator, Z), radius: GREAT, e1: equator, e2: Z, from: box.decMin * RAD, to: box.decMax * RAD });
    }
  }
  const latitudes = box.decMin === box.decMax ? [box.decMin] : [box.decMin, box.decMax];
  for (const lat of latitudes) {
    if (Math.abs(lat) >= 90) continue;
    arcs.push({ axis: Z, radius: (90 - lat) * RAD, e1: X, e2: Y, from: start * RAD, to: (start + width) * RAD });
  }
  return arcs;
}

/** The whole outline of the region. */
export function shapeBoundary(shape: Circle | Polygon | Range): BoundaryArc[] {
  switch (shape.kind) {
    case 'circle':
      return circleBoundary(shape);
    case 'polygon':
      return polygonBoundary(shape);
    case 'range':
      return rangeBoundary(shape);
  }
}

/**
 * The parameter intervals [u, v] of the arc whose points lie within angular distance ρ of
 * `center` (cos ρ given). Along the arc, center·P(φ) = cos r (center·axis) + K cos(φ − φc), so
 * the points within ρ form one window of φ, repeated every 2π.
 */
export function arcWithinCap(arc: BoundaryArc, center: Vec3, cosReach: number): [number, number][] {
  const c1 = dot(center, arc.e1);
  const c2 = dot(center, arc.e2);
  const offset = Math.cos(arc.radius) * dot(center, arc.axis);
  const amplitude = Math.sin(arc.radius) * Math.hypot(c1, c2);
  const threshold = cosReach - offset;
  if (threshold > amplitude) return [];
  if (threshold <= -amplitude) return [[arc.from, arc.to]];
  const phase = Math.atan2(c2, c1);
  const half = Math.acos(threshold / amplitude);
  const out: [number, number][] = [];
  for (let turn = Math.floor((arc.from - phase - half) / TWO_PI); phase - half + turn * TWO_PI <= arc.to; turn++) {
    const u = Math.max(arc.from, phase - half + turn * TWO_PI);
    const v = Math.min(arc.to, phase + half + turn * TWO_PI);
    if (u <= v) out.push([u, v]);
  }
  return out;
}

/** Points on the unit sphere as three coordinate arrays. */
export interface UnitVectors {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly z: Float64Array;
}

/**
 * Points of the arc from φ = u to φ = v, both ends included, at most `step` apart and close
 * enough that no chord strays more than `tolerance` from the arc (angles in radians), as unit
 * vectors (a WCS projects them without going through RA/Dec: CelestialWcs.unitVectorsToPixels).
 */
export function sampleArc(arc: BoundaryArc, u: number, v: number, step: number, tolerance: number): UnitVectors {
  const sinR = Math.sin(arc.radius);
  const cosR = Math.cos(arc.radius);
  // A chord of a circle of radius sin r spanning Δφ strays sin r · (1 − cos(Δφ/2)) from it.
  const maxTurn = tolerance >= sinR ? Math.PI / 2 : 2 * Math.acos(1 - tolerance / sinR);
  const n = Math.max(1, Math.ceil((sinR * (v - u)) / step), Math.ceil((v - u) / maxTurn));
  const { axis, e1, e2 } = arc;
  const x = new Float64Array(n + 1);
  const y = new Float64Array(n + 1);
  const z = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const phi = u + ((v - u) * i) / n;
    const c = sinR * Math.cos(phi);
    const s = sinR * Math.sin(phi);
    // Normalised as fromVector's angles would have made it (|P| = 1 up to rounding).
    const px = cosR * axis.x + c * e1.x + s * e2.x;
    const py = cosR * axis.y + c * e1.y + s * e2.y;
    const pz = cosR * axis.z + c * e1.z + s * e2.z;
    const norm = Math.sqrt(px * px + py * py + pz * pz);
    x[i] = px / norm;
    y[i] = py / norm;
    z[i] = pz / norm;
  }
  return { x, y, z };
}
