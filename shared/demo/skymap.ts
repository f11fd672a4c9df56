/**
 * The demo skymap: one DP0.2-like tract (4431) made of 7 × 7 patches on a single TAN projection.
 *
 * Native Rubin geometry: 0.2″ pixels, patches of 4000 × 4000 inner pixels with 100-pixel
 * overlap borders (a patch image is 4200 × 4200), patch index = x + 7 y, patch (x, y) covering
 * tract pixels [4000x − 100, 4000x + 4100) × [4000y − 100, 4000y + 4100). East is to the left
 * (CD1_1 < 0). The tangent point is chosen so that the tutorial's target, a galaxy cluster at
 * RA 55.7467376, Dec −32.2861552, sits 840 native pixels (20 %) in from the lower-left corner
 * of patch 17's image.
 *
 * Binning b (1, 2, 4, 8) divides the pixel grid: binned pixel k covers native pixels
 * [bk, bk + b). Pixel scale 0.2″ × b, patch image 4200/b pixels, patch origin
 * 4000x/b − ⌊100/b⌋ (for b = 8 the borders are 12 and 13 binned pixels). The sky footprints do
 * not depend on the binning; b = 1 is Rubin's native geometry.
 */
import type { CelestialWcs } from '../wcs';
import { type WcsSpec, toCelestialWcs } from './wcs';

export const TRACT = 4431;
export const SKYMAP = 'DC2';
export const PATCHES_X = 7;
export const PATCHES_Y = 7;
/** Native pixel scale, arcsec. */
export const NATIVE_PIXEL_SCALE = 0.2;
export const PATCH_INNER = 4000;
export const PATCH_BORDER = 100;
/** Tract reference pixel in native FITS pixels: the centre of the 28000 × 28000 inner grid. */
const TRACT_CRPIX_NATIVE = (PATCHES_X * PATCH_INNER) / 2 + 0.5;
/** Tangent point of tract 4431 (solved once so that TARGET lands at native tract pixel (12740, 8740), 0-based). */
export const TRACT_CRVAL: readonly [number, number] = [55.6639696, -31.9939903];

/** The tutorial's galaxy cluster (DP0.2 tutorial on image services). */
export const TARGET = { ra: 55.7467376, dec: -32.2861552 } as const;
/** The patch that holds TARGET near its lower-left corner. */
export const TARGET_PATCH = 17;

export const BINNINGS = [1, 2, 4, 8] as const;
export type Binning = (typeof BINNINGS)[number];

export function checkBinning(b: number): Binning {
  if (!(BINNINGS as readonly number[]).includes(b)) throw new RangeError(`binning must be one of ${BINNINGS.join(', ')}, got ${b}`);
  return b as Binning;
}

/** Tract WCS on the (binned) tract pixel grid, 0-based pixel k ↔ native pixels [bk, bk + b). */
export function tractWcsSpec(binning: Binning): WcsSpec {
  const scale = (NATIVE_PIXEL_SCALE * binning) / 3600;
  // Native 0-based position c of a reference point → binned 0-based (c − (b − 1)/2)/b.
  const crpix = (TRACT_CRPIX_NATIVE - 1 - (binning - 1) / 2) / binning + 1;
  const size = (PATCHES_X * PATCH_INNER) / binning;
  return {
    crpix: [crpix, crpix],
    crval: TRACT_CRVAL,
    cd: [-scale, 0, 0, scale],
    width: size,
    height: size,
    xy0: [0, 0],
  };
}

const tractCache = new Map<Binning, CelestialWcs>();

/** The tract WCS (cached), e.g. tractWcs(1) for native tract pixel coordinates. */
export function tractWcs(binning: Binning): CelestialWcs {
  let wcs = tractCache.get(binning);
  if (!wcs) {
    wcs = toCelestialWcs(tractWcsSpec(binning));
    tractCache.set(binning, wcs);
  }
  return wcs;
}

export interface PatchGeometry {
  readonly tract: number;
  readonly patch: number;
  /** Patch column and row in the tract. */
  readonly x: number;
  readonly y: number;
  /** First pixel of the patch image in the binned tract grid (Rubin's xy0; LTV = −origin). */
  readonly origin: readonly [number, number];
  /** Image size in binned pixels (4200/b). */
  readonly size: number;
  readonly binning: Binning;
  readonly wcs: WcsSpec;
}

export function checkPatch(patch: number): number {
  if (!Number.isInteger(patch) || patch < 0 || patch >= PATCHES_X * PATCHES_Y) {
    throw new RangeError(`patch must be an integer 0..${PATCHES_X * PATCHES_Y - 1}, got ${patch}`);
  }
  return patch;
}

/** Geometry and WCS of one patch image: the tract WCS with CRPIX shifted by the patch origin. */
export function patchGeometry(patch: number, binning: Binning): PatchGeometry {
  checkPatch(patch);
  const x = patch % PATCHES_X;
  const y = Math.floor(patch / PATCHES_X);
  const inner = PATCH_INNER / binning;
  const border = Math.floor(PATCH_BORDER / binning);
  const size = (PATCH_INNER + 2 * PATCH_BORDER) / binning;
  const origin: [number, number] = [x * inner - border, y * inner - border];
  const tract = tractWcsSpec(binning);
  return {
    tract: TRACT,
    patch,
    x,
    y,
    origin,
    size,
    binning,
    wcs: {
      crpix: [tract.crpix[0] - origin[0], tract.crpix[1] - origin[1]],
      crval: tract.crval,
      cd: tract.cd,
      width: size,
      height: size,
      xy0: origin,
    },
  };
}
