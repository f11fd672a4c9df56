/**
 * Reading and writing shapes as text.
 *
 * DALI 1.1 §3.3 serialisations: `CIRCLE ra dec radius`, `POLYGON ra1 dec1 ra2 dec2 …`,
 * `RANGE ra1 ra2 dec1 dec2` (SODA 1.0 POS), plus the bare value lists of the SODA CIRCLE and
 * POLYGON parameters (`ra dec radius`, `ra1 dec1 …`) that pyvo sends, and the DALI point
 * `ra dec`. STC-S (STC-S 1.33 / TAP 1.0 region strings): `Circle ICRS ra dec r`,
 * `Polygon ICRS …`, `Position ICRS ra dec`, `Box ICRS ra dec width height`,
 * `PositionInterval ICRS raMin decMin raMax decMax`, with the frame optional.
 *
 * Keywords are case-insensitive. Numbers are written in the shortest form that reads back to the
 * identical double, so write → parse is lossless.
 */
import type { Circle, Point, PointShape, Polygon, Range, Shape } from './types';
import { ShapeError } from './errors';
import { formatNumber, makeBox, makeCircle, makePointShape, makePolygon, makeRange } from './shapes';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

function tokenize(text: string, context: string): string[] {
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  if (tokens.length === 0) throw new ShapeError('empty value', context);
  return tokens;
}

function isNumberToken(token: string): boolean {
  return DECIMAL.test(token) || INFINITY.test(token);
}

/** Parses one value; ±Inf only where an interval bound may be unbounded (RANGE). */
function parseNumber(token: string, context: string, allowInfinity: boolean): number {
  if (DECIMAL.test(token)) return Number(token);
  const infinity = INFINITY.exec(token);
  if (infinity !== null) {
    if (!allowInfinity) throw new ShapeError(`value ${token} must be finite`, context);
    return infinity[1] === '-' ? -Infinity : Infinity;
  }
  throw new ShapeError(`expected a number but found "${token}"`, context);
}

function parseNumbers(tokens: readonly string[], context: string, allowInfinity = false): number[] {
  return tokens.map((t) => parseNumber(t, context, allowInfinity));
}

function circleFromValues(values: readonly number[], context: string, label: string): Circle {
  if (values.length !== 3) {
    throw new ShapeError(`${label} needs 3 values (longitude latitude radius) but got ${values.length}`, context);
  }
  return makeCircle({ ra: values[0]!, dec: values[1]! }, values[2]!, context);
}

function polygonFromValues(values: readonly number[], context: string, label: string): Polygon {
  if (values.length % 2 !== 0) {
    throw new ShapeError(`${label} needs an even number of values (longitude latitude pairs) but got ${values.length}`, context);
  }
  if (values.length < 6) {
    throw new ShapeError(`${label} needs at least 3 vertices (got ${values.length / 2})`, context);
  }
  const vertices: Point[] = [];
  for (let i = 0; i < values.length; i += 2) vertices.push({ ra: values[i]!, dec: values[i + 1]! });
  return makePolygon(vertices, context);
}

function rangeFromValues(values: readonly number[], context: string): Range {
  if (values.length !== 4) {
    throw new ShapeError(`RANGE needs 4 values (longitude min max, latitude min max) but got ${values.length}`, context);
  }
  return makeRange(values[0]!, values[1]!, values[2]!, values[3]!, context);
}

function pointFromValues(values: readonly number[], context: string, label: string): PointShape {
  if (values.length !== 2) {
    throw new ShapeError(`${label} needs 2 values (longitude latitude) but got ${values.length}`, context);
  }
  return makePointShape(values[0]!, values[1]!, context);
}

/**
 * A DALI shape with its keyword: `CIRCLE …`, `POLYGON …` or `RANGE …` (the SODA POS forms).
 * `context` names the parameter in error messages (e.g. `POS`); it defaults to the keyword.
 */
export function parseDaliShape(text: string, context?: string): Circle | Polygon | Range {
  const tokens = tokenize(text, context ?? 'shape');
  const keyword = tokens[0]!.toUpperCase();
  const where = context ?? keyword;
  const values = tokens.slice(1);
  switch (keyword) {
    case 'CIRCLE':
      return circleFromValues(parseNumbers(values, where), where, 'CIRCLE');
    case 'POLYGON':
      return polygonFromValues(parseNumbers(values, where), where, 'POLYGON');
    case 'RANGE':
      return rangeFromValues(parseNumbers(values, where, true), where);
    default:
      if (isNumberToken(tokens[0]!)) {
        throw new ShapeError('missing shape keyword; expected CIRCLE, RANGE or POLYGON', where);
      }
      throw new ShapeError(`unknown shape "${tokens[0]}"; expected CIRCLE, RANGE or POLYGON`, where);
  }
}

