import {
  area,
  cartesianBoundingBox,
  contains,
  coveringCircle,
  makeCircle,
  makeRange,
  skyBoundingBox,
  toUnitVector,
} from '../../shared/sky';
import type { CartesianBox, Point, Range, Shape } from '../../shared/sky';
import { midpoint, pointsOnCircle, pointsOnEdges, p, poly } from './helpers';

const SQ_DEG_PER_SR = (180 / Math.PI) ** 2;
const FULL_SKY_SQ_DEG = 4 * Math.PI * SQ_DEG_PER_SR; // 41252.96…

function inCartesianBox(box: CartesianBox, q: Point): boolean {
  const v = toUnitVector(q);
  return v.x >= box.xMin && v.x <= box.xMax && v.y >= box.yMin && v.y <= box.yMax && v.z >= box.zMin && v.z <= box.zMax;
}

function inSkyBox(box: Range, q: Point): boolean {
  return contains(box, q);
}

/** Interior angles summed minus (n − 2)π: the textbook spherical excess, computed independently. */
function excessByAngles(vertices: readonly Point[]): number {
  const v = vertices.map(toUnitVector);
  const n = v.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = v[(i + n - 1) % n]!;
    const b = v[i]!;
    const c = v[(i + 1) % n]!;
    const tangent = (x: typeof a): number[] => {
      const d = x.x * b.x + x.y * b.y + x.z * b.z;
      return [x.x - d * b.x, x.y - d * b.y, x.z - d * b.z];
    };
    const ta = tangent(a);
    const tc = tangent(c);
    const dotProduct = ta[0]! * tc[0]! + ta[1]! * tc[1]! + ta[2]! * tc[2]!;
    const normA = Math.hypot(ta[0]!, ta[1]!, ta[2]!);
    const normC = Math.hypot(tc[0]!, tc[1]!, tc[2]!);
    sum += Math.acos(dotProduct / (normA * normC));
  }
  return (sum - (n - 2) * Math.PI) * SQ_DEG_PER_SR;
}

describe('area', () => {
  it('caps', () => {
    expect(area(makeCircle(p(0, 0), 180))).toBeCloseTo(FULL_SKY_SQ_DEG, 8);
    expect(area(makeCircle(p(10, 10), 90))).toBeCloseTo(FULL_SKY_SQ_DEG / 2, 8);
    const nearlyFull = 2 * Math.PI * (1 - Math.cos((179 * Math.PI) / 180)) * SQ_DEG_PER_SR;
    expect(area(makeCircle(p(0, -90), 179))).toBeCloseTo(nearlyFull, 8);
    expect(area(makeCircle(p(0, -90), 179))).toBeCloseTo(41249.82, 2);
    // Small caps keep their precision: π r² to first order.
    const r = 1e-6;
    expect(area(makeCircle(p(1, 2), r)) / (Math.PI * r * r)).toBeCloseTo(1, 10);
  });

  it('a 1°×1° box at the equator is about one square degree', () => {
    const box = poly(0, 0, 1, 0, 1, 1, 0, 1);
    expect(area(box)).toBeCloseTo(1, 3);
    expect(area(box)).toBeCloseTo(excessByAngles(box.vertices), 9);
    // The lon/lat range has parallels for edges: exactly sin(1°)·(180/π) deg².
    expect(area(makeRange(0, 1, 0, 1))).toBeCloseTo((Math.sin(Math.PI / 180) * 180) / Math.PI, 12);
  });

  it('polygons: octant, polar cap, either winding, tiny', () => {
    expect(area(poly(0, 0, 90, 0, 0, 90))).toBeCloseTo(FULL_SKY_SQ_DEG / 8, 8);
    expect(area(poly(0, 0, 0, 90, 90, 0))).toBeCloseTo(FULL_SKY_SQ_DEG / 8, 8);
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    expect(area(cap)).toBeCloseTo(excessByAngles(cap.vertices), 8);
    const straddle = poly(359, -1, 1, -1, 1, 1, 359, 1);
    expect(area(straddle)).toBeCloseTo(excessByAngles(straddle.vertices), 9);
    const tiny = poly(10, 10, 10.00001, 10, 10.00001, 10.00001, 10, 10.00001);
    expect(area(tiny) / (1e-10 * Math.cos((10 * Math.PI) / 180))).toBeCloseTo(1, 4);
  });

  it('ranges, including wrapping and unbounded ones', () => {
    expect(area(makeRange(-Infinity, Infinity, -Infinity, Infinity))).toBeCloseTo(FULL_SKY_SQ_DEG, 8);
    expect(area(makeRange(350, 10, -90, 90))).toBeCloseTo(FULL_SKY_SQ_DEG / 18, 8);
    expect(area(makeRange(0, 360, 0, 90))).toBeCloseTo(FULL_SKY_SQ_DEG / 2, 8);
  });
});

