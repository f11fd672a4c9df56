/**
 * HTTP byte ranges (RFC 9110 §14) for bodies the api makes itself (archives assembled on the
 * fly): one range of bytes, as download managers and `curl -C -` ask for to resume; several
 * ranges at once are answered with the whole body, as RFC 9110 §14.2 allows.
 */
export type RangeRequest = { kind: 'whole' } | { kind: 'range'; start: number; endInclusive: number } | { kind: 'unsatisfiable' };

/** The Range header's single byte range within a body of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  const match = header === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [, first, last] = match;
  if (first === '') {
    // A suffix: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), endInclusive: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return end < start ? { kind: 'whole' } : { kind: 'range', start, endInclusive: end };
}
