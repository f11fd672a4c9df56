/** Demo data set options from environment variables (used by scripts/demo-data.ts). */
import { DEMO_DEFAULTS, type DemoOptions } from './generate';

/** The variables and what they set (defaults in DEMO_DEFAULTS). */
export const DEMO_ENV = {
  DEMO_BINNING: 'pixel binning 1, 2, 4 or 8 (default 4; 1 = native 0.2″ pixels)',
  DEMO_PATCHES: 'comma-separated patches of tract 4431 (default 17,16,18,10,24)',
  DEMO_BANDS: 'coadd bands, e.g. "ugrizy" or "g,r,i" (default ugrizy)',
  DEMO_VISITS: 'number of calexp visit images (default 6)',
  DEMO_DIFFS: 'how many of those visits get a difference image (default half, rounded up)',
  DEMO_SEED: 'random seed (default 1)',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new RangeError(`${name}=${raw}: expected an integer`);
  return Number(raw);
}

/** Options from DEMO_* variables; a malformed value throws an error naming the variable. */
export function demoOptionsFromEnv(env: Env = process.env): DemoOptions {
  const options: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = {};
  const binning = integer(env, 'DEMO_BINNING');
  if (binning !== undefined) {
    if (![1, 2, 4, 8].includes(binning)) throw new RangeError(`DEMO_BINNING=${binning}: expected 1, 2, 4 or 8`);
    options.binning = binning;
  }
  const patches = env.DEMO_PATCHES?.trim();
  if (patches) {
    options.patches = patches
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((p) => {
        if (!/^\d+$/.test(p) || Number(p) > 48) throw new RangeError(`DEMO_PATCHES=${patches}: "${p}" is not a patch 0..48`);
        return Number(p);
      });
  }
  const bands = env.DEMO_BANDS?.trim();
  if (bands) {
    const list = bands.includes(',') || bands.includes(' ') ? bands.split(/[\s,]+/).filter(Boolean) : [...bands];
    for (const b of list) if (!/^[ugrizy]$/.test(b)) throw new RangeError(`DEMO_BANDS=${bands}: "${b}" is not one of u g r i z y`);
    options.bands = list;
  }
  const visits = integer(env, 'DEMO_VISITS');
  if (visits !== undefined) {
    if (visits < 0 || visits > 200) throw new RangeError(`DEMO_VISITS=${visits}: expected 0..200`);
    options.visits = visits;
  }
  const diffs = integer(env, 'DEMO_DIFFS');
  if (diffs !== undefined) {
    const max = options.visits ?? DEMO_DEFAULTS.visits;
    if (diffs < 0 || diffs > max) throw new RangeError(`DEMO_DIFFS=${diffs}: expected 0..${max} (the number of visits)`);
    options.diffs = diffs;
  }
  const seed = integer(env, 'DEMO_SEED');
  if (seed !== undefined) options.seed = seed;
  return options;
}
