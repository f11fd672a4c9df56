import {
  ShapeError,
  contains,
  formatDali,
  formatStcs,
  makeCircle,
  makePolygon,
  parseDaliCircle,
  parseDaliPoint,
  parseDaliPolygon,
  parseDaliRange,
  parseDaliShape,
  parseStcs,
} from '../../shared/sky';
import type { Shape } from '../../shared/sky';

describe('DALI parsing and writing', () => {
  it('parses the three POS shapes, case-insensitively', () => {
    expect(parseDaliShape('CIRCLE 10 20 0.5')).toEqual({ kind: 'circle', center: { ra: 10, dec: 20 }, radius: 0.5 });
    expect(parseDaliShape('  circle\t10   20 0.5 ')).toEqual(parseDaliShape('CIRCLE 10 20 0.5'));
    expect(parseDaliShape('RANGE 350 10 -5 5')).toEqual({ kind: 'range', raMin: 350, raMax: 10, decMin: -5, decMax: 5 });
    const polygon = parseDaliShape('POLYGON 10 20 10 21 11 21 11 20');
    expect(polygon.kind).toBe('polygon');
  });

  it('parses the bare pyvo forms of the SODA CIRCLE and POLYGON parameters', () => {
    expect(parseDaliCircle('10 20 0.5')).toEqual(parseDaliShape('CIRCLE 10 20 0.5'));
    expect(parseDaliCircle('CIRCLE 10 20 0.5')).toEqual(parseDaliShape('CIRCLE 10 20 0.5'));
    expect(parseDaliPolygon('10 20 10 21 11 21')).toEqual(parseDaliShape('POLYGON 10 20 10 21 11 21'));
    expect(parseDaliRange('-Inf +Inf -Inf +Inf')).toEqual({
      kind: 'range',
      raMin: -Infinity,
      raMax: Infinity,
      decMin: -Infinity,
      decMax: Infinity,
    });
    expect(parseDaliPoint('12.5 -30')).toEqual({ kind: 'point', ra: 12.5, dec: -30 });
  });

  it('normalises longitudes and the polygon winding (DALI counter-clockwise on the sky)', () => {
    expect(parseDaliShape('CIRCLE -0.1 0 1')).toEqual(parseDaliShape('CIRCLE 359.9 0 1'));
    expect(parseDaliShape('RANGE -10 10 0 1')).toEqual({ kind: 'range', raMin: 350, raMax: 10, decMin: 0, decMax: 1 });
    expect(parseDaliShape('RANGE -10 0 0 1')).toEqual({ kind: 'range', raMin: 350, raMax: 360, decMin: 0, decMax: 1 });
    expect(parseDaliShape('RANGE 0 360 0 1')).toEqual({ kind: 'range', raMin: 0, raMax: 360, decMin: 0, decMax: 1 });
    // Counter-clockwise seen from inside the sphere: north, then east (increasing RA) last.
    const dali = 'POLYGON 10 20 10 21 11 21 11 20';
    const clockwise = 'POLYGON 10 20 11 20 11 21 10 21';
    expect(formatDali(parseDaliShape(dali))).toBe(dali);
    expect(formatDali(parseDaliShape(clockwise))).toBe(dali);
    // A repeated closing vertex is dropped.
    expect(formatDali(parseDaliShape('POLYGON 10 20 10 21 11 21 11 20 10 20'))).toBe(dali);
  });

  it('writes canonical strings that parse back to identical doubles', () => {
    const shapes: Shape[] = [
      makeCircle({ ra: 0.1 + 0.2, dec: 1 / 3 }, 1e-7),
      makePolygon([
        { ra: Math.PI, dec: Math.E },
        { ra: Math.PI + 1e-9, dec: -Math.SQRT1_2 },
        { ra: 359.99999999999994, dec: 89.99999999999999 },
      ]),
      parseDaliRange('-Inf 12.000000000000002 -90 +Inf'),
    ];
    for (const shape of shapes) {
      const text = formatDali(shape);
      expect(parseDaliShape(text)).toEqual(shape);
      expect(formatDali(parseDaliShape(text))).toBe(text);
    }
    expect(formatDali(parseDaliRange('-Inf +Inf -Inf +Inf'))).toBe('RANGE -Inf +Inf -Inf +Inf');
    expect(formatDali(makeCircle({ ra: 10, dec: 20 }, 0.5), { bare: true })).toBe('10 20 0.5');
    expect(formatDali(parseDaliPoint('1 2'))).toBe('1 2');
  });
});

