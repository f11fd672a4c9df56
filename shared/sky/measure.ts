/**
 * Areas and bounding regions. Bounding boxes are padded outwards by a hair (far below any
 * astronomical precision) so rounding can never leave a point of the shape outside them.
 */
import type { CartesianBox, Circle, Point, Polygon, Range, Shape, Vec3 } from './types';
import { arcExtentAlong, farthestDistanceOnArc } from './arcs';
import { polygonContainsVector, polygonGeometry } from './polygon';
import { distanceToRange, rangeLatitudes, rangeLongitudes } from './range';
import { makeCircle } from './shapes';
import {
  BOUNDARY_TOLERANCE_DEG,
  DEG_PER_RAD,
  RAD_PER_DEG,
  SQ_DEG_PER_SR,
  add,
  fromVector,
  negate,
  normalize,
  normalizeRa,
  raDifference,
  toUnitVector,
} from './vector';

/** Outward padding of (ra, dec) boxes in degrees (latitude; longitude is widened by 1/cos dec). */
const SKY_BOX_PADDING_DEG = 1e-9;
/** Outward padding of unit-vector boxes; exceeds BOUNDARY_TOLERANCE_RAD (~1.7e-12). */
const CARTESIAN_BOX_PADDING = 1e-11;

const AXES: readonly Vec3[] = [
  { x: 1, y: 0, z: 0 },
  { x: 0, y: 1, z: 0 },
  { x: 0, y: 0, z: 1 },
];
const NORTH_POLE: Vec3 = { x: 0, y: 0, z: 1 };
const SOUTH_POLE: Vec3 = { x: 0, y: 0, z: -1 };

/**
 * Area in square degrees: cap area 2π(1 − cos r) = 4π sin²(r/2) for circles (the half-angle form
 * keeps small caps precise), the spherical excess for polygons, Δλ·(sin δmax − sin δmin) for ranges.
 */
export function area(shape: Shape): number {
  switch (shape.kind) {
    case 'point':
      return 0;
    case 'circle': {
      const s = Math.sin((shape.radius * RAD_PER_DEG) / 2);
      return 4 * Math.PI * s * s * SQ_DEG_PER_SR;
    }
    case 'polygon':
      return polygonGeometry(shape).areaSr * SQ_DEG_PER_SR;
    case 'range': {
      const lat = rangeLatitudes(shape);
      const lon = rangeLongitudes(shape);
      const band = Math.sin(lat.max * RAD_PER_DEG) - Math.sin(lat.min * RAD_PER_DEG);
      return lon.width * RAD_PER_DEG * band * SQ_DEG_PER_SR;
    }
  }
}

function clampLatitude(dec: number): number {
  return Math.max(-90, Math.min(90, dec));
}

/** A box from a longitude interval given as centre-free bounds, widening RA by the padding. */
function skyBox(raLow: number, raHigh: number, decMin: number, decMax: number): Range {
  const paddedDecMin = clampLatitude(decMin - SKY_BOX_PADDING_DEG);
  const paddedDecMax = clampLatitude(decMax + SKY_BOX_PADDING_DEG);
  const worstCos = Math.cos(Math.max(Math.abs(paddedDecMin), Math.abs(paddedDecMax)) * RAD_PER_DEG);
  const raPadding = SKY_BOX_PADDING_DEG / Math.max(worstCos, 1e-12);
  const low = raLow - raPadding;
  const high = raHigh + raPadding;
  if (high - low >= 360) return { kind: 'range', raMin: 0, raMax: 360, decMin: paddedDecMin, decMax: paddedDecMax };
  const raMin = normalizeRa(low);
  let raMax = normalizeRa(high);
  if (raMax === 0 && high > low) raMax = 360;
  return { kind: 'range', raMin, raMax, decMin: paddedDecMin, decMax: paddedDecMax };
}

function fullLongitudeBox(decMin: number, decMax: number): Range {
  return { kind: 'range', raMin: 0, raMax: 360, decMin: clampLatitude(decMin), decMax: clampLatitude(decMax) };
}

/**
 * The smallest longitude/latitude box containing the shape (slightly padded), as a Range: raMin >
 * raMax when it wraps through 0/360, 0..360 when the shape surrounds a pole.
 */
export function skyBoundingBox(shape: Shape): Range {
  switch (shape.kind) {
    case 'point':
      return skyBox(shape.ra, shape.ra, shape.dec, shape.dec);
    case 'circle':
      return circleSkyBox(shape);
    case 'polygon':
      return polygonSkyBox(shape);
    case 'range': {
      const lon = rangeLongitudes(shape);
      const lat = rangeLatitudes(shape);
      if (lon.width >= 360) return fullLongitudeBox(lat.min, lat.max);
      const end = lon.start + lon.width;
      return { kind: 'range', raMin: lon.start, raMax: end > 360 ? end - 360 : end, decMin: lat.min, decMax: lat.max };
    }
  }
}

