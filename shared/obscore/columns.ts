/**
 * The `ivoa.ObsCore` table (ObsCore 1.1 §3–4, TAP_SCHEMA form of its Table 4): every
 * mandatory column with its unit, UCD and utype, plus Rubin's service-specific columns
 * (docs/architecture.md, the fixed interface). This definition is the only copy: DDL and TAP_SCHEMA come from it.
 */
import type { ColumnDef, SchemaDef, TableDef } from '../tapschema/model';

export const OBSCORE_TABLE_NAME = 'ivoa.ObsCore';

/** How every obs_publisher_did of this repository begins (the Butler dataset UUID follows). */
export const PUBLISHER_PREFIX = 'butler://dp02/';
export const OBSCORE_DATA_MODEL = 'ivo://ivoa.net/std/ObsCore#core-1.1';

type Extra = Partial<ColumnDef>;
const text = (name: string, ucd: string, utype: string | undefined, description: string, extra: Extra = {}): ColumnDef => ({
  name,
  datatype: 'char',
  arraysize: '*',
  ucd,
  utype: utype && `obscore:${utype}`,
  description,
  std: utype !== undefined,
  principal: true,
  sqlType: 'TEXT',
  ...extra,
});
const real = (
  name: string,
  unit: string | undefined,
  ucd: string,
  utype: string | undefined,
  description: string,
  extra: Extra = {},
): ColumnDef => ({
  name,
  datatype: 'double',
  unit,
  ucd,
  utype: utype && `obscore:${utype}`,
  description,
  std: utype !== undefined,
  principal: true,
  sqlType: 'REAL',
  ...extra,
});
const long = (name: string, ucd: string, utype: string | undefined, description: string, extra: Extra = {}): ColumnDef => ({
  name,
  datatype: 'long',
  ucd,
  utype: utype && `obscore:${utype}`,
  description,
  std: utype !== undefined,
  principal: true,
  sqlType: 'INTEGER',
  ...extra,
});