describe('STC-S', () => {
  it('parses circles with and without a frame and reference position', () => {
    const circle = parseDaliShape('CIRCLE 10 20 0.5');
    for (const text of [
      'Circle ICRS 10 20 0.5',
      'circle icrs 10 20 0.5',
      'CIRCLE 10 20 0.5',
      'Circle UNKNOWNFrame 10 20 0.5',
      'Circle ICRS GEOCENTER 10 20 0.5',
      'Circle ICRS BARYCENTER SPHERICAL2 10 20 0.5 unit deg',
    ]) {
      expect(parseStcs(text)).toEqual(circle);
    }
  });

  it('parses polygons, positions, boxes and position intervals', () => {
    expect(parseStcs('Polygon ICRS 10 20 10 21 11 21 11 20')).toEqual(parseDaliShape('POLYGON 10 20 10 21 11 21 11 20'));
    expect(parseStcs('Position ICRS 10 20')).toEqual({ kind: 'point', ra: 10, dec: 20 });
    expect(parseStcs('PositionInterval ICRS 350 -5 10 5')).toEqual(parseDaliShape('RANGE 350 10 -5 5'));
    const box = parseStcs('Box ICRS 10 0 2 1');
    expect(box.kind).toBe('polygon');
    if (box.kind !== 'polygon') return;
    // Great-circle sides through the arm ends at right angles: corners at RA 10 ± 1 exactly and
    // Dec ±atan(tan 0.5° · cos 1°), just under 0.5°.
    const cornerDec = (Math.atan(Math.tan(Math.PI / 360) * Math.cos(Math.PI / 180)) * 180) / Math.PI;
    const ras = box.vertices.map((v) => v.ra).sort((a, b) => a - b);
    expect(ras[0]).toBeCloseTo(9, 10);
    expect(ras[3]).toBeCloseTo(11, 10);
    for (const v of box.vertices) expect(Math.abs(v.dec)).toBeCloseTo(cornerDec, 10);
    expect(contains(box, { ra: 10, dec: 0.5 })).toBe(true); // arm end on the side
    expect(contains(box, { ra: 10, dec: 0.5001 })).toBe(false);
    expect(contains(box, { ra: 11, dec: 0 })).toBe(true);
  });

  it('writes STC-S that parses back identically', () => {
    for (const text of [
      'Circle ICRS 10 20 0.5',
      'Polygon ICRS 10 20 10 21 11 21 11 20',
      'Position ICRS 10 20',
      'PositionInterval ICRS 350 -5 10 5',
    ]) {
      expect(formatStcs(parseStcs(text))).toBe(text);
    }
    expect(formatStcs(parseDaliRange('-Inf +Inf 10 +Inf'))).toBe('PositionInterval ICRS 0 10 360 90');
  });
});

