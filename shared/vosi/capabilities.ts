/**
 * The VOSI-capabilities document (VOSI 1.1 §3.1, schema VOSICapabilities-v1.0.xsd): a
 * `<vosi:capabilities>` root with one unqualified `<capability standardID="…">` per endpoint,
 * each a vr:Capability (VOResource 1.1) with its interfaces, optionally a registry-extension
 * sub-type (xsi:type) such as TAPRegExt's tr:TableAccess (see tapregext.ts).
 */
import { element, NAMESPACES, optionalText, textElement, votableDataTypeXml, xmlDocument, type VotableType } from './xml';

/** standardIDs of the capabilities these services declare. */
export const STANDARD_IDS = {
  /** TAP 1.1 §2.4: the TAP 1.0 id, with interface version="1.1". */
  tap: 'ivo://ivoa.net/std/TAP',
  sodaSync: 'ivo://ivoa.net/std/SODA#sync-1.0',
  sodaAsync: 'ivo://ivoa.net/std/SODA#async-1.0',
  siaQuery: 'ivo://ivoa.net/std/SIA#query-2.0',
  datalinkLinks: 'ivo://ivoa.net/std/DataLink#links-1.1',
  vosiCapabilities: 'ivo://ivoa.net/std/VOSI#capabilities',
  vosiAvailability: 'ivo://ivoa.net/std/VOSI#availability',
  /** VOSI 1.1 §4: tables with `detail` and per-table child resources. */
  vosiTables: 'ivo://ivoa.net/std/VOSI#tables-1.1',
  daliExamples: 'ivo://ivoa.net/std/DALI#examples',
} as const;

/** VOResource 1.1 vr:AccessURL/@use: the URL as is, a base to append to, or a directory. */
export type AccessUrlUse = 'full' | 'base' | 'dir';

interface BaseInterface {
  accessURL: string;
  use: AccessUrlUse;
  version?: string;
  /** `std` for the interface a standard defines. */
  role?: string;
  /** standardIDs of vr:SecurityMethod elements (e.g. `ivo://ivoa.net/sso#token`). */
  securityMethods?: readonly string[];
}

/** A vs:InputParam (VODataService 1.2): a parameter of a ParamHTTP interface. */
export interface InputParam {
  name: string;
  description?: string;
  unit?: string;
  ucd?: string;
  utype?: string;
  dataType?: VotableType;
  use?: 'required' | 'optional' | 'ignored';
  /** False for a parameter the standard does not define (schema default: true). */
  std?: boolean;
}

/** vs:ParamHTTP (VODataService 1.2): an HTTP GET/POST interface with parameters. */
export interface ParamHttpInterface extends BaseInterface {
  type: 'vs:ParamHTTP';
  queryTypes?: readonly ('GET' | 'POST')[];
  /** Media type of the response. */
  resultType?: string;
  params?: readonly InputParam[];
}

/** vr:WebBrowser (VOResource 1.1): a page for people, e.g. DALI examples (TAP 1.1 §2.6). */
export interface WebBrowserInterface extends BaseInterface {
  type: 'vr:WebBrowser';
}

export type CapabilityInterface = ParamHttpInterface | WebBrowserInterface;

/**
 * A vr:Capability sub-type from a registry extension schema: its xsi:type (e.g.
 * `tr:TableAccess`), the namespace of that prefix (declared on the capability element) and
 * the elements it adds after the interfaces, already as XML.
 */
export interface CapabilityExtension {
  xsiType: string;
  prefix: string;
  namespace: string;
  content: string;
}

export interface Capability {
  /** Absent for a service no IVOA standard describes (VOResource 1.1 makes it optional). */
  standardID?: string;
  description?: string;
  interfaces: readonly CapabilityInterface[];
  extension?: CapabilityExtension;
}

