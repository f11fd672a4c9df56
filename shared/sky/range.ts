/**
 * Geometry of longitude/latitude ranges (internal). A Range's longitude side is an interval that
 * may wrap through 0/360 and its latitude side an interval of parallels; ±Infinity bounds are
 * resolved here (longitude to 0/360, latitude to the poles).
 */
import type { Point, Range, Vec3 } from './types';
import { type Arc, distanceToArc, makeArc } from './arcs';
import { BOUNDARY_TOLERANCE_DEG, RAD_PER_DEG, fromVector, normalizeRa, raDifference, toUnitVector, vectorAngle } from './vector';

/** Longitudes from `start` eastwards over `width` degrees; width 360 is every longitude. */
export interface LongitudeInterval {
  readonly start: number;
  readonly width: number;
}

export function rangeLongitudes(range: Range): LongitudeInterval {
  const lower = range.raMin === -Infinity ? 0 : range.raMin;
  const upper = range.raMax === Infinity ? 360 : range.raMax;
  if (upper - lower >= 360) return { start: 0, width: 360 };
  const start = normalizeRa(lower);
  let width = (upper - lower) % 360;
  if (width < 0) width += 360; // raMin > raMax: the interval wraps through 0/360
  return { start, width };
}

export function rangeLatitudes(range: Range): { readonly min: number; readonly max: number } {
  return { min: Math.max(-90, range.decMin), max: Math.min(90, range.decMax) };
}

export function isLongitudeInInterval(ra: number, interval: LongitudeInterval, toleranceDeg: number): boolean {
  if (interval.width >= 360) return true;
  const offset = normalizeRa(ra - interval.start);
  return offset <= interval.width + toleranceDeg || offset >= 360 - toleranceDeg;
}

/** The longitude in the interval nearest to `ra` (distance to a parallel grows with |Δλ|). */
export function nearestLongitudeInInterval(ra: number, interval: LongitudeInterval): number {
  if (isLongitudeInInterval(ra, interval, 0)) return ra;
  const end = interval.start + interval.width;
  return Math.abs(raDifference(ra, interval.start)) <= Math.abs(raDifference(ra, end)) ? interval.start : end;
}

export function rangeContainsPoint(range: Range, p: Point): boolean {
  const lat = rangeLatitudes(range);
  if (p.dec < lat.min - BOUNDARY_TOLERANCE_DEG || p.dec > lat.max + BOUNDARY_TOLERANCE_DEG) return false;
  // A pole belongs to every longitude: the angular tolerance widens in longitude as 1/cos(dec).
  const cosDec = Math.cos(p.dec * RAD_PER_DEG);
  if (cosDec * 180 <= BOUNDARY_TOLERANCE_DEG) return true;
  return isLongitudeInInterval(p.ra, rangeLongitudes(range), BOUNDARY_TOLERANCE_DEG / cosDec);
}

export interface Parallel {
  readonly latitude: number;
  readonly longitudes: LongitudeInterval;
}

export interface RangeBoundary {
  /** The meridian edges as great-circle arcs (split in two when spanning pole to pole). */
  readonly meridians: readonly Arc[];
  /** The latitude edges (small circles), omitted where the range reaches a pole. */
  readonly parallels: readonly Parallel[];
  /** A point of the range, for "one region inside the other" tests. */
  readonly samplePoint: Point;
}

export function rangeBoundary(range: Range): RangeBoundary {
  const lon = rangeLongitudes(range);
  const lat = rangeLatitudes(range);
  const meridians: Arc[] = [];
  if (lon.width < 360) {
    for (const meridianRa of [lon.start, lon.start + lon.width]) {
      const bottom = toUnitVector({ ra: meridianRa, dec: lat.min });
      const top = toUnitVector({ ra: meridianRa, dec: lat.max });
      if (lat.max - lat.min > 170) {
        const middle = toUnitVector({ ra: meridianRa, dec: (lat.min + lat.max) / 2 });
        meridians.push(makeArc(bottom, middle), makeArc(middle, top));
      } else {
        meridians.push(makeArc(bottom, top));
      }
    }
  }
  const parallels: Parallel[] = [];
  if (lat.min > -90) parallels.push({ latitude: lat.min, longitudes: lon });
  if (lat.max < 90 && lat.max !== lat.min) parallels.push({ latitude: lat.max, longitudes: lon });
  return { meridians, parallels, samplePoint: { ra: lon.start, dec: lat.min } };
}

/** Minimum distance (radians) from a point to a parallel arc. */
export function distanceToParallel(p: Point, parallel: Parallel): number {
  const ra = nearestLongitudeInInterval(p.ra, parallel.longitudes);
  return vectorAngle(toUnitVector(p), toUnitVector({ ra, dec: parallel.latitude }));
}

/** Minimum distance (radians) from a point to the range; 0 inside. */
export function distanceToRange(range: Range, p: Vec3): number {
  const point = fromVector(p);
  if (rangeContainsPoint(range, point)) return 0;
  const boundary = rangeBoundary(range);
  let best = Infinity;
  for (const arc of boundary.meridians) best = Math.min(best, distanceToArc(p, arc));
  for (const parallel of boundary.parallels) best = Math.min(best, distanceToParallel(point, parallel));
  return best;
}
