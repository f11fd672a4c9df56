/**
 * Content negotiation between the protocol documents and the browser pages (RFC 9110 §12.5.1).
 * The rule: a GET (or HEAD) gets the HTML page only when its Accept
 *   1. gives text/html a higher quality than every XML type (text/xml, application/xml), and
 *   2. says it is a browser's or a page client's: it names application/xhtml+xml (as every
 *      browser's navigation Accept does), or names nothing but HTML types.
 * Browsers send `text/html,application/xhtml+xml,application/xml;q=0.9,*\/*;q=0.8`: a page.
 * pyvo (requests), curl and wget send `*\/*`, many clients nothing: a tie or no header, never
 * a page. Java's HttpURLConnection (STILTS, TOPCAT) sends `text/html, image/gif, image/jpeg,
 * *\/*; q=0.2` by default, text/html first without meaning it: the second condition keeps it
 * on XML (STILTS taplint checks that). An XML client names an XML type. So no client that
 * worked before gets a page.
 */
import type { Request, Response } from 'express';

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const item of header.split(',')) {
    const [range, ...params] = item.split(';');
    const match = /^\s*([!#$%&'*+.^_`|~\w-]+)\/([!#$%&'*+.^_`|~\w-]+)\s*$/.exec(range ?? '');
    if (!match) continue;
    let q = 1;
    for (const param of params) {
      // RFC 9110 §12.4.2 writes `0.2`; Java's older default wrote `.2`.
      const qMatch = /^\s*q\s*=\s*(\d+(?:\.\d*)?|\.\d+)\s*$/i.exec(param);
      if (qMatch) q = Math.min(1, Number(qMatch[1]));
    }
    ranges.push({ type: match[1]!.toLowerCase(), subtype: match[2]!.toLowerCase(), q });
  }
  return ranges;
}

/** The quality Accept gives one media type: that of the most specific range matching it (0: none). */
function quality(ranges: readonly MediaRange[], type: string, subtype: string): number {
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (specificity < 0 || specificity < best) continue;
    q = specificity > best ? r.q : Math.max(q, r.q);
    best = specificity;
  }
  return q;
}

/** Whether an Accept header prefers text/html to XML (see above). */
export function acceptPrefersHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const ranges = parseAccept(accept);
  const html = quality(ranges, 'text', 'html');
  if (!(html > 0 && html > Math.max(quality(ranges, 'text', 'xml'), quality(ranges, 'application', 'xml')))) return false;
  const isHtml = (r: MediaRange) => (r.type === 'text' && r.subtype === 'html') || (r.type === 'application' && r.subtype === 'xhtml+xml');
  return ranges.some((r) => r.type === 'application' && r.subtype === 'xhtml+xml') || ranges.every(isHtml);
}

/**
 * Whether to answer this request with a page; also marks the response as negotiated
 * (`Vary: Accept`, for caches), whichever way it goes.
 */
export function wantsPage(req: Request, res: Response): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  res.vary('Accept');
  return acceptPrefersHtml(req.headers.accept);
}

/**
 * Whether a GET asks for the job's event stream: Accept names text/event-stream itself (as
 * EventSource does); `*\/*` and the like do not, so no other client gets one.
 */
export function wantsEvents(req: Request, res: Response): boolean {
  if (req.method !== 'GET') return false;
  res.vary('Accept');
  const ranges = parseAccept(req.headers.accept ?? '');
  return ranges.some((r) => r.type === 'text' && r.subtype === 'event-stream' && r.q > 0);
}
