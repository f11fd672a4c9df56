/**
 * What the preview tests share: synthetic sky planes, one python process per batch of
 * numpy/astropy references (arrays travel as raw little-endian files, results as JSON), and
 * decoding our PNG/JPEG output with the same libraries that wrote it.
 */
import { FORMAT_GRAY, FORMAT_RGB, decompressSync } from '@julusian/jpeg-turbo';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { seededRandom } from '../../shared/random';
import { runPython } from '../helpers/python';

/** Gaussian sky (mean 100, σ 5) with a few hundred stars up to ~1e4 above it, float32. */
export function makeSky(width: number, height: number, seed: string | number, stars = Math.max(3, (width * height) / 400)): Float32Array {
  const rand = seededRandom('preview-test', seed);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    data[i] = 100 + 5 * r * Math.cos(2 * Math.PI * rand());
  }
  for (let s = 0; s < stars; s++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const peak = 20 * Math.exp(6 * rand());
    for (let y = Math.max(0, Math.floor(cy - 6)); y < Math.min(height, Math.ceil(cy + 6)); y++) {
      for (let x = Math.max(0, Math.floor(cx - 6)); x < Math.min(width, Math.ceil(cx + 6)); x++) {
        data[y * width + x]! += peak * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3);
      }
    }
  }
  return data;
}

export type TypedInput = Float32Array | Float64Array | Uint8Array | Int16Array | Int32Array;

function dtypeOf(a: TypedInput): string {
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Int16Array) return '<i2';
  if (a instanceof Int32Array) return '<i4';
  return 'u1';
}

/** One reference computation: named arrays (with shapes) and JSON parameters. */
export interface PyCase {
  readonly arrays: Record<string, { data: TypedInput; shape: readonly number[] }>;
  readonly params: unknown;
}

/**
 * Runs `body` once in /usr/bin/python3 for all cases. In the script, CASES is a list of
 * (arrays: dict name → ndarray, params) and the body must set RESULTS to a list with one
 * JSON-serialisable value per case. NaN in results must be turned into None by the body.
 */
export async function pythonReference<T>(body: string, cases: readonly PyCase[]): Promise<T[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-test-'));
  try {
    const job = cases.map((c, k) => ({
      params: c.params,
      arrays: Object.fromEntries(
        Object.entries(c.arrays).map(([name, { data, shape }]) => {
          const file = path.join(dir, `${k}-${name}.bin`);
          fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
          return [name, { path: file, dtype: dtypeOf(data), shape }];
        }),
      ),
    }));
    const jobFile = path.join(dir, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify(job));
    const script = `${PRELUDE}\n${body}\nprint(json.dumps(RESULTS))\n`;
    return JSON.parse(await runPython(script, [jobFile], 120_000)) as T[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The reference pipeline, written with astropy.visualization's own classes so that it does not
 * share our reading of them: intervals (ZScaleInterval(), MinMaxInterval(),
 * AsymmetricPercentileInterval → np.percentile), ManualInterval(lo, hi)(x, clip=True), the
 * stretches, level = floor(255 s + 0.5); downsample = NaN padding + np.nanmean of f × f blocks.
 */
const PRELUDE = String.raw`
import json, sys, warnings
import numpy as np
from astropy.visualization import (AsinhStretch, AsymmetricPercentileInterval, LinearStretch, LogStretch,
    ManualInterval, MinMaxInterval, SqrtStretch, ZScaleInterval, make_lupton_rgb)
warnings.simplefilter('ignore', RuntimeWarning)
CASES = []
for c in json.load(open(sys.argv[1])):
    arrays = {k: np.fromfile(v['path'], dtype=v['dtype']).reshape(v['shape']) for k, v in c['arrays'].items()}
    CASES.append((arrays, c['params']))

STRETCH = {'linear': LinearStretch(), 'asinh': AsinhStretch(a=0.1), 'log': LogStretch(a=1000), 'sqrt': SqrtStretch()}

def interval(cuts):
    if cuts['kind'] == 'zscale': return ZScaleInterval()
    if cuts['kind'] == 'minmax': return MinMaxInterval()
    return AsymmetricPercentileInterval(cuts['lo'], cuts['hi'])

def downsample(a, max_side):
    h, w = a.shape
    f = max(1, -(-max(w, h) // max_side))
    if f == 1: return a
    H, W = -(-h // f), -(-w // f)
    p = np.full((H * f, W * f), np.nan)
    p[:h, :w] = a
    return np.nanmean(p.reshape(H, f, W, f), axis=(1, 3))

def levels(a, cuts, stretch):
    """a: 2-D, NaN where there is no data. Returns lo, hi and the levels (-1 = no data)."""
    lo, hi = interval(cuts).get_limits(a)
    v = ManualInterval(lo, hi)(a, clip=True)
    s = STRETCH[stretch](v, clip=True)
    lev = np.where(np.isfinite(a), np.floor(s * 255 + 0.5), -1)
    return float(lo), float(hi), lev.astype(int)

def nan_to_none(x):
    return None if x is None or (isinstance(x, float) and x != x) else x
`;

export interface DecodedPicture {
  readonly width: number;
  readonly height: number;
  /** PNG colour type as written (0 gray, 2 RGB, 4 gray+alpha, 6 RGBA); −1 for JPEG. */
  readonly colorType: number;
  /** RGBA, 4 bytes per pixel, top row first. */
  readonly rgba: Uint8Array;
}

export function decodePng(bytes: Buffer): DecodedPicture {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, colorType: png.colorType, rgba: new Uint8Array(png.data) };
}

/** JPEG → RGBA (alpha 255), via libjpeg-turbo; `gray` reads one channel. */
export function decodeJpeg(bytes: Buffer, gray: boolean): DecodedPicture {
  expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  const out = decompressSync(bytes, { format: gray ? FORMAT_GRAY : FORMAT_RGB });
  const n = out.width * out.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = gray ? out.data[i]! : out.data[3 * i + c]!;
    rgba[4 * i + 3] = 255;
  }
  return { width: out.width, height: out.height, colorType: -1, rgba };
}

/** Picture row r (top first) ↔ plane row height − 1 − r: the flip of renderPreview. */
export function pictureIndex(width: number, height: number, planeIndex: number): number {
  const x = planeIndex % width;
  const y = Math.floor(planeIndex / width);
  return (height - 1 - y) * width + x;
}
