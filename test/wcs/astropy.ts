/**
 * Reference values from astropy.wcs (wcslib) through /usr/bin/python3: one Python run answers a
 * batch of headers, each with FITS (origin = 1) pixel positions to transform.
 */
import { spawnSync } from 'child_process';
import type { HeaderValue } from '../../shared/wcs';
import { PYTHON } from '../helpers/python';

const SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter('ignore')
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

results = []
for case in json.load(sys.stdin):
    header = fits.Header()
    for key, value in case['header'].items():
        header[key] = value
    wcs = WCS(header)
    lng, lat = wcs.wcs.lng, wcs.wcs.lat
    pixels = np.array(case['pixels'], dtype=float)
    world = wcs.all_pix2world(pixels, 1)
    back = wcs.all_world2pix(world, 1, tolerance=1e-12, maxiter=1000, adaptive=False, quiet=True)
    results.append({
        'sky': np.column_stack([world[:, lng], world[:, lat]]).tolist(),
        'pixels': back.tolist(),
    })
json.dump(results, sys.stdout)
`;

export interface AstropyCase {
  readonly header: Readonly<Record<string, HeaderValue>>;
  /** FITS 1-based pixel positions. */
  readonly pixels: ReadonlyArray<readonly [number, number]>;
}

export interface AstropyAnswer {
  /** all_pix2world of the pixels, as [ra, dec]. */
  readonly sky: ReadonlyArray<readonly [number, number]>;
  /** all_world2pix of those sky positions (origin = 1). */
  readonly pixels: ReadonlyArray<readonly [number, number]>;
}

export function runAstropy(cases: readonly AstropyCase[]): AstropyAnswer[] {
  const run = spawnSync(PYTHON, ['-c', SCRIPT], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`astropy run failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as AstropyAnswer[];
}
