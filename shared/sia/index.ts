/**
 * The pure core of the SIA 2.0 {query} resource (IVOA Simple Image Access 2.0), used by the
 * sync endpoint and the job processor:
 *
 *   query       the request's parameters (§2.1: POS, BAND, TIME, POL, FOV, SPATRES, EXPTIME,
 *               ID, COLLECTION, FACILITY, INSTRUMENT, DPTYPE, CALIB, TARGET, TIMERES, SPECRP,
 *               FORMAT, MAXREC, RESPONSEFORMAT) → one parameterised SQL query over the ObsCore
 *               table, every user value bound, POS narrowed by the footprint R*Tree;
 *   parameters  the same parameters described once (unit, UCD, xtype, allowed values) for the
 *               VOSI capabilities and the response's `adhoc:this` descriptor (§2.1.20);
 *   errors      SiaError, whose message starts with its §3.2 label (`UsageFault: …`).
 *
 * Typical use:
 *   const query = buildSiaQuery(params, { maxrecDefault, maxrecMax }, baseUrl); // SiaError → error document
 *   const rows = db.prepare(query.sql).raw(true).iterate(...query.params); // registerAdqlFunctions(db) first
 *   // write at most query.maxrec rows, all OBSCORE_COLUMNS in order; one more row = overflow
 */
export { SIA_ERROR_LABELS, SiaError, type SiaErrorLabel } from './errors';
export {
  CALIB_LEVELS,
  SIA_CONSTRAINT_NAMES,
  SIA_DATAPRODUCT_TYPES,
  SIA_PARAMETERS,
  type SiaConstraintName,
  type SiaParameter,
  type SiaParameterName,
} from './parameters';
export { MAX_CONSTRAINT_VALUES, buildSiaQuery, type SiaLimits, type SiaParam, type SiaQuery } from './query';