/** Values after an optional leading keyword (bare SODA parameter values carry none). */
function valuesAfterKeyword(text: string, keyword: string, context: string): string[] {
  const tokens = tokenize(text, context);
  return tokens[0]!.toUpperCase() === keyword ? tokens.slice(1) : tokens;
}

/** A SODA CIRCLE parameter: `ra dec radius`, with or without a leading `CIRCLE`. */
export function parseDaliCircle(text: string, context = 'CIRCLE'): Circle {
  return circleFromValues(parseNumbers(valuesAfterKeyword(text, 'CIRCLE', context), context), context, 'CIRCLE');
}

/** A SODA POLYGON parameter: `ra1 dec1 ra2 dec2 …`, with or without a leading `POLYGON`. */
export function parseDaliPolygon(text: string, context = 'POLYGON'): Polygon {
  return polygonFromValues(parseNumbers(valuesAfterKeyword(text, 'POLYGON', context), context), context, 'POLYGON');
}

/** `ra1 ra2 dec1 dec2`, with or without a leading `RANGE`; `-Inf`/`+Inf` allowed. */
export function parseDaliRange(text: string, context = 'RANGE'): Range {
  return rangeFromValues(parseNumbers(valuesAfterKeyword(text, 'RANGE', context), context, true), context);
}

/** A DALI point: `ra dec`. */
export function parseDaliPoint(text: string, context = 'POINT'): PointShape {
  return pointFromValues(parseNumbers(tokenize(text, context), context), context, 'POINT');
}

export interface DaliFormatOptions {
  /** Leave out the leading keyword (the SODA CIRCLE/POLYGON parameter form). Default false. */
  readonly bare?: boolean;
}

/** Values of a shape in DALI order (points, circles and polygons are always finite). */
function daliValues(shape: Shape): number[] {
  switch (shape.kind) {
    case 'point':
      return [shape.ra, shape.dec];
    case 'circle':
      return [shape.center.ra, shape.center.dec, shape.radius];
    case 'polygon':
      return shape.vertices.flatMap((v) => [v.ra, v.dec]);
    case 'range':
      return [shape.raMin, shape.raMax, shape.decMin, shape.decMax];
  }
}

/**
 * DALI serialisation: `CIRCLE ra dec r`, `POLYGON …`, `RANGE ra1 ra2 dec1 dec2` (±Inf as
 * `-Inf`/`+Inf`); a point is written `ra dec` (DALI has no point keyword).
 */
export function formatDali(shape: Shape, options: DaliFormatOptions = {}): string {
  const values = daliValues(shape).map(formatNumber).join(' ');
  if (shape.kind === 'point' || options.bare === true) return values;
  return `${shape.kind.toUpperCase()} ${values}`;
}

const STCS_FRAMES = new Set(['ICRS', 'UNKNOWNFRAME', 'FK5', 'J2000']);
const STCS_UNSUPPORTED_FRAMES = new Set([
  'FK4',
  'B1950',
  'ECLIPTIC',
  'GALACTIC',
  'GALACTIC_I',
  'GALACTIC_II',
  'SUPER_GALACTIC',
  'GEO_C',
  'GEO_D',
]);
const STCS_REFERENCE_POSITIONS = new Set([
  'GEOCENTER',
  'BARYCENTER',
  'HELIOCENTER',
  'TOPOCENTER',
  'GALACTIC_CENTER',
  'EMBARYCENTER',
  'MOON',
  'MERCURY',
  'VENUS',
  'MARS',
  'JUPITER',
  'SATURN',
  'URANUS',
  'NEPTUNE',
  'PLUTO',
  'LSR',
  'LSRK',
  'LSRD',
  'LOCAL_GROUP_CENTER',
  'UNKNOWNREFPOS',
]);
const STCS_SHAPES = 'Circle, Polygon, Box, Position or PositionInterval';

/**
 * An STC-S region string. Supported: Circle, Polygon, Box (returned as a Polygon), Position
 * (a PointShape) and PositionInterval (a Range). The frame is optional; ICRS and UNKNOWNFrame are
 * accepted, and FK5/J2000 too as the ICRS approximation (they differ by < 0.03″). A reference
 * position (GEOCENTER, …) and the SPHERICAL2 flavour may follow and are ignored, as may a trailing
 * `unit deg`. Other frames, flavours, units and compound regions are rejected.
 */
