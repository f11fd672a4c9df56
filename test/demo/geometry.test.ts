/**
 * The demo images on the sky: the skymap layout around the tutorial's target, sources at the
 * same RA/Dec in every image (measured centroids through each image's WCS), the galaxy cluster
 * and the transient.
 */
import {
  BINNINGS,
  DemoSky,
  TARGET,
  fluxAt,
  patchGeometry,
  physicalFilter,
  planDemoRepository,
  toCelestialWcs,
  tractWcsSpec,
  bandIndex,
  type Band,
  type GeneratedDataset,
  type SkySource,
} from '../../shared/demo';
import { angularDistance, contains } from '../../shared/sky';
import { type Plane, find, generateTiny, readPlane } from './helpers';

let repo: { dir: string; datasets: GeneratedDataset[]; cleanup: () => void };
const sky = new DemoSky(1);

beforeAll(async () => {
  repo = await generateTiny();
});
afterAll(() => repo?.cleanup());

const coadd = (patch: number, band: Band) => find(repo.datasets, { datasetType: 'deepCoadd_calexp', patch, band });

/** Sky position `radius` degrees from `center` towards position angle `angle` (radians). */
function around(center: { ra: number; dec: number }, radius: number, angle: number): { ra: number; dec: number } {
  return {
    ra: center.ra + (radius * Math.sin(angle)) / Math.cos((center.dec * Math.PI) / 180),
    dec: center.dec + radius * Math.cos(angle),
  };
}

