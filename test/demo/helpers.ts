/** Shared helpers of the demo data set tests: a tiny generated repository, hashes, planes, WCS. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoOptions, type GeneratedDataset, generateDemoRepository } from '../../shared/demo';
import { type Header, openFitsSync, scalarLookup } from '../../shared/fits';
import { type CelestialWcs, parseWcs } from '../../shared/wcs';

/** Small and fast: 8 × 8 binning, two patches in six bands, two visits, one difference image. */
export const TINY: DemoOptions = { binning: 8, patches: [17, 16], visits: 2, diffs: 1 };

export function tempDir(prefix = 'demo-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function generateTiny(
  options: DemoOptions = TINY,
): Promise<{ dir: string; datasets: GeneratedDataset[]; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const datasets = await generateDemoRepository(dir, options);
  return { dir, datasets, cleanup };
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array | Float64Array;
  readonly header: Header;
  readonly primary: Header;
  readonly wcs: CelestialWcs;
}

/** One image plane (physical values), its header, the primary header and the plane's WCS. */
export function readPlane(file: string, extname = 'IMAGE'): Plane {
  const fits = openFitsSync(file);
  try {
    const hdu = fits.hdu(extname);
    const rect = fits.readImage(hdu);
    return {
      width: rect.width,
      height: rect.height,
      data: rect.data,
      header: hdu.header,
      primary: fits.hdus[0]!.header,
      wcs: parseWcs(scalarLookup(hdu.header)),
    };
  } finally {
    fits.close();
  }
}

export function find(datasets: readonly GeneratedDataset[], match: Partial<GeneratedDataset>): GeneratedDataset {
  const found = datasets.find((d) => Object.entries(match).every(([k, v]) => d[k as keyof GeneratedDataset] === v));
  if (!found) throw new Error(`no dataset matching ${JSON.stringify(match)}`);
  return found;
}
