/**
 * The celestial WCS of demo images as plain data (WcsSpec), its FITS cards, and the parsed
 * CelestialWcs used for rendering. Rendering parses the very values that are written to the
 * headers, so what a reader computes from a file is exactly what the pixels were drawn with.
 */
import { type Header } from '../fits';
import { type CelestialWcs, type HeaderValue, headerFromRecord, parseWcs } from '../wcs';

/** One SIP polynomial: order and the coefficients of u^p v^q. */
export interface SipPoly {
  readonly order: number;
  readonly terms: ReadonlyArray<readonly [p: number, q: number, coefficient: number]>;
}

export interface SipSpec {
  readonly a: SipPoly;
  readonly b: SipPoly;
  /** Reverse polynomials (least-squares fit of the inverse of A/B). */
  readonly ap: SipPoly;
  readonly bp: SipPoly;
}

export interface WcsSpec {
  /** FITS 1-based reference pixel. */
  readonly crpix: readonly [number, number];
  /** Tangent point (RA, Dec) in degrees, ICRS. */
  readonly crval: readonly [number, number];
  /** CD1_1, CD1_2, CD2_1, CD2_2 in degrees per pixel. */
  readonly cd: readonly [number, number, number, number];
  /** TAN-SIP when present, plain TAN otherwise. */
  readonly sip?: SipSpec;
  /** NAXIS1, NAXIS2. */
  readonly width: number;
  readonly height: number;
  /** Pixel origin of this image in its parent grid (Rubin's xy0): LTV1/LTV2 = −xy0. */
  readonly xy0: readonly [number, number];
}

type Card = readonly [key: string, value: HeaderValue, comment: string, float?: boolean];

function sipCards(name: 'A' | 'B' | 'AP' | 'BP', poly: SipPoly): Card[] {
  const what = name.length === 1 ? 'SIP forward polynomial order' : 'SIP reverse polynomial order';
  const cards: Card[] = [[`${name}_ORDER`, poly.order, what]];
  for (const [p, q, c] of poly.terms) cards.push([`${name}_${p}_${q}`, c, '', true]);
  return cards;
}

/** The WCS keywords in the order Rubin's afw writes them (primary WCS, then the 'A' pixel WCS). */
export function wcsCards(spec: WcsSpec): Card[] {
  const suffix = spec.sip ? '-SIP' : '';
  const cards: Card[] = [
    ['WCSAXES', 2, 'number of World Coordinate System axes'],
    ['CTYPE1', `RA---TAN${suffix}`, 'right ascension, gnomonic projection'],
    ['CTYPE2', `DEC--TAN${suffix}`, 'declination, gnomonic projection'],
    ['CUNIT1', 'deg', 'units of CRVAL1 and CD1_j'],
    ['CUNIT2', 'deg', 'units of CRVAL2 and CD2_j'],
    ['CRPIX1', spec.crpix[0], 'reference pixel, axis 1 (FITS, 1-based)', true],
    ['CRPIX2', spec.crpix[1], 'reference pixel, axis 2 (FITS, 1-based)', true],
    ['CRVAL1', spec.crval[0], '[deg] RA of the reference pixel', true],
    ['CRVAL2', spec.crval[1], '[deg] Dec of the reference pixel', true],
    ['CD1_1', spec.cd[0], 'linear transformation matrix', true],
    ['CD1_2', spec.cd[1], 'linear transformation matrix', true],
    ['CD2_1', spec.cd[2], 'linear transformation matrix', true],
    ['CD2_2', spec.cd[3], 'linear transformation matrix', true],
    ['RADESYS', 'ICRS', 'reference frame'],
    ['EQUINOX', 2000, 'equinox of the coordinates', true],
  ];
  if (spec.sip) {
    cards.push(...sipCards('A', spec.sip.a), ...sipCards('B', spec.sip.b));
    cards.push(...sipCards('AP', spec.sip.ap), ...sipCards('BP', spec.sip.bp));
  }
  cards.push(
    ['LTV1', -spec.xy0[0] || 0, 'image pixel = physical pixel + LTV1 (parent grid origin)', true],
    ['LTV2', -spec.xy0[1] || 0, 'image pixel = physical pixel + LTV2 (parent grid origin)', true],
    ['WCSNAMEA', 'PIXEL', 'pixel coordinates in the parent grid'],
    ['CTYPE1A', 'LINEAR', ''],
    ['CTYPE2A', 'LINEAR', ''],
    ['CUNIT1A', 'PIXEL', ''],
    ['CUNIT2A', 'PIXEL', ''],
    ['CRPIX1A', 1, '', true],
    ['CRPIX2A', 1, '', true],
    ['CRVAL1A', spec.xy0[0], 'parent grid x of the first pixel', true],
    ['CRVAL2A', spec.xy0[1], 'parent grid y of the first pixel', true],
  );
  return cards;
}

/** Adds the cards to a FITS header (floats written as floats, e.g. CRPIX1 = 1.0). */
export function setCards(header: Header, cards: readonly Card[]): Header {
  for (const [key, value, comment, float] of cards) {
    header.set(key, value, comment || undefined, float ? { numberType: 'float' } : undefined);
  }
  return header;
}

/** The WCS keywords as a keyword → value record, with NAXIS1/2, for shared/wcs. */
export function wcsRecord(spec: WcsSpec): Record<string, HeaderValue> {
  const record: Record<string, HeaderValue> = { NAXIS: 2, NAXIS1: spec.width, NAXIS2: spec.height };
  for (const [key, value] of wcsCards(spec)) record[key] = value;
  return record;
}

export function toCelestialWcs(spec: WcsSpec): CelestialWcs {
  return parseWcs(headerFromRecord(wcsRecord(spec)));
}

/**
 * The tangent point that puts sky position `target` at FITS pixel `pixel` for a WCS that is
 * otherwise `spec` (fixed-point iteration: moving CRVAL moves every pixel's position almost
 * rigidly for fields of a degree or two; converges to ~1e-12 deg in a few steps).
 */
export function solveCrval(
  spec: Omit<WcsSpec, 'crval'>,
  target: { readonly ra: number; readonly dec: number },
  pixel: readonly [number, number],
): [number, number] {
  let ra = target.ra;
  let dec = target.dec;
  for (let i = 0; i < 40; i++) {
    const at = toCelestialWcs({ ...spec, crval: [ra, dec] }).pixelToSky(pixel[0], pixel[1]);
    let dRa = target.ra - at.ra;
    if (dRa > 180) dRa -= 360;
    if (dRa < -180) dRa += 360;
    const dDec = target.dec - at.dec;
    ra = (ra + dRa + 360) % 360;
    dec += dDec;
    if (Math.abs(dRa) < 1e-13 && Math.abs(dDec) < 1e-13) break;
  }
  return [ra, dec];
}
