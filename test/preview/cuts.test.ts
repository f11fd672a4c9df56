/**
 * Cuts against numpy and astropy: np.percentile (method 'linear'), min/max, and astropy 5.2's
 * ZScaleInterval().get_limits, on finite unmasked values (masked pixels become NaN for the
 * reference). Needs astropy.
 */
import { computeCuts, finiteValues, minMax, percentileOf, percentilePair, selectInPlace, zscaleLimits } from '../../shared/preview';
import { seededRandom } from '../../shared/random';
import { describeWith } from '../helpers/tools';
import { type PyCase, makeSky, pythonReference } from './helpers';

interface CutsRef {
  percentiles: ([number, number] | null)[];
  minmax: [number, number] | null;
  zscale: [number, number] | null;
}

const BODY = String.raw`
RESULTS = []
for arrays, prm in CASES:
    a = arrays['data'].ravel().copy()
    if 'masked' in arrays:
        a[arrays['masked'].ravel() != 0] = np.nan
    fin = a[np.isfinite(a)]
    out = {'percentiles': [], 'minmax': None, 'zscale': None}
    if fin.size:
        out['percentiles'] = [[float(x) for x in np.percentile(fin, pair)] for pair in prm['pairs']]
        out['minmax'] = [float(fin.min()), float(fin.max())]
        out['zscale'] = [float(x) for x in ZScaleInterval().get_limits(a)]
    RESULTS.append(out)
`;

const PAIRS: [number, number][] = [
  [0.5, 99.5],
  [0, 100],
  [25, 75],
  [1, 99],
  [10, 10.5],
  [33.3, 66.7],
  [50, 50],
  [99.9, 100],
];

interface Case {
  name: string;
  data: Float32Array | Float64Array;
  masked?: Uint8Array;
}

function cases(): Case[] {
  const rand = seededRandom('cuts-test');
  const sky = makeSky(64, 64, 'cuts');
  const withHoles = makeSky(100, 100, 'holes');
  const masked = new Uint8Array(withHoles.length);
  for (let i = 0; i < withHoles.length; i++) {
    if (i % 97 === 3) withHoles[i] = NaN;
    if (i % 89 === 5) withHoles[i] = i % 2 ? Infinity : -Infinity;
    if (rand() < 0.1) masked[i] = 1;
  }
  // Many ties: selection must cope with runs of equal values.
  const ties = Float64Array.from(makeSky(50, 40, 'ties'), (v) => Math.round(v / 7));
  // A line with outliers at both ends: zscale rejects through several iterations.
  const ramp = new Float64Array(3000);
  for (let i = 0; i < ramp.length; i++) ramp[i] = 0.01 * i + (rand() - 0.5) + (i % 50 === 0 ? 400 * (rand() - 0.3) : 0);
  return [
    { name: '64×64 sky, float32', data: sky },
    { name: '64×64 sky, float64', data: Float64Array.from(sky) },
    { name: '100×100 with NaN, ±Inf and masked pixels', data: withHoles, masked },
    { name: 'integer values with many ties', data: ties },
    { name: 'ramp with outliers, 3000 values (zscale stride 3)', data: ramp },
    { name: '1500 values (zscale takes the first 1000)', data: makeSky(50, 30, 'fifteen-hundred') },
    { name: '1024×1024 sky (zscale stride 1048)', data: makeSky(1024, 1024, 'big', 2000) },
    { name: 'one value', data: Float64Array.of(42.5) },
    { name: 'two values', data: Float32Array.of(3, -1) },
    { name: 'four values, fewer than min_npixels (5)', data: Float64Array.of(5, 1, 4, 2) },
    { name: 'seven values', data: Float64Array.of(7, 1, 7, 3, 9, -2, 7) },
    { name: 'constant', data: new Float32Array(500).fill(3.25) },
    { name: 'negative float32 with a tail', data: Float32Array.from(makeSky(40, 40, 'negative'), (v) => -v * 1e-3) },
  ];
}

function expectClose(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol))
    throw new Error(`${what}: ${actual} differs from the reference ${expected} by more than ${tol}`);
}

