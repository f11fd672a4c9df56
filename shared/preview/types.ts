/**
 * The vocabulary of preview rendering: display settings, image planes, output formats.
 */

/** astropy.visualization's LinearStretch, AsinhStretch(a=0.1), LogStretch(a=1000), SqrtStretch. */
export type Stretch = 'linear' | 'asinh' | 'log' | 'sqrt';

/**
 * The data values mapped to black and white: astropy's ZScaleInterval() with its defaults,
 * the data's minimum and maximum, or two percentiles (np.percentile, 0 ≤ lo < hi ≤ 100).
 */
export type Cuts = { kind: 'zscale' } | { kind: 'minmax' } | { kind: 'percentile'; lo: number; hi: number };

export type Colormap = 'gray' | 'viridis' | 'inferno';

export type PreviewFormat = 'png' | 'jpeg';

export interface DisplayOptions {
  stretch: Stretch;
  cuts: Cuts;
  cmap: Colormap;
  /**
   * PREVIEW_SIZE: the picture's largest side at most this many pixels, reached by averaging
   * blocks of f × f pixels (see downsample); never enlarged. Absent: full resolution.
   */
  maxSide?: number;
}

/**
 * The service's default look: asinh stretch between the 0.5 and 99.5 percentiles, gray, full
 * resolution. Frozen: copy it (`{ ...DEFAULT_DISPLAY, maxSide }`) to change it.
 */
export const DEFAULT_DISPLAY: DisplayOptions = Object.freeze({
  stretch: 'asinh',
  cuts: Object.freeze({ kind: 'percentile', lo: 0.5, hi: 99.5 }),
  cmap: 'gray',
} as const);

/** The largest PREVIEW_SIZE accepted: a 4096-pixel side is the size of a whole Rubin patch. */
export const MAX_PREVIEW_SIZE = 4096;

/**
 * One image plane, row-major: pixel (x, y) is data[y × width + x]; row 0 = FITS row 1 (the
 * bottom of the sky image, as numpy/astropy read it: data[0] is the first row in the file).
 * Pixels without data are NaN (or ±Infinity, treated the same: only finite values are data),
 * or marked in `masked`.
 */
export interface Plane {
  width: number;
  height: number;
  data: Float32Array | Float64Array;
  /**
   * Optional, width × height bytes in the same order as data: a non-zero byte marks a pixel
   * as having no data (it is left out of cuts and averages and drawn transparent), as NaN does.
   * A byte array rather than a predicate: one typed-array read per pixel in the hot loops.
   */
  masked?: Uint8Array;
}

/** astropy.visualization.make_lupton_rgb's parameters (Lupton et al. 2004, PASP 116, 133). */
export interface LuptonOptions {
  /** The linear stretch of the image. Default 5. Must be > 0. */
  stretch: number;
  /** The asinh softening parameter. Default 8. */
  Q: number;
  /** Intensity mapped to black, one value or [r, g, b]. Default 0. */
  minimum: number | [number, number, number];
}

/** astropy's make_lupton_rgb defaults (astropy 5.2: minimum=0, stretch=5, Q=8). */
export const DEFAULT_LUPTON: Readonly<LuptonOptions> = Object.freeze({ stretch: 5, Q: 8, minimum: 0 });
