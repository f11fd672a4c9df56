/**
 * Bands, filters, PSFs and noise levels of the demo images. Pixel values are fluxes in nJy
 * (AB magnitude m ↔ 10^((31.4 − m)/2.5) nJy), as in Rubin's calibrated images.
 */

export const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
export type Band = (typeof BANDS)[number];

export function bandIndex(band: Band): number {
  return BANDS.indexOf(band);
}

export function isBand(value: string): value is Band {
  return (BANDS as readonly string[]).includes(value);
}

/** DP0.2 (DC2 imSim) physical filter names. */
export function physicalFilter(band: Band): string {
  return `${band}_sim_1.4`;
}

export function magToNanojansky(mag: number): number {
  return Math.pow(10, (31.4 - mag) / 2.5);
}

/**
 * A PSF as a sum of two concentric circular Gaussians (a core and 12 % in a wing twice as
 * wide), which gives Moffat-like wings. `fwhm` is the FWHM of the core in arcsec.
 */
export interface Psf {
  readonly fwhm: number;
  /** Component weights (sum 1) and standard deviations in arcsec. */
  readonly weights: readonly number[];
  readonly sigmas: readonly number[];
}

export function makePsf(fwhm: number): Psf {
  const core = fwhm / 2.3548200450309493;
  return { fwhm, weights: [0.88, 0.12], sigmas: [core, 2.2 * core] };
}

/** Effective area 1/∫PSF² of a normalised PSF, arcsec² (4πσ² for one Gaussian). */
export function psfEffectiveArea(psf: Psf): number {
  let sum = 0;
  for (let i = 0; i < psf.weights.length; i++) {
    for (let j = 0; j < psf.weights.length; j++) {
      sum += (psf.weights[i]! * psf.weights[j]!) / (2 * Math.PI * (psf.sigmas[i]! ** 2 + psf.sigmas[j]! ** 2));
    }
  }
  return 1 / sum;
}

/** Coadd PSF FWHM per band (arcsec), DP0.2-like. */
export const COADD_FWHM: Readonly<Record<Band, number>> = { u: 0.92, g: 0.87, r: 0.83, i: 0.8, z: 0.78, y: 0.76 };

/** 5σ point-source depths (AB) of the 5-year DP0.2 coadds. */
export const COADD_DEPTH: Readonly<Record<Band, number>> = { u: 25.6, g: 26.8, r: 26.8, i: 26.3, z: 25.6, y: 24.8 };

/** 5σ point-source depths (AB) of one 30 s visit at 0.8″ seeing (LSST SRD-like). */
export const VISIT_DEPTH: Readonly<Record<Band, number>> = { u: 23.8, g: 24.9, r: 24.6, i: 24.0, z: 23.3, y: 22.1 };

/** Input visits per band of a 5-year coadd patch (before a ±10 % per-patch scatter). */
export const COADD_VISITS: Readonly<Record<Band, number>> = { u: 24, g: 34, r: 80, i: 80, z: 70, y: 70 };

export const VISIT_EXPTIME = 30;

/**
 * Per-pixel sky noise (nJy) for a 5σ point-source depth through a PSF, on pixels of
 * `pixelScale` arcsec: σ_psf-flux = F(depth)/5 = σ_pixel × √(effective area in pixels).
 */
export function pixelNoise(depth: number, psf: Psf, pixelScale: number): number {
  const sigmaPsfFlux = magToNanojansky(depth) / 5;
  return sigmaPsfFlux / Math.sqrt(psfEffectiveArea(psf) / (pixelScale * pixelScale));
}

/**
 * Sky counts (electron-like) per native pixel behind the sky noise: source Poisson noise adds
 * variance flux × σ²/counts. About 1000 for a 30 s visit; a coadd of ~100 visits far more.
 */
export const VISIT_SKY_COUNTS = 1000;
export const COADD_SKY_COUNTS = 60000;

/** Saturation of one native pixel in a visit, nJy (about a 16th-magnitude star's peak). */
export const SATURATION_NJY = 7e4;
