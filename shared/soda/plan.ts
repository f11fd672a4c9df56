/**
 * What one SODA cutout takes from a FITS file: which HDUs are cut, and the pixel rectangle of
 * each. Reads only headers (already in the opened FitsFile); no pixels.
 *
 * Every 2-D image HDU with a celestial WCS is cut by its own WCS (Rubin MEFs: IMAGE, MASK,
 * VARIANCE); a primary HDU without data is copied (its header only); other HDUs (tables, cubes)
 * are left out. BAND, TIME and POL cannot cut a 2-D image: they either overlap the dataset's
 * coverage (the whole axis is kept) or the cutout is empty (SODA 1.0 §5.1: 204 for sync, §6: a
 * result entry with an error label for async).
 */
import type { Interval } from '../dali/interval';
import { type FitsFile, FitsError, type HduInfo, type Rect, scalarLookup } from '../fits';
import { type CelestialWcs, WcsError, parseWcs } from '../wcs';
import { SodaError } from './errors';
import type { SodaCutout } from './params';
import { pixelBox } from './pixelbox';

/** The dataset's coverage from its ObsCore row (null = unknown: never excludes anything). */
export interface DatasetCoverage {
  /** em_min, em_max: wavelength limits in metres. */
  readonly emMin: number | null;
  readonly emMax: number | null;
  /** t_min, t_max: MJD. */
  readonly tMin: number | null;
  readonly tMax: number | null;
  /** pol_states as ObsCore writes it ('/I/Q/U/'); null or absent = no polarization axis. */
  readonly polStates?: string | null;
}

/** The filters of one cutout (a SodaCutout is one). */
export type CutoutFilters = Pick<SodaCutout, 'spatial' | 'band' | 'time' | 'pol'>;

export interface PlannedHdu {
  /** HDU index in the source file (0 = primary). */
  readonly index: number;
  /** EXTNAME, or null. */
  readonly name: string | null;
  /** 0-based pixel rectangle to cut, inside the image. */
  readonly rect: Rect;
  /** NAXIS1, NAXIS2 of the source image. */
  readonly imageSize: readonly [number, number];
}

export interface CutoutPlan {
  /**
   * 'header': the output's primary HDU is the source's primary header (its data, if any, not
   * copied) and every cut HDU follows as an IMAGE extension. 'cut': the source's primary HDU is
   * itself cut (a single-image file) and is hdus[0].
   */
  readonly primary: 'header' | 'cut';
  /** Cut HDUs in file order. */
  readonly hdus: readonly PlannedHdu[];
}

/** Closed intervals meet; an unknown coverage bound is open. */
function overlaps(wanted: Interval, min: number | null, max: number | null): boolean {
  return wanted.lo <= (max ?? Infinity) && wanted.hi >= (min ?? -Infinity);
}