describe('skymap', () => {
  test('patch 17 contains the target 15–25 % in from its lower-left corner, with a 0.03° circle around it', () => {
    const plane = readPlane(coadd(17, 'i').path);
    const footprint = plane.wcs.footprint();
    expect(contains(footprint.polygon, TARGET)).toBe(true);
    const p = plane.wcs.skyToPixel(TARGET.ra, TARGET.dec);
    for (const [v, n] of [
      [p.x, plane.width],
      [p.y, plane.height],
    ] as const) {
      expect((v - 0.5) / n).toBeGreaterThan(0.15);
      expect((v - 0.5) / n).toBeLessThan(0.25);
    }
    // East is to the left: RA grows towards smaller x.
    expect(plane.wcs.pixelToSky(p.x - 10, p.y).ra).toBeGreaterThan(TARGET.ra);
    for (let k = 0; k < 36; k++) {
      const q = around(TARGET, 0.03, (k * Math.PI) / 18);
      expect(contains(footprint.polygon, q)).toBe(true);
      expect(plane.wcs.containsSky(q.ra, q.dec)).toBe(true);
    }
    // A patch is ~0.233° on a side.
    const side = angularDistance(footprint.corners[0]!, footprint.corners[1]!);
    expect(side).toBeCloseTo((4200 * 0.2) / 3600, 3);
    // The target is in no other patch of the tiny set.
    expect(readPlane(coadd(16, 'i').path).wcs.containsSky(TARGET.ra, TARGET.dec)).toBe(false);
  });

  test('patches are sub-grids of the tract grid: CRPIX − LTV is the tract CRPIX, and neighbours agree in their overlap', () => {
    const tract = tractWcsSpec(8);
    const p17 = readPlane(coadd(17, 'r').path);
    const p16 = readPlane(coadd(16, 'r').path);
    for (const plane of [p16, p17]) {
      expect(plane.header.getNumber('CRPIX1')! - plane.header.getNumber('LTV1')!).toBe(tract.crpix[0]);
      expect(plane.header.getNumber('CRPIX2')! - plane.header.getNumber('LTV2')!).toBe(tract.crpix[1]);
      expect(plane.header.getNumber('CRVAL1')).toBe(tract.crval[0]);
      expect(plane.header.getNumber('CD1_1')).toBeCloseTo((-0.2 * 8) / 3600, 15);
    }
    expect(p17.header.getNumber('LTV1')).toBe(-(3 * 500 - 12));
    expect(p17.header.getNumber('LTV2')).toBe(-(2 * 500 - 12));
    expect(p16.header.getNumber('LTV1')).toBe(-(2 * 500 - 12));
    // A point in the 100-pixel overlap of patches 16 and 17: positions differ by 500 binned pixels.
    const shared = p17.wcs.pixelToSky(8, 300);
    const in16 = p16.wcs.skyToPixel(shared.ra, shared.dec);
    expect(in16.x).toBeCloseTo(508, 6);
    expect(in16.y).toBeCloseTo(300, 6);
  });

  test('every binning keeps the sky layout: 4200/b pixels of 0.2b″, target at the same place', () => {
    for (const b of BINNINGS) {
      const g = patchGeometry(17, b);
      expect(g.size).toBe(4200 / b);
      const wcs = toCelestialWcs(g.wcs);
      expect(wcs.pixelScale * 3600).toBeCloseTo(0.2 * b, 12);
      const p = wcs.skyToPixel0(TARGET.ra, TARGET.dec);
      // 840 native pixels in from the corner (minus the rounding of the border for b = 8).
      expect(p.x * b).toBeCloseTo(840 - (b - 1) / 2 - (100 - b * Math.floor(100 / b)), 0);
      expect(Math.abs(p.x / g.size - 0.2)).toBeLessThan(0.003);
      expect(Math.abs(p.y / g.size - 0.2)).toBeLessThan(0.003);
    }
  });

  test('visits overlap the target with rotated TAN-SIP WCSs of a few native pixels distortion', () => {
    const plans = planDemoRepository({ visits: 6, binning: 4, patches: [] }).filter((p) => p.datasetType === 'calexp');
    expect(plans).toHaveLength(6);
    expect(new Set(plans.map((p) => p.band)).size).toBe(6);
    const rotations = plans.map((p) => p.rotation!);
    expect(new Set(rotations.map((r) => Math.round(r / 10))).size).toBe(6);
    for (const plan of plans) {
      const wcs = toCelestialWcs(plan.wcs);
      const p = wcs.skyToPixel(TARGET.ra, TARGET.dec);
      expect(p.x / plan.wcs.width).toBeGreaterThan(0.25);
      expect(p.x / plan.wcs.width).toBeLessThan(0.75);
      expect(p.y / plan.wcs.height).toBeGreaterThan(0.25);
      expect(p.y / plan.wcs.height).toBeLessThan(0.75);
      expect(plan.mjdObs).toBeGreaterThan(60000);
      expect(plan.mjdObs).toBeLessThan(61000);
      // SIP versus the linear part at the corners: 0.5–40 binned pixels (2–160 native).
      const linear = toCelestialWcs({ ...plan.wcs, sip: undefined });
      let largest = 0;
      for (const [x, y] of [
        [0.5, 0.5],
        [plan.wcs.width + 0.5, 0.5],
        [0.5, plan.wcs.height + 0.5],
        [plan.wcs.width + 0.5, plan.wcs.height + 0.5],
      ] as const) {
        const s = wcs.pixelToSky(x, y);
        const q = linear.skyToPixel(s.ra, s.dec);
        largest = Math.max(largest, Math.hypot(q.x - x, q.y - y));
      }
      expect(largest).toBeGreaterThan(0.5);
      expect(largest).toBeLessThan(40);
      // AP/BP invert A/B closely (readers that use them without iterating are right to ~1e-3 px).
      const sip = plan.wcs.sip!;
      const evalPoly = (terms: typeof sip.a.terms, u: number, v: number) => terms.reduce((s, [p, q, c]) => s + c * u ** p * v ** q, 0);
      for (const [u, v] of [
        [-500, -480],
        [480, 450],
        [-300, 400],
      ] as const) {
        const U = u + evalPoly(sip.a.terms, u, v);
        const V = v + evalPoly(sip.b.terms, u, v);
        expect(Math.abs(U + evalPoly(sip.ap.terms, U, V) - u)).toBeLessThan(1e-3);
        expect(Math.abs(V + evalPoly(sip.bp.terms, U, V) - v)).toBeLessThan(1e-3);
      }
    }
  });
});

