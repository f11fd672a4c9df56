/**
 * Whether images can be combined pixel by pixel (a colour composite): one shape, and every
 * corner pixel at the same sky position in all of them. The coadds of one tract share its WCS,
 * and cutouts of one region made from them agree to rounding; different visits' calexps
 * differ by far more. Used by SODA's and bulk batches' RGB composites.
 */
import { openFitsBuffer, scalarLookup } from '../fits';
import { angularDistance } from '../sky';
import { parseWcs, type CelestialWcs } from '../wcs';
import { planeHdus, planeOfFits } from './fits';
import type { Plane } from './types';

/** An image to combine: what names it in messages (its band), the plane it draws, its pixel grid. */
export interface GridImage {
  readonly band: string;
  readonly plane: Plane;
  readonly wcs: CelestialWcs;
}

/**
 * The plane planeOfFits draws of a cutout or stamp (its FITS bytes: the first image HDU with
 * data, IMAGE in Rubin's files), with that HDU's WCS. Throws FitsError, WcsError.
 */
export function gridImageOf(band: string, fits: Uint8Array): GridImage {
  const file = openFitsBuffer(fits);
  try {
    const plane = planeOfFits(file);
    return { band, plane, wcs: parseWcs(scalarLookup(planeHdus(file).image.header)) };
  } finally {
    file.close();
  }
}

/** Images whose pixels are this close (in pixels, at every corner) lie on one pixel grid. */
export const GRID_TOLERANCE_PIXELS = 0.01;

/**
 * Why the images cannot be combined pixel by pixel, or undefined when they lie on one pixel
 * grid. `what` names them in the message (stamps, cutouts).
 */
export function gridMismatch(images: readonly GridImage[], what: string): string | undefined {
  const [first] = images;
  if (!first) return undefined;
  const names = images.map((s) => s.band).join(', ');
  const { width, height } = first.plane;
  if (images.some((s) => s.plane.width !== width || s.plane.height !== height)) {
    return `the ${names} ${what} are ${images.map((s) => `${s.plane.width}x${s.plane.height}`).join(', ')} pixels`;
  }
  // A pixel's size on the sky, from the first image's grid (a pixel beyond a 1-pixel image is as good).
  const pixel = angularDistance(first.wcs.pixelToSky0(0, 0), first.wcs.pixelToSky0(1, 0));
  let worst = 0;
  for (const [x, y] of [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ] as const) {
    const there = first.wcs.pixelToSky0(x, y);
    for (const s of images) worst = Math.max(worst, angularDistance(there, s.wcs.pixelToSky0(x, y)) / pixel);
  }
  if (!(worst <= GRID_TOLERANCE_PIXELS)) {
    return `the ${names} ${what} do not lie on one pixel grid (their images' WCS differ by up to ${worst.toPrecision(2)} pixels)`;
  }
  return undefined;
}
