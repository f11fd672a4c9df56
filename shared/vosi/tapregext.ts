/**
 * The TAP capability with its TAPRegExt 1.0 description (xsi:type="tr:TableAccess", schema
 * TAPRegExt-v1.0 with Erratum 1): data models, query languages and their optional features,
 * output formats, upload methods and limits, in the schema's element order. It lists exactly
 * what the caller declares: nothing is assumed about what the ADQL translator supports.
 */
import type { GEOMETRY_FUNCTIONS } from '../adql';
import { STANDARD_IDS, type Capability, type CapabilityExtension, type CapabilityInterface } from './capabilities';
import { element, NAMESPACES, optionalText, textElement } from './xml';

const TAPREGEXT = 'ivo://ivoa.net/std/TAPRegExt';

/** Feature-list types of TAPRegExt 1.0 §2 (udf, adqlgeo) and ADQL 2.1 §4 (the others). */
export const FEATURE_TYPES = {
  udf: `${TAPREGEXT}#features-udf`,
  geometry: `${TAPREGEXT}#features-adqlgeo`,
  string: `${TAPREGEXT}#features-adql-string`,
  conditional: `${TAPREGEXT}#features-adql-conditional`,
  commonTable: `${TAPREGEXT}#features-adql-common-table`,
  sets: `${TAPREGEXT}#features-adql-sets`,
  type: `${TAPREGEXT}#features-adql-type`,
  unit: `${TAPREGEXT}#features-adql-unit`,
  offset: `${TAPREGEXT}#features-adql-offset`,
} as const;

/** TAPRegExt's keys for VOTable serialisations that media types do not tell apart. */
export const OUTPUT_FORMAT_IDS = {
  votableTabledata: `${TAPREGEXT}#output-votable-td`,
  votableBinary: `${TAPREGEXT}#output-votable-binary`,
  votableBinary2: `${TAPREGEXT}#output-votable-binary2`,
} as const;

/** TAPRegExt upload methods; TAP 1.1 makes inline and http mandatory once uploads are offered. */
export const UPLOAD_METHODS = {
  inline: `${TAPREGEXT}#upload-inline`,
  http: `${TAPREGEXT}#upload-http`,
  https: `${TAPREGEXT}#upload-https`,
  ftp: `${TAPREGEXT}#upload-ftp`,
} as const;

export const ADQL_VERSION_IDS = {
  '2.0': 'ivo://ivoa.net/std/ADQL#v2.0',
  '2.1': 'ivo://ivoa.net/std/ADQL#v2.1',
} as const;

export type AdqlVersion = keyof typeof ADQL_VERSION_IDS;
export type GeometryFunction = (typeof GEOMETRY_FUNCTIONS)[number];

/** tr:DataModelType: a human label and the model's IVOID. */
export interface DataModel {
  name: string;
  ivoId: string;
}

export interface LanguageVersion {
  version: string;
  ivoId?: string;
}

export interface LanguageFeature {
  form: string;
  description?: string;
}

/** tr:LanguageFeatureList: the features of one type. */
export interface LanguageFeatureList {
  type: string;
  features: readonly LanguageFeature[];
}

/** tr:Language: a LANG value with its versions; `name` and `name-version` are both LANG values. */
export interface QueryLanguage {
  name: string;
  versions: readonly LanguageVersion[];
  description?: string;
  features?: readonly LanguageFeatureList[];
}

/** tr:OutputFormat: a media type, the short RESPONSEFORMAT forms, and an IVOID where one is standard. */
export interface OutputFormat {
  mime: string;
  aliases?: readonly string[];
  ivoId?: string;
}

/** tr:TimeLimits, in seconds. */
export interface TimeLimits {
  default?: number;
  hard?: number;
}

/** tr:DataLimits: limits in rows or bytes. */
export interface DataLimits {
  unit: 'row' | 'byte';
  default?: number;
  hard?: number;
}

export interface TableAccess {
  dataModels?: readonly DataModel[];
  /** At least one (the schema requires it; TAP requires ADQL). */
  languages: readonly QueryLanguage[];
  /** At least one (TAP requires VOTable). */
  outputFormats: readonly OutputFormat[];
  /** Upload method IVOIDs (UPLOAD_METHODS). */
  uploadMethods?: readonly string[];
  /** How long results are kept (UWS destruction). */
  retentionPeriod?: TimeLimits;
  executionDuration?: TimeLimits;
  outputLimit?: DataLimits;
  uploadLimit?: DataLimits;
}

