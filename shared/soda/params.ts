/**
 * SODA 1.0 §3 request parameters → a typed request, and its expansion into one cutout per
 * combination of values (§6). Pure: the HTTP layer hands over the parameters as received
 * (names upper-cased, values as given, repeats kept in order).
 */
import { DaliError } from '../dali/errors';
import { LSST_BANDS } from '../obscore/bands';
import { parseInterval, type Interval } from '../dali/interval';
import { DISPLAY_PARAMS, parseDisplayParams, previewFormatOf, type DisplayOptions, type PreviewFormat } from '../preview';
import { STOKES_LABELS, type StokesLabel } from '../dali/stokes';
import { type Circle, type Polygon, type Range, ShapeError, parseDaliCircle, parseDaliPolygon, parseDaliShape } from '../sky';
import { SodaError } from './errors';

/** One request parameter, as the api and the UWS job store keep them. */
export interface SodaParam {
  readonly name: string;
  readonly value: string;
}

export type SpatialParam = 'POS' | 'CIRCLE' | 'POLYGON';

/** A spatial constraint and the parameter it came from (POS, CIRCLE or POLYGON: §3.3.1–3.3.3). */
export interface SpatialFilter {
  readonly param: SpatialParam;
  readonly shape: Circle | Polygon | Range;
}

export interface SodaRequest {
  /** §3.2.1: opaque identifiers, used as given. */
  readonly ids: readonly string[];
  /** POS, CIRCLE and POLYGON values, in the order given. */
  readonly spatial: readonly SpatialFilter[];
  /** BAND intervals, wavelength in metres. */
  readonly bands: readonly Interval[];
  /** TIME intervals, MJD. */
  readonly times: readonly Interval[];
  /** Every POL value, without repeats: together one filter (§3.3.6); empty = no filter. */
  readonly pol: readonly StokesLabel[];
  /** What each cutout is answered as (RESPONSEFORMAT and the display parameters). */
  readonly output: SodaOutput;
}

/**
 * FITS (SODA 1.0's own output), or the cutout's IMAGE plane rendered as a picture: an extra
 * RESPONSEFORMAT that the service descriptors declare (DALI 1.1 §3.4.3 allows it). `rgb`: the
 * bands, red to blue, of a colour composite of three IDs (their cutouts on one pixel grid).
 */
export type SodaOutput =
  | { readonly kind: 'fits' }
  | { readonly kind: 'image'; readonly format: PreviewFormat; readonly display: DisplayOptions; readonly rgb: readonly string[] | null };

/** One combination of the request's values: one result (§6). null = not constrained. */
export interface SodaCutout {
  readonly id: string;
  readonly spatial: SpatialFilter | null;
  readonly band: Interval | null;
  readonly time: Interval | null;
  readonly pol: readonly StokesLabel[] | null;
}

export interface ParseOptions {
  /**
   * Whether ID, the spatial parameters, BAND and TIME may have several values (§3.1: optional,
   * and may differ between sync and async). Without, a repeat is MultiValuedParamNotSupported.
   */
  readonly multiValued: boolean;
  /** Most combinations (results) one request may ask for; default DEFAULT_MAX_COMBINATIONS. */
  readonly maxCombinations?: number;
}

export const DEFAULT_MAX_COMBINATIONS = 10_000;

/** RESPONSEFORMAT values answered with FITS (SODA 1.0 §3.2.2's default, and its aliases). */
const FITS_FORMATS = new Set(['application/fits', 'image/fits', 'fits']);

/** Every RESPONSEFORMAT value the service answers, as the descriptors and errors list them. */
export const SODA_RESPONSE_FORMATS: readonly string[] = ['application/fits', 'image/png', 'image/jpeg'];

/** The bands a colour composite may name (as bulk batches' BAND letters). */
const RGB_BANDS = Object.keys(LSST_BANDS);

/**
 * Parameters a SODA request may carry: SODA 1.0 §3's, DALI 1.1 §3's common ones (REQUEST,
 * VERSION, RESPONSEFORMAT, MAXREC, RUNID: pyvo and DataLink clients send some of them), and
 * the display parameters of picture output. Any other is refused (UsageError) rather than
 * ignored: a client sending DaCHS's PIXEL_1 or Rubin's CUTOUTDETAIL would otherwise get an
 * answer that silently is not what it asked for.
 */
