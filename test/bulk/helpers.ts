/** Shared helpers of the bulk service tests: positions on the demo images, manifests as records. */
import type { GeneratedDataset } from '../../shared/demo';
import { openFitsSync, scalarLookup } from '../../shared/fits';
import { seededRandom } from '../../shared/random';
import { parseWcs } from '../../shared/wcs';
import { unescapeXml, type Client } from '../helpers/http';
import { fieldNames, tableRows } from '../tap/fixture';

export const TARGET = { ra: 55.7467376, dec: -32.2861552 };

/** A manifest (VOTable) as one record per row, cells as text ('' for null). */
export function manifestRecords(votable: string): Record<string, string>[] {
  const names = fieldNames(votable);
  return tableRows(votable).map((cells) => Object.fromEntries(names.map((n, i) => [n, unescapeXml(cells[i] ?? '')])));
}

export async function manifestOf(client: Client, jobUrl: string): Promise<Record<string, string>[]> {
  const reply = await client.get(`${jobUrl}/results/manifest`);
  if (reply.status !== 200) throw new Error(`manifest: ${reply.status} ${reply.text}`);
  return manifestRecords(reply.text);
}

/** The sky position of 0-based pixel (x, y) of a dataset's IMAGE plane. */
export function skyAt(dataset: GeneratedDataset, x: number, y: number): { ra: number; dec: number } {
  const file = openFitsSync(dataset.path);
  try {
    const p = parseWcs(scalarLookup(file.hdu('IMAGE').header)).pixelToSky0(x, y);
    return { ra: p.ra, dec: p.dec };
  } finally {
    file.close();
  }
}

/** Coadds of the demo repository in `band`. */
export function coadds(datasets: readonly GeneratedDataset[], band: string): GeneratedDataset[] {
  return datasets.filter((d) => d.datasetType === 'deepCoadd_calexp' && d.band === band);
}

/**
 * The three positions most batch tests use: the demo cluster (inside), 2 pixels in from the
 * bottom edge of a g coadd (no patch below it in the demo repository: stamps run off it), and
 * one outside the repository's coverage. `edge` is the second.
 */
export function insideEdgeOutside(datasets: readonly GeneratedDataset[]): {
  positions: [string, string][];
  edge: { ra: number; dec: number };
} {
  const image = coadds(datasets, 'g')[0]!;
  const edge = skyAt(image, image.width / 2, 2);
  return {
    edge,
    positions: [
      ['POSITION', `${TARGET.ra} ${TARGET.dec}`],
      ['POSITION', `${edge.ra} ${edge.dec}`],
      ['POSITION', '10 10'],
    ],
  };
}

/** `n` positions spread over the coadds of one band (10 pixels in from their edges), the same each run. */
export function positionsInside(datasets: readonly GeneratedDataset[], n: number, seed = 7): { ra: number; dec: number }[] {
  const images = coadds(datasets, 'g');
  const next = seededRandom('bulk-positions', seed);
  return Array.from({ length: n }, (_, k) => {
    const image = images[k % images.length]!;
    return skyAt(image, 10 + next() * (image.width - 20), 10 + next() * (image.height - 20));
  });
}

/** The dataset a manifest row's obs_publisher_did names. */
export function datasetOf(datasets: readonly GeneratedDataset[], did: string): GeneratedDataset {
  const found = datasets.find((d) => `butler://dp02/${d.id}` === did);
  if (!found) throw new Error(`no dataset ${did}`);
  return found;
}

/** Waits until `check` returns a value (polling every `everyMs`), or throws after `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 20000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
