/**
 * The DALI-examples document (DALI 1.1 §2.3; TAP 1.1 §2.6): well-formed XHTML, served as
 * application/xhtml+xml, whose examples are marked up in RDFa Lite. One element carries the
 * vocab attribute, DALI 1.1's `http://www.ivoa.net/rdf/examples#` (`ivo://ivoa.net/std/DALI#examples`
 * is the capability's standardID, and was only DALI 1.0's vocab). Inside it each example is an
 * element with typeof="example", an id and resource="#id", exactly one plain-text `name` and,
 * for TAP, exactly one plain-text `query`; other services' examples give their request as
 * `generic-parameter` key/value pairs. Continuation links carry no resource attribute (DALI 1.1
 * Erratum 1). These are the rules STILTS taplint's EXA stage checks.
 */
import { element, NAMESPACES, textElement, xmlDocument, type Attributes } from './xml';

export const EXAMPLES_VOCABULARY = 'http://www.ivoa.net/rdf/examples#';
export const EXAMPLES_MEDIA_TYPE = 'application/xhtml+xml';

export interface Example {
  /** An XML name, unique in the document: the fragment that refers to the example. */
  id: string;
  /** Short plain-text label. */
  name: string;
  /** Plain text, shown as a paragraph. */
  description?: string;
  /** TAP 1.1 §2.6: the ADQL query. */
  query?: string;
  /** TAP 1.1 §2.6: fully qualified names of the tables the query is about. */
  tables?: readonly string[];
  /** DALI 1.1 §2.3.2: the standardID of the capability the example is for. */
  capability?: string;
  /** DALI 1.1 §2.3.3: request parameters, in order. */
  parameters?: readonly (readonly [key: string, value: string])[];
}

/** A link to another examples document (DALI 1.1 §2.3.4). */
export interface ExamplesContinuation {
  href: string;
  title: string;
}

export interface ExamplesPage {
  title: string;
  /** Plain text introducing the examples. */
  introduction?: string;
  examples: readonly Example[];
  continuations?: readonly ExamplesContinuation[];
}

/** What taplint accepts as an example id: an XML Name (no colon needed here). */
const XML_NAME = /^[_\p{L}][_\p{L}\p{N}.-]*$/u;

function checkIds(examples: readonly Example[]): void {
  const seen = new Set<string>();
  for (const { id } of examples) {
    if (!XML_NAME.test(id)) throw new RangeError(`example id ${JSON.stringify(id)} is not an XML name`);
    if (seen.has(id)) throw new RangeError(`example id ${JSON.stringify(id)} is used twice`);
    seen.add(id);
  }
}

/** `<tag property="…">text</tag>`: an RDFa property whose value is the element's plain text. */
function property(tag: string, name: string, text: string, attributes: Attributes = {}): string {
  return textElement(tag, text, { property: name, ...attributes });
}

function parameterXml([key, value]: readonly [string, string]): string {
  return element('li', { property: 'generic-parameter', typeof: 'keyval' }, [
    property('code', 'key', key),
    ' = ',
    property('code', 'value', value),
  ]);
}

function exampleXml(example: Example): string {
  const tables = example.tables ?? [];
  const parameters = example.parameters ?? [];
  return element('div', { typeof: 'example', id: example.id, resource: `#${example.id}` }, [
    property('h2', 'name', example.name),
    example.description ? textElement('p', example.description) : '',
    example.capability ? element('p', {}, ['For ', property('code', 'capability', example.capability)]) : '',
    // No line break after <pre>: an XML reader would make it part of the query.
    example.query === undefined ? '' : property('pre', 'query', example.query, { class: 'query' }),
    tables.length ? element('p', {}, ['Tables: ', tables.map((t) => property('code', 'table', t)).join(', ')]) : '',
    parameters.length ? element('ul', { class: 'parameters' }, parameters.map(parameterXml)) : '',
  ]);
}

/** The whole examples document. */
export function examplesXhtml(page: ExamplesPage): string {
  checkIds(page.examples);
  const continuations = (page.continuations ?? []).map((c) =>
    element('li', {}, textElement('a', c.title, { property: 'continuation', href: c.href })),
  );
  const body = element('body', { vocab: EXAMPLES_VOCABULARY }, [
    textElement('h1', page.title),
    page.introduction ? textElement('p', page.introduction) : '',
    ...page.examples.map(exampleXml),
    continuations.length ? element('ul', { class: 'continuations' }, continuations) : '',
  ]);
  const head = element('head', {}, textElement('title', page.title));
  const html = element('html', { xmlns: NAMESPACES.xhtml, 'xml:lang': 'en', lang: 'en' }, [head, body]);
  return xmlDocument(html, '<!DOCTYPE html>');
}
