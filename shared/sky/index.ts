/**
 * Spherical geometry on the ICRS sky for ADQL (2.1 §4.2), SODA and SIA: shapes, containment and
 * intersection, areas, bounding regions for spatial indexes, and DALI / STC-S text forms.
 * All angles are degrees.
 */
export type { CartesianBox, Circle, Point, PointShape, Polygon, Range, Shape, Vec3 } from './types';
export { ShapeError } from './errors';
export { BOUNDARY_TOLERANCE_DEG, RAD_PER_DEG, angularDistance, fromVector, normalizeRa, raDifference, toUnitVector } from './vector';
export { formatNumber, makeBox, makeCircle, makePoint, makePointShape, makePolygon, makeRange } from './shapes';
export { contains, distanceToShape, intersects } from './predicates';
export { area, cartesianBoundingBox, coveringCircle, skyBoundingBox } from './measure';
export {
  formatDali,
  formatStcs,
  parseDaliCircle,
  parseDaliPoint,
  parseDaliPolygon,
  parseDaliRange,
  parseDaliShape,
  parseStcs,
} from './format';
export type { DaliFormatOptions } from './format';
