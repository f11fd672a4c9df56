/**
 * Deterministic randomness: a string/number hash for seeding and the xoshiro128** generator
 * (Blackman & Vigna). A stream is keyed by what it is for (seed, dataset, sky cell...), so
 * generated data (the demo set, synthetic rows, benchmark positions) do not depend on what
 * else was generated or in which order, and are the same on every machine. Not for secrets.
 */

// Module-level aliases: global lookups are slow in sandboxed contexts (vm, jest).
const { imul, log, sqrt, exp, floor } = Math;

/** 32-bit FNV-1a of a string, then the murmur3 finaliser for avalanche. */
function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193) >>> 0;
  }
  return fmix32(h);
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of the parts (joined unambiguously). */
export function hash32(...parts: ReadonlyArray<string | number>): number {
  return fnv1a(parts.map((p) => `${typeof p}:${p}`).join('|'));
}

/** splitmix32 step, used to expand a 32-bit seed into generator state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128**: 128-bit state, period 2^128 − 1, fast in 32-bit integer arithmetic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  /** A generator keyed by the parts, e.g. `new Rng(seed, 'cell', cx, cy)`. */
  constructor(...key: ReadonlyArray<string | number>) {
    const st = { s: hash32(...key) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const result = imul(rotl(imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return floor(this.next() * n);
  }

  /** Standard normal deviate (Marsaglia's polar method; the second deviate is kept). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    for (;;) {
      const u = 2 * (this.u32() / 4294967296) - 1;
      const v = 2 * (this.u32() / 4294967296) - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = sqrt((-2 * log(s)) / s);
      this.spare = v * f;
      this.hasSpare = true;
      return u * f;
    }
  }

  /** Poisson deviate: multiplication method for small means, rounded normal for large ones. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 60) return Math.max(0, Math.round(mean + sqrt(mean) * this.normal()));
    const limit = exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /**
   * Adds sigma[i] × N(0, 1) to out[i] for every pixel (sigma a per-pixel array or a constant).
   * Inlined polar method with 32-bit uniforms: the hot loop of the noise generation.
   */
  addNormal(out: Float32Array | Float64Array, sigma: Float32Array | Float64Array | number): void {
    const n = out.length;
    const constant = typeof sigma === 'number';
    let i = 0;
    while (i < n) {
      const u = 2 * (this.u32() / 4294967296) - 1;
      const v = 2 * (this.u32() / 4294967296) - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = sqrt((-2 * log(s)) / s);
      out[i] = out[i]! + u * f * (constant ? sigma : sigma[i]!);
      i++;
      if (i < n) {
        out[i] = out[i]! + v * f * (constant ? sigma : sigma[i]!);
        i++;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A plain stream of uniforms in [0, 1) keyed by the parts, for callers that need no more. */
export function seededRandom(...key: ReadonlyArray<string | number>): () => number {
  const rng = new Rng(...key);
  return () => rng.next();
}