/** A feature list whose features are bare forms (e.g. `ILIKE`, `UNION`). */
export function featureList(type: string, forms: readonly string[]): LanguageFeatureList {
  return { type, features: forms.map((form) => ({ form })) };
}

/** The ADQL geometry functions a service supports: the form is just the function name. */
export function geometryFeatures(functions: readonly GeometryFunction[]): LanguageFeatureList {
  return featureList(FEATURE_TYPES.geometry, functions);
}

/** ADQL in the given versions (oldest first, as TAPRegExt recommends), each with its IVOID. */
export function adqlLanguage(
  versions: readonly AdqlVersion[],
  features: readonly LanguageFeatureList[] = [],
  description?: string,
): QueryLanguage {
  return { name: 'ADQL', versions: versions.map((version) => ({ version, ivoId: ADQL_VERSION_IDS[version] })), description, features };
}

function featureListXml(list: LanguageFeatureList): string {
  const features = list.features.map((f) =>
    element('feature', {}, [textElement('form', f.form), optionalText('description', f.description)]),
  );
  return element('languageFeatures', { type: list.type }, features);
}

function languageXml(language: QueryLanguage): string {
  return element('language', {}, [
    textElement('name', language.name),
    ...language.versions.map((v) => textElement('version', v.version, { 'ivo-id': v.ivoId })),
    optionalText('description', language.description),
    ...(language.features ?? []).map(featureListXml),
  ]);
}

function outputFormatXml(format: OutputFormat): string {
  return element('outputFormat', { 'ivo-id': format.ivoId }, [
    textElement('mime', format.mime),
    ...(format.aliases ?? []).map((alias) => textElement('alias', alias)),
  ]);
}

function timeLimitsXml(tag: string, limits: TimeLimits | undefined): string {
  return limits ? element(tag, {}, [optionalText('default', limits.default), optionalText('hard', limits.hard)]) : '';
}

function dataLimitsXml(tag: string, limits: DataLimits | undefined): string {
  if (!limits) return '';
  const limit = (name: string, value: number | undefined) => (value === undefined ? '' : textElement(name, value, { unit: limits.unit }));
  return element(tag, {}, [limit('default', limits.default), limit('hard', limits.hard)]);
}

/** The tr:TableAccess extension of a capability, children in the schema's sequence. */
export function tableAccessExtension(access: TableAccess): CapabilityExtension {
  if (access.languages.length === 0) throw new RangeError('tr:TableAccess needs at least one language');
  if (access.outputFormats.length === 0) throw new RangeError('tr:TableAccess needs at least one output format');
  const content = [
    ...(access.dataModels ?? []).map((model) => textElement('dataModel', model.name, { 'ivo-id': model.ivoId })),
    ...access.languages.map(languageXml),
    ...access.outputFormats.map(outputFormatXml),
    ...(access.uploadMethods ?? []).map((id) => element('uploadMethod', { 'ivo-id': id })),
    timeLimitsXml('retentionPeriod', access.retentionPeriod),
    timeLimitsXml('executionDuration', access.executionDuration),
    dataLimitsXml('outputLimit', access.outputLimit),
    dataLimitsXml('uploadLimit', access.uploadLimit),
  ];
  return { xsiType: 'tr:TableAccess', prefix: 'tr', namespace: NAMESPACES.tr, content: content.join('') };
}

/**
 * The TAP capability (TAP 1.1 §2.4): standardID `ivo://ivoa.net/std/TAP`, a standard
 * ParamHTTP interface with version="1.1" whose accessURL is the service's base URL
 * (use="base"), then any further interfaces (e.g. authenticated ones), then TAPRegExt.
 */
export function tapCapability(baseUrl: string, access: TableAccess, otherInterfaces: readonly CapabilityInterface[] = []): Capability {
  return {
    standardID: STANDARD_IDS.tap,
    interfaces: [{ type: 'vs:ParamHTTP', accessURL: baseUrl, use: 'base', role: 'std', version: '1.1' }, ...otherInterfaces],
    extension: tableAccessExtension(access),
  };
}
