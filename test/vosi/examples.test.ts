import { EXAMPLES_MEDIA_TYPE, EXAMPLES_VOCABULARY, examplesXhtml, STANDARD_IDS, type Example } from '../../shared/vosi';
import { child, childNames, descendants, parseDocument, type XmlElement } from './parse';

const CONE: Example = {
  id: 'cone',
  name: 'Images containing a position',
  description: 'Every image whose footprint contains the point (55.7, -32.3) & its DataLink URL',
  query: "SELECT obs_publisher_did, access_url\n  FROM ivoa.ObsCore\n WHERE 1 = CONTAINS(POINT('ICRS', 55.7, -32.3), s_region)",
  tables: ['ivoa.ObsCore'],
  capability: STANDARD_IDS.tap,
};
const BANDS: Example = {
  id: 'bands',
  name: `Bands "g" & <r>`,
  query: "SELECT lsst_band, COUNT(*) AS n FROM ivoa.ObsCore WHERE lsst_band IN ('g', 'r') AND s_ra < 60 GROUP BY lsst_band",
  tables: ['ivoa.ObsCore', 'TAP_SCHEMA.tables'],
};
const CUTOUT: Example = {
  id: 'cutout.circle',
  name: 'A circular cutout',
  capability: STANDARD_IDS.sodaSync,
  parameters: [
    ['ID', 'butler://dp02/0b8b7ac4-0000-4000-8000-000000000000'],
    ['CIRCLE', '55.7 -32.3 0.05'],
  ],
};

const xml = examplesXhtml({
  title: 'TAP examples',
  introduction: 'Queries against ivoa.ObsCore & TAP_SCHEMA',
  examples: [CONE, BANDS, CUTOUT],
  continuations: [{ href: 'examples/more?page=2&size=10', title: 'More examples' }],
});
const html = parseDocument(xml);
const body = child(html, 'body');

const withProperty = (scope: XmlElement, name: string) => descendants(scope, (e) => e.attributes.property === name);
const exampleElements = descendants(body, (e) => e.attributes.typeof === 'example');

