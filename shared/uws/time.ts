/** UWS times are ISO 8601 in UTC with the `Z` designator (UWS 1.1 §2.1.4). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Parses an ISO 8601 date-time (DALI §3.3.3 timestamp form, with or without zone; no zone
 * means UTC). Returns epoch ms, or undefined when the text is not a date-time.
 */
export function parseIsoTime(text: string): number | undefined {
  const trimmed = text.trim();
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
  if (!match) return undefined;
  const zone = match[8] ?? 'Z';
  const normalised =
    `${match[1]}-${match[2]}-${match[3]}T${match[4] ?? '00'}:${match[5] ?? '00'}:${match[6] ?? '00'}` +
    `${match[7] ?? ''}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`;
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? undefined : ms;
}