function circleSkyBox(circle: Circle): Range {
  const { center, radius } = circle;
  const decMin = center.dec - radius;
  const decMax = center.dec + radius;
  if (decMax >= 90 - SKY_BOX_PADDING_DEG || decMin <= -90 + SKY_BOX_PADDING_DEG) {
    return fullLongitudeBox(decMin - SKY_BOX_PADDING_DEG, decMax + SKY_BOX_PADDING_DEG);
  }
  // Half-width in longitude of a cap not containing a pole: sin Δα = sin r / cos δ.
  const halfWidth = Math.asin(Math.min(1, Math.sin(radius * RAD_PER_DEG) / Math.cos(center.dec * RAD_PER_DEG))) * DEG_PER_RAD;
  return skyBox(center.ra - halfWidth, center.ra + halfWidth, decMin, decMax);
}

function polygonSkyBox(polygon: Polygon): Range {
  const geometry = polygonGeometry(polygon);
  let zMin = Infinity;
  let zMax = -Infinity;
  for (const arc of geometry.arcs) {
    const extent = arcExtentAlong(arc, NORTH_POLE);
    zMin = Math.min(zMin, extent.min);
    zMax = Math.max(zMax, extent.max);
  }
  const containsNorth = polygonContainsVector(geometry, NORTH_POLE);
  const containsSouth = polygonContainsVector(geometry, SOUTH_POLE);
  const decMin = containsSouth ? -90 : Math.asin(Math.max(-1, zMin)) * DEG_PER_RAD;
  const decMax = containsNorth ? 90 : Math.asin(Math.min(1, zMax)) * DEG_PER_RAD;
  if (containsNorth || containsSouth) {
    return fullLongitudeBox(decMin - SKY_BOX_PADDING_DEG, decMax + SKY_BOX_PADDING_DEG);
  }
  // Longitude is monotonic along a great-circle arc that avoids the poles, so the vertices'
  // unwrapped longitudes bound the polygon; without an enclosed pole they return to the start.
  const vertices = polygon.vertices;
  const base = vertices[0]!.ra;
  let unwrapped = 0;
  let low = 0;
  let high = 0;
  for (let i = 1; i < vertices.length; i++) {
    unwrapped += raDifference(vertices[i - 1]!.ra, vertices[i]!.ra);
    low = Math.min(low, unwrapped);
    high = Math.max(high, unwrapped);
  }
  return skyBox(base + low, base + high, decMin, decMax);
}

function paddedBox(min: [number, number, number], max: [number, number, number]): CartesianBox {
  const lo = (v: number): number => Math.max(-1, v - CARTESIAN_BOX_PADDING);
  const hi = (v: number): number => Math.min(1, v + CARTESIAN_BOX_PADDING);
  return {
    xMin: lo(min[0]),
    xMax: hi(max[0]),
    yMin: lo(min[1]),
    yMax: hi(max[1]),
    zMin: lo(min[2]),
    zMax: hi(max[2]),
  };
}

function component(v: Vec3, axis: number): number {
  return axis === 0 ? v.x : axis === 1 ? v.y : v.z;
}

/**
 * A box in unit-vector space containing every point of the shape (e.g. for an SQLite R*Tree,
 * which itself rounds its 32-bit float bounds outwards). A linear coordinate over a region of the
 * sphere is extreme either at an enclosed axis point (±x, ±y, ±z) or on the boundary, where edges
 * may bulge past their endpoints: both are accounted for.
 */
