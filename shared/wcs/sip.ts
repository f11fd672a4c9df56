/**
 * Simple Imaging Polynomial distortion (Shupe et al. 2005, ASP Conf. Ser. 347, 491). With
 * (u, v) = pixel − CRPIX, the distorted offsets fed to the linear transform are
 *   u' = u + f(u, v),  f = Σ A_p_q u^p v^q  (p + q ≤ A_ORDER)
 *   v' = v + g(u, v),  g = Σ B_p_q u^p v^q  (p + q ≤ B_ORDER)
 * and the optional reverse polynomials AP/BP approximate u = u' + F(u', v'), v = v' + G(u', v').
 */
import { type HeaderReader, WcsError } from './header';

export interface SipTerm {
  readonly p: number;
  readonly q: number;
  readonly coefficient: number;
}

export interface SipPolynomial {
  readonly order: number;
  /** The non-zero coefficients. */
  readonly terms: readonly SipTerm[];
}

export interface SipDistortion {
  readonly a: SipPolynomial;
  readonly b: SipPolynomial;
  /** Reverse polynomials, when the header has AP_ORDER/BP_ORDER. */
  readonly ap: SipPolynomial | undefined;
  readonly bp: SipPolynomial | undefined;
}

/** Largest order accepted; real headers use at most ~9. */
const MAX_SIP_ORDER = 20;

function readPolynomial(reader: HeaderReader, name: 'A' | 'B' | 'AP' | 'BP'): SipPolynomial | undefined {
  const order = reader.integer(`${name}_ORDER`);
  if (order === undefined) return undefined;
  if (order < 0 || order > MAX_SIP_ORDER) {
    throw new WcsError(`${name}_ORDER must be between 0 and ${MAX_SIP_ORDER}, got ${order}`);
  }
  const terms: SipTerm[] = [];
  for (let p = 0; p <= order; p++) {
    for (let q = 0; p + q <= order; q++) {
      const coefficient = reader.numberOr(`${name}_${p}_${q}`, 0);
      if (coefficient !== 0) terms.push({ p, q, coefficient });
    }
  }
  return { order, terms };
}

export function readSip(reader: HeaderReader, ctype: string): SipDistortion {
  const a = readPolynomial(reader, 'A');
  const b = readPolynomial(reader, 'B');
  if (a === undefined || b === undefined) {
    throw new WcsError(`${ctype} declares SIP distortion but ${a === undefined ? 'A_ORDER' : 'B_ORDER'} is missing`);
  }
  return { a, b, ap: readPolynomial(reader, 'AP'), bp: readPolynomial(reader, 'BP') };
}

/** Powers 0..order of x (reused buffers keep evaluation allocation-free). */
function fillPowers(x: number, order: number, out: Float64Array): void {
  out[0] = 1;
  for (let k = 1; k <= order; k++) out[k] = out[k - 1]! * x;
}

/** The forward distortion with its Jacobian, for Newton inversion. */
export class SipEvaluator {
  private readonly maxOrder: number;
  private readonly uPowers: Float64Array;
  private readonly vPowers: Float64Array;

  constructor(private readonly sip: SipDistortion) {
    this.maxOrder = Math.max(sip.a.order, sip.b.order, sip.ap?.order ?? 0, sip.bp?.order ?? 0);
    this.uPowers = new Float64Array(this.maxOrder + 1);
    this.vPowers = new Float64Array(this.maxOrder + 1);
  }

  private sum(poly: SipPolynomial): number {
    let total = 0;
    for (const { p, q, coefficient } of poly.terms) total += coefficient * this.uPowers[p]! * this.vPowers[q]!;
    return total;
  }

  /** (u', v') = (u + f, v + g). */
  forward(u: number, v: number): [number, number] {
    fillPowers(u, this.maxOrder, this.uPowers);
    fillPowers(v, this.maxOrder, this.vPowers);
    return [u + this.sum(this.sip.a), v + this.sum(this.sip.b)];
  }

  /** The reverse polynomial estimate of (u, v) from (u', v'), if AP/BP are present. */
  reverseEstimate(uPrime: number, vPrime: number): [number, number] | undefined {
    const { ap, bp } = this.sip;
    if (ap === undefined || bp === undefined) return undefined;
    fillPowers(uPrime, this.maxOrder, this.uPowers);
    fillPowers(vPrime, this.maxOrder, this.vPowers);
    return [uPrime + this.sum(ap), vPrime + this.sum(bp)];
  }

  /** Forward values and partial derivatives: [u', v', ∂u'/∂u, ∂u'/∂v, ∂v'/∂u, ∂v'/∂v]. */
  private forwardWithJacobian(u: number, v: number): [number, number, number, number, number, number] {
    fillPowers(u, this.maxOrder, this.uPowers);
    fillPowers(v, this.maxOrder, this.vPowers);
    const up = this.uPowers;
    const vp = this.vPowers;
    let f = 0;
    let fu = 0;
    let fv = 0;
    for (const { p, q, coefficient } of this.sip.a.terms) {
      f += coefficient * up[p]! * vp[q]!;
      if (p > 0) fu += coefficient * p * up[p - 1]! * vp[q]!;
      if (q > 0) fv += coefficient * q * up[p]! * vp[q - 1]!;
    }
    let g = 0;
    let gu = 0;
    let gv = 0;
    for (const { p, q, coefficient } of this.sip.b.terms) {
      g += coefficient * up[p]! * vp[q]!;
      if (p > 0) gu += coefficient * p * up[p - 1]! * vp[q]!;
      if (q > 0) gv += coefficient * q * up[p]! * vp[q - 1]!;
    }
    return [u + f, v + g, 1 + fu, fv, gu, 1 + gv];
  }

