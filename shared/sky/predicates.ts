/**
 * Containment and intersection on the sphere (ADQL 2.1 §4.2 CONTAINS / INTERSECTS
 * semantics: closed regions, touching counts). Exact up to BOUNDARY_TOLERANCE_DEG: circles by
 * centre distances, polygons by great-circle arc tests, ranges by their meridian and parallel edges.
 */
import type { Circle, Point, Polygon, Range, Shape } from './types';
import { type Arc, arcParallelCrossing, arcsIntersect, distanceToArc } from './arcs';
import { polygonContainsVector, polygonGeometry } from './polygon';
import {
  type Parallel,
  distanceToRange,
  isLongitudeInInterval,
  rangeBoundary,
  rangeContainsPoint,
  rangeLatitudes,
  rangeLongitudes,
} from './range';
import { BOUNDARY_TOLERANCE_DEG, BOUNDARY_TOLERANCE_RAD, RAD_PER_DEG, angularDistance, fromVector, toUnitVector } from './vector';

/** Whether `point` lies in `shape` (boundary included). */
export function contains(shape: Shape, point: Point): boolean {
  switch (shape.kind) {
    case 'point':
      return angularDistance(shape, point) <= BOUNDARY_TOLERANCE_DEG;
    case 'circle':
      return angularDistance(shape.center, point) <= shape.radius + BOUNDARY_TOLERANCE_DEG;
    case 'polygon':
      return polygonContainsVector(polygonGeometry(shape), toUnitVector(point));
    case 'range':
      return rangeContainsPoint(shape, point);
  }
}

/** Whether two shapes share at least one point. Symmetric. */
export function intersects(first: Shape, second: Shape): boolean {
  if (first.kind === 'point') return contains(second, first);
  if (second.kind === 'point') return contains(first, second);
  switch (first.kind) {
    case 'circle':
      switch (second.kind) {
        case 'circle':
          return circlesIntersect(first, second);
        case 'polygon':
          return circleIntersectsPolygon(first, second);
        case 'range':
          return circleIntersectsRange(first, second);
      }
      break;
    case 'polygon':
      switch (second.kind) {
        case 'circle':
          return circleIntersectsPolygon(second, first);
        case 'polygon':
          return polygonsIntersect(first, second);
        case 'range':
          return polygonIntersectsRange(first, second);
      }
      break;
    case 'range':
      switch (second.kind) {
        case 'circle':
          return circleIntersectsRange(second, first);
        case 'polygon':
          return polygonIntersectsRange(second, first);
        case 'range':
          return rangesIntersect(first, second);
      }
  }
}

function circlesIntersect(a: Circle, b: Circle): boolean {
  return angularDistance(a.center, b.center) <= a.radius + b.radius + BOUNDARY_TOLERANCE_DEG;
}

/** The circle meets the polygon iff its centre is inside or some edge comes within the radius. */
function circleIntersectsPolygon(circle: Circle, polygon: Polygon): boolean {
  const geometry = polygonGeometry(polygon);
  const center = toUnitVector(circle.center);
  if (polygonContainsVector(geometry, center)) return true;
  const reach = circle.radius * RAD_PER_DEG + BOUNDARY_TOLERANCE_RAD;
  return geometry.arcs.some((arc) => distanceToArc(center, arc) <= reach);
}

function circleIntersectsRange(circle: Circle, range: Range): boolean {
  const reach = circle.radius * RAD_PER_DEG + BOUNDARY_TOLERANCE_RAD;
  return distanceToRange(range, toUnitVector(circle.center)) <= reach;
}

/**
 * Two simple regions intersect iff a vertex of one lies in the other (covers containment either
 * way) or their boundaries cross.
 */
function polygonsIntersect(a: Polygon, b: Polygon): boolean {
  const ga = polygonGeometry(a);
  const gb = polygonGeometry(b);
  if (ga.vertices.some((v) => polygonContainsVector(gb, v))) return true;
  if (gb.vertices.some((v) => polygonContainsVector(ga, v))) return true;
  return ga.arcs.some((arcA) => gb.arcs.some((arcB) => arcsIntersect(arcA, arcB, BOUNDARY_TOLERANCE_RAD)));
}

function arcMeetsParallel(arc: Arc, parallel: Parallel): boolean {
  const crossing = arcParallelCrossing(arc, parallel.latitude * RAD_PER_DEG, BOUNDARY_TOLERANCE_RAD);
  const cosLat = Math.cos(parallel.latitude * RAD_PER_DEG);
  const lonTolerance = BOUNDARY_TOLERANCE_DEG / Math.max(cosLat, 1e-12);
  if (crossing.alongParallel) {
    // The arc runs along the equator: overlap in longitude.
    const lon = parallel.longitudes;
    if (lon.width >= 360) return true;
    if (isLongitudeInInterval(fromVector(arc.a).ra, lon, lonTolerance)) return true;
    if (isLongitudeInInterval(fromVector(arc.b).ra, lon, lonTolerance)) return true;
    return [lon.start, lon.start + lon.width].some((ra) => distanceToArc(toUnitVector({ ra, dec: 0 }), arc) <= BOUNDARY_TOLERANCE_RAD);
  }
  return crossing.points.some((x) => isLongitudeInInterval(fromVector(x).ra, parallel.longitudes, lonTolerance));
}

function polygonIntersectsRange(polygon: Polygon, range: Range): boolean {
  const geometry = polygonGeometry(polygon);
  if (polygon.vertices.some((v) => rangeContainsPoint(range, v))) return true;
  const boundary = rangeBoundary(range);
  if (polygonContainsVector(geometry, toUnitVector(boundary.samplePoint))) return true;
  return geometry.arcs.some(
    (arc) =>
      boundary.meridians.some((meridian) => arcsIntersect(arc, meridian, BOUNDARY_TOLERANCE_RAD)) ||
      boundary.parallels.some((parallel) => arcMeetsParallel(arc, parallel)),
  );
}

function rangesIntersect(a: Range, b: Range): boolean {
  const latA = rangeLatitudes(a);
  const latB = rangeLatitudes(b);
  if (latA.max < latB.min - BOUNDARY_TOLERANCE_DEG || latB.max < latA.min - BOUNDARY_TOLERANCE_DEG) return false;
  // Ranges reaching the same pole share it whatever their longitudes.
  if (latA.max >= 90 && latB.max >= 90) return true;
  if (latA.min <= -90 && latB.min <= -90) return true;
  const lonA = rangeLongitudes(a);
  const lonB = rangeLongitudes(b);
  return isLongitudeInInterval(lonB.start, lonA, BOUNDARY_TOLERANCE_DEG) || isLongitudeInInterval(lonA.start, lonB, BOUNDARY_TOLERANCE_DEG);
}

/** Minimum angular distance in degrees from a point to a shape; 0 when inside. */
export function distanceToShape(shape: Shape, point: Point): number {
  const p = toUnitVector(point);
  switch (shape.kind) {
    case 'point':
      return angularDistance(shape, point);
    case 'circle':
      return Math.max(0, angularDistance(shape.center, point) - shape.radius);
    case 'polygon': {
      const geometry = polygonGeometry(shape);
      if (polygonContainsVector(geometry, p)) return 0;
      return Math.min(...geometry.arcs.map((arc) => distanceToArc(p, arc))) / RAD_PER_DEG;
    }
    case 'range':
      return distanceToRange(shape, p) / RAD_PER_DEG;
  }
}
