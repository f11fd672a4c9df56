/**
 * The negotiation rule of the pages (api/pages/negotiate.ts): HTML only when Accept gives
 * text/html a higher quality than text/xml and application/xml, and is a browser's (it names
 * application/xhtml+xml) or asks for HTML only.
 */
import { acceptPrefersHtml } from '../../api/pages/negotiate';
import { BROWSER_ACCEPT } from './helpers';

test.each([
  // Browsers' navigation headers.
  [BROWSER_ACCEPT, true],
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true], // Firefox
  ['text/html', true],
  ['text/html;q=0.5', true], // nothing else accepted: XML's quality is 0
  ['text/html;q=.5', true],
  ['text/*, application/xml;q=0.5', false], // text/* covers text/xml as well as text/html
  ['text/html, application/xhtml+xml', true],
])('Accept %j → page %s', (accept, page) => {
  expect(acceptPrefersHtml(accept)).toBe(page);
});

test.each([
  [undefined],
  [''],
  ['*/*'], // curl, wget, python-requests (pyvo)
  ['text/xml'],
  ['application/xml'],
  ['application/x-votable+xml'],
  ['text/plain'],
  ['application/xml, text/html'], // a tie is not a preference
  ['text/html, application/xml'],
  ['text/html;q=0.8, text/xml'],
  ['text/html;q=0, */*'],
  ['TEXT/XML'],
  ['text/html;q=0.9, */*'], // */* gives text/xml 1
  ['garbage'],
  // Java's HttpURLConnection default (STILTS, TOPCAT; Java 17, and older): text/html first,
  // but not a page client.
  ['text/html, image/gif, image/jpeg, */*; q=0.2'],
  ['text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2'],
  ['text/html, */*;q=0.1'],
])('Accept %j → XML as before', (accept) => {
  expect(acceptPrefersHtml(accept)).toBe(false);
});
