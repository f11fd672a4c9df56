/** UWS times are ISO 8601 in UTC with the `Z` designator (UWS 1.1 §2.1.4). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Calendar dates of ISO 8601-1 §5.2.2: complete (`2015-10-26`, basic `20151026`) and of
 * reduced precision (`2015-10`, `2015`). A basic year-month (`201510`) is not one (the
 * standard leaves it out as ambiguous).
 */
const DATE = /^(?:(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?|(\d{4})(\d{2})(\d{2}))$/;
/**
 * Times of day of ISO 8601-1 §5.3.1, extended (`10:00:00`) or basic (`100000`), of reduced
 * precision (`10:00`, `1000`, `10`), with a decimal fraction of the second (`.` or `,`).
 */
const TIME = /^(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?|(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?)$/;
/** UTC designator or offset from UTC (ISO 8601-1 §5.3.3, §5.3.4.1): `Z`, `+01:00`, `+0100`, `+01`. */
const ZONE = /^(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/i;

/**
 * Parses an ISO 8601 date or date-time: every form DALI 1.1 §3.3.3 timestamps take and those
 * the UWS 1.1 validator sends as AFTER (§2.2.2.1) — dates complete or reduced (year,
 * year-month), basic or extended; times of day complete or reduced, with or without a
 * fraction of the second; a zone (`Z`, ±hh:mm, ±hhmm, ±hh) or none, meaning UTC. A reduced
 * form means its first instant. Returns epoch ms, or undefined when the text is none of
 * these or names no real instant (month 13, 30 February, hour 25).
 */
export function parseIsoTime(text: string): number | undefined {
  const trimmed = text.trim();
  const t = trimmed.search(/[T ]/i);
  const date = DATE.exec(t < 0 ? trimmed : trimmed.slice(0, t));
  if (!date) return undefined;
  // A zone belongs to a time of day (ISO 8601-1 §5.3.4), never to a date alone.
  let rest = t < 0 ? undefined : trimmed.slice(t + 1);
  let zone: RegExpExecArray | null = null;
  const z = rest === undefined ? -1 : rest.search(/[Z+-]/i);
  if (rest !== undefined && z >= 0) {
    zone = ZONE.exec(rest.slice(z));
    if (!zone) return undefined;
    rest = rest.slice(0, z);
  }
  const time = rest === undefined ? null : TIME.exec(rest);
  if (rest !== undefined && !time) return undefined;

  const year = Number(date[1] ?? date[4]);
  const month = Number(date[2] ?? date[5] ?? '1');
  const day = Number(date[3] ?? date[6] ?? '1');
  const hour = Number(time?.[1] ?? time?.[5] ?? '0');
  const minute = Number(time?.[2] ?? time?.[6] ?? '0');
  const second = Number(time?.[3] ?? time?.[7] ?? '0');
  const fraction = time?.[4] ?? time?.[8];
  // Milliseconds, further digits cut (as Date.parse does); digits, not 0.xyz × 1000, which can round down.
  const ms = fraction === undefined ? 0 : Number(`${fraction}00`.slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone && !zone[1]) {
    const hours = Number(zone[3]);
    const minutes = Number(zone[4] ?? '0');
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[2] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const instant = new Date(0);
  instant.setUTCFullYear(year, month - 1, day);
  if (instant.getUTCMonth() !== month - 1 || instant.getUTCDate() !== day) return undefined; // 30 February
  instant.setUTCHours(hour, minute, second, ms);
  return instant.getTime() - offsetMinutes * 60_000;
}
