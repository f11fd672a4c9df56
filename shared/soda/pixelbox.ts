/**
 * The pixel rectangle of a region on an image: the smallest rectangle of whole pixels holding
 * every pixel whose area meets the region, clipped to the image (SODA 1.0 §3.3: values exceeding
 * the data are reduced to the dataset extent).
 *
 * The region ∩ image is bounded by pieces of the region's outline inside the image and pieces
 * of the image's edges inside the region, so its extreme x and y lie on one of them. The outline
 * is sampled at least every pixel (closer on tight curves), only where it comes near the image
 * (within the image's covering cap, so a 90° circle costs no more than a small one), projected
 * through the WCS, and each projected segment clipped to the image; image corners inside the
 * region are added. Works for any RA (all sky geometry is in unit vectors) and for regions
 * larger than the image.
 */
import type { Rect } from '../fits';
import { type Circle, type Polygon, type Range, type Vec3, contains, coveringCircle, toUnitVector } from '../sky';
import type { CelestialWcs, WcsFootprint } from '../wcs';
import { arcWithinCap, sampleArc, shapeBoundary } from './boundary';

/** Outline samples are at most this many (nominal) pixels apart… */
const SAMPLE_STEP_PIXELS = 1;
/** …and no chord strays further than this from the outline (in pixels, on the sky). */
const CHORD_TOLERANCE_PIXELS = 1e-3;
/**
 * Extremes are widened by this, so the chords' shortfall and rounding can never drop a pixel
 * the region enters (at worst a pixel it just touches is taken).
 */
const PAD_PIXELS = 2 * CHORD_TOLERANCE_PIXELS;
/** The cap searched for outline pieces reaches this far beyond the image's covering circle. */
const CAP_MARGIN_PIXELS = 16;
const RAD = Math.PI / 180;

/** Extremes of points in 0-based pixel coordinates, within the image's outer pixel edges. */
class PixelExtent {
  private minX = Infinity;
  private maxX = -Infinity;
  private minY = Infinity;
  private maxY = -Infinity;
  private readonly xMax: number;
  private readonly yMax: number;

  constructor(
    private readonly width: number,
    private readonly height: number,
  ) {
    this.xMax = width - 0.5;
    this.yMax = height - 0.5;
  }

  add(x: number, y: number): void {
    this.minX = Math.min(this.minX, x);
    this.maxX = Math.max(this.maxX, x);
    this.minY = Math.min(this.minY, y);
    this.maxY = Math.max(this.maxY, y);
  }

  /** The part of the segment inside [−½, width−½] × [−½, height−½] (Liang–Barsky); NaN ends add nothing. */
  addSegment(x0: number, y0: number, x1: number, y1: number): void {
    const dx = x1 - x0;
    const dy = y1 - y0;
    // The four edges as p·t ≤ q: left, right, bottom, top.
    let t0 = 0;
    let t1 = 1;
    for (let edge = 0; edge < 4; edge++) {
      const p = edge === 0 ? -dx : edge === 1 ? dx : edge === 2 ? -dy : dy;
      const q = edge === 0 ? x0 + 0.5 : edge === 1 ? this.xMax - x0 : edge === 2 ? y0 + 0.5 : this.yMax - y0;
      if (!(Number.isFinite(p) && Number.isFinite(q))) return;
      if (p === 0) {
        if (q < 0) return;
      } else if (p < 0) {
        t0 = Math.max(t0, q / p);
      } else {
        t1 = Math.min(t1, q / p);
      }
    }
    if (t0 > t1) return;
    this.add(x0 + t0 * dx, y0 + t0 * dy);
    this.add(x0 + t1 * dx, y0 + t1 * dy);
  }

  /**
   * Pixel i covers [i − ½, i + ½]: the pixels from the one holding the smallest x to the one
   * holding the largest, the extremes widened by `pad`; a value on a pixel edge counts for the
   * pixel on the inside only. At least one pixel per axis; null when nothing was added.
   */
  rect(pad: number): Rect | null {
    if (this.minX > this.maxX) return null;
    const x0 = Math.max(0, Math.floor(this.minX - pad + 0.5));
    const y0 = Math.max(0, Math.floor(this.minY - pad + 0.5));
    const x1 = Math.max(x0, Math.min(this.width - 1, Math.ceil(this.maxX + pad - 0.5)));
    const y1 = Math.max(y0, Math.min(this.height - 1, Math.ceil(this.maxY + pad - 0.5)));
    return { x0, y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  }
}

/**
 * The 0-based pixel rectangle of `shape` on the image described by `wcs` (whose image size
 * must be known), or null when the shape does not touch the image.
 */
export function pixelBox(wcs: CelestialWcs, shape: Circle | Polygon | Range): Rect | null {
  if (!wcs.imageSize) throw new RangeError('pixelBox needs the image size (NAXIS1/NAXIS2)');
  const [width, height] = wcs.imageSize;
  const extent = new PixelExtent(width, height);
  const { footprint, capCenter, cosReach } = imageCap(wcs);
  const pixel = wcs.pixelScale * RAD;
  for (const arc of shapeBoundary(shape)) {
    for (const [u, v] of arcWithinCap(arc, capCenter, cosReach)) {
      const points = sampleArc(arc, u, v, SAMPLE_STEP_PIXELS * pixel, CHORD_TOLERANCE_PIXELS * pixel);
      const { x, y } = wcs.unitVectorsToPixels(points.x, points.y, points.z, 0);
      for (let i = 1; i < x.length; i++) extent.addSegment(x[i - 1]!, y[i - 1]!, x[i]!, y[i]!);
    }
  }
  // Corners in footprint order: 0-based (−½, −½), (W−½, −½), (W−½, H−½), (−½, H−½).
  const cornerPixels = [
    [-0.5, -0.5],
    [width - 0.5, -0.5],
    [width - 0.5, height - 0.5],
    [-0.5, height - 0.5],
  ] as const;
  footprint.corners.forEach((corner, k) => {
    if (contains(shape, corner)) extent.add(cornerPixels[k]![0], cornerPixels[k]![1]);
  });
  return extent.rect(PAD_PIXELS);
}

/** The image's footprint and the cap searched for outline pieces. */
interface ImageCap {
  readonly footprint: WcsFootprint;
  readonly capCenter: Vec3;
  readonly cosReach: number;
}

/** Made once per parsed WCS: every cutout of an open image searches the same cap. */
const caps = new WeakMap<CelestialWcs, ImageCap>();

function imageCap(wcs: CelestialWcs): ImageCap {
  let found = caps.get(wcs);
  if (!found) {
    const footprint = wcs.footprint();
    const cap = coveringCircle(footprint.polygon);
    found = {
      footprint,
      capCenter: toUnitVector(cap.center),
      cosReach: Math.cos(Math.min(180, cap.radius + CAP_MARGIN_PIXELS * wcs.pixelScale) * RAD),
    };
    caps.set(wcs, found);
  }
  return found;
}
