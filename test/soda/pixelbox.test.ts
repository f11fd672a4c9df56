/**
 * The pixel rectangle of a region (SODA 1.0 §3.3: whole pixels, reduced to the image) against
 * brute force: every pixel of the image sampled on a 4×4 grid over its area (edges and corners
 * included) and tested with shared/sky's `contains`. Ours must hold every touched pixel and
 * exceed their bounding box by at most one pixel per side. TAN and TAN-SIP images, RA through 0/360, the pole, regions
 * larger than the image, open RANGE sides.
 */
import { type SipPoly, type WcsSpec, fitReverseSip } from '../../shared/demo';
import type { Rect } from '../../shared/fits';
import { type Circle, type Point, type Polygon, type Range, makeCircle, makePolygon, makeRange } from '../../shared/sky';
import { pixelBox } from '../../shared/soda';
import type { CelestialWcs } from '../../shared/wcs';
import { exhaustiveBox, margins, tanSpec, wcsOf } from './helpers';

type Region = Circle | Polygon | Range;

/** Checks ours against the brute-force boxes and returns it. */
function checkBox(wcs: CelestialWcs, shape: Region): Rect | null {
  const ours = pixelBox(wcs, shape);
  const reference = exhaustiveBox(wcs, shape);
  if (reference.touched === null) {
    expect(ours).toBeNull();
    return ours;
  }
  expect(ours).not.toBeNull();
  const m = margins(ours!, reference.touched);
  for (const side of [m.left, m.right, m.bottom, m.top]) {
    expect(side).toBeGreaterThanOrEqual(0);
    expect(side).toBeLessThanOrEqual(1);
  }
  if (reference.centres) {
    const c = margins(ours!, reference.centres);
    expect(Math.min(c.left, c.right, c.bottom, c.top)).toBeGreaterThanOrEqual(0);
  }
  return ours;
}

/** A circle of `radiusPixels` (nominal scale) about 0-based pixel (x, y). */
function circleAt(wcs: CelestialWcs, x: number, y: number, radiusPixels: number): Circle {
  return makeCircle(wcs.pixelToSky0(x, y), radiusPixels * wcs.pixelScale);
}

function polygonAt(wcs: CelestialWcs, pixels: ReadonlyArray<readonly [number, number]>): Polygon {
  return makePolygon(pixels.map(([x, y]) => wcs.pixelToSky0(x, y)));
}

const FULL = (wcs: CelestialWcs): Rect => ({ x0: 0, y0: 0, width: wcs.imageSize![0], height: wcs.imageSize![1] });

