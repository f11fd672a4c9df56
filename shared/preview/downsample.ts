/**
 * Shrinking a plane for a preview of at most maxSide pixels a side, by block averaging.
 */
import type { PixelArray } from './cuts';
import type { Plane } from './types';

/** The integer block size for maxSide: ceil(max(width, height) / maxSide), at least 1. */
export function downsampleFactor(width: number, height: number, maxSide: number): number {
  if (!Number.isInteger(maxSide) || maxSide < 1) throw new RangeError(`maxSide must be an integer >= 1, not ${maxSide}`);
  return Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
}

/**
 * Block means of an image fed in strips of whole rows, top to bottom of the array (row 0
 * first): what downsample does in one go, and what a FITS file read strip by strip feeds
 * without ever holding the whole image (fits.ts). Each strip but the last must hold a
 * multiple of f rows.
 */
export class BlockAverager {
  readonly outWidth: number;
  readonly outHeight: number;
  private readonly out: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Int32Array;
  private row = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly f: number,
  ) {
    this.outWidth = Math.ceil(width / f);
    this.outHeight = Math.ceil(height / f);
    this.out = new Float64Array(this.outWidth * this.outHeight);
    this.sums = new Float64Array(this.outWidth);
    this.counts = new Int32Array(this.outWidth);
  }

  /** Adds `rows` rows held in data[0 .. rows × width) (masked alike, non-zero = no data). */
  addRows(data: PixelArray, rows: number, masked?: Uint8Array): void {
    const { width, f, outWidth, sums, counts, out } = this;
    if (this.row % f !== 0 || this.row + rows > this.height)
      throw new RangeError(`rows ${this.row}..${this.row + rows} do not continue whole blocks`);
    for (let r = 0; r < rows; r++) {
      const y = this.row + r;
      if (y % f === 0) {
        sums.fill(0);
        counts.fill(0);
      }
      const row = r * width;
      // Walk the row block by block: no division per pixel.
      for (let bx = 0, x = 0; bx < outWidth; bx++) {
        const x1 = Math.min(width, x + f);
        let s = 0;
        let c = 0;
        if (masked) {
          for (; x < x1; x++) {
            const v = data[row + x]!;
            // v - v is 0 for finite v, NaN for NaN and ±Infinity.
            if (v - v === 0 && masked[row + x] === 0) {
              s += v;
              c++;
            }
          }
        } else {
          for (; x < x1; x++) {
            const v = data[row + x]!;
            if (v - v === 0) {
              s += v;
              c++;
            }
          }
        }
        sums[bx]! += s;
        counts[bx]! += c;
      }
      if ((y + 1) % f === 0 || y + 1 === this.height) {
        const o = Math.floor(y / f) * outWidth;
        for (let bx = 0; bx < outWidth; bx++) out[o + bx] = counts[bx]! > 0 ? sums[bx]! / counts[bx]! : NaN;
      }
    }
    this.row += rows;
  }

  /** The block means once every row has been added. */
  result(): Plane {
    if (this.row !== this.height) throw new RangeError(`${this.row} of ${this.height} rows were added`);
    return { width: this.outWidth, height: this.outHeight, data: this.out };
  }
}

/**
 * The plane averaged over blocks of f × f pixels, f = downsampleFactor(width, height, maxSide):
 * output pixel (X, Y) is the mean (float64) of the finite, unmasked pixels (x, y) with
 * floor(x/f) = X and floor(y/f) = Y, so the output is ceil(width/f) × ceil(height/f) and its
 * largest side is ≤ maxSide; blocks at the right and top edges are partial and average the
 * pixels they have. A block without any finite unmasked pixel is NaN; the result has no
 * `masked` (NaN carries it). In numpy terms: pad with NaN to multiples of f, set masked pixels
 * to NaN, then np.nanmean(a.reshape(H, f, W, f), axis=(1, 3)).
 *
 * f = 1 (the plane already fits): the plane itself is returned, never enlarged or copied.
 * maxSide must be an integer ≥ 1.
 */
export function downsample(plane: Plane, maxSide: number): Plane {
  const f = downsampleFactor(plane.width, plane.height, maxSide);
  if (f === 1) return plane;
  const averager = new BlockAverager(plane.width, plane.height, f);
  averager.addRows(plane.data, plane.height, plane.masked);
  return averager.result();
}