  /**
   * Solves (u + f, v + g) = (u', v') by Newton's method on the forward polynomial, which is the
   * definition (AP/BP are only a fit to it), starting from the AP/BP estimate when present. Stops
   * when a step is below 1e-10 pixel (the error is then far below that: convergence is
   * quadratic) and checks the residual is below 1e-8 pixel; undefined if it does not converge
   * (far outside the region the polynomial was fitted to).
   */
  inverse(uPrime: number, vPrime: number): [number, number] | undefined {
    let [u, v] = this.reverseEstimate(uPrime, vPrime) ?? [uPrime, vPrime];
    for (let iteration = 0; iteration < 50; iteration++) {
      const [fu, fv, j11, j12, j21, j22] = this.forwardWithJacobian(u, v);
      const ru = fu - uPrime;
      const rv = fv - vPrime;
      const det = j11 * j22 - j12 * j21;
      if (!Number.isFinite(det) || det === 0) return undefined;
      const du = (j22 * ru - j12 * rv) / det;
      const dv = (-j21 * ru + j11 * rv) / det;
      u -= du;
      v -= dv;
      if (!Number.isFinite(u) || !Number.isFinite(v)) return undefined;
      if (Math.hypot(du, dv) <= 1e-10 + 1e-15 * Math.hypot(u, v)) {
        const [checkU, checkV] = this.forward(u, v);
        return Math.hypot(checkU - uPrime, checkV - vPrime) <= 1e-8 ? [u, v] : undefined;
      }
    }
    return undefined;
  }
}

/** Σ c u^p v^q of one SIP polynomial. */
export function evaluateSip(poly: SipPolynomial, u: number, v: number): number {
  let sum = 0;
  for (const { p, q, coefficient } of poly.terms) sum += coefficient * u ** p * v ** q;
  return sum;
}

/** Solves the small dense system M x = y (Gaussian elimination with partial pivoting). */
function solveLinear(m: readonly (readonly number[])[], y: readonly number[]): number[] {
  const n = y.length;
  const a = m.map((row, i) => [...row, y[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = a[r]![col]! / a[col]![col]!;
      for (let c = col; c <= n; c++) a[r]![c]! -= f * a[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let c = r + 1; c < n; c++) s -= a[r]![c]! * x[c]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

export interface ReverseFitOptions {
  /** NAXIS1, NAXIS2 and the FITS reference pixel. */
  readonly width: number;
  readonly height: number;
  readonly crpix: readonly [number, number];
  /** Order of AP/BP (default 4). */
  readonly order?: number;
  /** Fraction of the image size added on every side of the fitted area (default 0.05). */
  readonly margin?: number;
  /** Grid steps per axis (default 30). */
  readonly grid?: number;
}

/**
 * Reverse polynomials AP/BP fitted by least squares on a grid over the image, so that
 * u ≈ U + AP(U, V), v ≈ V + BP(U, V) where (U, V) = (u + A(u, v), v + B(u, v)), as SIP writers
 * (astrometry.net, LSST) do. Variables are scaled to ~1 for conditioning.
 */
export function fitReverseSip(a: SipPolynomial, b: SipPolynomial, options: ReverseFitOptions): { ap: SipPolynomial; bp: SipPolynomial } {
  const { width, height, crpix } = options;
  const order = options.order ?? 4;
  const margin = options.margin ?? 0.05;
  const grid = options.grid ?? 30;
  const scale = Math.max(width, height) / 2;
  const basis: [number, number][] = [];
  for (let p = 0; p <= order; p++) for (let q = 0; p + q <= order; q++) basis.push([p, q]);
  const n = basis.length;
  const normal = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const rhsU = new Array<number>(n).fill(0);
  const rhsV = new Array<number>(n).fill(0);
  for (let i = 0; i <= grid; i++) {
    for (let j = 0; j <= grid; j++) {
      const u = (-margin + ((1 + 2 * margin) * i) / grid) * width + 0.5 - crpix[0];
      const v = (-margin + ((1 + 2 * margin) * j) / grid) * height + 0.5 - crpix[1];
      const U = u + evaluateSip(a, u, v);
      const V = v + evaluateSip(b, u, v);
      const row = basis.map(([p, q]) => (U / scale) ** p * (V / scale) ** q);
      for (let r = 0; r < n; r++) {
        rhsU[r]! += row[r]! * (u - U);
        rhsV[r]! += row[r]! * (v - V);
        for (let c = 0; c < n; c++) normal[r]![c]! += row[r]! * row[c]!;
      }
    }
  }
  const polynomial = (coefficients: number[]): SipPolynomial => ({
    order,
    terms: basis.map(([p, q], k) => ({ p, q, coefficient: coefficients[k]! / scale ** (p + q) })).filter((t) => t.coefficient !== 0),
  });
  return { ap: polynomial(solveLinear(normal, rhsU)), bp: polynomial(solveLinear(normal, rhsV)) };
}
