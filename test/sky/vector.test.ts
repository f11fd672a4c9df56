import { angularDistance, fromVector, normalizeRa, raDifference, toUnitVector } from '../../shared/sky';

describe('normalizeRa', () => {
  it.each([
    [0, 0],
    [360, 0],
    [-10, 350],
    [725, 5],
    [359.999, 359.999],
    [-1e-20, 0],
  ])('normalizeRa(%p) = %p', (input, expected) => {
    expect(normalizeRa(input)).toBeCloseTo(expected, 12);
    expect(normalizeRa(input)).toBeGreaterThanOrEqual(0);
    expect(normalizeRa(input)).toBeLessThan(360);
  });

  it('raDifference wraps into (-180, 180]', () => {
    expect(raDifference(359.5, 0.5)).toBeCloseTo(1, 12);
    expect(raDifference(0.5, 359.5)).toBeCloseTo(-1, 12);
    expect(raDifference(0, 180)).toBe(180);
  });
});

describe('unit vectors', () => {
  it('round-trips positions, including the poles', () => {
    for (const p of [
      { ra: 0, dec: 0 },
      { ra: 123.456, dec: -45.5 },
      { ra: 359.9999999, dec: 89.9999999 },
    ]) {
      const back = fromVector(toUnitVector(p));
      expect(back.ra).toBeCloseTo(p.ra, 9);
      expect(back.dec).toBeCloseTo(p.dec, 12);
    }
    expect(fromVector({ x: 0, y: 0, z: 1 })).toEqual({ ra: 0, dec: 90 });
    expect(fromVector({ x: 0, y: 0, z: -2 }).dec).toBe(-90);
  });
});

describe('angularDistance', () => {
  it('gives exact values for simple configurations', () => {
    expect(angularDistance({ ra: 0, dec: 0 }, { ra: 90, dec: 0 })).toBeCloseTo(90, 12);
    expect(angularDistance({ ra: 0, dec: 90 }, { ra: 123, dec: 0 })).toBeCloseTo(90, 12);
    expect(angularDistance({ ra: 359.5, dec: 0 }, { ra: 0.5, dec: 0 })).toBeCloseTo(1, 12);
    const expected = (Math.acos(Math.cos(Math.PI / 180) ** 2) * 180) / Math.PI;
    expect(angularDistance({ ra: 0, dec: 0 }, { ra: 1, dec: 1 })).toBeCloseTo(expected, 10);
  });

  it('is accurate for antipodal points', () => {
    expect(angularDistance({ ra: 0, dec: 0 }, { ra: 180, dec: 0 })).toBeCloseTo(180, 12);
    expect(angularDistance({ ra: 10, dec: 20 }, { ra: 190, dec: -20 })).toBeCloseTo(180, 12);
    expect(angularDistance({ ra: 0, dec: 90 }, { ra: 77, dec: -90 })).toBeCloseTo(180, 12);
    // 1e-9 deg short of antipodal still resolves.
    const near = angularDistance({ ra: 10, dec: 20 }, { ra: 190, dec: -20 + 1e-6 });
    expect(180 - near).toBeCloseTo(1e-6, 10);
  });

  it('is accurate for separations of 1e-9 degree', () => {
    const d1 = angularDistance({ ra: 10, dec: 20 }, { ra: 10, dec: 20 + 1e-9 });
    expect(Math.abs(d1 - 1e-9) / 1e-9).toBeLessThan(1e-5);
    const d2 = angularDistance({ ra: 10, dec: 0 }, { ra: 10 + 1e-9, dec: 0 });
    expect(Math.abs(d2 - 1e-9) / 1e-9).toBeLessThan(1e-5);
    const d3 = angularDistance({ ra: 359.9999999995, dec: 60 }, { ra: 0.0000000005, dec: 60 });
    expect(Math.abs(d3 - 0.5e-9) / 0.5e-9).toBeLessThan(1e-4);
    expect(angularDistance({ ra: 42, dec: -7 }, { ra: 42, dec: -7 })).toBe(0);
  });
});
