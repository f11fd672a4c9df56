/**
 * VOSI and DALI metadata documents, as pure functions from typed descriptions to XML text:
 *
 * - availabilityXml: VOSI-availability (`/availability`)
 * - capabilitiesXml: VOSI-capabilities (`/capabilities`), with paramHttpCapability and
 *   supportCapabilities for the usual entries and tapCapability for TAP with TAPRegExt
 * - tablesetXml, tableXml: VOSI-tables (`/tables`, `/tables/{name}`), from the published
 *   table definitions that TAP_SCHEMA is also written from
 * - examplesXhtml: DALI-examples (`/examples`, application/xhtml+xml)
 *
 * Each returns a complete, well-formed document with its XML declaration; serving it (media
 * type `text/xml`, anonymous access for availability and capabilities) is the api's job.
 */
export { availabilityXml, type Availability } from './availability';
export {
  capabilitiesXml,
  paramHttpCapability,
  supportCapabilities,
  STANDARD_IDS,
  type AccessUrlUse,
  type Capability,
  type CapabilityExtension,
  type CapabilityInterface,
  type InputParam,
  type ParamHttpInterface,
  type ParamHttpOptions,
  type SupportEndpoints,
  type WebBrowserInterface,
} from './capabilities';
export {
  adqlLanguage,
  ADQL_VERSION_IDS,
  featureList,
  FEATURE_TYPES,
  geometryFeatures,
  OUTPUT_FORMAT_IDS,
  tableAccessExtension,
  tapCapability,
  UPLOAD_METHODS,
  type AdqlVersion,
  type DataLimits,
  type DataModel,
  type GeometryFunction,
  type LanguageFeature,
  type LanguageFeatureList,
  type LanguageVersion,
  type OutputFormat,
  type QueryLanguage,
  type TableAccess,
  type TimeLimits,
} from './tapregext';
export { findTable, tablesetXml, tableXml, type TablesDetail, type TablesetOptions } from './tables';
export {
  EXAMPLES_MEDIA_TYPE,
  EXAMPLES_VOCABULARY,
  examplesXhtml,
  type Example,
  type ExamplesContinuation,
  type ExamplesPage,
} from './examples';
export { NAMESPACES, type VotableType } from './xml';