export const SODA_PARAMS: readonly string[] = [
  'ID',
  'POS',
  'CIRCLE',
  'POLYGON',
  'BAND',
  'TIME',
  'POL',
  'REQUEST',
  'VERSION',
  'RESPONSEFORMAT',
  'MAXREC',
  'RUNID',
  ...DISPLAY_PARAMS,
  'RGB',
];
const KNOWN_PARAMS = new Set(SODA_PARAMS);

/** The names among `params` that SODA_PARAMS does not hold, each once, in order. */
export function unsupportedParams(params: readonly SodaParam[]): string[] {
  return [...new Set(params.map((p) => p.name.toUpperCase()).filter((name) => !KNOWN_PARAMS.has(name)))];
}

/** A UsageError naming the parameters this service does not take, or null when there is none. */
export function unsupportedParamsError(params: readonly SodaParam[]): SodaError | null {
  const unknown = unsupportedParams(params);
  if (unknown.length === 0) return null;
  return usage(
    `unsupported parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this service takes ${SODA_PARAMS.filter((n) => n !== 'MAXREC').join(', ')}`,
  );
}

/**
 * The display parameters (shared/preview's parseDisplayParams), a bad value a SodaError: the
 * same UsageError text, in the class SODA's and bulk batches' callers catch.
 */
export function parseSodaDisplay(params: readonly SodaParam[]): DisplayOptions {
  try {
    return parseDisplayParams(params);
  } catch (err) {
    if (err instanceof DaliError) throw usage(err.detail);
    throw err;
  }
}

/**
 * RESPONSEFORMAT (DALI 1.1 §3.4.3: a format the service does not answer is an error, never
 * ignored), the display parameters and RGB, for a request of `ids`.
 */
export function parseSodaOutput(params: readonly SodaParam[], ids: readonly string[]): SodaOutput {
  const formats = valuesOf(params, 'RESPONSEFORMAT');
  if (formats.length > 1) throw usage(`RESPONSEFORMAT has ${formats.length} values; give one`);
  const given = formats[0]?.value.trim();
  const rgbValues = valuesOf(params, 'RGB');
  const display = [...DISPLAY_PARAMS, 'RGB'].filter((name) => valuesOf(params, name).length > 0);
  if (given === undefined || FITS_FORMATS.has(given.toLowerCase())) {
    if (display.length > 0)
      throw usage(`${display.join(', ')} only appl${display.length > 1 ? 'y' : 'ies'} to RESPONSEFORMAT=image/png or image/jpeg`);
    return { kind: 'fits' };
  }
  const format = previewFormatOf(given);
  if (!format) throw usage(`unsupported RESPONSEFORMAT ${given}; this service answers ${SODA_RESPONSE_FORMATS.join(', ')}`);
  const options = parseSodaDisplay(params);
  if (rgbValues.length > 1) throw usage(`RGB has ${rgbValues.length} values; give one, e.g. RGB=i,r,g`);
  let rgb: string[] | null = null;
  if (rgbValues.length === 1) {
    rgb = rgbValues[0]!.value.split(',').map((b) => b.trim().toLowerCase());
    if (rgb.length !== 3 || rgb.some((b) => !RGB_BANDS.includes(b)) || new Set(rgb).size !== 3)
      throw usage(
        `RGB must name three different bands among ${RGB_BANDS.join(' ')}, red first (e.g. RGB=i,r,g), not "${rgbValues[0]!.value}"`,
      );
    if (ids.length !== 3) throw usage(`RGB needs three IDs, one image per band (${rgb.join(', ')}); the request has ${ids.length}`);
  }
  return { kind: 'image', format, display: options, rgb };
}

const SPATIAL_PARAMS: readonly SpatialParam[] = ['POS', 'CIRCLE', 'POLYGON'];

function usage(message: string): SodaError {
  return new SodaError('UsageError', message);
}

/**
 * Values of one parameter with their positions, as given; blank values count as not given
 * (descriptor-driven forms send every field).
 */
function valuesOf(params: readonly SodaParam[], name: string): { value: string; index: number }[] {
  const out: { value: string; index: number }[] = [];
  params.forEach((p, index) => {
    if (p.name.toUpperCase() === name && p.value.trim() !== '') out.push({ value: p.value, index });
  });
  return out;
}

function parseShape(param: SpatialParam, text: string): Circle | Polygon | Range {
  try {
    if (param === 'CIRCLE') return parseDaliCircle(text, param);
    if (param === 'POLYGON') return parseDaliPolygon(text, param);
    return parseDaliShape(text, param);
  } catch (err) {
    if (err instanceof ShapeError) throw usage(err.message);
    throw err;
  }
}

