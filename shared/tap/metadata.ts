/**
 * What the TAP service says about itself: the TAPRegExt capability (languages, geometry and
 * other ADQL features the translator implements, output formats, upload methods and the
 * configured limits) and the DALI examples, which are the Rubin tutorial's queries.
 */
import type { Config } from '../config';
import { OBSCORE_DATA_MODEL } from '../obscore/columns';
import {
  adqlLanguage,
  capabilitiesXml,
  featureList,
  FEATURE_TYPES,
  geometryFeatures,
  OUTPUT_FORMAT_IDS,
  supportCapabilities,
  tapCapability,
  UPLOAD_METHODS,
  type Example,
  type OutputFormat,
  type TableAccess,
} from '../vosi';
import { DEFAULT_CONTENT_TYPES } from '../votable';

/** Every RESPONSEFORMAT resolveFormat() accepts, by media type and short names. */
const OUTPUT_FORMATS: readonly OutputFormat[] = [
  { mime: DEFAULT_CONTENT_TYPES.votable, aliases: ['votable'], ivoId: OUTPUT_FORMAT_IDS.votableTabledata },
  { mime: DEFAULT_CONTENT_TYPES['votable-binary2'], aliases: ['votable/b2', 'binary2'], ivoId: OUTPUT_FORMAT_IDS.votableBinary2 },
  { mime: DEFAULT_CONTENT_TYPES.csv, aliases: ['csv'] },
  { mime: DEFAULT_CONTENT_TYPES.tsv, aliases: ['tsv'] },
  { mime: DEFAULT_CONTENT_TYPES.json, aliases: ['json'] },
];

export function tableAccess(config: Config): TableAccess {
  const { uws, tap } = config;
  return {
    dataModels: [{ name: 'ObsCore-1.1', ivoId: OBSCORE_DATA_MODEL }],
    languages: [
      adqlLanguage(
        ['2.0', '2.1'],
        [
          geometryFeatures([
            'POINT',
            'CIRCLE',
            'POLYGON',
            'BOX',
            'REGION',
            'CENTROID',
            'CONTAINS',
            'INTERSECTS',
            'DISTANCE',
            'AREA',
            'COORD1',
            'COORD2',
          ]),
          featureList(FEATURE_TYPES.string, ['LOWER', 'UPPER', 'ILIKE']),
          featureList(FEATURE_TYPES.sets, ['UNION', 'EXCEPT', 'INTERSECT']),
          featureList(FEATURE_TYPES.type, ['CAST']),
          featureList(FEATURE_TYPES.offset, ['OFFSET']),
        ],
        'ADQL 2.1; identifiers are case-insensitive unless quoted',
      ),
    ],
    outputFormats: OUTPUT_FORMATS,
    uploadMethods: [UPLOAD_METHODS.inline, UPLOAD_METHODS.http, UPLOAD_METHODS.https],
    retentionPeriod: { default: uws.destructionDefault, hard: uws.destructionMax },
    executionDuration: { default: uws.executionDurationDefault, hard: uws.executionDurationMax || undefined },
    outputLimit: { unit: 'row', default: tap.maxrecDefault, hard: tap.maxrecMax },
    uploadLimit: { unit: 'byte', hard: uws.uploadMaxBytes },
  };
}

export function tapCapabilitiesXml(base: string, config: Config): string {
  return capabilitiesXml([tapCapability(base, tableAccess(config)), ...supportCapabilities(base, { tables: true, examples: true })]);
}

/** The queries of Rubin's image-services tutorial (DP0.2 notebooks), as TAP examples (TAP 1.1 §2.6). */
export const TAP_EXAMPLES: readonly Example[] = [
  {
    id: 'tap-schema-tables',
    name: 'Tables published by the service',
    query: 'SELECT schema_name, table_name, description FROM TAP_SCHEMA.tables',
    tables: ['TAP_SCHEMA.tables'],
  },
  { id: 'tap-schema-schemas', name: 'Schemas', query: 'SELECT * FROM tap_schema.schemas', tables: ['TAP_SCHEMA.schemas'] },
  {
    id: 'ivoa-tables',
    name: 'Tables of the ivoa schema',
    query: "SELECT * FROM tap_schema.tables where schema_name like 'ivoa' order by table_index ASC",
    tables: ['TAP_SCHEMA.tables'],
  },
  {
    id: 'obscore-columns',
    name: 'Columns of ivoa.ObsCore',
    query: "SELECT column_name, datatype, unit, ucd, utype from TAP_SCHEMA.columns where table_name='ivoa.ObsCore'",
    tables: ['TAP_SCHEMA.columns'],
  },
  {
    id: 'product-types',
    name: 'Data product types, facility and collection',
    query: 'SELECT dataproduct_type, facility_name, instrument_name, obs_collection, COUNT(*) FROM ivoa.ObsCore GROUP BY dataproduct_type',
    tables: ['ivoa.ObsCore'],
  },
  {
    id: 'product-subtypes',
    name: 'Image types and calibration levels',
    query:
      'SELECT dataproduct_type, dataproduct_subtype, calib_level, COUNT(*) FROM ivoa.ObsCore GROUP BY dataproduct_subtype, calib_level ORDER BY calib_level',
    tables: ['ivoa.ObsCore'],
  },
  {
    id: 'coadds-near-cluster',
    name: 'r-band deep coadds within 10 degrees of a galaxy cluster',
    description: 'A cone search on the image centres combined with metadata filters.',
    query:
      "SELECT * FROM ivoa.ObsCore WHERE 1=CONTAINS( POINT('ICRS', ivoa.ObsCore.s_ra, ivoa.ObsCore.s_dec), CIRCLE('ICRS', 55.74673760481304, -32.286155241413624, 10) ) AND dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_band='r'",
    tables: ['ivoa.ObsCore'],
  },
  {
    id: 'coadd-by-patch',
    name: 'The i-band deep coadd of tract 4431, patch 17',
    query:
      "SELECT * FROM ivoa.ObsCore WHERE dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_tract = 4431 AND lsst_patch = 17 AND lsst_band = 'i'",
    tables: ['ivoa.ObsCore'],
  },
  {
    id: 'dataset-by-id',
    name: 'A dataset found by its identifier',
    query:
      "SELECT access_url, dataproduct_subtype, lsst_patch, lsst_tract, lsst_band FROM ivoa.ObsCore WHERE access_url like '%20d28216-534a-4102-b8a7-1c7f32a9b78c'",
    tables: ['ivoa.ObsCore'],
  },
  {
    id: 'images-overlapping-region',
    name: 'Images whose footprint overlaps a small circle',
    query:
      "SELECT obs_publisher_did, dataproduct_subtype, lsst_band, s_ra, s_dec FROM ivoa.ObsCore WHERE 1 = INTERSECTS(s_region, CIRCLE('ICRS', 55.7467, -32.2862, 0.05))",
    tables: ['ivoa.ObsCore'],
  },
];
