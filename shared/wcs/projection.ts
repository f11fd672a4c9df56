/**
 * The gnomonic (TAN) projection and the native → celestial rotation (Calabretta & Greisen 2002,
 * Paper II §5.1.3 and eq. 2), done with unit vectors so no step loses precision near the poles or
 * the reference point.
 */

const RAD = Math.PI / 180;

/**
 * Rotation matrix (row-major 3×3) taking native unit vectors to celestial ones, for the native
 * pole at celestial (αp, δp) and the celestial pole at native longitude φp (Paper II eq. 2):
 *   cosδ cos(α−αp) = sinθ cosδp − cosθ sinδp cos(φ−φp)
 *   cosδ sin(α−αp) = −cosθ sin(φ−φp)
 *   sinδ           = sinθ sinδp + cosθ cosδp cos(φ−φp)
 * written as a linear map of (cosθ cosφ, cosθ sinφ, sinθ), then rotated by αp about z.
 */
export function nativeToCelestialMatrix(alphaP: number, deltaP: number, phiP: number): Float64Array {
  const sa = Math.sin(alphaP * RAD);
  const ca = Math.cos(alphaP * RAD);
  const sd = Math.sin(deltaP * RAD);
  const cd = Math.cos(deltaP * RAD);
  const sp = Math.sin(phiP * RAD);
  const cp = Math.cos(phiP * RAD);
  // Rows of the frame aligned with αp: X', Y', Z.
  const xPrime = [-sd * cp, -sd * sp, cd];
  const yPrime = [sp, -cp, 0];
  const z = [cd * cp, cd * sp, sd];
  const m = new Float64Array(9);
  for (let k = 0; k < 3; k++) {
    m[k] = ca * xPrime[k]! - sa * yPrime[k]!;
    m[3 + k] = sa * xPrime[k]! + ca * yPrime[k]!;
    m[6 + k] = z[k]!;
  }
  return m;
}

/**
 * Paper II §5.1.3: φ = arg(−y, x), θ = atan(180°/(π R)) with R = √(x² + y²). The native unit
 * vector (cosθ cosφ, cosθ sinφ, sinθ) is therefore proportional to (−y, x, 1) with x, y in
 * radians; the result is left unnormalised (callers only need its direction).
 */
export function tanDeprojectInto(xDeg: number, yDeg: number, out: Float64Array): void {
  out[0] = -yDeg * RAD;
  out[1] = xDeg * RAD;
  out[2] = 1;
}

/** Inverse of tanDeprojectInto; undefined on or behind the native equator (θ ≤ 0), which TAN cannot show. */
export function tanProject(native: ArrayLike<number>): [number, number] | undefined {
  const n3 = native[2]!;
  if (!(n3 > 0)) return undefined;
  return [native[1]! / n3 / RAD, -native[0]! / n3 / RAD];
}
