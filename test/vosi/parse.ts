/** Reads the VOSI/DALI documents back with fast-xml-parser into a small ordered element tree. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its descendants'), entities decoded. */
  text: string;
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
});

function toElement(node: OrderedNode): XmlElement | undefined {
  const name = Object.keys(node).find((key) => key !== ':@' && key !== '#text');
  if (name === undefined) return undefined;
  const content = node[name] as OrderedNode[];
  return {
    name,
    attributes: node[':@'] ?? {},
    children: content.map(toElement).filter((e): e is XmlElement => e !== undefined),
    text: content.map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join(''),
  };
}

/** Checks well-formedness and the XML declaration, and returns the root element. */
export function parseDocument(xml: string): XmlElement {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  expect(XMLValidator.validate(xml)).toBe(true);
  const roots = (parser.parse(xml) as OrderedNode[]).map(toElement).filter((e): e is XmlElement => e !== undefined);
  expect(roots).toHaveLength(1);
  return roots[0]!;
}

export function childNames(element: XmlElement): string[] {
  return element.children.map((c) => c.name);
}

export function child(element: XmlElement, name: string): XmlElement {
  const found = element.children.find((c) => c.name === name);
  if (!found) throw new Error(`<${element.name}> has no <${name}>; it has ${childNames(element).join(', ')}`);
  return found;
}

export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** All descendants (depth first, document order) that satisfy the test. */
export function descendants(element: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  return element.children.flatMap((c) => [...(test(c) ? [c] : []), ...descendants(c, test)]);
}