export const OBSCORE_COLUMNS: ColumnDef[] = [
  text(
    'dataproduct_type',
    'meta.code.class',
    'ObsDataset.dataProductType',
    'Data product type: image, cube, spectrum, sed, timeseries, visibility, event, measurements',
    { indexed: true },
  ),
  text(
    'dataproduct_subtype',
    'meta.code.class',
    'ObsDataset.dataProductSubtype',
    'Data product subtype: lsst.calexp, lsst.deepCoadd_calexp, lsst.goodSeeingDiff_differenceExp',
    { indexed: true },
  ),
  {
    ...long('calib_level', 'meta.code;obs.calib', 'ObsDataset.calibLevel', 'Calibration level: 0 raw … 4 analysis products', {
      notNull: true,
    }),
    datatype: 'int',
  },
  text('obs_collection', 'meta.id', 'DataID.collection', 'Name of the data collection', { notNull: true }),
  text('obs_id', 'meta.id', 'DataID.observationID', 'Observation identifier', { notNull: true }),
  text('obs_publisher_did', 'meta.ref.ivoid', 'Curation.publisherDID', 'Dataset identifier given by the publisher (butler://dp02/<uuid>)', {
    notNull: true,
    indexed: true,
  }),
  text('access_url', 'meta.ref.url', 'Access.reference', 'URL of the DataLink document of the dataset', { serviceRelative: true }),
  text('access_format', 'meta.code.mime', 'Access.format', 'Content type of what access_url returns'),
  long('access_estsize', 'phys.size;meta.file', 'Access.size', 'Estimated size of the dataset', { unit: 'kbyte' }),
  text('target_name', 'meta.id;src', 'Target.name', 'Name of the target of the observation'),
  real(
    's_ra',
    'deg',
    'pos.eq.ra',
    'Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1',
    'Right ascension (ICRS) of the centre of the image',
    { indexed: true },
  ),
  real(
    's_dec',
    'deg',
    'pos.eq.dec',
    'Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2',
    'Declination (ICRS) of the centre of the image',
    { indexed: true },
  ),
  real(
    's_fov',
    'deg',
    'phys.angSize;instr.fov',
    'Char.SpatialAxis.Coverage.Bounds.Extent.diameter',
    'Diameter of the region covered by the image',
  ),
  text('s_region', 'pos.outline;obs.field', 'Char.SpatialAxis.Coverage.Support.Area', 'Footprint of the image (STC-S polygon, ICRS)', {
    xtype: 'adql:REGION',
    indexed: true,
  }),
  real('s_resolution', 'arcsec', 'pos.angResolution', 'Char.SpatialAxis.Resolution.Refval.value', 'Spatial resolution (PSF FWHM)'),
  long('s_xel1', 'meta.number', 'Char.SpatialAxis.numBins1', 'Number of pixels along the first axis'),
  long('s_xel2', 'meta.number', 'Char.SpatialAxis.numBins2', 'Number of pixels along the second axis'),
  real('t_min', 'd', 'time.start;obs.exposure', 'Char.TimeAxis.Coverage.Bounds.Limits.StartTime', 'Start of the observation (MJD)', {
    indexed: true,
  }),
  real('t_max', 'd', 'time.end;obs.exposure', 'Char.TimeAxis.Coverage.Bounds.Limits.StopTime', 'End of the observation (MJD)', {
    indexed: true,
  }),
  real('t_exptime', 's', 'time.duration;obs.exposure', 'Char.TimeAxis.Coverage.Support.Extent', 'Total exposure time'),
  real('t_resolution', 's', 'time.resolution', 'Char.TimeAxis.Resolution.Refval.value', 'Temporal resolution'),
  long('t_xel', 'meta.number', 'Char.TimeAxis.numBins', 'Number of elements along the time axis'),
  real('em_min', 'm', 'em.wl;stat.min', 'Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit', 'Shortest wavelength of the band', {
    indexed: true,
  }),
  real('em_max', 'm', 'em.wl;stat.max', 'Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit', 'Longest wavelength of the band', {
    indexed: true,
  }),
  real('em_res_power', undefined, 'spect.resolution', 'Char.SpectralAxis.Resolution.ResolPower.refVal', 'Spectral resolving power λ/Δλ'),
  long('em_xel', 'meta.number', 'Char.SpectralAxis.numBins', 'Number of elements along the spectral axis'),
  text('o_ucd', 'meta.ucd', 'Char.ObservableAxis.ucd', 'UCD of the observable (pixel values)'),
  text('pol_states', 'meta.code;phys.polarization', 'Char.PolarizationAxis.stateList', 'Polarization states present'),
  long('pol_xel', 'meta.number', 'Char.PolarizationAxis.numBins', 'Number of polarization states'),
  text('facility_name', 'meta.id;instr.tel', 'Provenance.ObsConfig.Facility.name', 'Name of the facility'),
  text('instrument_name', 'meta.id;instr', 'Provenance.ObsConfig.Instrument.name', 'Name of the instrument'),
  text('lsst_band', 'instr.bandpass', undefined, 'Abstract filter band: u, g, r, i, z or y', { indexed: true }),
  text('lsst_filter', 'instr.filter', undefined, 'Physical filter name'),
  long('lsst_tract', 'meta.id.part', undefined, 'Skymap tract (coadds)', { indexed: true }),
  long('lsst_patch', 'meta.id.part', undefined, 'Skymap patch within the tract (coadds)', { indexed: true }),
  long('lsst_visit', 'meta.id.part', undefined, 'Visit identifier (visit images)', { indexed: true }),
  long('lsst_detector', 'meta.id.part', undefined, 'Detector identifier (visit images)'),
];

export const IVOA_SCHEMA: SchemaDef = { name: 'ivoa', description: 'IVOA standard data models: the ObsCore table', utype: undefined };

export const OBSCORE_TABLE: TableDef = {
  schema: 'ivoa',
  name: OBSCORE_TABLE_NAME,
  sqlName: 'ivoa_obscore',
  type: 'table',
  description: 'ObsCore 1.1 metadata of every image this service holds: Rubin DP0.2-like calexp, deepCoadd_calexp and difference images',
  utype: OBSCORE_DATA_MODEL,
  columns: OBSCORE_COLUMNS,
};

/** Secondary indexes of the physical table: [index name, column]. */
export function obscoreIndexes(): [string, string][] {
  return OBSCORE_COLUMNS.filter((c) => c.indexed && c.name !== 's_region' && c.name !== 'obs_publisher_did').map((c) => [
    `ivoa_obscore_${c.name}`,
    c.name,
  ]);
}

/** A row as ingest writes it: the published columns plus the private ones below. */
export type ObscoreRecord = Record<(typeof OBSCORE_COLUMNS)[number]['name'], string | number | null>;

/**
 * Private columns of the physical table, never published (ADQL cannot reach them): where
 * the file is, relative to DATA_DIR, and what ingest saw of it.
 */
export const PRIVATE_COLUMNS = ['_id INTEGER PRIMARY KEY', '_file TEXT', '_file_size INTEGER', '_file_mtime REAL'] as const;
