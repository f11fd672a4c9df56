/**
 * The sky model: a deterministic catalogue of stars, galaxies, a galaxy cluster and a transient,
 * defined in sky coordinates, from which every image is rendered through its own WCS (so the
 * same star is at the same RA/Dec in every band and every visit).
 *
 * Field sources are generated per sky cell: the native tract pixel grid of tract 4431 cut into
 * 1000 × 1000 pixel (200″) cells, each with its own random stream keyed by (seed, cell). A cell
 * is generated on first use and the same whichever images ask for it, so generating a subset
 * of the data set gives the same sources. Positions are drawn uniformly in the tract's TAN
 * plane and converted to RA/Dec; the catalogue extends beyond the tract if asked.
 */
import { type CelestialWcs } from '../wcs';
import { angularDistance } from '../sky';
import { magToNanojansky } from './photometry';
import { Rng } from '../random';
import { TARGET, tractWcs } from './skymap';

export type Profile = 'point' | 'exp' | 'dev';

export interface Variability {
  /** Fractional amplitude of a sinusoidal light curve. */
  readonly amplitude: number;
  /** Period, days. */
  readonly period: number;
  /** Phase at MJD 0, radians. */
  readonly phase: number;
}

export interface LightCurve {
  readonly peakMjd: number;
  /** Gaussian rise time (σ, days) before the peak. */
  readonly rise: number;
  /** Exponential decline time (days) after the peak. */
  readonly fall: number;
}

export interface SkySource {
  /** Unique and stable: `star:<cx>:<cy>:<n>`, `gal:<cx>:<cy>:<n>`, `cluster:<n>`, `transient:<n>`. */
  readonly id: string;
  readonly kind: 'star' | 'galaxy' | 'transient';
  readonly ra: number;
  readonly dec: number;
  /** Mean (for a transient: peak) flux in nJy per band, u g r i z y. */
  readonly flux: readonly number[];
  readonly profile: Profile;
  /** Half-light radius along the major axis, arcsec (0 for point sources). */
  readonly re: number;
  /** Axis ratio b/a. */
  readonly q: number;
  /** Position angle of the major axis, degrees east of north. */
  readonly pa: number;
  readonly variable?: Variability;
  readonly lightCurve?: LightCurve;
  /** Member of the galaxy cluster at TARGET. */
  readonly cluster?: boolean;
}

/** Native tract pixels per cell side. */
export const CELL_SIZE = 1000;
/** Source densities per square degree (field stars to r = 25, galaxies to r = 26). */
export const STAR_DENSITY = 4000;
export const GALAXY_DENSITY = 80000;

const CELL_AREA_DEG2 = ((CELL_SIZE * 0.2) / 3600) ** 2;
const DEG = Math.PI / 180;

/**
 * Flux in a band: variable stars follow their light curve at `mjd`, transients appear only
 * at an epoch (undefined `mjd`, i.e. a deep coadd, gives the static sky without transients).
 */
export function fluxAt(source: SkySource, band: number, mjd: number | undefined): number {
  const mean = source.flux[band]!;
  if (source.lightCurve) {
    if (mjd === undefined) return 0;
    const { peakMjd, rise, fall } = source.lightCurve;
    const dt = mjd - peakMjd;
    return mean * (dt < 0 ? Math.exp(-(dt * dt) / (2 * rise * rise)) : Math.exp(-dt / fall));
  }
  if (source.variable && mjd !== undefined) {
    const { amplitude, period, phase } = source.variable;
    return mean * (1 + amplitude * Math.sin((2 * Math.PI * mjd) / period + phase));
  }
  return mean;
}

/** Magnitude from dN/dm ∝ 10^(slope·m) on [m0, m1]. */
function powerLawMag(rng: Rng, m0: number, m1: number, slope: number): number {
  const a = Math.pow(10, slope * m0);
  const b = Math.pow(10, slope * m1);
  return Math.log10(a + rng.next() * (b - a)) / slope;
}

/** Fluxes from an r magnitude and the colours u−g, g−r, r−i, i−z, z−y. */
function fluxesFromColours(r: number, ug: number, gr: number, ri: number, iz: number, zy: number): number[] {
  const g = r + gr;
  const u = g + ug;
  const i = r - ri;
  const z = i - iz;
  const y = z - zy;
  return [u, g, r, i, z, y].map(magToNanojansky);
}

/** Position offset by (east, north) degrees on the tangent plane at `center`. */
function offsetPosition(center: { ra: number; dec: number }, east: number, north: number): { ra: number; dec: number } {
  // Exact gnomonic deprojection about `center`.
  const x = east * DEG;
  const y = north * DEG;
  const d0 = center.dec * DEG;
  const rho = Math.hypot(x, y);
  if (rho === 0) return { ra: center.ra, dec: center.dec };
  const c = Math.atan(rho);
  const dec = Math.asin(Math.cos(c) * Math.sin(d0) + (y * Math.sin(c) * Math.cos(d0)) / rho);
  const ra = center.ra * DEG + Math.atan2(x * Math.sin(c), rho * Math.cos(d0) * Math.cos(c) - y * Math.sin(d0) * Math.sin(c));
  return { ra: (((ra / DEG) % 360) + 360) % 360, dec: dec / DEG };
}

