/**
 * SIA 2.0 {query} parameters (§2.1) → one parameterised SQLite query over the ObsCore table.
 * Pure: the HTTP layer hands over the parameters as received (names upper-cased, values as
 * given, repeats kept in order); the caller runs the SQL on a read-only connection that has
 * the ADQL functions registered (adql_intersects) and writes the rows.
 */
import { isInfinity, parseInterval, type Interval } from '../dali/interval';
import { STOKES_LABELS } from '../dali/stokes';
import { OBSCORE_COLUMNS, OBSCORE_TABLE } from '../obscore/columns';
import { rtreePrefilter } from '../obscore/rtree';
import { cartesianBoundingBox, formatStcs, parseDaliShape, ShapeError, type Shape } from '../sky';
import { columnSqlName, publishedLinkSql } from '../tapschema';
import { invalidValue, SiaError } from './errors';
import { CALIB_LEVELS, SIA_CONSTRAINT_NAMES, SIA_DATAPRODUCT_TYPES, type SiaConstraintName } from './parameters';

/** One request parameter, as the api and the UWS job store keep them. */
export interface SiaParam {
  readonly name: string;
  readonly value: string;
}

export interface SiaLimits {
  /** Records returned when the request gives no MAXREC. */
  readonly maxrecDefault: number;
  /** A larger MAXREC is reduced to this. */
  readonly maxrecMax: number;
}

export interface SiaQuery {
  /**
   * `SELECT <every published ObsCore column> FROM ivoa_obscore WHERE … LIMIT ?`, access_url
   * absolute (the base URL bound before the stored path, as TAP's translation does). The limit is
   * maxrec + 1: a row beyond maxrec tells the caller to stop and write the overflow indicator
   * (§2.1.18; DALI 1.1 §3.4.4). With maxrec 0 the caller need not run it (metadata only).
   */
  sql: string;
  params: (string | number)[];
  /** Records to return at most. */
  maxrec: number;
  /** RESPONSEFORMAT as given, for the caller to resolve; undefined when not given. */
  responseFormat?: string;
}

/**
 * Most constraint values one query takes: every value adds at most 7 SQL variables (a POS
 * value: its box and its region), which keeps a query within SQLite's 32766.
 */
export const MAX_CONSTRAINT_VALUES = 4000;

type SqlParam = string | number;

interface Condition {
  sql: string;
  params: SqlParam[];
}

const SELECT = `SELECT ${OBSCORE_COLUMNS.map((c) => {
  const column = `"${columnSqlName(c)}"`;
  return c.serviceRelative ? `${publishedLinkSql(column)} AS ${column}` : column;
}).join(', ')} FROM ${OBSCORE_TABLE.sqlName}`;
/** One base URL for each `?` of SELECT (the service-relative columns). */
const SELECT_LINKS = OBSCORE_COLUMNS.filter((c) => c.serviceRelative).length;
const SINGLE_VALUED = ['MAXREC', 'RESPONSEFORMAT'] as const;
type SingleValuedName = (typeof SINGLE_VALUED)[number];

/**
 * Builds the query. §2.1: values of one parameter are OR-ed, different parameters AND-ed, and
 * a NULL column never satisfies a constraint (every comparison with NULL is NULL, never true).
 * Blank values count as not given (forms built from the self-description send every field);
 * unknown parameters are ignored, and so is UPLOAD, which SIA 2.0 does not use (§2.1.19).
 * Throws SiaError (UsageFault) for a value it cannot use, a repeated MAXREC or RESPONSEFORMAT,
 * or more than MAX_CONSTRAINT_VALUES values.
 */
