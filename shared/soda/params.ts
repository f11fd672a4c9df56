/**
 * SODA 1.0 §3 request parameters → a typed request, and its expansion into one cutout per
 * combination of values (§6). Pure: the HTTP layer hands over the parameters as received
 * (names upper-cased, values as given, repeats kept in order).
 */
import { parseInterval, type Interval } from '../dali/interval';
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
}

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
  const ids = valuesOf(params, 'ID').map((v) => v.value);
  if (ids.length === 0) throw usage('missing parameter ID (the identifier of the dataset to cut out)');
  const spatialValues = SPATIAL_PARAMS.flatMap((param) => valuesOf(params, param).map((v) => ({ ...v, param })));
  spatialValues.sort((a, b) => a.index - b.index);
  const bandValues = valuesOf(params, 'BAND');
  const timeValues = valuesOf(params, 'TIME');
  if (!options.multiValued) {
    if (ids.length > 1) throw notMultiValued(`ID has ${ids.length} values`);
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