describe('skyBoundingBox', () => {
  it('circle across the wrap', () => {
    const box = skyBoundingBox(makeCircle(p(359.9, 0), 0.5));
    expect(box.raMin).toBeCloseTo(359.4, 6);
    expect(box.raMax).toBeCloseTo(0.4, 6);
    expect(box.decMin).toBeCloseTo(-0.5, 6);
    expect(box.decMax).toBeCloseTo(0.5, 6);
  });

  it('circle at high latitude is wider in RA, and one over the pole spans all RA', () => {
    const box = skyBoundingBox(makeCircle(p(100, 60), 1));
    const halfWidth = (Math.asin(Math.sin(Math.PI / 180) / Math.cos(Math.PI / 3)) * 180) / Math.PI;
    expect(box.raMin).toBeCloseTo(100 - halfWidth, 6);
    expect(box.raMax).toBeCloseTo(100 + halfWidth, 6);
    for (const q of pointsOnCircle(p(100, 60), 1, 720)) expect(inSkyBox(box, q)).toBe(true);
    const polar = skyBoundingBox(makeCircle(p(10, 89.5), 1));
    expect([polar.raMin, polar.raMax, polar.decMax]).toEqual([0, 360, 90]);
    expect(polar.decMin).toBeCloseTo(88.5, 6);
  });

  it('polygons: straddling RA 0, around the pole, bulging edges', () => {
    const straddle = skyBoundingBox(poly(359, -1, 1, -1, 1, 1, 359, 1));
    expect(straddle.raMin).toBeCloseTo(359, 6);
    expect(straddle.raMax).toBeCloseTo(1, 6);
    // The edges along dec ±1 bulge poleward, beyond the vertices' latitude.
    expect(straddle.decMax).toBeGreaterThan(1);
    const capPolygon = poly(0, 80, 90, 80, 180, 80, 270, 80);
    const cap = skyBoundingBox(capPolygon);
    expect([cap.raMin, cap.raMax, cap.decMax]).toEqual([0, 360, 90]);
    expect(cap.decMin).toBeCloseTo(80, 6);
    const bulge = poly(320, 60, 40, 60, 0, 30);
    const box = skyBoundingBox(bulge);
    expect(box.decMax).toBeCloseTo((Math.atan(Math.tan(Math.PI / 3) / Math.cos((40 * Math.PI) / 180)) * 180) / Math.PI, 6);
    for (const q of pointsOnEdges(bulge.vertices, 50)) expect(inSkyBox(box, q)).toBe(true);
  });

  it('ranges return themselves, normalised', () => {
    expect(skyBoundingBox(makeRange(350, 10, -5, 5))).toEqual({ kind: 'range', raMin: 350, raMax: 10, decMin: -5, decMax: 5 });
    expect(skyBoundingBox(makeRange(-Infinity, Infinity, 80, Infinity))).toEqual({
      kind: 'range',
      raMin: 0,
      raMax: 360,
      decMin: 80,
      decMax: 90,
    });
  });
});