export function buildSiaQuery(params: readonly SiaParam[], limits: SiaLimits, baseUrl: string): SiaQuery {
  const constraintValues = new Map<SiaConstraintName, string[]>();
  const singleValues = new Map<SingleValuedName, string[]>();
  let valueCount = 0;
  for (const { name, value } of params) {
    if (value.trim() === '') continue;
    const upper = name.toUpperCase();
    const constraint = SIA_CONSTRAINT_NAMES.find((n) => n === upper);
    const single = SINGLE_VALUED.find((n) => n === upper);
    if (constraint !== undefined) {
      constraintValues.set(constraint, [...(constraintValues.get(constraint) ?? []), value]);
      valueCount += 1;
    } else if (single !== undefined) {
      singleValues.set(single, [...(singleValues.get(single) ?? []), value]);
    }
  }
  if (valueCount > MAX_CONSTRAINT_VALUES) {
    throw new SiaError('UsageFault', `too many constraint values: ${valueCount} given, at most ${MAX_CONSTRAINT_VALUES} per query`);
  }

  const conditions: Condition[] = [];
  for (const name of SIA_CONSTRAINT_NAMES) {
    const values = constraintValues.get(name);
    if (values !== undefined) conditions.push(CONSTRAINTS[name](values));
  }
  const maxrecText = singleValue(singleValues, 'MAXREC');
  const maxrec = maxrecText === undefined ? limits.maxrecDefault : Math.min(parseMaxrec(maxrecText), limits.maxrecMax);
  const responseFormat = singleValue(singleValues, 'RESPONSEFORMAT');

  const where = conditions.length > 0 ? ` WHERE ${conditions.map((c) => c.sql).join(' AND ')}` : '';
  return {
    sql: `${SELECT}${where} LIMIT ?`,
    params: [...Array<string>(SELECT_LINKS).fill(baseUrl), ...conditions.flatMap((c) => c.params), maxrec + 1],
    maxrec,
    responseFormat,
  };
}

/** The values (one or more) of one parameter → one condition that any of them satisfies. */
type Constraint = (values: readonly string[]) => Condition;

const CONSTRAINTS: Readonly<Record<SiaConstraintName, Constraint>> = {
  POS: eachValue(positionCondition),
  BAND: eachValue(overlapping('BAND', 'em_min', 'em_max')),
  TIME: eachValue(overlapping('TIME', 't_min', 't_max')),
  POL: eachValue(polarizationCondition),
  FOV: eachValue(within('FOV', 's_fov')),
  SPATRES: eachValue(within('SPATRES', 's_resolution')),
  EXPTIME: eachValue(within('EXPTIME', 't_exptime')),
  // §2.1.8: identifiers (IVOIDs) compare case-insensitively; NOCASE folds ASCII, all an IVOID holds.
  ID: (values) => oneOf('obs_publisher_did COLLATE NOCASE', values),
  COLLECTION: (values) => oneOf('obs_collection', values),
  FACILITY: (values) => oneOf('facility_name', values),
  INSTRUMENT: (values) => oneOf('instrument_name', values),
  DPTYPE: (values) =>
    oneOf(
      'dataproduct_type',
      values.map((v) => option('DPTYPE', v, SIA_DATAPRODUCT_TYPES)),
    ),
  CALIB: (values) =>
    oneOf(
      'calib_level',
      values.map((v) => Number(option('CALIB', v, CALIB_LEVELS))),
    ),
  TARGET: (values) => oneOf('target_name', values),
  TIMERES: eachValue(within('TIMERES', 't_resolution')),
  SPECRP: eachValue(within('SPECRP', 'em_res_power')),
  FORMAT: (values) => oneOf('access_format', values),
};

/**
 * §2.1.1: the shape intersects s_region. The R*Tree of footprint boxes (3-D unit vectors)
 * narrows the rows to those whose box meets the shape's box, so the exact test never runs
 * over the whole table.
 */
function positionCondition(value: string): Condition {
  let shape: Shape;
  try {
    shape = parseDaliShape(value, 'POS');
  } catch (err) {
    if (err instanceof ShapeError) throw invalidValue('POS', value, err.detail);
    throw err;
  }
  const prefilter = rtreePrefilter('_id', cartesianBoundingBox(shape));
  return { sql: `(${prefilter.sql} AND adql_intersects(s_region, ?) = 1)`, params: [...prefilter.params, formatStcs(shape)] };
}

