/**
 * Synthetic sky pixels for the benchmarks: a background of 120 with Gaussian noise (σ 6),
 * stars with fluxes spread over e^8 (Gaussian profiles, σ 1.6–2 pixels), and bad (NaN)
 * columns, as a reduced image has them. Deterministic for a given random source.
 */
export interface SkyOptions {
  /** Stars drawn; default one per 5,600 pixels. */
  stars?: number;
  /** Columns set to NaN over their whole height. */
  badColumns?: readonly number[];
}

export function makeSky(width: number, height: number, rand: () => number, options: SkyOptions = {}): Float32Array {
  const pixels = new Float32Array(width * height);
  for (let i = 0; i < pixels.length; i += 2) {
    // Box–Muller: two normal deviates per pair of uniforms.
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    pixels[i] = 120 + 6 * r * Math.cos(t);
    if (i + 1 < pixels.length) pixels[i + 1] = 120 + 6 * r * Math.sin(t);
  }
  const stars = options.stars ?? Math.max(3, Math.round((width * height) / 5600));
  for (let s = 0; s < stars; s++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const flux = 50 * Math.exp(8 * rand());
    const sigma = 1.6 + 0.4 * rand();
    const norm = flux / (2 * Math.PI * sigma * sigma);
    for (let y = Math.max(0, Math.floor(cy - 12)); y < Math.min(height, Math.ceil(cy + 12)); y++) {
      for (let x = Math.max(0, Math.floor(cx - 12)); x < Math.min(width, Math.ceil(cx + 12)); x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        pixels[y * width + x]! += norm * Math.exp(-d2 / (2 * sigma * sigma));
      }
    }
  }
  for (const col of options.badColumns ?? []) for (let y = 0; y < height; y++) pixels[y * width + col] = NaN;
  return pixels;
}
