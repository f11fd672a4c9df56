/**
 * Pictures of bulk stamps: each stamp's preview (PREVIEW) and a row's colour composite (RGB),
 * drawn by shared/preview from the stamps' IMAGE planes as they were cut, so that no image is
 * read again: a preview from the pixels the cutter has just copied into the stamp
 * (Stamp.picture), a composite from its three stamps read back from the packs; and the sizes
 * the start step plans them with.
 *
 * What is transparent (PNG) or black (JPEG): NaN pixels (EDGE=pad fills the IMAGE plane beyond
 * the image with NaN) and, when the stamp has a MASK plane (PLANES), pixels with its NO_DATA
 * bit (planeOfFits). Without MASK in PLANES, NO_DATA pixels inside an image are drawn as they
 * are: a picture shows what its stamp holds.
 */
import { openFitsBuffer, scalarLookup } from '../fits';
import { downsampleFactor, planeOfFits, renderRgb, type Plane, type PreviewFormat } from '../preview';
import { angularDistance } from '../sky';
import { parseWcs, type CelestialWcs } from '../wcs';
import type { BulkPreview, BulkRgb } from './params';
import type { PixelBox } from './stamp';

/**
 * Bytes a picture of `box` is planned to take (BULK_MAX_BYTES is applied before anything is
 * drawn): its pixels uncompressed, with an alpha channel in PNG, plus 1 KiB of headers. PNG
 * never exceeds that (deflate's worst case adds 5 bytes per 16 KiB to the filtered rows);
 * JPEG at quality 90 makes sky pictures several times smaller.
 */
function pictureBound(box: PixelBox, colours: 1 | 3, format: PreviewFormat, maxSide: number | undefined): number {
  const f = maxSide === undefined ? 1 : downsampleFactor(box.nx, box.ny, maxSide);
  const width = Math.ceil(box.nx / f);
  const height = Math.ceil(box.ny / f);
  const channels = format === 'png' ? colours + 1 : colours;
  // PNG starts each row with a filter byte.
  return height * (width * channels + 1) + 1024;
}

/** The planned size of the picture of a stamp of `box` (PREVIEW). */
export function previewBound(box: PixelBox, preview: BulkPreview): number {
  return pictureBound(box, preview.display.cmap === 'gray' ? 1 : 3, preview.format, preview.display.maxSide);
}

/** The planned size of a composite of stamps of `box` (RGB). */
export function compositeBound(box: PixelBox, rgb: BulkRgb): number {
  return pictureBound(box, 3, rgb.format, rgb.maxSide);
}

/** A stamp read back for a composite: the plane it draws and the pixel grid it lies on. */
export interface StampImage {
  readonly band: string;
  readonly plane: Plane;
  readonly wcs: CelestialWcs;
}

/** The IMAGE plane and WCS of a stamp (its FITS bytes). Throws FitsError, WcsError. */
export function stampImage(band: string, stamp: Uint8Array): StampImage {
  const file = openFitsBuffer(stamp);
  try {
    const plane = planeOfFits(file, { extname: 'IMAGE' });
    return { band, plane, wcs: parseWcs(scalarLookup(file.hdu('IMAGE').header)) };
  } finally {
    file.close();
  }
}

/**
 * Stamps whose pixels are this close (in pixels, at every corner) lie on one pixel grid: the
 * coadds of one tract share its WCS, and the stamps of one position cut from them agree to
 * rounding; different visits' calexps differ by far more.
 */
export const GRID_TOLERANCE_PIXELS = 0.01;

/**
 * Why the stamps cannot be combined pixel by pixel, or undefined when they lie on one pixel
 * grid: one shape, and each corner pixel at the same sky position in all of them.
 */
export function gridMismatch(stamps: readonly StampImage[]): string | undefined {
  const [first] = stamps;
  if (!first) return undefined;
  const names = stamps.map((s) => s.band).join(', ');
  const { width, height } = first.plane;
  if (stamps.some((s) => s.plane.width !== width || s.plane.height !== height)) {
    return `the ${names} stamps are ${stamps.map((s) => `${s.plane.width}x${s.plane.height}`).join(', ')} pixels`;
  }
  // A pixel's size on the sky, from the first stamp's grid (a pixel beyond a 1-pixel stamp is as good).
  const pixel = angularDistance(first.wcs.pixelToSky0(0, 0), first.wcs.pixelToSky0(1, 0));
  let worst = 0;
  for (const [x, y] of [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ] as const) {
    const there = first.wcs.pixelToSky0(x, y);
    for (const s of stamps) worst = Math.max(worst, angularDistance(there, s.wcs.pixelToSky0(x, y)) / pixel);
  }
  if (!(worst <= GRID_TOLERANCE_PIXELS)) {
    return `the ${names} stamps do not lie on one pixel grid (their images' WCS differ by up to ${worst.toPrecision(2)} pixels)`;
  }
  return undefined;
}

/** The composite of three stamps (red, green, blue), or why they cannot make one. */
export function compositeOf(stamps: readonly [StampImage, StampImage, StampImage], rgb: BulkRgb): Buffer | { message: string } {
  const mismatch = gridMismatch(stamps);
  if (mismatch !== undefined) return { message: mismatch };
  const [r, g, b] = stamps;
  return renderRgb([r.plane, g.plane, b.plane], rgb.maxSide === undefined ? {} : { maxSide: rgb.maxSide }, rgb.format);
}