function hasPolarization(wanted: readonly string[], polStates: string | null | undefined): boolean {
  const present = new Set(
    (polStates ?? '')
      .split('/')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  return wanted.some((label) => present.has(label));
}

/** BAND, TIME and POL against the dataset's coverage: false = the cutout is empty. */
export function overlapsCoverage(filters: CutoutFilters, coverage: DatasetCoverage): boolean {
  if (filters.band && !overlaps(filters.band, coverage.emMin, coverage.emMax)) return false;
  if (filters.time && !overlaps(filters.time, coverage.tMin, coverage.tMax)) return false;
  if (filters.pol && !hasPolarization(filters.pol, coverage.polStates)) return false;
  return true;
}

function hduLabel(hdu: HduInfo): string {
  return `HDU ${hdu.index}${hdu.extname ? ` (${hdu.extname})` : ''}`;
}

function isCelestialCtype(value: unknown): boolean {
  return typeof value === 'string' && /^(RA|DEC)-/i.test(value.trim());
}

/** Parsed once per HDU of an open file (callers keep open files in a cache). */
const wcsOfHdu = new WeakMap<HduInfo, CelestialWcs | null>();

function parseCelestialWcs(hdu: HduInfo): CelestialWcs | null {
  if (hdu.kind !== 'image' || hdu.axes.length !== 2 || hdu.axes[0] === 0 || hdu.axes[1] === 0) return null;
  if (!isCelestialCtype(hdu.header.get('CTYPE1')) && !isCelestialCtype(hdu.header.get('CTYPE2'))) return null;
  try {
    return parseWcs(scalarLookup(hdu.header));
  } catch (err) {
    if (err instanceof WcsError || err instanceof FitsError)
      throw new SodaError('UsageError', `${hduLabel(hdu)} of the dataset cannot be cut: ${err.message}`);
    throw err;
  }
}

/**
 * The celestial WCS of a 2-D image HDU, from its own header only (a cut HDU carries its WCS,
 * shifted, so an inherited one could not be kept right); null when the HDU is not a 2-D image
 * with RA/DEC axes. An RA/DEC WCS this service cannot use is a UsageError naming the HDU.
 */
function celestialWcsOf(hdu: HduInfo): CelestialWcs | null {
  let wcs = wcsOfHdu.get(hdu);
  if (wcs === undefined) {
    wcs = parseCelestialWcs(hdu);
    wcsOfHdu.set(hdu, wcs);
  }
  return wcs;
}

const signatures = new WeakMap<CelestialWcs, string>();

/**
 * Equal for WCSs that map every pixel alike (the IMAGE, MASK and VARIANCE planes of an
 * exposure; the coadds of one patch in every band). Made once per parsed WCS.
 */
function wcsSignature(wcs: CelestialWcs): string {
  let signature = signatures.get(wcs);
  if (signature === undefined) {
    signature = JSON.stringify([wcs.ctype, wcs.crpix, wcs.crval, wcs.lonpole, wcs.matrix, wcs.sip ?? null, wcs.imageSize]);
    signatures.set(wcs, signature);
  }
  return signature;
}

type Shape = NonNullable<CutoutFilters['spatial']>['shape'];

/**
 * Pixel boxes already found, per region object and WCS signature. An async job cuts every
 * region from every ID with the same region objects (params.ts combinations), and images that
 * share a pixel grid (a patch's coadds in every band) get the same box: planning, which samples
 * the region's edge through the WCS, is done once per region and grid instead of once per
 * cutout. Kept as long as the region is (a WeakMap: a finished request's regions go with it).
 */
const boxesOfShape = new WeakMap<Shape, Map<string, Rect | null>>();

function pixelBoxOf(wcs: CelestialWcs, shape: Shape): Rect | null {
  let boxes = boxesOfShape.get(shape);
  if (!boxes) boxesOfShape.set(shape, (boxes = new Map<string, Rect | null>()));
  const signature = wcsSignature(wcs);
  let box = boxes.get(signature);
  if (box === undefined) {
    box = pixelBox(wcs, shape);
    boxes.set(signature, box);
  }
  return box;
}

/**
 * The HDUs to cut and their rectangles, or null when the cutout holds no pixels (a BAND, TIME
 * or POL outside the coverage, or a region that misses every image). No spatial filter keeps
 * whole images. Throws SodaError (UsageError) for a dataset with nothing to cut.
 */
export function planCutout(file: FitsFile, filters: CutoutFilters, coverage: DatasetCoverage): CutoutPlan | null {
  const images = file.hdus.flatMap((hdu) => {
    const wcs = celestialWcsOf(hdu);
    return wcs ? [{ hdu, wcs }] : [];
  });
  if (images.length === 0) throw new SodaError('UsageError', 'the dataset has no 2-D image with a celestial (RA/DEC) WCS to cut out');
  if (!overlapsCoverage(filters, coverage)) return null;
  const shape = filters.spatial?.shape;
  const hdus: PlannedHdu[] = [];
  for (const { hdu, wcs } of images) {
    const [width, height] = [hdu.axes[0]!, hdu.axes[1]!];
    if (shape && !wcs.icrsCompatible) {
      throw new SodaError(
        'UsageError',
        `${hduLabel(hdu)} of the dataset has its WCS in ${wcs.radesys}, not ICRS: SODA positions cannot be applied to it`,
      );
    }
    let rect: Rect | null = { x0: 0, y0: 0, width, height };
    if (shape) rect = pixelBoxOf(wcs, shape);
    if (rect) hdus.push({ index: hdu.index, name: hdu.extname, rect, imageSize: [width, height] });
  }
  if (hdus.length === 0) return null;
  return { primary: hdus[0]!.index === 0 ? 'cut' : 'header', hdus };
}
