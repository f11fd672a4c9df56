import { contains, distanceToShape, intersects, makeCircle, makePointShape, makePolygon, makeRange } from '../../shared/sky';
import type { Polygon, Shape } from '../../shared/sky';
import { midpoint, pointsOnEdges, p, poly } from './helpers';

/** The same polygon given in the opposite winding (same first vertex). */
const reversed = (polygon: Polygon): Polygon => makePolygon([polygon.vertices[0]!, ...polygon.vertices.slice(1).reverse()]);

describe('contains', () => {
  it('circle across the RA 0/360 wrap', () => {
    const circle = makeCircle(p(359.9, 0), 0.5);
    expect(contains(circle, p(0.2, 0))).toBe(true);
    expect(contains(circle, p(359.5, 0.2))).toBe(true);
    expect(contains(circle, p(0.5, 0))).toBe(false);
    expect(contains(circle, p(359.9, 0.5))).toBe(true); // on the boundary
    expect(contains(circle, p(359.9, 0.5000001))).toBe(false);
  });

  it('circle around and near the north pole', () => {
    const polar = makeCircle(p(0, 90), 1);
    expect(contains(polar, p(123, 89.5))).toBe(true);
    expect(contains(polar, p(300, 89.0000001))).toBe(true);
    expect(contains(polar, p(300, 88.9))).toBe(false);
    const offset = makeCircle(p(10, 89.5), 1);
    expect(contains(offset, p(0, 90))).toBe(true);
    expect(contains(offset, p(190, 89.8))).toBe(true); // 0.7° away over the pole
    expect(contains(offset, p(190, 89.4))).toBe(false); // 1.1° away
  });

  it('polygon straddling RA 0', () => {
    const straddle = poly(359, -1, 1, -1, 1, 1, 359, 1);
    expect(contains(straddle, p(0, 0))).toBe(true);
    expect(contains(straddle, p(0.5, 0.5))).toBe(true);
    expect(contains(straddle, p(359.5, -0.5))).toBe(true);
    expect(contains(straddle, p(2, 0))).toBe(false);
    expect(contains(straddle, p(358.5, 0))).toBe(false);
    expect(contains(straddle, p(180, 0))).toBe(false);
    expect(contains(straddle, p(1, 0))).toBe(true); // on an edge
    expect(contains(straddle, p(359, 1))).toBe(true); // a vertex
  });

  it('polygon containing the pole, with edges bulging poleward', () => {
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    expect(contains(cap, p(0, 90))).toBe(true);
    expect(contains(cap, p(45, 85))).toBe(true);
    // The edge (0,80)-(90,80) passes lon 45 at lat atan(√2·tan 80°) ≈ 82.893°.
    const edgeLatitude = (Math.atan(Math.SQRT2 * Math.tan((80 * Math.PI) / 180)) * 180) / Math.PI;
    expect(contains(cap, p(45, edgeLatitude + 1e-6))).toBe(true);
    expect(contains(cap, p(45, edgeLatitude - 1e-6))).toBe(false);
    expect(contains(cap, p(45, 82))).toBe(false);
    expect(contains(cap, p(0, 0))).toBe(false);
    expect(contains(cap, p(45, -85))).toBe(false);
  });

  it('a south polar polygon contains the south pole and not the north one', () => {
    const cap = poly(10, -85, 130, -85, 250, -85);
    expect(contains(cap, p(0, -90))).toBe(true);
    expect(contains(cap, p(0, 90))).toBe(false);
  });

  it('either winding of the same polygon gives the same answers', () => {
    const shapes = [poly(359, -1, 1, -1, 1, 1, 359, 1), poly(0, 80, 90, 80, 180, 80, 270, 80)];
    // A non-convex (L-shaped) polygon exercises the winding-number test.
    shapes.push(poly(0, 0, 4, 0, 4, 1, 1, 1, 1, 4, 0, 4));
    for (const shape of shapes) {
      const other = reversed(shape);
      expect(other.vertices).toEqual(shape.vertices);
      for (let ra = -2; ra <= 5; ra += 0.25) {
        for (let dec = -2; dec <= 90; dec += dec < 5 ? 0.25 : 2.5) {
          expect(contains(other, p(ra, dec))).toBe(contains(shape, p(ra, dec)));
        }
      }
    }
  });

  it('non-convex polygon', () => {
    const ell = poly(0, 0, 4, 0, 4, 1, 1, 1, 1, 4, 0, 4);
    expect(contains(ell, p(0.5, 0.5))).toBe(true);
    expect(contains(ell, p(3.5, 0.5))).toBe(true);
    expect(contains(ell, p(0.5, 3.5))).toBe(true);
    expect(contains(ell, p(2.5, 2.5))).toBe(false); // in the notch
    expect(contains(ell, p(1, 2))).toBe(true); // on the inner edge
    expect(contains(ell, p(200, 0))).toBe(false);
  });

  it('range wrapping through RA 0 and with infinite bounds', () => {
    const wrap = makeRange(350, 10, -5, 5);
    expect(contains(wrap, p(0, 0))).toBe(true);
    expect(contains(wrap, p(355, 4))).toBe(true);
    expect(contains(wrap, p(10, 5))).toBe(true);
    expect(contains(wrap, p(11, 0))).toBe(false);
    expect(contains(wrap, p(180, 0))).toBe(false);
    expect(contains(wrap, p(0, 5.1))).toBe(false);
    const cap = makeRange(-Infinity, Infinity, 80, Infinity);
    expect(contains(cap, p(123, 85))).toBe(true);
    expect(contains(cap, p(0, 90))).toBe(true);
    expect(contains(cap, p(0, 79))).toBe(false);
    const all = makeRange(-Infinity, Infinity, -Infinity, Infinity);
    for (const q of [p(0, -90), p(359.99, 0), p(180, 45)]) expect(contains(all, q)).toBe(true);
    // Every longitude meets at the pole.
    expect(contains(makeRange(10, 20, 80, 90), p(200, 90))).toBe(true);
  });

  it('point shapes', () => {
    expect(contains(makePointShape(10, 20), p(10, 20))).toBe(true);
    expect(contains(makePointShape(360, 20), p(0, 20))).toBe(true);
    expect(contains(makePointShape(10, 20), p(10, 20.0001))).toBe(false);
  });
});

