import type { Point, Vec3 } from './types';

export const DEG_PER_RAD = 180 / Math.PI;
export const RAD_PER_DEG = Math.PI / 180;
/** Square degrees per steradian, (180/π)². */
export const SQ_DEG_PER_SR = DEG_PER_RAD * DEG_PER_RAD;

/**
 * Points closer than this to a shape's boundary count as on it, and shapes are closed (boundary
 * included). 1e-10° ≈ 0.4 µas: far below any astronomical precision, far above double rounding
 * of unit vectors (~1e-16 rad).
 */
export const BOUNDARY_TOLERANCE_DEG = 1e-10;
export const BOUNDARY_TOLERANCE_RAD = BOUNDARY_TOLERANCE_DEG * RAD_PER_DEG;

/** Longitude reduced into [0, 360). */
export function normalizeRa(ra: number): number {
  let r = ra % 360;
  if (r < 0) r += 360;
  // -1e-20 % 360 + 360 rounds to 360 exactly.
  return r >= 360 ? 0 : r;
}

/** Signed longitude difference b − a reduced into (−180, 180]. */
export function raDifference(a: number, b: number): number {
  let d = (b - a) % 360;
  if (d <= -180) d += 360;
  else if (d > 180) d -= 360;
  return d;
}

export function toUnitVector(p: Point): Vec3 {
  const ra = p.ra * RAD_PER_DEG;
  const dec = p.dec * RAD_PER_DEG;
  const c = Math.cos(dec);
  return { x: c * Math.cos(ra), y: c * Math.sin(ra), z: Math.sin(dec) };
}

/** Direction of any non-zero vector as (ra, dec); atan2 for both keeps full precision at the poles. */
export function fromVector(v: Vec3): Point {
  const rho = Math.hypot(v.x, v.y);
  const dec = Math.atan2(v.z, rho) * DEG_PER_RAD;
  const ra = rho === 0 ? 0 : normalizeRa(Math.atan2(v.y, v.x) * DEG_PER_RAD);
  return { ra, dec };
}

export function dot(a: Vec3, b: Vec3): number {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return { x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x };
}

export function norm(a: Vec3): number {
  return Math.hypot(a.x, a.y, a.z);
}

export function scale(a: Vec3, k: number): Vec3 {
  return { x: a.x * k, y: a.y * k, z: a.z * k };
}

export function add(a: Vec3, b: Vec3): Vec3 {
  return { x: a.x + b.x, y: a.y + b.y, z: a.z + b.z };
}

export function sub(a: Vec3, b: Vec3): Vec3 {
  return { x: a.x - b.x, y: a.y - b.y, z: a.z - b.z };
}

export function negate(a: Vec3): Vec3 {
  return { x: -a.x, y: -a.y, z: -a.z };
}

/** Unit vector along `a`, or undefined for a (numerically) zero vector. */
export function normalize(a: Vec3): Vec3 | undefined {
  const n = norm(a);
  return n > 1e-300 ? scale(a, 1 / n) : undefined;
}

/** Angle between two unit vectors in radians; atan2(|a×b|, a·b) is accurate at all separations. */
export function vectorAngle(a: Vec3, b: Vec3): number {
  return Math.atan2(norm(cross(a, b)), dot(a, b));
}

/**
 * Great-circle distance in degrees (Vincenty's special case of the haversine family: the atan2
 * form stays accurate for coincident, tiny and antipodal separations alike).
 */
export function angularDistance(a: Point, b: Point): number {
  const lat1 = a.dec * RAD_PER_DEG;
  const lat2 = b.dec * RAD_PER_DEG;
  const dLon = raDifference(a.ra, b.ra) * RAD_PER_DEG;
  const sinLat1 = Math.sin(lat1);
  const cosLat1 = Math.cos(lat1);
  const sinLat2 = Math.sin(lat2);
  const cosLat2 = Math.cos(lat2);
  const sinDLon = Math.sin(dLon);
  const cosDLon = Math.cos(dLon);
  const num1 = cosLat2 * sinDLon;
  const num2 = cosLat1 * sinLat2 - sinLat1 * cosLat2 * cosDLon;
  const den = sinLat1 * sinLat2 + cosLat1 * cosLat2 * cosDLon;
  return Math.atan2(Math.hypot(num1, num2), den) * DEG_PER_RAD;
}
