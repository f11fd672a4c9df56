/**
 * Pictures of bulk stamps: each stamp's preview (PREVIEW) and a row's colour composite (RGB),
 * drawn by shared/preview from the stamps' IMAGE planes as they were cut, so that no image is
 * read again: a preview from the pixels the cutter has just copied into the stamp
 * (Stamp.picture), a composite from its three stamps read back from the packs (gridImageOf,
 * only when they lie on one pixel grid: gridMismatch); and the sizes the start step plans them with.
 *
 * What is transparent (PNG) or black (JPEG): NaN pixels (EDGE=pad fills the IMAGE plane beyond
 * the image with NaN) and, when the stamp has a MASK plane (PLANES), pixels with its NO_DATA
 * bit (planeOfFits). Without MASK in PLANES, NO_DATA pixels inside an image are drawn as they
 * are: a picture shows what its stamp holds.
 */
import { downsampleFactor, gridMismatch, renderRgb, type GridImage, type PreviewFormat } from '../preview';
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

/** The composite of three stamps (red, green, blue), or why they cannot make one. */
export function compositeOf(stamps: readonly [GridImage, GridImage, GridImage], rgb: BulkRgb): Buffer | { message: string } {
  const mismatch = gridMismatch(stamps, 'stamps');
  if (mismatch !== undefined) return { message: mismatch };
  const [r, g, b] = stamps;
  return renderRgb([r.plane, g.plane, b.plane], rgb.maxSide === undefined ? {} : { maxSide: rgb.maxSide }, rgb.format);
}