describe('intersects', () => {
  const both = (a: Shape, b: Shape): boolean => {
    const forward = intersects(a, b);
    expect(intersects(b, a)).toBe(forward);
    return forward;
  };

  it('circles across the wrap', () => {
    const a = makeCircle(p(359.9, 0), 0.5);
    expect(both(a, makeCircle(p(0.7, 0), 0.35))).toBe(true);
    expect(both(a, makeCircle(p(1, 0), 0.2))).toBe(false);
    expect(both(a, makeCircle(p(180, 0), 180))).toBe(true);
  });

  it('polygons straddling RA 0, including edge-only crossings', () => {
    const straddle = poly(359, -1, 1, -1, 1, 1, 359, 1);
    expect(both(straddle, poly(0.5, 0, 2, 0, 2, 2, 0.5, 2))).toBe(true);
    expect(both(straddle, poly(2, 0, 3, 0, 3, 2, 2, 2))).toBe(false);
    // A plus sign: no vertex of either lies inside the other.
    const horizontal = poly(355, -0.5, 5, -0.5, 5, 0.5, 355, 0.5);
    const vertical = poly(359.5, -5, 0.5, -5, 0.5, 5, 359.5, 5);
    expect(both(horizontal, vertical)).toBe(true);
    // Containment either way.
    expect(both(straddle, poly(359.9, -0.1, 0.1, -0.1, 0.1, 0.1))).toBe(true);
    // Winding does not matter.
    expect(both(reversed(horizontal), vertical)).toBe(true);
  });

  it('circle and polygon with a bulging edge', () => {
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    // (45, 82.5) is 0.393° below the edge midpoint.
    expect(both(cap, makeCircle(p(45, 82.5), 0.35))).toBe(false);
    expect(both(cap, makeCircle(p(45, 82.5), 0.45))).toBe(true);
    expect(both(cap, makeCircle(p(200, 89), 0.1))).toBe(true); // circle inside polygon
    expect(both(makeCircle(p(0, 90), 30), cap)).toBe(true); // polygon inside circle
    expect(distanceToShape(cap, p(45, 82.5))).toBeCloseTo(
      (Math.atan(Math.SQRT2 * Math.tan((80 * Math.PI) / 180)) * 180) / Math.PI - 82.5,
      9,
    );
  });

  it('circle and range, also over the pole', () => {
    const range = makeRange(170, 190, 80, 85);
    expect(both(makeCircle(p(0, 85), 6), range)).toBe(false);
    expect(both(makeCircle(p(0, 85), 10), range)).toBe(true);
    expect(both(makeCircle(p(180, 82), 0.1), range)).toBe(true);
    const wrap = makeRange(350, 10, -5, 5);
    expect(both(makeCircle(p(12, 0), 2.5), wrap)).toBe(true);
    expect(both(makeCircle(p(12, 0), 1.5), wrap)).toBe(false);
    expect(both(makeCircle(p(0, 30), 1), makeRange(-Infinity, Infinity, -Infinity, Infinity))).toBe(true);
  });

  it('ranges, with wrap and shared poles', () => {
    const wrap = makeRange(350, 10, -5, 5);
    expect(both(wrap, makeRange(5, 20, 0, 10))).toBe(true);
    expect(both(wrap, makeRange(20, 30, -5, 5))).toBe(false);
    expect(both(wrap, makeRange(355, 358, 6, 10))).toBe(false);
    expect(both(wrap, makeRange(340, 355, -Infinity, Infinity))).toBe(true);
    expect(both(makeRange(0, 10, 80, 90), makeRange(180, 190, 85, Infinity))).toBe(true);
    expect(both(makeRange(0, 10, 80, 89), makeRange(180, 190, 85, 89))).toBe(false);
  });

  it('polygon and range: bulging edges and parallel-only crossings', () => {
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    expect(both(cap, makeRange(40, 50, 81, 82.5))).toBe(false);
    expect(both(cap, makeRange(40, 50, 81, 83))).toBe(true);
    // The edge (0,-79)-(90,-79) dips to about -82.2° and crosses only the range's top parallel.
    const triangle = poly(0, -79, 90, -79, 45, -70);
    expect(both(triangle, makeRange(350, 100, -89, -80))).toBe(true);
    expect(both(triangle, makeRange(350, 100, -89, -83))).toBe(false);
    // A band crossed by a triangle whose vertices lie on either side.
    expect(both(poly(0, 0, 10, 0, 5, 30), makeRange(-Infinity, Infinity, 10, 20))).toBe(true);
    // Range inside polygon and polygon inside range.
    expect(both(poly(0, 0, 10, 0, 10, 10, 0, 10), makeRange(4, 5, 4, 5))).toBe(true);
    expect(both(poly(4, 4, 5, 4, 5, 5), makeRange(350, 10, -10, 10))).toBe(true);
    // An edge running along the equator that touches a range from below.
    expect(both(poly(0, 0, 10, 0, 5, -5), makeRange(4, 6, 0, 1))).toBe(true);
  });

  it('point shapes intersect what contains them', () => {
    expect(both(makePointShape(0.2, 0), makeCircle(p(359.9, 0), 0.5))).toBe(true);
    expect(both(makePointShape(2, 0), poly(359, -1, 1, -1, 1, 1, 359, 1))).toBe(false);
  });

  it('points sampled on an edge count as in the polygon and in its covering shapes', () => {
    const cap = poly(0, 80, 90, 80, 180, 80, 270, 80);
    for (const q of pointsOnEdges(cap.vertices, 8)) expect(contains(cap, q)).toBe(true);
    expect(contains(cap, midpoint(p(0, 80), p(90, 80)))).toBe(true);
  });
});
