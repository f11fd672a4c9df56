import { fromVector, makePolygon, toUnitVector } from '../../shared/sky';
import type { Point, Polygon } from '../../shared/sky';

export const p = (ra: number, dec: number): Point => ({ ra, dec });

/** A polygon from flat ra, dec, ra, dec, ... coordinates. */
export const poly = (...coords: number[]): Polygon => {
  const vertices: Point[] = [];
  for (let i = 0; i < coords.length; i += 2) vertices.push(p(coords[i]!, coords[i + 1]!));
  return makePolygon(vertices);
};

/** Points evenly spaced along the great-circle arc a→b (slerp), endpoints included. */
export function pointsAlongArc(a: Point, b: Point, count: number): Point[] {
  const va = toUnitVector(a);
  const vb = toUnitVector(b);
  const cosine = va.x * vb.x + va.y * vb.y + va.z * vb.z;
  const angle = Math.acos(Math.max(-1, Math.min(1, cosine)));
  const points: Point[] = [];
  for (let i = 0; i <= count; i++) {
    const t = i / count;
    const wa = Math.sin((1 - t) * angle) / Math.sin(angle);
    const wb = Math.sin(t * angle) / Math.sin(angle);
    points.push(fromVector({ x: wa * va.x + wb * vb.x, y: wa * va.y + wb * vb.y, z: wa * va.z + wb * vb.z }));
  }
  return points;
}

/** Points along every edge of a closed vertex list. */
export function pointsOnEdges(vertices: readonly Point[], perEdge: number): Point[] {
  return vertices.flatMap((v, i) => pointsAlongArc(v, vertices[(i + 1) % vertices.length]!, perEdge));
}

/** The great-circle midpoint of a and b. */
export function midpoint(a: Point, b: Point): Point {
  const va = toUnitVector(a);
  const vb = toUnitVector(b);
  return fromVector({ x: va.x + vb.x, y: va.y + vb.y, z: va.z + vb.z });
}

/** Points on the boundary of a circle of `radius` degrees about `center`, at `count` azimuths. */
export function pointsOnCircle(center: Point, radius: number, count: number): Point[] {
  const c = toUnitVector(center);
  const ra = (center.ra * Math.PI) / 180;
  const dec = (center.dec * Math.PI) / 180;
  const east = { x: -Math.sin(ra), y: Math.cos(ra), z: 0 };
  const north = { x: -Math.sin(dec) * Math.cos(ra), y: -Math.sin(dec) * Math.sin(ra), z: Math.cos(dec) };
  const r = (radius * Math.PI) / 180;
  const points: Point[] = [];
  for (let i = 0; i < count; i++) {
    const az = (2 * Math.PI * i) / count;
    const s = Math.sin(r);
    points.push(
      fromVector({
        x: Math.cos(r) * c.x + s * (Math.cos(az) * north.x + Math.sin(az) * east.x),
        y: Math.cos(r) * c.y + s * (Math.cos(az) * north.y + Math.sin(az) * east.y),
        z: Math.cos(r) * c.z + s * (Math.cos(az) * north.z + Math.sin(az) * east.z),
      }),
    );
  }
  return points;
}