describe('TAN image, rotated 30°, 120 × 100 pixels of 2″', () => {
  const wcs = wcsOf(tanSpec({ width: 120, height: 100, ra: 150, dec: 2, arcsecPerPixel: 2, rotation: 30 }));

  test('a circle inside the image', () => {
    expect(checkBox(wcs, circleAt(wcs, 40, 60, 15))).toEqual({ x0: 25, y0: 45, width: 31, height: 31 });
  });

  test('circles across each edge are clipped to the image', () => {
    // At x = −½ the circle spans y = 50 ± √(20² − 4.5²) = 30.51 … 69.49.
    expect(checkBox(wcs, circleAt(wcs, -5, 50, 20))).toEqual({ x0: 0, y0: 31, width: 16, height: 39 });
    expect(checkBox(wcs, circleAt(wcs, 118, 97, 10))).toEqual({ x0: 108, y0: 87, width: 12, height: 13 });
    checkBox(wcs, circleAt(wcs, 60, -8, 12));
  });

  test('a circle holding the whole image gives the whole image; one off the image gives null', () => {
    expect(checkBox(wcs, circleAt(wcs, 60, 50, 500))).toEqual(FULL(wcs));
    expect(checkBox(wcs, makeCircle(wcs.pixelToSky0(60, 50), 180))).toEqual(FULL(wcs));
    expect(checkBox(wcs, circleAt(wcs, 300, 50, 10))).toBeNull();
    expect(checkBox(wcs, circleAt(wcs, 60, -30, 25))).toBeNull();
  });

  test('a circle smaller than a pixel gives the pixel it lies in (too small for the 4×4 reference)', () => {
    expect(pixelBox(wcs, circleAt(wcs, 30.2, 40.7, 0.1))).toEqual({ x0: 30, y0: 41, width: 1, height: 1 });
    expect(pixelBox(wcs, circleAt(wcs, 30.5, 40.5, 1e-6))).toEqual({ x0: 30, y0: 40, width: 2, height: 2 });
  });

  test('a 90° circle whose edge (a great circle) runs through the image', () => {
    const centre = wcs.pixelToSky0(59.5, 49.5);
    const circle = makeCircle({ ra: centre.ra, dec: centre.dec - 90 + 1e-3 }, 90);
    const box = checkBox(wcs, circle)!;
    expect(box.width * box.height).toBeLessThan(120 * 100);
  });

  test('a concave polygon, and one around the whole image', () => {
    const arrow = polygonAt(wcs, [
      [10, 10],
      [100, 20],
      [60, 50],
      [100, 85],
      [15, 90],
    ]);
    expect(checkBox(wcs, arrow)).toEqual({ x0: 10, y0: 10, width: 91, height: 81 });
    const around = polygonAt(wcs, [
      [-50, -50],
      [170, -50],
      [170, 150],
      [-50, 150],
    ]);
    expect(checkBox(wcs, around)).toEqual(FULL(wcs));
  });

  test('RANGE: closed, open in longitude, open in latitude, open everywhere', () => {
    checkBox(wcs, makeRange(149.99, 150.01, 1.99, 2.01));
    const decBand = checkBox(wcs, makeRange(-Infinity, Infinity, 1.995, 2.005))!;
    expect(decBand.height).toBeLessThan(100);
    const raBand = checkBox(wcs, makeRange(149.995, 150.005, -Infinity, Infinity))!;
    expect(raBand.width).toBeLessThan(120);
    expect(checkBox(wcs, makeRange(-Infinity, Infinity, -Infinity, Infinity))).toEqual(FULL(wcs));
    expect(checkBox(wcs, makeRange(0, 360, -90, 90))).toEqual(FULL(wcs));
    expect(checkBox(wcs, makeRange(10, 20, -Infinity, Infinity))).toBeNull();
  });
});

describe('TAN image across RA 0/360 (160 × 120 pixels of 1″ at Dec −30°)', () => {
  const wcs = wcsOf(tanSpec({ width: 160, height: 120, ra: 0, dec: -30, arcsecPerPixel: 1 }));

  test('the image does straddle RA 0', () => {
    expect(wcs.pixelToSky0(0, 60).ra).toBeLessThan(1);
    expect(wcs.pixelToSky0(159, 60).ra).toBeGreaterThan(359);
  });

  test('circles on either side of RA 0 and on it', () => {
    // RA 359.995 is 15.6″ west of the centre (79.5, 59.5): to the right, east being left.
    const west = checkBox(wcs, makeCircle({ ra: 359.995, dec: -30 }, 30 / 3600))!;
    expect(west.x0 + west.width / 2).toBeCloseTo(79.5 + 15.6 + 0.5, 0);
    expect(west.width).toBe(61);
    const east = checkBox(wcs, makeCircle({ ra: 0.005, dec: -30.002 }, 10 / 3600))!;
    expect(east.x0 + east.width / 2).toBeCloseTo(79.5 - 15.6 + 0.5, 0);
    expect(checkBox(wcs, makeCircle({ ra: 0, dec: -30 }, 0.1))).toEqual(FULL(wcs));
  });

  test('a RANGE wrapping through 0 (359.995 → 0.005) and ones ending at 0 from either side', () => {
    // 0.01° of RA at Dec −30° is 31.2″: 31 or 32 columns about the centre column.
    const wrapping = checkBox(wcs, makeRange(359.995, 0.005, -30.01, -29.99))!;
    expect(wrapping.width).toBeGreaterThanOrEqual(31);
    expect(wrapping.width).toBeLessThanOrEqual(33);
    expect(wrapping.x0).toBeLessThan(79.5);
    expect(wrapping.x0 + wrapping.width).toBeGreaterThan(79.5);
    const eastOfZero = checkBox(wcs, makeRange(0, 0.01, -Infinity, Infinity))!;
    const westOfZero = checkBox(wcs, makeRange(359.99, 360, -Infinity, Infinity))!;
    // RA 0 runs along x = 79.5, the edge between columns 79 and 80 (taken by both, at most);
    // the image spans RA ±0.0257°.
    expect(eastOfZero.x0 + eastOfZero.width).toBeGreaterThanOrEqual(80);
    expect(eastOfZero.x0 + eastOfZero.width).toBeLessThanOrEqual(81);
    expect(westOfZero.x0).toBeGreaterThanOrEqual(79 - 1);
    expect(westOfZero.x0).toBeLessThanOrEqual(79);
    expect(eastOfZero.x0).toBeGreaterThan(0);
    expect(westOfZero.x0 + westOfZero.width).toBeLessThan(160);
  });

  test('a polygon across RA 0', () => {
    const points: Point[] = [
      { ra: 359.993, dec: -30.005 },
      { ra: 0.007, dec: -30.005 },
      { ra: 0.002, dec: -29.995 },
    ];
    checkBox(wcs, makePolygon(points));
  });
});

