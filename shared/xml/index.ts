/** Small XML helpers for documents written from templates. */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for element content and attribute values. Characters XML 1.0 forbids (C0
 * controls other than tab, CR, LF) are dropped, since they cannot be written at all.
 */
export function escapeXml(text: string): string {
  // Most text needs nothing: one scan, no copy (a job document may escape 100,000 result ids).
  if (!NEEDS_ESCAPE.test(text)) return text;
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
