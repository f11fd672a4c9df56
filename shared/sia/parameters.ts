/**
 * The parameters of the SIA 2.0 {query} resource (§2.1), described once for the VOSI
 * capabilities (vs:ParamHTTP params) and the `adhoc:this` service descriptor of the query
 * response (§2.1.20, §3.1.2). Units and UCDs of the parameters that constrain a single ObsCore
 * column are that column's, so they cannot drift from the table they search.
 */
import { INTERVAL_PARAM } from '../dali/interval';
import { STOKES_LABELS } from '../dali/stokes';
import { OBSCORE_COLUMNS } from '../obscore/columns';
import type { VotableDatatype } from '../tapschema';

/** The constraint parameters, in the order SIA 2.0 §2.1 defines them. */
export const SIA_CONSTRAINT_NAMES = [
  'POS',
  'BAND',
  'TIME',
  'POL',
  'FOV',
  'SPATRES',
  'EXPTIME',
  'ID',
  'COLLECTION',
  'FACILITY',
  'INSTRUMENT',
  'DPTYPE',
  'CALIB',
  'TARGET',
  'TIMERES',
  'SPECRP',
  'FORMAT',
] as const;

export type SiaConstraintName = (typeof SIA_CONSTRAINT_NAMES)[number];

/** Constraint parameters plus the DALI ones the {query} resource takes (§2.1.18; DALI 1.1 §3.4). */
export type SiaParameterName = SiaConstraintName | 'MAXREC' | 'RESPONSEFORMAT';

/** SIA 2.0 §2.1.12: the data product types SIA 2.0 searches. */
export const SIA_DATAPRODUCT_TYPES = ['image', 'cube'] as const;

/** ObsCore 1.1 calib_level: 0 raw … 4 analysis products. */
export const CALIB_LEVELS = ['0', '1', '2', '3', '4'] as const;

/** A parameter as a PARAM of a service descriptor, or a vs:InputParam of a capability, shows it. */
export interface SiaParameter {
  readonly name: SiaParameterName;
  readonly datatype: VotableDatatype;
  readonly arraysize?: string;
  /** DALI xtype: `interval` for the numeric ranges. */
  readonly xtype?: string;
  readonly unit?: string;
  readonly ucd?: string;
  readonly description: string;
  /** The only values the service accepts, for VALUES/OPTION (§2.1.20). */
  readonly options?: readonly string[];
  /** The ObsCore column(s) the parameter is compared with. */
  readonly columns?: readonly string[];
}

/** Unit, UCD and name of the ObsCore column a parameter is compared with. */
function compared(columnName: string): Pick<SiaParameter, 'unit' | 'ucd' | 'columns'> {
  const column = OBSCORE_COLUMNS.find((c) => c.name === columnName);
  if (column === undefined) throw new Error(`no ObsCore column ${columnName}`);
  return { unit: column.unit, ucd: column.ucd, columns: [columnName] };
}

/**
 * §2.1: numeric parameters take one value or an interval `lo hi` (±Inf for an open side).
 * They are described as DALI 1.1 §3.3.4 intervals (INTERVAL_PARAM), as are the SODA
 * descriptor's BAND and TIME (shared/datalink/links.ts).
 */
function interval(name: SiaConstraintName, columnName: string, description: string): SiaParameter {
  return { name, ...INTERVAL_PARAM, ...compared(columnName), description };
}

/** A string compared with one column: exactly and case-sensitively unless the description says otherwise (§2.1). */
function text(name: SiaConstraintName, columnName: string, description: string, options?: readonly string[]): SiaParameter {
  return { name, datatype: 'char', arraysize: '*', ...compared(columnName), description, options };
}

export const SIA_PARAMETERS: readonly SiaParameter[] = [
  // One entry, as a capability's parameter list needs; the §3.1.2 descriptor example lists POS
  // three times instead, with xtype circle, range and polygon.
  {
    name: 'POS',
    datatype: 'char',
    arraysize: '*',
    ucd: 'pos.outline;obs',
    columns: ['s_region'],
    description:
      'Region the image footprint must intersect: CIRCLE ra dec radius, RANGE ra1 ra2 dec1 dec2 (±Inf allowed) or POLYGON ra1 dec1 ra2 dec2 … (ICRS degrees)',
  },
  {
    name: 'BAND',
    ...INTERVAL_PARAM,
    unit: 'm',
    ucd: 'em.wl;stat.interval',
    columns: ['em_min', 'em_max'],
    description: 'Wavelength (metres; lo hi, or one value) the spectral coverage [em_min, em_max] must overlap',
  },
  {
    name: 'TIME',
    ...INTERVAL_PARAM,
    unit: 'd',
    ucd: 'time.interval;obs.exposure',
    columns: ['t_min', 't_max'],
    description: 'Time (MJD; lo hi, or one value) the observation [t_min, t_max] must overlap',
  },
  text('POL', 'pol_states', `Polarization state the data must include (${STOKES_LABELS.join(' ')})`, STOKES_LABELS),
  interval('FOV', 's_fov', 'Range (degrees) the field-of-view diameter s_fov must lie in'),
  interval('SPATRES', 's_resolution', 'Range (arcsec) the spatial resolution s_resolution must lie in'),
  interval('EXPTIME', 't_exptime', 'Range (seconds) the exposure time t_exptime must lie in'),
  text('ID', 'obs_publisher_did', 'Dataset identifier (obs_publisher_did, compared case-insensitively)'),
  text('COLLECTION', 'obs_collection', 'Data collection (obs_collection)'),
  text('FACILITY', 'facility_name', 'Facility, usually the telescope (facility_name)'),
  text('INSTRUMENT', 'instrument_name', 'Instrument (instrument_name)'),
  text('DPTYPE', 'dataproduct_type', 'Data product type: image or cube (dataproduct_type)', SIA_DATAPRODUCT_TYPES),
  {
    name: 'CALIB',
    datatype: 'int',
    ...compared('calib_level'),
    description: 'Calibration level: 0 raw … 4 analysis products (calib_level)',
    options: CALIB_LEVELS,
  },
  text('TARGET', 'target_name', 'Target name (target_name)'),
  interval('TIMERES', 't_resolution', 'Range (seconds) the time resolution t_resolution must lie in'),
  interval('SPECRP', 'em_res_power', 'Range the spectral resolving power λ/Δλ em_res_power must lie in'),
  text('FORMAT', 'access_format', 'Content type of what access_url returns (access_format)'),
  { name: 'MAXREC', datatype: 'int', description: 'Most records to return; 0 returns the table metadata only' },
  {
    name: 'RESPONSEFORMAT',
    datatype: 'char',
    arraysize: '*',
    ucd: 'meta.code.mime',
    description: 'Format of the response: a media type or a short name such as votable or csv',
  },
];
