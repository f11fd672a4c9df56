/**
 * The pure core of SODA 1.0 cutouts (IVOA Server-side Operations for Data Access), used by the
 * {sync} endpoint and the {async} job processor:
 *
 *   params   ID, POS, CIRCLE, POLYGON, BAND, TIME, POL → a typed request (§3), checked for
 *            multiplicity (§3.1), and its combinations: one cutout, one result each (§6);
 *   plan     for one cutout and an opened FITS file: which HDUs are cut, and the pixel
 *            rectangle of the region on each image (§3.3: reduced to the dataset extent), or
 *            null when the cutout holds no pixels (§5.1: sync answers 204);
 *   cutout   the FITS bytes: the source's primary header with provenance, then each cut HDU with
 *            its WCS and LTV moved and its pixels copied byte for byte; in one Buffer, or in
 *            chunks for very large cutouts;
 *   errors   SodaError (a shared/dali DaliError) with its §5.2 label, and the text/plain body
 *            of an error.
 *
 * Typical use (sync):
 *   const [cutout] = combinations(parseSodaRequest(params, { multiValued: false }));
 *   const plan = planCutout(file, cutout, coverageFromObscore);   // null → 204
 *   const body = cutoutBuffer(file, plan, cutout);                // application/fits
 * Errors are SodaError: answer sodaErrorText(err) as text/plain (400 for UsageError and
 * MultiValuedParamNotSupported).
 */
export { SODA_ERROR_CODES, SodaError, sodaErrorText, type SodaErrorCode } from './errors';
export {
  DEFAULT_MAX_COMBINATIONS,
  combinations,
  countCombinations,
  parseSodaOutput,
  parseSodaRequest,
  SODA_PARAMS,
  SODA_RESPONSE_FORMATS,
  unsupportedParamsError,
  type ParseOptions,
  type SodaOutput,
  type SodaCutout,
  type SodaParam,
  type SodaRequest,
  type SpatialFilter,
  type SpatialParam,
} from './params';
export { overlapsCoverage, planCutout, type CutoutFilters, type CutoutPlan, type DatasetCoverage, type PlannedHdu } from './plan';
export { pixelBox } from './pixelbox';
export { LruCache } from './lru';
export {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_CUTOUT_PIXELS,
  HeaderCache,
  checkCutoutSize,
  cutoutBuffer,
  cutoutChunks,
  type ChunkOptions,
  type CutoutOptions,
} from './cutout';
