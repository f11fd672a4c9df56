/**
 * What the VOSI and DALI documents share: their namespaces, a small element writer over
 * shared/xml's escaping, and the VODataService data type element used by table columns and
 * service parameters alike.
 */
import type { VotableDatatype } from '../tapschema/model';
import { escapeXml, XML_DECLARATION } from '../xml';

export const NAMESPACES = {
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  /** VOResource 1.1 keeps the 1.0 namespace. */
  vr: 'http://www.ivoa.net/xml/VOResource/v1.0',
  /** VODataService 1.2 keeps the 1.1 namespace. */
  vs: 'http://www.ivoa.net/xml/VODataService/v1.1',
  vosiAvailability: 'http://www.ivoa.net/xml/VOSIAvailability/v1.0',
  vosiCapabilities: 'http://www.ivoa.net/xml/VOSICapabilities/v1.0',
  /** VOSI 1.1 tables (with the single-table root element) keep the 1.0 namespace. */
  vosiTables: 'http://www.ivoa.net/xml/VOSITables/v1.0',
  tr: 'http://www.ivoa.net/xml/TAPRegExt/v1.0',
  xhtml: 'http://www.w3.org/1999/xhtml',
} as const;

/** Attribute values; undefined ones are left out. */
export type Attributes = Readonly<Record<string, string | number | boolean | undefined>>;

function attributesXml(attributes: Attributes): string {
  return Object.entries(attributes)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
}

/** `<tag …>content</tag>`, or `<tag …/>` when there is no content; content is XML already. */
export function element(tag: string, attributes: Attributes = {}, content: string | readonly string[] = ''): string {
  const inner = typeof content === 'string' ? content : content.join('');
  const open = `${tag}${attributesXml(attributes)}`;
  return inner === '' ? `<${open}/>` : `<${open}>${inner}</${tag}>`;
}

/** An element holding escaped text. */
export function textElement(tag: string, text: string | number, attributes: Attributes = {}): string {
  return `<${tag}${attributesXml(attributes)}>${escapeXml(String(text))}</${tag}>`;
}

/** A text element for an optional value: nothing when the value is missing or empty. */
export function optionalText(tag: string, text: string | number | undefined): string {
  return text === undefined || text === '' ? '' : textElement(tag, text);
}

/** The XML declaration, an optional document type declaration, and the root element. */
export function xmlDocument(root: string, doctype?: string): string {
  return [XML_DECLARATION, doctype, root].filter((part) => part !== undefined).join('\n') + '\n';
}

/** A VOTable type as DALI and TAP describe values: datatype, arraysize, xtype. */
export interface VotableType {
  datatype: VotableDatatype;
  arraysize?: string;
  xtype?: string;
}

/**
 * `<dataType xsi:type="vs:VOTableType" arraysize="…" extendedType="…">double</dataType>`
 * (VODataService 1.2 vs:DataType: the xtype goes to extendedType, with no extendedSchema since it
 * is a DALI/VOTable xtype). TAP 1.1 §2.5 recommends VOTableType over TAPType.
 */
export function votableDataTypeXml(type: VotableType): string {
  return textElement('dataType', type.datatype, { 'xsi:type': 'vs:VOTableType', arraysize: type.arraysize, extendedType: type.xtype });
}