function makeStar(rng: Rng, id: string, ra: number, dec: number): SkySource {
  const r = powerLawMag(rng, 15.5, 25, 0.12);
  // t: 0 = hot (blue) … 1 = M dwarf (red); faint high-latitude stars are mostly red.
  const t = Math.pow(rng.next(), 0.6);
  const flux = fluxesFromColours(
    r,
    0.9 + 1.6 * t,
    0.25 + 1.2 * t,
    0.08 + 0.35 * t + 1.0 * t ** 4,
    0.03 + 0.15 * t + 0.5 * t ** 4,
    0.02 + 0.08 * t + 0.3 * t ** 4,
  );
  const variable =
    rng.next() < 0.06 ? { amplitude: rng.uniform(0.1, 0.4), period: rng.uniform(0.3, 20), phase: rng.uniform(0, 2 * Math.PI) } : undefined;
  return { id, kind: 'star', ra, dec, flux, profile: 'point', re: 0, q: 1, pa: 0, ...(variable ? { variable } : {}) };
}

function makeGalaxy(rng: Rng, id: string, ra: number, dec: number): SkySource {
  const r = powerLawMag(rng, 17.5, 26, 0.35);
  const early = rng.next() < 0.25;
  const flux = early
    ? fluxesFromColours(
        r,
        rng.uniform(1.4, 2.0),
        rng.uniform(0.7, 1.0),
        rng.uniform(0.35, 0.55),
        rng.uniform(0.2, 0.35),
        rng.uniform(0.1, 0.2),
      )
    : fluxesFromColours(
        r,
        rng.uniform(0.6, 1.3),
        rng.uniform(0.2, 0.7),
        rng.uniform(0.15, 0.45),
        rng.uniform(0.05, 0.3),
        rng.uniform(0.0, 0.2),
      );
  const median = 0.7 * Math.pow(10, -0.15 * (r - 21)) * (early ? 0.8 : 1);
  const re = Math.min(8, Math.max(0.08, median * Math.pow(10, 0.2 * rng.normal())));
  const q = early ? rng.uniform(0.5, 1) : rng.uniform(0.2, 1);
  return { id, kind: 'galaxy', ra, dec, flux, profile: early ? 'dev' : 'exp', re, q, pa: rng.uniform(0, 180) };
}

/** The galaxy cluster around TARGET: a bright central galaxy and red-sequence members. */
function makeCluster(seed: number): SkySource[] {
  const rng = new Rng(seed, 'cluster');
  const sources: SkySource[] = [];
  // Brightest cluster galaxy, at the target.
  sources.push({
    id: 'cluster:0',
    kind: 'galaxy',
    ra: TARGET.ra,
    dec: TARGET.dec,
    flux: fluxesFromColours(17.5, 2.1, 1.5, 0.62, 0.36, 0.22),
    profile: 'dev',
    re: 4.5,
    q: 0.78,
    pa: 35,
    cluster: true,
  });
  const members = 80;
  const core = 0.008; // degrees
  for (let n = 1; n <= members; n++) {
    // Projected Plummer profile, truncated at 0.022°.
    let radius: number;
    do {
      const u = rng.next();
      radius = core * Math.sqrt(u / (1 - u));
    } while (radius > 0.022);
    const angle = rng.uniform(0, 2 * Math.PI);
    const pos = offsetPosition(TARGET, radius * Math.sin(angle), radius * Math.cos(angle));
    const i = powerLawMag(rng, 18.6, 23.5, 0.25);
    const r = i + 0.62 + rng.normal() * 0.04;
    const slope = -0.03 * (i - 20);
    const early = rng.next() < 0.85;
    sources.push({
      id: `cluster:${n}`,
      kind: 'galaxy',
      ra: pos.ra,
      dec: pos.dec,
      flux: fluxesFromColours(
        r,
        2.0 + slope + rng.normal() * 0.08,
        1.45 + slope + rng.normal() * 0.05,
        0.62,
        0.35 + rng.normal() * 0.03,
        0.2 + rng.normal() * 0.03,
      ),
      profile: early ? 'dev' : 'exp',
      re: Math.min(3, Math.max(0.2, 0.9 * Math.pow(10, -0.15 * (i - 20)) * Math.pow(10, 0.15 * rng.normal()))),
      q: rng.uniform(0.55, 1),
      pa: rng.uniform(0, 180),
      cluster: true,
    });
  }
  return sources;
}