/** Flux-weighted centroid (0-based pixels) in a (2r + 1)² window around the rounded position. */
function centroid(plane: Plane, x: number, y: number, r: number): { x: number; y: number } {
  const cx = Math.round(x);
  const cy = Math.round(y);
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let j = cy - r; j <= cy + r; j++) {
    for (let i = cx - r; i <= cx + r; i++) {
      const v = plane.data[j * plane.width + i]!;
      sum += v;
      sx += v * i;
      sy += v * j;
    }
  }
  return { x: sx / sum, y: sy / sum };
}

function insideWithMargin(plane: Plane, s: SkySource, margin: number): boolean {
  const p = plane.wcs.skyToPixel0(s.ra, s.dec);
  return p.x > margin && p.y > margin && p.x < plane.width - 1 - margin && p.y < plane.height - 1 - margin;
}

describe('sources are where the catalogue puts them, in every image', () => {
  test('isolated stars: centroids in a coadd and two rotated calexps agree on the sky within 0.1 pixel', async () => {
    // At the default binning 4 (0.8″ pixels, PSF FWHM ≈ 1 pixel) a flux-weighted centroid is
    // unbiased to ~0.01 pixel; at binning 8 the PSF is undersampled and centroids snap to pixels.
    const set = await generateTiny({ binning: 4, patches: [17], bands: ['i'], visits: 2, diffs: 0 });
    try {
      const images = set.datasets.map((d) => ({ d, plane: readPlane(d.path) }));
      expect(images.map((i) => i.d.datasetType)).toEqual(['deepCoadd_calexp', 'calexp', 'calexp']);
      expect(new Set(images.map((i) => i.d.band)).size).toBeGreaterThanOrEqual(2);
      // The calexps are rotated with respect to the coadd and to each other.
      const angle = (plane: Plane) => Math.atan2(plane.wcs.matrix[2], -plane.wcs.matrix[0]) * (180 / Math.PI);
      const turn = (a: number, b: number) => Math.abs(((a - b + 540) % 360) - 180);
      expect(turn(angle(images[1]!.plane), angle(images[0]!.plane))).toBeGreaterThan(5);
      expect(turn(angle(images[2]!.plane), angle(images[1]!.plane))).toBeGreaterThan(5);
      const flux = (s: SkySource, band: Band) => s.flux[bandIndex(band)]!;
      const near = sky.sourcesNear(TARGET.ra, TARGET.dec, 0.15);
      const stars = near.filter(
        (s) =>
          s.kind === 'star' &&
          !s.variable &&
          images.every(({ plane }) => insideWithMargin(plane, s, 8)) &&
          // Bright but unsaturated in every band used.
          images.every(({ d }) => flux(s, d.band) > 3e4 && flux(s, d.band) < 4e5) &&
          // No neighbour bright enough to pull the centroid.
          near.every(
            (n) =>
              n === s || angularDistance(n, s) * 3600 > 8 + 4 * n.re || images.every(({ d }) => flux(n, d.band) < 0.003 * flux(s, d.band)),
          ),
      );
      expect(stars.length).toBeGreaterThanOrEqual(3);
      for (const star of stars.slice(0, 5)) {
        const measured = images.map(({ plane }) => {
          const p = plane.wcs.skyToPixel0(star.ra, star.dec);
          const c = centroid(plane, p.x, p.y, 3);
          return { sky: plane.wcs.pixelToSky0(c.x, c.y), scale: plane.wcs.pixelScale };
        });
        for (const m of measured) expect(angularDistance(m.sky, star) / m.scale).toBeLessThan(0.1);
        for (let k = 1; k < measured.length; k++) {
          expect(angularDistance(measured[k]!.sky, measured[0]!.sky) / measured[0]!.scale).toBeLessThan(0.1);
        }
      }
    } finally {
      set.cleanup();
    }
  });

  test('the galaxy cluster makes the lower-left of patch 17 red: brighter in i than in g, and than elsewhere', () => {
    const planes = new Map<Band, Plane>();
    const sum = (band: Band, center: { ra: number; dec: number }) => {
      const plane = planes.get(band) ?? readPlane(coadd(17, band).path);
      planes.set(band, plane);
      const c = plane.wcs.skyToPixel0(center.ra, center.dec);
      const reach = Math.ceil(0.02 / plane.wcs.pixelScale) + 2;
      let total = 0;
      for (let y = Math.max(0, Math.round(c.y) - reach); y <= Math.min(plane.height - 1, Math.round(c.y) + reach); y++) {
        for (let x = Math.max(0, Math.round(c.x) - reach); x <= Math.min(plane.width - 1, Math.round(c.x) + reach); x++) {
          const s = plane.wcs.pixelToSky0(x, y);
          if (angularDistance(s, center) <= 0.02) total += plane.data[y * plane.width + x]!;
        }
      }
      return total;
    };
    const i = sum('i', TARGET);
    const g = sum('g', TARGET);
    expect(i).toBeGreaterThan(3 * g);
    // The same area elsewhere in the patch holds a fraction of that light (typically).
    const wcs = readPlane(coadd(17, 'i').path).wcs;
    const elsewhere = [0.35, 0.5, 0.65, 0.8]
      .flatMap((fx) => [0.35, 0.5, 0.65, 0.8].map((fy) => sum('i', wcs.pixelToSky0(fx * 525, fy * 525))))
      .sort((a, b) => a - b);
    expect(i).toBeGreaterThan(3 * elsewhere[8]!);
    // The catalogue: dozens of red members within 0.022° of the target.
    expect(sky.cluster.length).toBeGreaterThanOrEqual(50);
    for (const member of sky.cluster) {
      expect(angularDistance(member, TARGET)).toBeLessThanOrEqual(0.022);
      expect(member.flux[bandIndex('i')]!).toBeGreaterThan(2.5 * member.flux[bandIndex('g')]!);
    }
  });

  test('the transient is in the difference image of its epoch at the catalogue flux, and not in the coadd', () => {
    const diff = repo.datasets.find((d) => d.datasetType === 'goodSeeingDiff_differenceExp')!;
    const image = readPlane(diff.path);
    const variance = readPlane(diff.path, 'VARIANCE');
    const epoch = image.primary.getNumber('MJD-OBS')!;
    const expected = fluxAt(sky.transient, bandIndex(diff.band), epoch);
    expect(image.primary.get('FILTER')).toBe(physicalFilter(diff.band));
    expect(expected).toBeGreaterThan(5000);
    const aperture = (plane: Plane, vari: Plane | null, r: number) => {
      const p = plane.wcs.skyToPixel0(sky.transient.ra, sky.transient.dec);
      let flux = 0;
      let v = 0;
      for (let y = Math.ceil(p.y - r); y <= Math.floor(p.y + r); y++) {
        for (let x = Math.ceil(p.x - r); x <= Math.floor(p.x + r); x++) {
          if (Math.hypot(x - p.x, y - p.y) > r) continue;
          flux += plane.data[y * plane.width + x]!;
          if (vari) v += vari.data[y * plane.width + x]!;
        }
      }
      return { flux, sigma: Math.sqrt(v) };
    };
    const measured = aperture(image, variance, 2.5);
    expect(Math.abs(measured.flux - expected)).toBeLessThan(4 * measured.sigma + 0.05 * expected);
    expect(measured.flux).toBeGreaterThan(10 * measured.sigma);
    // The coadd has the static sky only: the transient's light is absent there.
    expect(fluxAt(sky.transient, bandIndex(diff.band), undefined)).toBe(0);
  });
});
