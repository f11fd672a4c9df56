/**
 * Celestial WCS for 2-D images (FITS WCS Paper I & II, SIP): TAN and TAN-SIP, pixel ↔ sky in both
 * FITS 1-based and 0-based array conventions, and image footprints. Takes any keyword → value
 * header so it does not depend on the FITS reader.
 */
export type { CelestialWcs, FootprintOptions, ParseWcsOptions, PixelPosition, WcsFootprint } from './celestial';
export { parseWcs } from './celestial';
export type { HeaderLike, HeaderValue } from './header';
export { WcsError, headerFromRecord } from './header';
export type { LinearConvention, Matrix2 } from './linear';
export type { ReverseFitOptions, SipDistortion, SipPolynomial, SipTerm } from './sip';
export { evaluateSip, fitReverseSip } from './sip';