/** A supernova-like transient in the cluster field (peak MJD in 60050..60950). */
function makeTransient(seed: number): SkySource {
  const rng = new Rng(seed, 'transient');
  const pos = offsetPosition(TARGET, 0.0042, 0.0031);
  return {
    id: 'transient:0',
    kind: 'transient',
    ra: pos.ra,
    dec: pos.dec,
    flux: fluxesFromColours(20.9, 0.35, 0.05, -0.05, -0.1, -0.05),
    profile: 'point',
    re: 0,
    q: 1,
    pa: 0,
    lightCurve: { peakMjd: Math.round(rng.uniform(60050, 60950) * 1000) / 1000, rise: 15, fall: 30 },
  };
}

/** Native tract pixel bounds (0-based, inclusive-exclusive) of a region. */
export interface TractBox {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

interface Located {
  readonly source: SkySource;
  /** Native tract pixel position (0-based). */
  readonly x: number;
  readonly y: number;
}

export class DemoSky {
  /** The galaxy cluster members (index 0: the brightest cluster galaxy at TARGET). */
  readonly cluster: readonly SkySource[];
  /** The transient near the cluster core. */
  readonly transient: SkySource;
  private readonly cells = new Map<string, Located[]>();
  private readonly special: Located[];

  constructor(readonly seed: number) {
    this.cluster = makeCluster(seed);
    this.transient = makeTransient(seed);
    const native = tractWcs(1);
    this.special = [...this.cluster, this.transient].map((source) => {
      const p = native.skyToPixel0(source.ra, source.dec);
      return { source, x: p.x, y: p.y };
    });
  }

  private cell(cx: number, cy: number): Located[] {
    const key = `${cx}:${cy}`;
    let located = this.cells.get(key);
    if (located) return located;
    const rng = new Rng(this.seed, 'cell', cx, cy);
    const native = tractWcs(1);
    located = [];
    const stars = rng.poisson(STAR_DENSITY * CELL_AREA_DEG2);
    const galaxies = rng.poisson(GALAXY_DENSITY * CELL_AREA_DEG2);
    for (let n = 0; n < stars + galaxies; n++) {
      const x = (cx + rng.next()) * CELL_SIZE;
      const y = (cy + rng.next()) * CELL_SIZE;
      const sky = native.pixelToSky0(x, y);
      const source =
        n < stars
          ? makeStar(rng, `star:${cx}:${cy}:${n}`, sky.ra, sky.dec)
          : makeGalaxy(rng, `gal:${cx}:${cy}:${n - stars}`, sky.ra, sky.dec);
      located.push({ source, x, y });
    }
    this.cells.set(key, located);
    return located;
  }

  /** All sources whose native tract pixel position lies in the box. */
  sourcesInTractBox(box: TractBox): SkySource[] {
    const out: SkySource[] = [];
    const inBox = (l: Located) => l.x >= box.xMin && l.x < box.xMax && l.y >= box.yMin && l.y < box.yMax;
    for (let cy = Math.floor(box.yMin / CELL_SIZE); cy * CELL_SIZE < box.yMax; cy++) {
      for (let cx = Math.floor(box.xMin / CELL_SIZE); cx * CELL_SIZE < box.xMax; cx++) {
        for (const l of this.cell(cx, cy)) if (inBox(l)) out.push(l.source);
      }
    }
    for (const l of this.special) if (inBox(l)) out.push(l.source);
    return out;
  }

  /**
   * Sources that may touch an image: those inside the image's outline (pixel edges mapped to
   * the native tract grid) grown by `marginArcsec`.
   */
  sourcesForImage(wcs: CelestialWcs, width: number, height: number, marginArcsec = 60): SkySource[] {
    const native = tractWcs(1);
    let xMin = Infinity;
    let xMax = -Infinity;
    let yMin = Infinity;
    let yMax = -Infinity;
    const steps = 8;
    for (let k = 0; k <= steps; k++) {
      const t = k / steps;
      for (const [px, py] of [
        [0.5 + t * width, 0.5],
        [0.5 + t * width, height + 0.5],
        [0.5, 0.5 + t * height],
        [width + 0.5, 0.5 + t * height],
      ] as const) {
        const sky = wcs.pixelToSky(px, py);
        const p = native.skyToPixel0(sky.ra, sky.dec);
        xMin = Math.min(xMin, p.x);
        xMax = Math.max(xMax, p.x);
        yMin = Math.min(yMin, p.y);
        yMax = Math.max(yMax, p.y);
      }
    }
    const margin = marginArcsec / 0.2;
    return this.sourcesInTractBox({ xMin: xMin - margin, xMax: xMax + margin, yMin: yMin - margin, yMax: yMax + margin });
  }

  /** Sources within `radius` degrees of a position (for tests and tools). */
  sourcesNear(ra: number, dec: number, radius: number): SkySource[] {
    const native = tractWcs(1);
    const c = native.skyToPixel0(ra, dec);
    const r = (radius * 3600) / 0.2 + 2;
    return this.sourcesInTractBox({ xMin: c.x - r, xMax: c.x + r, yMin: c.y - r, yMax: c.y + r }).filter(
      (s) => angularDistance({ ra, dec }, s) <= radius,
    );
  }
}