/** §2.1.2, §2.1.3: the interval intersects [min column, max column]. */
function overlapping(name: SiaConstraintName, minColumn: string, maxColumn: string): (value: string) => Condition {
  return (value) => {
    const { lo, hi } = parseSiaInterval(name, value);
    return { sql: `(${minColumn} <= ? AND ${maxColumn} >= ?)`, params: [hi, lo] };
  };
}

/** §2.1.5–2.1.7, §2.1.15, §2.1.16: the column's value lies in the interval. */
function within(name: SiaConstraintName, column: string): (value: string) => Condition {
  return (value) => {
    const { lo, hi } = parseSiaInterval(name, value);
    return { sql: `${column} BETWEEN ? AND ?`, params: [lo, hi] };
  };
}

/**
 * §2.1.4: pol_states lists the states between slashes (ObsCore 1.1: `/I/Q/U/`). instr() is
 * case-sensitive, unlike SQLite's LIKE, and the label is checked, so it holds no wildcard.
 */
function polarizationCondition(value: string): Condition {
  const label = option('POL', value, STOKES_LABELS);
  return { sql: 'instr(pol_states, ?) > 0', params: [`/${label}/`] };
}

/** A condition per value, OR-ed. */
function eachValue(condition: (value: string) => Condition): Constraint {
  return (values) => anyOf(values.map(condition));
}

/** Equality with any of the values: exact and case-sensitive unless the column expression collates otherwise. */
function oneOf(column: string, values: readonly SqlParam[]): Condition {
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

/**
 * OR of the conditions, nested as a balanced tree: SQLite bounds the depth of an expression
 * (1000), and a flat chain of OR-ed values would be as deep as it is long.
 */
function anyOf(conditions: readonly Condition[]): Condition {
  if (conditions.length === 1) return conditions[0]!;
  const middle = Math.ceil(conditions.length / 2);
  const left = anyOf(conditions.slice(0, middle));
  const right = anyOf(conditions.slice(middle));
  return { sql: `(${left.sql} OR ${right.sql})`, params: [...left.params, ...right.params] };
}

/** A value from a closed vocabulary: exact, but for surrounding blanks. */
function option<T extends string>(name: SiaConstraintName, value: string, options: readonly T[]): T {
  const match = options.find((o) => o === value.trim());
  if (match === undefined) throw invalidValue(name, value, `expected one of ${options.join(', ')}`);
  return match;
}

/**
 * §2.1: a numeric parameter takes an interval `lo hi` (DALI 1.1 §3.3.4: -Inf/+Inf for an open
 * side, bounds included) or a single value v, which stands for [v, v]. Only TIME (MJD) may be
 * negative: a negative wavelength, size, duration or resolution is a mistake, the very one
 * §3.2 gives as its example (`UsageFault: invalid BAND value -2`).
 */
function parseSiaInterval(name: SiaConstraintName, value: string): Interval {
  const invalid = (reason: string): SiaError => invalidValue(name, value, reason);
  const tokens = value.trim().split(/\s+/);
  if (tokens.length > 2) throw invalid(`expected one number or two (lower upper), not ${tokens.length}`);
  if (tokens.length === 1 && isInfinity(tokens[0]!)) throw invalid('a single value must be finite');
  const interval = parseInterval(tokens.length === 1 ? `${tokens[0]} ${tokens[0]}` : value, name, invalid);
  const negative = (interval.lo < 0 && interval.lo !== -Infinity) || interval.hi < 0;
  if (negative && name !== 'TIME') throw invalid(`${name} cannot be negative`);
  return interval;
}

/** DALI 1.1 §3.4: MAXREC and RESPONSEFORMAT are single-valued. */
function singleValue(values: ReadonlyMap<SingleValuedName, readonly string[]>, name: SingleValuedName): string | undefined {
  const given = values.get(name) ?? [];
  if (given.length > 1) {
    throw new SiaError('UsageFault', `${name} takes one value, but ${given.length} were given (${given.map((v) => `"${v}"`).join(', ')})`);
  }
  return given[0];
}

/** §2.1.18, DALI 1.1 §3.4.4: a non-negative integer. */
function parseMaxrec(value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw invalidValue('MAXREC', value, 'expected a non-negative integer');
  return Number(value);
}
