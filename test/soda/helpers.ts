/** Shared helpers of the SODA tests: temp dirs, synthetic Rubin-like files, exhaustive pixel boxes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WcsSpec, extensionHeader, primaryHeader, toCelestialWcs } from '../../shared/demo';
import { type ImageHduInput, type Rect, writeFitsBuffer } from '../../shared/fits';
import { type Shape, contains, distanceToShape } from '../../shared/sky';
import { SodaError, type SodaCutout, sodaErrorText } from '../../shared/soda';
import type { CelestialWcs } from '../../shared/wcs';
import { PYTHON } from '../helpers/python';

export function tempDir(): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'soda-test-'));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TanOptions {
  readonly width: number;
  readonly height: number;
  /** Sky position of the image centre. */
  readonly ra: number;
  readonly dec: number;
  readonly arcsecPerPixel: number;
  /** Position angle of the +y axis, degrees east of north. */
  readonly rotation?: number;
  /** Origin in the parent grid (LTV = −xy0). */
  readonly xy0?: readonly [number, number];
}

/** A TAN WCS (CD matrix, east to the left) centred on the image. */
export function tanSpec(o: TanOptions): WcsSpec {
  const s = o.arcsecPerPixel / 3600;
  const t = ((o.rotation ?? 0) * Math.PI) / 180;
  return {
    crpix: [(o.width + 1) / 2, (o.height + 1) / 2],
    crval: [o.ra, o.dec],
    cd: [-s * Math.cos(t), s * Math.sin(t), s * Math.sin(t), s * Math.cos(t)],
    width: o.width,
    height: o.height,
    xy0: o.xy0 ?? [0, 0],
  };
}

export function wcsOf(spec: WcsSpec): CelestialWcs {
  return toCelestialWcs(spec);
}

/** Distinct, exactly representable values per plane, so a misplaced or swapped read shows. */
export function planes(spec: WcsSpec): { image: Float32Array; mask: Int32Array; variance: Float32Array } {
  const n = spec.width * spec.height;
  return {
    image: Float32Array.from({ length: n }, (_, i) => i + 0.5),
    mask: Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0),
    variance: Float32Array.from({ length: n }, (_, i) => -i / 4),
  };
}

/** A Rubin-like exposure: data-less primary header, then IMAGE, MASK and VARIANCE with the WCS. */
export function exposureHdus(spec: WcsSpec, id = 'synthetic'): ImageHduInput[] {
  const { image, mask, variance } = planes(spec);
  const shape = [spec.width, spec.height];
  const primary = primaryHeader({
    datasetType: 'calexp',
    id,
    dataId: { band: 'r', visit: 1, detector: 1 },
    mjdObs: 60000.1,
    exptime: 30,
    psfFwhm: 0.7,
    binning: 1,
  });
  return [
    { header: primary },
    { header: extensionHeader('IMAGE', spec), data: image, shape },
    { header: extensionHeader('MASK', spec), data: mask, shape },
    { header: extensionHeader('VARIANCE', spec), data: variance, shape },
  ];
}

export function writeExposure(path: string, spec: WcsSpec, id?: string): void {
  writeFileSync(path, writeFitsBuffer(exposureHdus(spec, id)));
}

/** The text/plain error body (SODA 1.0 §5.2) that `run` fails with; throws when it does not fail. */
export function sodaFailure(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof SodaError) return sodaErrorText(err);
    throw err;
  }
  throw new Error('expected a SodaError, but the call succeeded');
}

/** A cutout request for tests: only what is given constrains. */
export function cutoutOf(filters: Partial<SodaCutout>): SodaCutout {
  return { id: 'ivo://test/dataset', spatial: null, band: null, time: null, pol: null, ...filters };
}

export interface ExhaustiveBox {
  /** Bounding box of the pixels any of whose sub-samples (edges and corners included) is in the shape. */
  readonly touched: Rect | null;
  /** Bounding box of the pixels whose centre is in the shape. */
  readonly centres: Rect | null;
}

function boxOf(xs: number[], ys: number[]): Rect | null {
  if (xs.length === 0) return null;
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return { x0, y0, width: Math.max(...xs) - x0 + 1, height: Math.max(...ys) - y0 + 1 };
}

/** Samples sit this far inside a pixel's edges: a region that only touches an edge does not take the pixel. */
const INSET = 1e-6;

/**
 * The reference for pixelBox, by brute force: every pixel whose centre lies within 1.5 pixels
 * of the region (shared/sky's distanceToShape) is sampled on a (sub+1)×(sub+1) grid over its
 * area (edges and corners, just inside), each sample tested with shared/sky's `contains`.
 */
export function exhaustiveBox(wcs: CelestialWcs, shape: Shape, sub = 3): ExhaustiveBox {
  const [width, height] = wcs.imageSize!;
  const offsets = Array.from({ length: sub + 1 }, (_, k) => -0.5 + INSET + (k * (1 - 2 * INSET)) / sub);
  const near = 1.5 * wcs.pixelScale;
  const touched: [number[], number[]] = [[], []];
  const centres: [number[], number[]] = [[], []];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const distance = distanceToShape(shape, wcs.pixelToSky0(x, y));
      if (distance > near) continue;
      if (distance === 0) {
        centres[0].push(x);
        centres[1].push(y);
      }
      const hit = distance === 0 || offsets.some((dy) => offsets.some((dx) => contains(shape, wcs.pixelToSky0(x + dx, y + dy))));
      if (hit) {
        touched[0].push(x);
        touched[1].push(y);
      }
    }
  }
  return { touched: boxOf(...touched), centres: boxOf(...centres) };
}

/** How far each side of `outer` lies beyond `inner` (negative: `outer` does not contain `inner`). */
export function margins(outer: Rect, inner: Rect): { left: number; right: number; bottom: number; top: number } {
  return {
    left: inner.x0 - outer.x0,
    right: outer.x0 + outer.width - (inner.x0 + inner.width),
    bottom: inner.y0 - outer.y0,
    top: outer.y0 + outer.height - (inner.y0 + inner.height),
  };
}

/** Runs a Python script with JSON on stdin and returns its JSON stdout. */
export function runPython<T>(script: string, input: unknown): T {
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