describe('DALI examples document', () => {
  test('served as XHTML: media type, XHTML namespace, HTML5 doctype after the XML declaration', () => {
    expect(EXAMPLES_MEDIA_TYPE).toBe('application/xhtml+xml');
    expect(xml.split('\n').slice(0, 2)).toEqual(['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE html>']);
    expect(html.name).toBe('html');
    expect(html.attributes).toEqual({ xmlns: 'http://www.w3.org/1999/xhtml', 'xml:lang': 'en', lang: 'en' });
    expect(childNames(html)).toEqual(['head', 'body']);
    expect(child(child(html, 'head'), 'title').text).toBe('TAP examples');
  });

  test('exactly one vocab attribute, the examples vocabulary, on the element holding every example', () => {
    expect(EXAMPLES_VOCABULARY).toBe('http://www.ivoa.net/rdf/examples#');
    expect(descendants(html, (e) => 'vocab' in e.attributes)).toEqual([body]);
    expect(body.attributes.vocab).toBe(EXAMPLES_VOCABULARY);
    expect(child(body, 'p').text).toBe('Queries against ivoa.ObsCore & TAP_SCHEMA');
  });

  test('each example: typeof="example", an id, resource="#id", in the given order', () => {
    expect(exampleElements.map((e) => [e.name, e.attributes.id, e.attributes.resource])).toEqual([
      ['div', 'cone', '#cone'],
      ['div', 'bands', '#bands'],
      ['div', 'cutout.circle', '#cutout.circle'],
    ]);
  });

  test('each example has exactly one name, as plain text in an h2 first', () => {
    for (const [element, example] of [
      [exampleElements[0]!, CONE],
      [exampleElements[1]!, BANDS],
      [exampleElements[2]!, CUTOUT],
    ] as const) {
      const names = withProperty(element, 'name');
      expect(names).toHaveLength(1);
      expect(element.children[0]).toBe(names[0]);
      expect(names[0]!.name).toBe('h2');
      expect(names[0]!.children).toEqual([]);
      expect(names[0]!.text).toBe(example.name);
    }
  });

  test('TAP examples have one plain-text query in a pre, exact to the character, escaped in the source', () => {
    expect(xml).toContain('s_ra &lt; 60');
    expect(xml).toContain('IN (&apos;g&apos;, &apos;r&apos;)');
    for (const [element, example] of [
      [exampleElements[0]!, CONE],
      [exampleElements[1]!, BANDS],
    ] as const) {
      const queries = withProperty(element, 'query');
      expect(queries).toHaveLength(1);
      expect(queries[0]!.name).toBe('pre');
      expect(queries[0]!.children).toEqual([]);
      expect(queries[0]!.text).toBe(example.query);
    }
    expect(withProperty(exampleElements[2]!, 'query')).toEqual([]);
  });

  test('layout: name, description, capability, query, tables, parameters, each only when given', () => {
    expect(exampleElements.map(childNames)).toEqual([
      ['h2', 'p', 'p', 'pre', 'p'],
      ['h2', 'pre', 'p'],
      ['h2', 'p', 'ul'],
    ]);
  });

  test('names and descriptions are escaped text', () => {
    expect(xml).toContain('Bands &quot;g&quot; &amp; &lt;r&gt;');
    expect(xml).toContain('(55.7, -32.3) &amp; its DataLink URL');
    expect(child(exampleElements[0]!, 'p').text).toBe(CONE.description);
  });

  test('table and capability properties hold plain text', () => {
    expect(withProperty(exampleElements[1]!, 'table').map((t) => t.text)).toEqual(['ivoa.ObsCore', 'TAP_SCHEMA.tables']);
    expect(withProperty(exampleElements[0]!, 'capability').map((c) => c.text)).toEqual(['ivo://ivoa.net/std/TAP']);
    expect(withProperty(exampleElements[2]!, 'capability').map((c) => c.text)).toEqual(['ivo://ivoa.net/std/SODA#sync-1.0']);
  });

  test('generic parameters: typeof="keyval" with one key and one value each', () => {
    const parameters = withProperty(exampleElements[2]!, 'generic-parameter');
    expect(parameters.map((p) => p.attributes.typeof)).toEqual(['keyval', 'keyval']);
    expect(parameters.map((p) => [withProperty(p, 'key').map((k) => k.text), withProperty(p, 'value').map((v) => v.text)])).toEqual([
      [['ID'], ['butler://dp02/0b8b7ac4-0000-4000-8000-000000000000']],
      [['CIRCLE'], ['55.7 -32.3 0.05']],
    ]);
  });

  test('continuation links inside the vocab element: href, no resource attribute (DALI 1.1 Erratum 1)', () => {
    const links = withProperty(body, 'continuation');
    expect(links.map((l) => [l.name, l.attributes, l.text])).toEqual([
      ['a', { property: 'continuation', href: 'examples/more?page=2&size=10' }, 'More examples'],
    ]);
  });

  test('only vocabulary properties are used', () => {
    const used = new Set(descendants(html, (e) => e.attributes.property !== undefined).map((e) => e.attributes.property));
    expect([...used].sort()).toEqual(['capability', 'continuation', 'generic-parameter', 'key', 'name', 'query', 'table', 'value']);
  });

  test('a page without optional parts has just the heading', () => {
    const bare = parseDocument(examplesXhtml({ title: 'None yet', examples: [] }));
    expect(childNames(child(bare, 'body'))).toEqual(['h1']);
  });

  test('ids must be unique XML names', () => {
    expect(() => examplesXhtml({ title: 't', examples: [{ ...BANDS, id: '1st' }] })).toThrow(/not an XML name/);
    expect(() => examplesXhtml({ title: 't', examples: [{ ...BANDS, id: 'a b' }] })).toThrow(/not an XML name/);
    expect(() => examplesXhtml({ title: 't', examples: [BANDS, { ...CONE, id: 'bands' }] })).toThrow(/used twice/);
  });
});