function parsePol(text: string): StokesLabel {
  const label = STOKES_LABELS.find((s) => s === text.trim());
  if (!label) throw usage(`unknown polarization state "${text.trim()}" in POL; expected one of ${STOKES_LABELS.join(' ')}`);
  return label;
}

/** §3.1, §5.2: a repeat the service does not take. */
function notMultiValued(what: string): SodaError {
  return new SodaError('MultiValuedParamNotSupported', `${what}; this service takes one per request (the async service takes several)`);
}

/**
 * Reads ID, POS, CIRCLE, POLYGON, BAND, TIME and POL; other parameters are ignored (they belong
 * to DALI or UWS, or are unknown). Throws SodaError: UsageError for a missing ID or a malformed
 * value, MultiValuedParamNotSupported for repeats without `multiValued` (§3.1; several IDs are
 * never reduced to one).
 */
export function parseSodaRequest(params: readonly SodaParam[], options: ParseOptions): SodaRequest {
  const unsupported = unsupportedParamsError(params);
  if (unsupported) throw unsupported;
  const ids = valuesOf(params, 'ID').map((v) => v.value);
  if (ids.length === 0) throw usage('missing parameter ID (the identifier of the dataset to cut out)');
  const output = parseSodaOutput(params, ids);
  // A colour composite is one picture of three IDs: its IDs are not a multi-valued request.
  const rgbIds = output.kind === 'image' && output.rgb !== null;
  const spatialValues = SPATIAL_PARAMS.flatMap((param) => valuesOf(params, param).map((v) => ({ ...v, param })));
  spatialValues.sort((a, b) => a.index - b.index);
  const bandValues = valuesOf(params, 'BAND');
  const timeValues = valuesOf(params, 'TIME');
  if (!options.multiValued) {
    if (ids.length > 1 && !rgbIds) throw notMultiValued(`ID has ${ids.length} values`);
    if (spatialValues.length > 1)
      throw notMultiValued(`${spatialValues.length} spatial constraints (${spatialValues.map((v) => v.param).join(', ')})`);
    if (bandValues.length > 1) throw notMultiValued(`BAND has ${bandValues.length} values`);
    if (timeValues.length > 1) throw notMultiValued(`TIME has ${timeValues.length} values`);
  }
  const request: SodaRequest = {
    ids,
    spatial: spatialValues.map(({ param, value }) => ({ param, shape: parseShape(param, value) })),
    bands: bandValues.map((v) => parseInterval(v.value, 'BAND', usage)),
    times: timeValues.map((v) => parseInterval(v.value, 'TIME', usage)),
    pol: [...new Set(valuesOf(params, 'POL').map((v) => parsePol(v.value)))],
    output,
  };
  const max = options.maxCombinations ?? DEFAULT_MAX_COMBINATIONS;
  const count = countCombinations(request);
  if (count > max) {
    throw usage(
      `the request asks for ${count} cutouts (${ids.length} ID × ${Math.max(1, request.spatial.length)} positions × ` +
        `${Math.max(1, request.bands.length)} BAND × ${Math.max(1, request.times.length)} TIME); the limit is ${max}`,
    );
  }
  return request;
}

/** How many results the request produces (§6: one per combination; POL does not multiply). */
export function countCombinations(request: SodaRequest): number {
  const atLeastOne = (n: number): number => Math.max(1, n);
  return request.ids.length * atLeastOne(request.spatial.length) * atLeastOne(request.bands.length) * atLeastOne(request.times.length);
}

/**
 * One cutout per combination of ID × spatial × BAND × TIME (SODA 1.0 §6: 2 CIRCLE × 2 BAND give
 * 4 results), ID varying slowest. The POL values stay together in every cutout (§3.3.6).
 */
export function combinations(request: SodaRequest): SodaCutout[] {
  const orNone = <T>(values: readonly T[]): readonly (T | null)[] => (values.length > 0 ? values : [null]);
  const pol = request.pol.length > 0 ? request.pol : null;
  const out: SodaCutout[] = [];
  for (const id of request.ids) {
    for (const spatial of orNone(request.spatial)) {
      for (const band of orNone(request.bands)) {
        for (const time of orNone(request.times)) out.push({ id, spatial, band, time, pol });
      }
    }
  }
  return out;
}