describe('error messages', () => {
  const messageOf = (parse: () => unknown): string => {
    try {
      parse();
    } catch (error) {
      expect(error).toBeInstanceOf(ShapeError);
      return (error as ShapeError).message;
    }
    throw new Error('expected a ShapeError');
  };

  it.each([
    ['CIRCLE 10 91 1', 'latitude 91 out of range [-90, 90] in POS'],
    ['CIRCLE 10 -90.5 1', 'latitude -90.5 out of range [-90, 90] in POS'],
    ['CIRCLE 10 20 0', 'radius must be positive (got 0) in POS'],
    ['CIRCLE 10 20 -1', 'radius must be positive (got -1) in POS'],
    ['CIRCLE 10 20 181', 'radius 181 exceeds 180 degrees in POS'],
    ['CIRCLE 10 20', 'CIRCLE needs 3 values (longitude latitude radius) but got 2 in POS'],
    ['CIRCLE 10 20 1 2', 'CIRCLE needs 3 values (longitude latitude radius) but got 4 in POS'],
    ['CIRCLE 10 abc 1', 'expected a number but found "abc" in POS'],
    ['CIRCLE 10 20 1e', 'expected a number but found "1e" in POS'],
    ['CIRCLE 10 20 +Inf', 'value +Inf must be finite in POS'],
    ['CIRCLE NaN 20 1', 'expected a number but found "NaN" in POS'],
    ['POLYGON 10 20 11 21', 'POLYGON needs at least 3 vertices (got 2) in POS'],
    ['POLYGON 10 20 11 21 12', 'POLYGON needs an even number of values (longitude latitude pairs) but got 5 in POS'],
    ['POLYGON 1 1 1 1 2 2', 'polygon needs at least 3 distinct vertices (got 2) in POS'],
    ['POLYGON 0 0 10 10 10 0 0 10', 'polygon is self-intersecting (edges 1 and 3 cross) in POS'],
    ['POLYGON 0 0 1 0 2 0', 'polygon has zero area (its vertices lie on one great circle) in POS'],
    ['POLYGON 0 0 2 0 1 0 1 1', 'polygon edges 1 and 2 fold back onto each other in POS'],
    ['POLYGON 0 0 180 0 90 45', 'polygon edge 1 joins antipodal vertices (0, 0) and (180, 0) in POS'],
    ['POLYGON 0 0 1 0 1 95', 'latitude 95 out of range [-90, 90] in POS'],
    ['RANGE 1 2 3', 'RANGE needs 4 values (longitude min max, latitude min max) but got 3 in POS'],
    ['RANGE 0 10 20 10', 'latitude lower bound 20 exceeds upper bound 10 in POS'],
    ['RANGE 0 10 -91 0', 'latitude -91 out of range [-90, 90] in POS'],
    ['RANGE +Inf 10 0 1', 'longitude lower bound cannot be +Inf in POS'],
    ['RANGE 0 -Inf 0 1', 'longitude upper bound cannot be -Inf in POS'],
    ['RANGE 0 10 +Inf 1', 'latitude lower bound cannot be +Inf in POS'],
    ['RANGE -Inf 400 0 1', 'longitude 400 out of range [0, 360] next to an unbounded side in POS'],
    ['BOX 1 2 3 4', 'unknown shape "BOX"; expected CIRCLE, RANGE or POLYGON in POS'],
    ['10 20 1', 'missing shape keyword; expected CIRCLE, RANGE or POLYGON in POS'],
    ['   ', 'empty value in POS'],
  ])('POS=%p → %p', (text, message) => {
    expect(messageOf(() => parseDaliShape(text, 'POS'))).toBe(message);
  });

  it('names the keyword when no context is given, and the SODA parameter for bare forms', () => {
    expect(messageOf(() => parseDaliShape('CIRCLE 10 100 1'))).toBe('latitude 100 out of range [-90, 90] in CIRCLE');
    expect(messageOf(() => parseDaliCircle('10 20'))).toBe('CIRCLE needs 3 values (longitude latitude radius) but got 2 in CIRCLE');
    expect(messageOf(() => parseDaliPolygon('1 2 3 4'))).toBe('POLYGON needs at least 3 vertices (got 2) in POLYGON');
    expect(messageOf(() => parseDaliPoint('1 2 3'))).toBe('POINT needs 2 values (longitude latitude) but got 3 in POINT');
    expect(messageOf(() => makeCircle({ ra: Infinity, dec: 0 }, 1))).toBe('longitude +Inf is not a finite number');
  });

  it('exposes the detail and the context separately', () => {
    try {
      parseDaliShape('CIRCLE 10 91 1', 'POS');
    } catch (error) {
      expect(error).toBeInstanceOf(ShapeError);
      expect((error as ShapeError).detail).toBe('latitude 91 out of range [-90, 90]');
      expect((error as ShapeError).context).toBe('POS');
      expect((error as ShapeError).name).toBe('ShapeError');
    }
  });

  it.each([
    ['Circle GALACTIC 10 20 1', 'unsupported frame GALACTIC; only ICRS is supported in STC-S'],
    ['Ellipse ICRS 1 2 3 4 5', 'unsupported STC-S shape "Ellipse"; expected Circle, Polygon, Box, Position or PositionInterval in STC-S'],
    ['Circle ICRS foo 1 2 3', 'unexpected word "foo" after Circle in STC-S'],
    ['Circle ICRS 10 20 1 unit arcsec', 'unsupported unit "arcsec"; only deg is supported in STC-S'],
    ['Circle ICRS CARTESIAN3 1 2 3', 'unsupported coordinate flavor CARTESIAN3; only SPHERICAL2 is supported in STC-S'],
    ['Box ICRS 10 20 200 1', 'box width 200 must be less than 180 degrees in STC-S'],
    ['Box ICRS 10 20 1 0', 'box height must be positive (got 0) in STC-S'],
    ['Box ICRS 10 20 1', 'Box needs 4 values (longitude latitude width height) but got 3 in STC-S'],
    ['Position ICRS 10 95', 'latitude 95 out of range [-90, 90] in STC-S'],
    ['Polygon ICRS 10 20 11 21', 'Polygon needs at least 3 vertices (got 2) in STC-S'],
    ['', 'empty value in STC-S'],
  ])('STC-S %p → %p', (text, message) => {
    expect(messageOf(() => parseStcs(text))).toBe(message);
  });
});