describeWith('astropy', 'cuts against numpy and astropy', () => {
  const all = cases();
  let refs: CutsRef[];
  beforeAll(async () => {
    const py: PyCase[] = all.map((c) => ({
      arrays: {
        data: { data: c.data, shape: [c.data.length] },
        ...(c.masked ? { masked: { data: c.masked, shape: [c.masked.length] } } : {}),
      },
      params: { pairs: PAIRS },
    }));
    refs = await pythonReference<CutsRef>(BODY, py);
  });

  test.each(all.map((c, k) => [c.name, k] as const))('np.percentile: %s', (_name, k) => {
    const c = all[k]!;
    const ref = refs[k]!;
    expect(ref.percentiles).toHaveLength(PAIRS.length);
    PAIRS.forEach(([lo, hi], j) => {
      const ours = computeCuts(c.data, { kind: 'percentile', lo, hi }, c.masked);
      // Same formula, same order statistics: equal to the last bit in float64.
      expectClose(ours[0], ref.percentiles[j]![0], 0, `p${lo}`);
      expectClose(ours[1], ref.percentiles[j]![1], 0, `p${hi}`);
    });
  });

  test.each(all.map((c, k) => [c.name, k] as const))('min and max: %s', (_name, k) => {
    const c = all[k]!;
    expect(computeCuts(c.data, { kind: 'minmax' }, c.masked)).toEqual(refs[k]!.minmax);
  });

  test.each(all.map((c, k) => [c.name, k] as const))('astropy ZScaleInterval: %s', (_name, k) => {
    const c = all[k]!;
    const ref = refs[k]!.zscale!;
    const ours = computeCuts(c.data, { kind: 'zscale' }, c.masked);
    // The line fit is solved differently (closed form vs numpy's lstsq): equal to ~1e-13.
    expectClose(ours[0], ref[0], 1e-12, 'zscale vmin');
    expectClose(ours[1], ref[1], 1e-12, 'zscale vmax');
  });

  test('the cases exercise what they are named for', () => {
    // zscale differs from min/max where it should (sky, ramp) and not where too few values.
    const z = (k: number) => refs[k]!.zscale!;
    const mm = (k: number) => refs[k]!.minmax!;
    expect(z(0)[1]).toBeLessThan(mm(0)[1] / 10);
    expect(z(4)[0]).toBeGreaterThan(mm(4)[0]);
    expect(z(9)).toEqual(mm(9));
    expect(z(11)).toEqual([3.25, 3.25]);
  });
});

describe('cuts without data', () => {
  test.each(['percentile', 'minmax', 'zscale'] as const)('%s of no finite value is [NaN, NaN]', (kind) => {
    const cuts = kind === 'percentile' ? { kind, lo: 1, hi: 99 } : { kind };
    expect(computeCuts(Float32Array.of(NaN, Infinity, -Infinity), cuts)).toEqual([NaN, NaN]);
    expect(computeCuts(Float64Array.of(1, 2), cuts, Uint8Array.of(1, 1))).toEqual([NaN, NaN]);
    expect(computeCuts(new Float64Array(0), cuts)).toEqual([NaN, NaN]);
  });

  test('percentile bounds are checked', () => {
    expect(() => computeCuts(Float64Array.of(1), { kind: 'percentile', lo: 60, hi: 40 })).toThrow(RangeError);
    expect(() => computeCuts(Float64Array.of(1), { kind: 'percentile', lo: -1, hi: 40 })).toThrow(RangeError);
  });
});

describe('selection and helpers', () => {
  test('selectInPlace puts the k-th smallest at k, smaller before, larger after', () => {
    const rand = seededRandom('select');
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      for (const distinct of [3, 1000000]) {
        const values = Float64Array.from({ length: n }, () => Math.floor(rand() * distinct));
        const sorted = Float64Array.from(values).sort();
        for (const k of [0, n >> 1, n - 1, Math.floor(rand() * n)]) {
          const a = Float64Array.from(values);
          selectInPlace(a, k);
          expect(a[k]).toBe(sorted[k]);
          for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k]!);
          for (let i = k + 1; i < n; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k]!);
          expect(Float64Array.from(a).sort()).toEqual(sorted);
        }
      }
    }
  });

  test('percentilePair equals percentileOf (a full sort) at many percentiles', () => {
    const values = Float64Array.from(makeSky(30, 30, 'pairs'));
    for (let lo = 0; lo <= 100; lo += 7.3) {
      for (const hi of [lo, (lo + 100) / 2, 100]) {
        expect(percentilePair(Float64Array.from(values), lo, hi)).toEqual([percentileOf(values, lo), percentileOf(values, hi)]);
      }
    }
    // Hand-computed: numpy's linear interpolation between order statistics.
    expect(percentileOf([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentileOf([10, 20], 25)).toBe(12.5);
    expect(percentileOf([10, 20, 30], 100)).toBe(30);
  });

  test('finiteValues keeps the finite unmasked values in order and the array type', () => {
    const v = finiteValues(Float32Array.of(1, NaN, 2, Infinity, 3, -Infinity, 4), Uint8Array.of(0, 0, 1, 0, 0, 0, 0));
    expect(v).toBeInstanceOf(Float32Array);
    expect([...v]).toEqual([1, 3, 4]);
    expect([...finiteValues(Float64Array.of(NaN, 5))]).toEqual([5]);
  });

  test('minMax and zscaleLimits skip masked pixels', () => {
    expect(minMax(Float64Array.of(9, 1, 5, -3), Uint8Array.of(1, 0, 0, 1))).toEqual([1, 5]);
    // Fewer than min_npixels samples: zscale is min/max.
    expect(zscaleLimits(Float64Array.of(9, 1, 5, -3), Uint8Array.of(1, 0, 0, 0))).toEqual([-3, 5]);
  });
});
