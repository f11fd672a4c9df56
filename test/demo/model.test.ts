/**
 * The pieces behind the pixels: the seeded generator, pixel-integrated Gaussian rendering, the
 * galaxy profiles, and the sky catalogue.
 */
import {
  DemoSky,
  Rng,
  TARGET,
  addGaussian,
  fitReverseSip,
  fluxAt,
  hash32,
  makeFrame,
  makePsf,
  patchGeometry,
  psfEffectiveArea,
  renderSource,
  toCelestialWcs,
  type SkySource,
} from '../../shared/demo';
import { angularDistance } from '../../shared/sky';

/** The standard normal CDF, from erfc by a Chebyshev fit (Numerical Recipes' erfcc, error < 1.2e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

describe('Rng', () => {
  test('keyed streams are reproducible and independent', () => {
    const a = new Rng(1, 'cell', 3, 4);
    const b = new Rng(1, 'cell', 3, 4);
    const c = new Rng(1, 'cell', 4, 3);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.u32())).not.toEqual(xs);
    expect(hash32('a', 1)).toBe(hash32('a', 1));
    expect(hash32('a', 1)).not.toBe(hash32('a', '1'));
  });

  test('uniform, normal and Poisson deviates have the right moments', () => {
    const rng = new Rng(42);
    const n = 200000;
    let s = 0;
    let s2 = 0;
    let u = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      const x = rng.next();
      if (!(x >= 0 && x < 1)) outside++;
      u += x;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
    expect(Math.abs(u / n - 0.5)).toBeLessThan(0.005);
    for (const mean of [0.5, 12, 250]) {
      let total = 0;
      for (let i = 0; i < 20000; i++) total += rng.poisson(mean);
      expect(Math.abs(total / 20000 - mean)).toBeLessThan(4 * Math.sqrt(mean / 20000) + 0.01);
    }
  });
});

describe('rendering', () => {
  test('an axis-aligned Gaussian is integrated over pixels exactly, even when undersampled', () => {
    for (const [sx, sy, x0, y0] of [
      [0.2, 0.3, 10.37, 9.81],
      [0.45, 0.45, 10.5, 10.0],
      [1.3, 0.7, 9.12, 10.66],
      [3, 2, 10.25, 10.75],
    ] as const) {
      const w = 21;
      const model = new Float64Array(w * w);
      addGaussian(model, w, w, x0, y0, 1000, sx * sx, 0, sy * sy, 1e-9);
      let total = 0;
      let exactTotal = 0;
      let worst = 0;
      for (let y = 0; y < w; y++) {
        for (let x = 0; x < w; x++) {
          const exact =
            1000 * (phi((x + 0.5 - x0) / sx) - phi((x - 0.5 - x0) / sx)) * (phi((y + 0.5 - y0) / sy) - phi((y - 0.5 - y0) / sy));
          worst = Math.max(worst, Math.abs(model[y * w + x]! - exact));
          total += model[y * w + x]!;
          exactTotal += exact;
        }
      }
      expect(worst).toBeLessThan(0.15); // of 1000: the pixel integrals to 1.5e-4 of the flux
      expect(Math.abs(total - exactTotal)).toBeLessThan(0.01);
    }
  });

  test('rotated ellipses: flux, centre and second moments are the covariance given', () => {
    const w = 41;
    const [cxx, cxy, cyy, x0, y0] = [6, 2.5, 3, 20.3, 19.6];
    const model = new Float64Array(w * w);
    addGaussian(model, w, w, x0, y0, 500, cxx, cxy, cyy, 1e-9);
    let f = 0;
    let mx = 0;
    let my = 0;
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const v = model[y * w + x]!;
        f += v;
        mx += v * x;
        my += v * y;
      }
    mx /= f;
    my /= f;
    let vxx = 0;
    let vxy = 0;
    let vyy = 0;
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const v = model[y * w + x]! / f;
        vxx += v * (x - mx) ** 2;
        vxy += v * (x - mx) * (y - my);
        vyy += v * (y - my) ** 2;
      }
    expect(f).toBeCloseTo(500, 2);
    expect(mx).toBeCloseTo(x0, 4);
    expect(my).toBeCloseTo(y0, 4);
    // Pixel integration adds 1/12 pixel² to the variance of the sampled values.
    expect(vxx).toBeCloseTo(cxx + 1 / 12, 3);
    expect(vxy).toBeCloseTo(cxy, 3);
    expect(vyy).toBeCloseTo(cyy + 1 / 12, 3);
  });

  test('stamps are local and clipped at the image edges; contributions below the threshold are left out', () => {
    const model = new Float64Array(30 * 20);
    addGaussian(model, 30, 20, -1.2, 10, 100, 1, 0, 1, 1e-6);
    let touched = 0;
    for (let y = 0; y < 20; y++) for (let x = 0; x < 30; x++) if (model[y * 30 + x] !== 0) touched++;
    expect(touched).toBeGreaterThan(10);
    expect(touched).toBeLessThan(150);
    const none = new Float64Array(100);
    addGaussian(none, 10, 10, 5, 5, 1, 1, 0, 1, 1); // peak 0.16 below threshold 1
    expect(none.every((v) => v === 0)).toBe(true);
  });

  test('galaxies and stars keep their flux through each profile and the PSF', () => {
    const geometry = patchGeometry(17, 4);
    const wcs = toCelestialWcs(geometry.wcs);
    const frame = makeFrame(wcs, geometry.size, geometry.size);
    expect(frame.pixelScale).toBeCloseTo(0.8, 12);
    const psf = makePsf(0.8);
    expect(psfEffectiveArea(psf)).toBeGreaterThan(4 * Math.PI * (0.8 / 2.3548) ** 2);
    const at = wcs.pixelToSky0(500.3, 480.7);
    for (const [profile, re, q] of [
      ['point', 0, 1],
      ['exp', 1.5, 0.4],
      ['dev', 1.0, 0.8],
    ] as const) {
      const source: SkySource = {
        id: 'test',
        kind: profile === 'point' ? 'star' : 'galaxy',
        ra: at.ra,
        dec: at.dec,
        flux: [1, 1, 1e5, 1, 1, 1],
        profile,
        re,
        q,
        pa: 30,
      };
      const model = new Float64Array(geometry.size * geometry.size);
      renderSource(model, frame, source, 1e5, psf, 1e-4);
      let total = 0;
      let mx = 0;
      let my = 0;
      model.forEach((v, i) => {
        total += v;
        mx += v * (i % geometry.size);
        my += v * Math.floor(i / geometry.size);
      });
      // The mixtures hold the light out to 8 r_e; the threshold drops only far wings.
      expect(total / 1e5).toBeGreaterThan(0.995);
      expect(total / 1e5).toBeLessThan(1.0001);
      // Up to ~0.01 pixel of pixel-phase bias for the undersampled point source (σ ≈ 0.4 pixel).
      expect(Math.abs(mx / total - 500.3)).toBeLessThan(0.02);
      expect(Math.abs(my / total - 480.7)).toBeLessThan(0.02);
    }
  });

  test('reverse SIP fit inverts the forward polynomial', () => {
    const a = {
      order: 3,
      terms: [
        [2, 0, 4e-6],
        [1, 1, -3e-6],
        [0, 3, 1e-9],
      ] as Array<[number, number, number]>,
    };
    const b = {
      order: 3,
      terms: [
        [0, 2, 5e-6],
        [2, 1, -2e-9],
      ] as Array<[number, number, number]>,
    };
    const { ap, bp } = fitReverseSip(a, b, 1018, 1000, [509.5, 500.5]);
    const poly = (t: ReadonlyArray<readonly [number, number, number]>, u: number, v: number) =>
      t.reduce((s, [p, q, c]) => s + c * u ** p * v ** q, 0);
    for (const [u, v] of [
      [-500, -490],
      [0, 0],
      [300, -200],
      [505, 495],
    ]) {
      const U = u! + poly(a.terms, u!, v!);
      const V = v! + poly(b.terms, u!, v!);
      expect(Math.abs(U + poly(ap.terms, U, V) - u!)).toBeLessThan(1e-3);
      expect(Math.abs(V + poly(bp.terms, U, V) - v!)).toBeLessThan(1e-3);
    }
  });
});

describe('sky catalogue', () => {
  test('the same sources whatever the order of the queries and the instance', () => {
    const a = new DemoSky(1);
    const b = new DemoSky(1);
    const far = b.sourcesNear(TARGET.ra + 0.3, TARGET.dec + 0.2, 0.05);
    const near = b.sourcesNear(TARGET.ra, TARGET.dec, 0.05);
    expect(a.sourcesNear(TARGET.ra, TARGET.dec, 0.05)).toEqual(near);
    expect(a.sourcesNear(TARGET.ra + 0.3, TARGET.dec + 0.2, 0.05)).toEqual(far);
    expect(new DemoSky(2).sourcesNear(TARGET.ra, TARGET.dec, 0.05).map((s) => s.id)).not.toEqual(near.map((s) => s.id));
    for (const s of near) expect(angularDistance(s, TARGET)).toBeLessThanOrEqual(0.05);
    expect(new Set(near.map((s) => s.id)).size).toBe(near.length);
  });

  test('realistic counts: ~4000 stars and ~80000 galaxies per square degree, plus the cluster', () => {
    const sky = new DemoSky(1);
    const radius = 0.1;
    const area = Math.PI * radius * radius;
    const field = sky.sourcesNear(TARGET.ra + 0.4, TARGET.dec + 0.4, radius);
    const stars = field.filter((s) => s.kind === 'star').length / area;
    const galaxies = field.filter((s) => s.kind === 'galaxy').length / area;
    expect(stars).toBeGreaterThan(3000);
    expect(stars).toBeLessThan(5000);
    expect(galaxies).toBeGreaterThan(72000);
    expect(galaxies).toBeLessThan(88000);
    const core = sky.sourcesNear(TARGET.ra, TARGET.dec, 0.02);
    expect(core.filter((s) => s.cluster).length).toBeGreaterThanOrEqual(60);
    expect(core).toContain(sky.transient);
  });

  test('light curves: transients only at epochs, variable stars around their mean', () => {
    const sky = new DemoSky(1);
    const t = sky.transient;
    const peak = t.lightCurve!.peakMjd;
    expect(fluxAt(t, 3, undefined)).toBe(0);
    expect(fluxAt(t, 3, peak)).toBe(t.flux[3]);
    expect(fluxAt(t, 3, peak + 60)).toBeLessThan(0.2 * t.flux[3]!);
    expect(fluxAt(t, 3, peak - 60)).toBeLessThan(0.01 * t.flux[3]!);
    const variable = sky.sourcesNear(TARGET.ra, TARGET.dec, 0.2).find((s) => s.variable)!;
    expect(variable).toBeDefined();
    expect(fluxAt(variable, 2, undefined)).toBe(variable.flux[2]);
    const a = variable.variable!.amplitude;
    for (const mjd of [60000, 60000.3, 60123.7]) {
      expect(Math.abs(fluxAt(variable, 2, mjd) / variable.flux[2]! - 1)).toBeLessThanOrEqual(a + 1e-12);
    }
  });
});