function inputParamXml(param: InputParam): string {
  return element('param', { use: param.use, std: param.std }, [
    textElement('name', param.name),
    optionalText('description', param.description),
    optionalText('unit', param.unit),
    optionalText('ucd', param.ucd),
    optionalText('utype', param.utype),
    param.dataType ? votableDataTypeXml(param.dataType) : '',
  ]);
}

/** vr:Interface's sequence (accessURL, securityMethod*), then vs:ParamHTTP's (queryType*, resultType?, param*). */
function interfaceXml(face: CapabilityInterface): string {
  const common = [
    textElement('accessURL', face.accessURL, { use: face.use }),
    ...(face.securityMethods ?? []).map((id) => element('securityMethod', { standardID: id })),
  ];
  const paramHttp =
    face.type === 'vs:ParamHTTP'
      ? [
          ...(face.queryTypes ?? []).map((method) => textElement('queryType', method)),
          optionalText('resultType', face.resultType),
          ...(face.params ?? []).map(inputParamXml),
        ]
      : [];
  return element('interface', { 'xsi:type': face.type, role: face.role, version: face.version }, [...common, ...paramHttp]);
}

function capabilityXml(capability: Capability): string {
  const extension = capability.extension;
  const attributes = extension
    ? { [`xmlns:${extension.prefix}`]: extension.namespace, standardID: capability.standardID, 'xsi:type': extension.xsiType }
    : { standardID: capability.standardID };
  return element('capability', attributes, [
    optionalText('description', capability.description),
    ...capability.interfaces.map(interfaceXml),
    extension?.content ?? '',
  ]);
}

/** The whole `/capabilities` document. */
export function capabilitiesXml(capabilities: readonly Capability[]): string {
  const root = element(
    'vosi:capabilities',
    { 'xmlns:vosi': NAMESPACES.vosiCapabilities, 'xmlns:xsi': NAMESPACES.xsi, 'xmlns:vr': NAMESPACES.vr, 'xmlns:vs': NAMESPACES.vs },
    capabilities.map(capabilityXml),
  );
  return xmlDocument(root);
}

export type ParamHttpOptions = Partial<Omit<ParamHttpInterface, 'type' | 'accessURL'>>;

/**
 * A capability with one standard (`role="std"`) ParamHTTP interface, by default at a full URL:
 * the form of SODA, SIA 2.0, DataLink and VOSI endpoints.
 */
export function paramHttpCapability(standardID: string, accessURL: string, options: ParamHttpOptions = {}): Capability {
  return { standardID, interfaces: [{ type: 'vs:ParamHTTP', accessURL, use: 'full', role: 'std', ...options }] };
}

/** The endpoints a DAL service keeps beside its capabilities (DALI 1.1 §2): which of the optional ones it has. */
export interface SupportEndpoints {
  tables?: boolean;
  examples?: boolean;
}

/**
 * The VOSI and DALI support capabilities of a service whose endpoints are the siblings
 * `<baseUrl>/capabilities`, `/availability`, and optionally `/tables` and `/examples`
 * (DALI 1.1 §2; TAP 1.1 §2). VOSI 1.1 §4 requires use="full" for them.
 */
export function supportCapabilities(baseUrl: string, endpoints: SupportEndpoints = {}): Capability[] {
  const base = baseUrl.replace(/\/+$/, '');
  const capabilities = [
    paramHttpCapability(STANDARD_IDS.vosiCapabilities, `${base}/capabilities`),
    paramHttpCapability(STANDARD_IDS.vosiAvailability, `${base}/availability`),
  ];
  // taplint asks a tables endpoint for detail=max only when its interface says version 1.1.
  if (endpoints.tables) capabilities.push(paramHttpCapability(STANDARD_IDS.vosiTables, `${base}/tables`, { version: '1.1' }));
  if (endpoints.examples) {
    capabilities.push({
      standardID: STANDARD_IDS.daliExamples,
      interfaces: [{ type: 'vr:WebBrowser', accessURL: `${base}/examples`, use: 'full' }],
    });
  }
  return capabilities;
}
