/**
 * The linear part of a FITS WCS (Greisen & Calabretta 2002, Paper I §2.1): pixel offsets from
 * CRPIX to intermediate world coordinates in degrees, x_i = Σ_j M_ij (p_j − r_j).
 */
import { type HeaderReader, WcsError } from './header';

/** A 2×2 matrix, row-major: [m11, m12, m21, m22]. */
export type Matrix2 = readonly [number, number, number, number];

export type LinearConvention = 'PC' | 'CD' | 'CROTA' | 'default';

export interface LinearTransform {
  /** Pixel → intermediate world matrix (degrees per pixel); row i is world axis i of the header. */
  readonly matrix: Matrix2;
  /** Which keywords it came from. */
  readonly convention: LinearConvention;
}

export function determinant(m: Matrix2): number {
  return m[0] * m[3] - m[1] * m[2];
}

export function invert(m: Matrix2): Matrix2 {
  const det = determinant(m);
  return [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
}

function presentAny(reader: HeaderReader, prefix: string, alt: string): boolean {
  for (const i of [1, 2]) for (const j of [1, 2]) if (reader.has(`${prefix}${i}_${j}${alt}`)) return true;
  return false;
}

/**
 * Reads the matrix with wcslib's precedence: PCi_j (with CDELTi) if any PCi_j is present, else
 * CDi_j if any is present (missing elements 0, CDELT ignored), else CDELTi with the AIPS CROTAi of
 * the latitude axis (the AIPS convention as Paper II converts it; CROTA of the longitude axis is used if that is the
 * only one given), else CDELTi alone (PC defaults to the identity and CDELT to 1, Paper I §2.1).
 * `lonAxis`/`latAxis` are 0-based indices of the celestial axes.
 */
export function readLinearTransform(reader: HeaderReader, alt: string, lonAxis: 0 | 1, latAxis: 0 | 1): LinearTransform {
  const key = (name: string): string => `${name}${alt}`;
  const cdelt = [reader.numberOr(key('CDELT1'), 1), reader.numberOr(key('CDELT2'), 1)] as const;
  let matrix: Matrix2;
  let convention: LinearConvention;
  if (presentAny(reader, 'PC', alt)) {
    const pc = (i: number, j: number): number => reader.numberOr(key(`PC${i}_${j}`), i === j ? 1 : 0);
    matrix = [cdelt[0] * pc(1, 1), cdelt[0] * pc(1, 2), cdelt[1] * pc(2, 1), cdelt[1] * pc(2, 2)];
    convention = 'PC';
  } else if (presentAny(reader, 'CD', alt)) {
    const cd = (i: number, j: number): number => reader.numberOr(key(`CD${i}_${j}`), 0);
    matrix = [cd(1, 1), cd(1, 2), cd(2, 1), cd(2, 2)];
    convention = 'CD';
  } else {
    const rotation = reader.number(key(`CROTA${latAxis + 1}`)) ?? reader.number(key(`CROTA${lonAxis + 1}`));
    if (rotation !== undefined) {
      const rho = (rotation * Math.PI) / 180;
      const m = [
        [0, 0],
        [0, 0],
      ];
      m[lonAxis]![lonAxis] = cdelt[lonAxis] * Math.cos(rho);
      m[lonAxis]![latAxis] = -cdelt[latAxis] * Math.sin(rho);
      m[latAxis]![lonAxis] = cdelt[lonAxis] * Math.sin(rho);
      m[latAxis]![latAxis] = cdelt[latAxis] * Math.cos(rho);
      matrix = [m[0]![0]!, m[0]![1]!, m[1]![0]!, m[1]![1]!];
      convention = 'CROTA';
    } else {
      matrix = [cdelt[0], 0, 0, cdelt[1]];
      convention = 'default';
    }
  }
  const det = determinant(matrix);
  if (!Number.isFinite(det) || det === 0) {
    throw new WcsError(`the ${convention === 'CD' ? 'CD' : 'PC×CDELT'} matrix of the celestial axes is singular`);
  }
  return { matrix, convention };
}