describe('cartesianBoundingBox', () => {
  it('contains mid-edge points of a polygon whose edges bulge beyond its vertices', () => {
    const bulge = poly(320, 60, 40, 60, 0, 30);
    const box = cartesianBoundingBox(bulge);
    const top = midpoint(p(320, 60), p(40, 60));
    expect(toUnitVector(top).z).toBeGreaterThan(Math.sin(Math.PI / 3) + 0.04);
    expect(inCartesianBox(box, top)).toBe(true);
    expect(box.zMax).toBeCloseTo(toUnitVector(top).z, 9);
    for (const q of pointsOnEdges(bulge.vertices, 50)) expect(inCartesianBox(box, q)).toBe(true);
  });

  it('reaches the pole for polygons and circles containing it', () => {
    const cap = poly(0, 80, 120, 80, 240, 80);
    const box = cartesianBoundingBox(cap);
    expect(box.zMax).toBe(1);
    expect(box.zMin).toBeCloseTo(Math.sin((80 * Math.PI) / 180), 9);
    for (const q of pointsOnEdges(cap.vertices, 50)) expect(inCartesianBox(box, q)).toBe(true);
    expect(cartesianBoundingBox(makeCircle(p(10, 89.5), 1)).zMax).toBe(1);
    expect(cartesianBoundingBox(makeCircle(p(0, 0), 2)).xMax).toBe(1);
  });

  it('is tight and complete for a small circle', () => {
    const center = p(30, 40);
    const radius = 0.01;
    const box = cartesianBoundingBox(makeCircle(center, radius));
    for (const q of pointsOnCircle(center, radius, 3600)) expect(inCartesianBox(box, q)).toBe(true);
    expect(inCartesianBox(box, center)).toBe(true);
    const diameter = 2 * Math.sin((radius * Math.PI) / 180);
    for (const [lo, hi] of [
      [box.xMin, box.xMax],
      [box.yMin, box.yMax],
      [box.zMin, box.zMax],
    ] as const) {
      expect(hi - lo).toBeLessThanOrEqual(diameter + 1e-10);
    }
  });

  it('covers ranges, including wrapping ones and polar caps', () => {
    const wrap = makeRange(350, 10, -5, 5);
    const box = cartesianBoundingBox(wrap);
    expect(box.xMax).toBe(1);
    for (let ra = -10; ra <= 10; ra += 0.5) {
      for (let dec = -5; dec <= 5; dec += 0.5) expect(inCartesianBox(box, p(ra, dec))).toBe(true);
    }
    const polar = cartesianBoundingBox(makeRange(-Infinity, Infinity, 80, Infinity));
    expect(polar.zMax).toBe(1);
    expect(polar.xMax).toBeCloseTo(Math.cos((80 * Math.PI) / 180), 9);
    expect(polar.xMin).toBeCloseTo(-Math.cos((80 * Math.PI) / 180), 9);
  });
});

describe('coveringCircle', () => {
  const check = (shape: Shape, samples: readonly Point[]): void => {
    const circle = coveringCircle(shape);
    for (const q of samples) expect(contains(circle, q)).toBe(true);
  };

  it('contains every edge point of polygons', () => {
    const bulge = poly(320, 60, 40, 60, 0, 30);
    check(bulge, pointsOnEdges(bulge.vertices, 50));
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    check(cap, [...pointsOnEdges(cap.vertices, 50), p(0, 90)]);
    expect(coveringCircle(cap).radius).toBeCloseTo(10, 6);
    const straddle = poly(359, -1, 1, -1, 1, 1, 359, 1);
    const c = coveringCircle(straddle);
    expect(c.radius).toBeCloseTo(Math.SQRT2, 3);
    check(straddle, pointsOnEdges(straddle.vertices, 20));
  });

  it('covers ranges', () => {
    const wrap = makeRange(350, 10, -5, 5);
    const samples: Point[] = [];
    for (let ra = -10; ra <= 10; ra += 1) for (let dec = -5; dec <= 5; dec += 1) samples.push(p(ra, dec));
    check(wrap, samples);
    expect(coveringCircle(makeRange(-Infinity, Infinity, 80, Infinity)).radius).toBeCloseTo(10, 6);
  });
});
