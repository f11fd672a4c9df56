/**
 * Visit images: LSSTCam-imSim detectors (4072 × 4000 native pixels) around the target, each
 * with its own rotation, seeing, epoch and a TAN-SIP WCS with small realistic distortion.
 */
import type { Band } from './photometry';
import { Rng } from '../random';
import { type Binning, NATIVE_PIXEL_SCALE, TARGET } from './skymap';
import { type SipPoly, type SipSpec, type WcsSpec, solveCrval } from './wcs';
import { fitReverseSip as fitReverse, type SipPolynomial } from '../wcs';

export const DETECTOR_WIDTH = 4072;
export const DETECTOR_HEIGHT = 4000;
/** Bands of successive visits (cycled). */
export const VISIT_BANDS: readonly Band[] = ['i', 'r', 'g', 'z', 'y', 'u'];

export interface VisitPlan {
  readonly visit: number;
  readonly detector: number;
  readonly band: Band;
  /** Start of exposure, MJD TAI. */
  readonly mjd: number;
  /** PSF core FWHM, arcsec. */
  readonly fwhm: number;
  readonly airmass: number;
  /** Sky position angle of the detector's +y axis (degrees east of north). */
  readonly rotation: number;
  readonly wcs: WcsSpec;
}

type Terms = Array<[number, number, number]>;

const toPolynomial = (poly: SipPoly): SipPolynomial => ({
  order: poly.order,
  terms: poly.terms.map(([p, q, coefficient]) => ({ p, q, coefficient })),
});
const fromPolynomial = (poly: SipPolynomial): SipPoly => ({
  order: poly.order,
  terms: poly.terms.map((t) => [t.p, t.q, t.coefficient] as const),
});

/**
 * Reverse SIP polynomials AP/BP (order `order`) by least squares on a grid over the image and a
 * 5 % margin (shared/wcs fitReverseSip), in the demo's tuple form.
 */
export function fitReverseSip(
  a: SipPoly,
  b: SipPoly,
  width: number,
  height: number,
  crpix: readonly [number, number],
  order = 4,
): { ap: SipPoly; bp: SipPoly } {
  const fit = fitReverse(toPolynomial(a), toPolynomial(b), { width, height, crpix, order, margin: 0.05, grid: 30 });
  return { ap: fromPolynomial(fit.ap), bp: fromPolynomial(fit.bp) };
}

/**
 * Random forward SIP of a detector: native-pixel coefficients up to ±1.5e-6 at order 2 and
 * ±1.5e-10 at order 3 (a few native pixels at the corners), rescaled to binned pixels
 * (a term of order n scales by b^(n−1)).
 */
function randomSip(rng: Rng, binning: Binning): { a: SipPoly; b: SipPoly } {
  const make = (): SipPoly => {
    const terms: Terms = [];
    for (let n = 2; n <= 3; n++) {
      const size = n === 2 ? 1.5e-6 : 1.5e-10;
      for (let p = n; p >= 0; p--) {
        const native = Number(rng.uniform(-size, size).toPrecision(6));
        terms.push([p, n - p, native * binning ** (n - 1)]);
      }
    }
    return { order: 3, terms };
  };
  return { a: make(), b: make() };
}

/**
 * The visits of the demo set. Visit 0 is taken near the transient's peak (`transientPeak`),
 * visit 1 some weeks later, the others at random epochs in MJD 60000–61000. Each puts the
 * target somewhere in the central 40 % of its detector.
 */
export function planVisits(seed: number, count: number, binning: Binning, transientPeak: number): VisitPlan[] {
  const width = DETECTOR_WIDTH / binning;
  const height = DETECTOR_HEIGHT / binning;
  const scale = (NATIVE_PIXEL_SCALE * binning) / 3600;
  const plans: VisitPlan[] = [];
  const used = new Set<number>();
  for (let k = 0; k < count; k++) {
    const rng = new Rng(seed, 'visit', k);
    const night =
      k === 0 ? Math.round(transientPeak) + rng.int(6) - 2 : k === 1 ? Math.round(transientPeak) + 12 + rng.int(12) : 60000 + rng.int(1000);
    // Chilean night: 00:30–09:00 UTC.
    const mjd = Math.round((night + rng.uniform(0.02, 0.37)) * 1e6) / 1e6;
    let visit = 1172000 + Math.round((mjd - 59990) * 0.95);
    while (used.has(visit)) visit++;
    used.add(visit);
    const detector = rng.int(189);
    const band = VISIT_BANDS[k % VISIT_BANDS.length]!;
    const fwhm = Math.round(rng.uniform(0.62, 1.05) * 1000) / 1000;
    const airmass = Math.round(rng.uniform(1.0, 1.45) * 1000) / 1000;
    const rotation = Math.round(rng.uniform(0, 360) * 1e4) / 1e4;
    const theta = (rotation * Math.PI) / 180;
    const { a, b } = randomSip(rng, binning);
    const crpix: [number, number] = [(width + 1) / 2, (height + 1) / 2];
    const { ap, bp } = fitReverseSip(a, b, width, height, crpix);
    const sip: SipSpec = { a, b, ap, bp };
    // North up, east left, turned by θ: the detector's +y axis points to position angle θ
    // (east of north) and det(CD) = −s² (east to the left of north, as on the sky).
    const cd: [number, number, number, number] = [
      -scale * Math.cos(theta),
      scale * Math.sin(theta),
      scale * Math.sin(theta),
      scale * Math.cos(theta),
    ];
    const fx = rng.uniform(0.3, 0.7);
    const fy = rng.uniform(0.3, 0.7);
    const base = { crpix, cd, sip, width, height, xy0: [0, 0] as const };
    const crval = solveCrval(base, TARGET, [0.5 + fx * width, 0.5 + fy * height]);
    plans.push({ visit, detector, band, mjd, fwhm, airmass, rotation, wcs: { ...base, crval } });
  }
  return plans;
}
