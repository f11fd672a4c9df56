/**
 * The header input of the WCS parser: anything that maps keyword → value, so the module does not
 * depend on a particular FITS reader. A `ReadonlyMap<string, string | number | boolean>` fits.
 */

export type HeaderValue = string | number | boolean;

export interface HeaderLike {
  get(keyword: string): HeaderValue | undefined;
}

/** A header from a plain object (keys are FITS keywords, e.g. `CRPIX1`). */
export function headerFromRecord(record: Readonly<Record<string, HeaderValue>>): HeaderLike {
  return new Map(Object.entries(record));
}

/** Raised for headers that do not describe a supported celestial WCS; the message names the keyword. */
export class WcsError extends Error {
  override readonly name = 'WcsError';
}

/** Typed keyword access with the FITS conventions the parser needs. */
export class HeaderReader {
  constructor(private readonly header: HeaderLike) {}

  has(keyword: string): boolean {
    return this.header.get(keyword) !== undefined;
  }

  /** A numeric keyword; numeric strings are accepted since some readers keep raw card text. */
  number(keyword: string): number | undefined {
    const value = this.header.get(keyword);
    if (value === undefined) return undefined;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new WcsError(`${keyword} must be a finite number`);
      return value;
    }
    if (typeof value === 'string') {
      // FITS allows a D exponent (Fortran style) in numeric values.
      const text = value.trim().replace(/[dD]/, 'E');
      const parsed = Number(text);
      if (text !== '' && Number.isFinite(parsed)) return parsed;
    }
    throw new WcsError(`${keyword} must be a number, got ${JSON.stringify(value)}`);
  }

  numberOr(keyword: string, fallback: number): number {
    return this.number(keyword) ?? fallback;
  }

  integer(keyword: string): number | undefined {
    const value = this.number(keyword);
    if (value !== undefined && !Number.isInteger(value)) throw new WcsError(`${keyword} must be an integer, got ${value}`);
    return value;
  }

  /** A string keyword, trimmed (FITS pads string values with trailing blanks). */
  string(keyword: string): string | undefined {
    const value = this.header.get(keyword);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new WcsError(`${keyword} must be a string, got ${JSON.stringify(value)}`);
    return value.trim();
  }
}