export function parseStcs(text: string, context = 'STC-S'): Shape {
  const tokens = tokenize(text, context);
  const shapeWord = tokens[0]!;
  let index = 1;
  let frameSeen = false;
  while (index < tokens.length && !isNumberToken(tokens[index]!)) {
    const word = tokens[index]!.toUpperCase();
    if (word === 'FILLFACTOR') {
      index += 2;
      continue;
    }
    if (STCS_FRAMES.has(word) && !frameSeen) {
      frameSeen = true;
    } else if (STCS_UNSUPPORTED_FRAMES.has(word)) {
      throw new ShapeError(`unsupported frame ${tokens[index]}; only ICRS is supported`, context);
    } else if (STCS_REFERENCE_POSITIONS.has(word) || word === 'SPHERICAL2') {
      // Reference position and flavour do not change the geometry.
    } else if (word === 'CARTESIAN2' || word === 'CARTESIAN3' || word === 'UNITSPHERE') {
      throw new ShapeError(`unsupported coordinate flavor ${tokens[index]}; only SPHERICAL2 is supported`, context);
    } else {
      throw new ShapeError(`unexpected word "${tokens[index]}" after ${shapeWord}`, context);
    }
    index += 1;
  }
  let end = tokens.length;
  const unitIndex = tokens.findIndex((t, i) => i >= index && t.toUpperCase() === 'UNIT');
  if (unitIndex >= 0) {
    const unit = tokens[unitIndex + 1];
    if (unit === undefined || unit.toLowerCase() !== 'deg' || unitIndex + 2 !== tokens.length) {
      throw new ShapeError(`unsupported unit ${unit === undefined ? '(missing)' : `"${unit}"`}; only deg is supported`, context);
    }
    end = unitIndex;
  }
  const numberTokens = tokens.slice(index, end);
  switch (shapeWord.toUpperCase()) {
    case 'CIRCLE':
      return circleFromValues(parseNumbers(numberTokens, context), context, 'Circle');
    case 'POLYGON':
      return polygonFromValues(parseNumbers(numberTokens, context), context, 'Polygon');
    case 'POSITION':
      return pointFromValues(parseNumbers(numberTokens, context), context, 'Position');
    case 'BOX': {
      const values = parseNumbers(numberTokens, context);
      if (values.length !== 4) {
        throw new ShapeError(`Box needs 4 values (longitude latitude width height) but got ${values.length}`, context);
      }
      return makeBox({ ra: values[0]!, dec: values[1]! }, values[2]!, values[3]!, context);
    }
    case 'POSITIONINTERVAL': {
      const values = parseNumbers(numberTokens, context, true);
      if (values.length !== 4) {
        throw new ShapeError(
          `PositionInterval needs 4 values (longitude latitude lower corner, then upper corner) but got ${values.length}`,
          context,
        );
      }
      return makeRange(values[0]!, values[2]!, values[1]!, values[3]!, context);
    }
    default:
      throw new ShapeError(`unsupported STC-S shape "${shapeWord}"; expected ${STCS_SHAPES}`, context);
  }
}

/**
 * STC-S serialisation in the ICRS frame. A Range becomes `PositionInterval ICRS raMin decMin
 * raMax decMax`, unbounded sides written as their limits (0/360, ±90).
 */
export function formatStcs(shape: Shape): string {
  switch (shape.kind) {
    case 'point':
      return `Position ICRS ${formatNumber(shape.ra)} ${formatNumber(shape.dec)}`;
    case 'circle':
      return `Circle ICRS ${[shape.center.ra, shape.center.dec, shape.radius].map(formatNumber).join(' ')}`;
    case 'polygon':
      return `Polygon ICRS ${shape.vertices
        .flatMap((v) => [v.ra, v.dec])
        .map(formatNumber)
        .join(' ')}`;
    case 'range': {
      const raMin = shape.raMin === -Infinity ? 0 : shape.raMin;
      const raMax = shape.raMax === Infinity ? 360 : shape.raMax;
      const decMin = Math.max(-90, shape.decMin);
      const decMax = Math.min(90, shape.decMax);
      return `PositionInterval ICRS ${[raMin, decMin, raMax, decMax].map(formatNumber).join(' ')}`;
    }
  }
}