describe('near the pole (100 × 100 pixels of 1″, the pole 36″ from the centre)', () => {
  const wcs = wcsOf(tanSpec({ width: 100, height: 100, ra: 45, dec: 89.99, arcsecPerPixel: 1 }));

  test('a cap around the pole, wedges of longitude (one through 0), a circle on the pole', () => {
    checkBox(wcs, makeRange(0, 360, 89.997, 90));
    checkBox(wcs, makeRange(10, 20, 89.99, Infinity));
    checkBox(wcs, makeRange(350, 20, 89.99, Infinity));
    checkBox(wcs, makeCircle({ ra: 0, dec: 90 }, 12 / 3600));
  });
});

describe('TAN-SIP image with about half a pixel of distortion at the corners', () => {
  const poly = (terms: ReadonlyArray<readonly [number, number, number]>): SipPoly => ({ order: 2, terms });
  const base = tanSpec({ width: 120, height: 100, ra: 55.7, dec: -32.3, arcsecPerPixel: 1.6, rotation: -84.5 });
  const a = poly([
    [2, 0, 2e-4],
    [1, 1, -1e-4],
    [0, 2, 5e-5],
  ]);
  const b = poly([
    [2, 0, -5e-5],
    [1, 1, 1.5e-4],
    [0, 2, 1e-4],
  ]);
  const spec: WcsSpec = { ...base, sip: { a, b, ...fitReverseSip(a, b, base.width, base.height, base.crpix) } };
  const wcs = wcsOf(spec);

  test('the distortion is real: TAN alone puts a corner half a pixel off', () => {
    const tan = wcsOf(base);
    const corner = wcs.pixelToSky0(119, 99);
    const p = tan.skyToPixel0(corner.ra, corner.dec);
    expect(Math.hypot(p.x - 119, p.y - 99)).toBeGreaterThan(0.4);
  });

  test('circles inside, across a corner, and a polygon', () => {
    checkBox(wcs, circleAt(wcs, 90, 70, 20));
    checkBox(wcs, circleAt(wcs, 115, 95, 12));
    checkBox(wcs, circleAt(wcs, 3, 2, 7.3));
    checkBox(
      wcs,
      polygonAt(wcs, [
        [5, 80],
        [110, 95],
        [60, 3],
      ]),
    );
  });
});

test('the cost does not grow with the region: only the outline near the image is sampled', () => {
  const wcs = wcsOf(tanSpec({ width: 4096, height: 4096, ra: 150, dec: 2, arcsecPerPixel: 0.2, rotation: 10 }));
  const centre = wcs.pixelToSky0(2047.5, 2047.5);
  const cases: Region[] = [
    makeCircle({ ra: centre.ra, dec: centre.dec - 60 + 0.05 }, 60),
    makeCircle({ ra: centre.ra + 0.2, dec: centre.dec }, 0.15),
    makeRange(centre.ra - 40, centre.ra + 0.05, -Infinity, 89),
  ];
  for (const shape of cases) {
    const t0 = performance.now();
    const box = pixelBox(wcs, shape);
    const ms = performance.now() - t0;
    expect(box).not.toBeNull();
    expect(box!.width * box!.height).toBeLessThan(4096 * 4096);
    // A 60° circle sampled all round at one pixel steps would take ~6.8 million projections.
    expect(ms).toBeLessThan(1000);
  }
});