export function cartesianBoundingBox(shape: Shape): CartesianBox {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  switch (shape.kind) {
    case 'point': {
      const v = toUnitVector(shape);
      for (let axis = 0; axis < 3; axis++) min[axis] = max[axis] = component(v, axis);
      break;
    }
    case 'circle': {
      // For a cap of radius r about c, with θ the angle from c to the axis: the largest coordinate
      // is cos(θ − r) (1 if the axis is inside), the smallest cos(θ + r) (−1 past the antipode).
      const c = toUnitVector(shape.center);
      const r = shape.radius * RAD_PER_DEG;
      for (let axis = 0; axis < 3; axis++) {
        const along = component(c, axis);
        const across = Math.sqrt(Math.max(0, 1 - along * along));
        const theta = Math.atan2(across, along);
        max[axis] = r >= theta ? 1 : Math.cos(theta - r);
        min[axis] = theta + r >= Math.PI ? -1 : Math.cos(theta + r);
      }
      break;
    }
    case 'polygon': {
      const geometry = polygonGeometry(shape);
      for (let axis = 0; axis < 3; axis++) {
        const direction = AXES[axis]!;
        for (const arc of geometry.arcs) {
          const extent = arcExtentAlong(arc, direction);
          min[axis] = Math.min(min[axis]!, extent.min);
          max[axis] = Math.max(max[axis]!, extent.max);
        }
        if (polygonContainsVector(geometry, direction)) max[axis] = 1;
        if (polygonContainsVector(geometry, negate(direction))) min[axis] = -1;
      }
      break;
    }
    case 'range': {
      // x = cos δ·cos α and y = cos δ·sin α are products of a non-negative latitude factor and a
      // signed longitude factor, so their extremes are among the factors' extremes: interval ends
      // plus the quadrant longitudes inside, and latitude ends plus the equator when inside.
      const lat = rangeLatitudes(shape);
      const lon = rangeLongitudes(shape);
      const longitudes = [lon.start, lon.start + lon.width];
      for (const quadrant of [0, 90, 180, 270]) {
        if (lon.width >= 360 || normalizeRa(quadrant - lon.start) <= lon.width) longitudes.push(quadrant);
      }
      const cosines = [Math.cos(lat.min * RAD_PER_DEG), Math.cos(lat.max * RAD_PER_DEG)];
      if (lat.min <= 0 && lat.max >= 0) cosines.push(1);
      for (const ra of longitudes) {
        const cosRa = Math.cos(ra * RAD_PER_DEG);
        const sinRa = Math.sin(ra * RAD_PER_DEG);
        for (const cosDec of cosines) {
          min[0] = Math.min(min[0], cosDec * cosRa);
          max[0] = Math.max(max[0], cosDec * cosRa);
          min[1] = Math.min(min[1], cosDec * sinRa);
          max[1] = Math.max(max[1], cosDec * sinRa);
        }
      }
      min[2] = Math.sin(lat.min * RAD_PER_DEG);
      max[2] = Math.sin(lat.max * RAD_PER_DEG);
      break;
    }
  }
  return paddedBox(min, max);
}

/** Radius (radians) of the smallest cap about `center` containing the shape. */
function reachFrom(shape: Polygon | Range, center: Vec3): number {
  if (shape.kind === 'range') return Math.PI - distanceToRange(shape, negate(center));
  const geometry = polygonGeometry(shape);
  if (polygonContainsVector(geometry, negate(center))) return Math.PI;
  let reach = 0;
  for (const arc of geometry.arcs) reach = Math.max(reach, farthestDistanceOnArc(center, arc));
  return reach;
}

/**
 * A circle containing the whole shape (not necessarily the minimal one): the best of a few
 * candidate centres (mean vertex direction, centre of the vertices' 3-D box; for ranges the
 * mid-point and enclosed poles), each with the exact farthest distance to the shape's boundary.
 */
export function coveringCircle(shape: Shape): Circle {
  switch (shape.kind) {
    case 'point':
      return makeCircle(shape, BOUNDARY_TOLERANCE_DEG);
    case 'circle':
      return shape;
    case 'polygon':
    case 'range': {
      const candidates: Vec3[] = [];
      if (shape.kind === 'polygon') {
        const vertices = polygonGeometry(shape).vertices;
        let sum: Vec3 = { x: 0, y: 0, z: 0 };
        for (const v of vertices) sum = add(sum, v);
        const mean = normalize(sum);
        if (mean !== undefined) candidates.push(mean);
        const box = {
          x: (Math.min(...vertices.map((v) => v.x)) + Math.max(...vertices.map((v) => v.x))) / 2,
          y: (Math.min(...vertices.map((v) => v.y)) + Math.max(...vertices.map((v) => v.y))) / 2,
          z: (Math.min(...vertices.map((v) => v.z)) + Math.max(...vertices.map((v) => v.z))) / 2,
        };
        const boxCentre = normalize(box);
        if (boxCentre !== undefined) candidates.push(boxCentre);
        if (candidates.length === 0) candidates.push(vertices[0]!);
      } else {
        const lat = rangeLatitudes(shape);
        const lon = rangeLongitudes(shape);
        candidates.push(toUnitVector({ ra: lon.start + lon.width / 2, dec: (lat.min + lat.max) / 2 }));
        if (lat.max >= 90) candidates.push(NORTH_POLE);
        if (lat.min <= -90) candidates.push(SOUTH_POLE);
      }
      let best: { center: Vec3; reach: number } | undefined;
      for (const center of candidates) {
        const reach = reachFrom(shape, center);
        if (best === undefined || reach < best.reach) best = { center, reach };
      }
      const chosen = best!;
      const radius = Math.min(180, chosen.reach * DEG_PER_RAD + 10 * BOUNDARY_TOLERANCE_DEG);
      const center: Point = fromVector(chosen.center);
      return makeCircle(center, Math.max(radius, BOUNDARY_TOLERANCE_DEG));
    }
  }
}
