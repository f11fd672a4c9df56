/**
 * Bulk positions → stamps (shared/bulk/resolve.ts) over a real ObsCore store: a tiny generated
 * demo repository (coadd patches 16 and 17 of tract 4431 in every band, which overlap by 25
 * pixels; two calexp visits in i and r, one difference image), ingested into SQLite. Positions
 * are made from chosen pixels of the images (pixel → sky through their WCS), so that the
 * expected boxes are worked out by hand; the boxes are also compared with astropy's Cutout2D.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseBand, type BulkRequest } from '../../shared/bulk/params';
import type { PositionRow } from '../../shared/bulk/positions';
import { FootprintIndex, loadFootprints, SkyCells, type FootprintImage } from '../../shared/bulk/footprint-cache';
import { boxStart, clipBox, resolveStamps, roundHalfEven, stampBox } from '../../shared/bulk/resolve';
import { generateDemoRepository } from '../../shared/demo';
import { openFitsSync, scalarLookup } from '../../shared/fits';
import { ingestDirectory } from '../../shared/obscore/ingest';
import { parseStcs } from '../../shared/sky';
import { parseWcs, type CelestialWcs } from '../../shared/wcs';
import { TINY, tempDir } from '../demo/helpers';
import { describeWith } from '../helpers/tools';
import { runPython } from '../soda/helpers';

const COADD = 'lsst.deepCoadd_calexp';
const CALEXP = 'lsst.calexp';
const LETTERS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
/** Wavelengths within both visits' bands, r (552–691 nm) and i (691–818 nm), and no other. */
const R_TO_I = '600e-9 750e-9';

const coaddFile = (patch: number, band: string): string =>
  `deepCoadd_calexp/4431/${patch}/${band}/deepCoadd_calexp_4431_${patch}_${band}.fits`;
const VISIT_I = 'calexp/1172368/i/calexp_1172368_150.fits';
const VISIT_R = 'calexp/1172381/r/calexp_1172381_23.fits';

function bands(...texts: string[]): BulkRequest['bands'] {
  return texts.map((text) => parseBand(text, 'BAND'));
}

function request(overrides: Partial<BulkRequest> = {}): BulkRequest {
  return {
    size: { value: 32, unit: 'pix' },
    bands: bands('g'),
    dpsubtype: COADD,
    collection: undefined,
    time: undefined,
    match: 'best',
    edge: 'pad',
    planes: ['IMAGE'],
    packaging: 'zip',
    dryRun: false,
    columns: {},
    source: { kind: 'positions', positions: [] },
    ...overrides,
  };
}

const LIMITS = { maxPixels: 100_000_000 };

let scratch: { dir: string; cleanup: () => void };
let dataDir: string;
let db: Database.Database;
const wcsCache = new Map<string, CelestialWcs>();
const dids = new Map<string, string>();
const tMins = new Map<string, number>();

/** The WCS of an image's IMAGE HDU, read here independently of resolve.ts. */
function wcsOf(file: string): CelestialWcs {
  let wcs = wcsCache.get(file);
  if (wcs === undefined) {
    const fits = openFitsSync(path.join(dataDir, file));
    try {
      wcs = parseWcs(scalarLookup(fits.findHdu('IMAGE')!.header));
    } finally {
      fits.close();
    }
    wcsCache.set(file, wcs);
  }
  return wcs;
}

/** A row at 0-based pixel (x, y) of an image. */
function rowAt(row: number, file: string, x: number, y: number, extra: Partial<PositionRow> = {}): PositionRow {
  const { ra, dec } = wcsOf(file).pixelToSky0(x, y);
  return { row, id: `src${row}`, ra, dec, ...extra };
}

function didOf(file: string): string {
  const did = dids.get(file);
  if (did === undefined) throw new Error(`no ObsCore row for ${file}`);
  return did;
}

beforeAll(async () => {
  scratch = tempDir('bulk-resolve-');
  dataDir = path.join(scratch.dir, 'data');
  await generateDemoRepository(dataDir, TINY);
  await ingestDirectory(dataDir, { obscoreDb: path.join(scratch.dir, 'obscore.sqlite') });
  db = new Database(path.join(scratch.dir, 'obscore.sqlite'), { readonly: true });
  for (const row of db.prepare('SELECT _file, obs_publisher_did, t_min FROM ivoa_obscore').all() as {
    _file: string;
    obs_publisher_did: string;
    t_min: number;
  }[]) {
    dids.set(row._file, row.obs_publisher_did);
    tMins.set(row._file, row.t_min);
  }
}, 120_000);

afterAll(() => {
  db?.close();
  scratch?.cleanup();
});

describe('box arithmetic (astropy overlap_slices, numpy round)', () => {
  test('roundHalfEven rounds halves to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, 12.5, 13.5, 12.4999, 12.5001, 3, 0].map(roundHalfEven)).toEqual([0, 2, 2, 12, 14, 12, 13, 3, 0]);
  });

  test('odd sides centre on the pixel holding the position; half-integers go to the lower pixel', () => {
    expect(boxStart(100.3, 31)).toBe(85); // centre pixel 85 + 15 = 100
    expect(boxStart(100.6, 31)).toBe(86); // centre pixel 101
    expect(boxStart(100.5, 31)).toBe(85); // on the edge between 100 and 101: 100
    expect(boxStart(100.5, 1)).toBe(100);
  });

  test('even sides centre on the nearest pixel corner line, ties to the lower one', () => {
    // overlap_slices' own example: two elements around 1 are [0, 1].
    expect(boxStart(1, 2)).toBe(0);
    expect(boxStart(100.3, 32)).toBe(85); // centre line 100.5 + ... : pixels 85..116, centred on 100.5
    expect(boxStart(100.7, 32)).toBe(85);
    expect(boxStart(99.9, 32)).toBe(84); // centre line 99.5
  });

  test('stampBox and clipBox', () => {
    const box = stampBox(2.2, 520.8, 10, 11);
    expect(box).toEqual({ x0: -2, y0: 516, nx: 10, ny: 11 });
    expect(clipBox(box, 525, 525)).toEqual({ x0: 0, y0: 516, nx: 8, ny: 9 });
    expect(clipBox({ x0: -20, y0: 0, nx: 10, ny: 10 }, 525, 525)).toBeUndefined();
  });
});

describe('sky cells and the footprint index', () => {
  const image = (rowId: number, region: string): FootprintImage => ({
    rowId,
    did: `ivo://test/${rowId}`,
    subtype: COADD,
    collection: 'test',
    file: `${rowId}.fits`,
    lsstBand: 'g',
    emMin: 402e-9,
    emMax: 552e-9,
    tMin: null,
    tMax: null,
    region: parseStcs(region),
  });

  test('a box across RA 0 takes the cells on both sides', () => {
    const cells = new SkyCells(0.5);
    const taken = new Set(cells.cellsOf({ raMin: 359.8, raMax: 0.3, decMin: 10, decMax: 10.4 }));
    expect(taken.has(cells.cellOf(359.9, 10.2))).toBe(true);
    expect(taken.has(cells.cellOf(0.1, 10.2))).toBe(true);
    expect(taken.has(cells.cellOf(180, 10.2))).toBe(false);
  });

  test('images across RA 0 and around a pole are found from every side', () => {
    const index = new FootprintIndex([
      image(1, 'Polygon ICRS 359.8 -0.2 0.2 -0.2 0.2 0.2 359.8 0.2'),
      image(2, 'Polygon ICRS 0 89.8 90 89.8 180 89.8 270 89.8'),
      image(3, 'Polygon ICRS 10 10 10.2 10 10.2 10.2 10 10.2'),
    ]);
    const all = () => true;
    expect(index.covering(359.9, 0, all)).toEqual([0]);
    expect(index.covering(0.1, 0.1, all)).toEqual([0]);
    expect(index.covering(45, 89.9, all)).toEqual([1]);
    expect(index.covering(225, 89.95, all)).toEqual([1]);
    expect(index.covering(10.1, 10.1, all)).toEqual([2]);
    expect(index.covering(10.1, 10.1, () => false)).toEqual([]);
    expect(index.covering(200, -45, all)).toEqual([]);
  });

  test('loadFootprints reads the rows near the positions, of the subtypes and collection asked for', () => {
    const inside = rowAt(1, coaddFile(17, 'g'), 100, 100);
    const coadds = loadFootprints(db, [inside], { subtypes: [COADD], collection: undefined });
    // The R*Tree prefilter keeps both patches (their boxes overlap the position's), every band.
    expect(coadds.map((image) => image.file).sort()).toEqual([16, 17].flatMap((patch) => LETTERS.map((b) => coaddFile(patch, b))).sort());
    expect(loadFootprints(db, [inside], { subtypes: [COADD], collection: 'LSST.DP02' })).toHaveLength(12);
    expect(loadFootprints(db, [inside], { subtypes: [COADD], collection: 'other' })).toEqual([]);
    expect(loadFootprints(db, [{ ra: 200, dec: 10 }], { subtypes: [COADD], collection: undefined })).toEqual([]);
    const calexps = loadFootprints(db, [inside], { subtypes: [CALEXP, 'lsst.nothing'], collection: undefined });
    expect(calexps.map((image) => image.file).sort()).toEqual([VISIT_I, VISIT_R]);
  });
});

describe('resolveStamps', () => {
  test('a position inside one image: that image, the box as Cutout2D centres it', () => {
    const rows = [rowAt(1, coaddFile(17, 'g'), 100.3, 200.6)];
    const [even] = resolveStamps(db, dataDir, rows, request(), LIMITS);
    expect(even).toEqual({
      row: 1,
      id: 'src1',
      ra: rows[0]!.ra,
      dec: rows[0]!.dec,
      band: 'g',
      status: 'planned',
      message: '',
      cut: true,
      image: { did: didOf(coaddFile(17, 'g')), subtype: COADD, file: coaddFile(17, 'g'), tMin: tMins.get(coaddFile(17, 'g')), band: 'g' },
      box: { x0: 85, y0: 185, nx: 32, ny: 32 },
      clipped: { x0: 85, y0: 185, nx: 32, ny: 32 },
      n: undefined,
    });
    const [odd] = resolveStamps(db, dataDir, rows, request({ size: { value: 31, unit: 'pix' } }), LIMITS);
    // Centre pixel (100, 201), the pixel holding (100.3, 200.6): 15 pixels either side.
    expect(odd!.box).toEqual({ x0: 85, y0: 186, nx: 31, ny: 31 });
  });

  test('in the overlap of two patches the deepest wins; equal depths go to the smaller did', () => {
    const every = request({ bands: bands(...LETTERS) });
    // Patch 16's pixel x is patch 17's + 500: the overlap is x17 = 0…24, depths x17 and 24 − x17.
    const deeperIn17 = resolveStamps(db, dataDir, [rowAt(1, coaddFile(17, 'g'), 20.2, 262.3)], every, LIMITS);
    expect(deeperIn17.map((s) => s.image?.file)).toEqual(LETTERS.map((b) => coaddFile(17, b)));
    expect(deeperIn17[0]!.box).toEqual({ x0: 5, y0: 247, nx: 32, ny: 32 });
    const deeperIn16 = resolveStamps(db, dataDir, [rowAt(1, coaddFile(17, 'g'), 4.7, 262.3)], every, LIMITS);
    expect(deeperIn16.map((s) => s.image?.file)).toEqual(LETTERS.map((b) => coaddFile(16, b)));
    // Patch 16's pixel grid: x = 504.7, well inside.
    expect(deeperIn16[0]!).toMatchObject({ status: 'planned', box: { x0: 489, y0: 247, nx: 32, ny: 32 } });

    const tie = resolveStamps(db, dataDir, [rowAt(1, coaddFile(17, 'g'), 12, 262.3)], every, LIMITS);
    const smaller = LETTERS.map((b) => [didOf(coaddFile(16, b)), didOf(coaddFile(17, b))].sort()[0]);
    expect(tie.map((s) => s.image?.did)).toEqual(smaller);
    // Not the patch order: the demo's dids make g pick patch 16 and i patch 17.
    expect(tie.find((s) => s.band === 'g')!.image!.file).toBe(coaddFile(16, 'g'));
    expect(tie.find((s) => s.band === 'i')!.image!.file).toBe(coaddFile(17, 'i'));
  });

  test('a position outside every image has no coverage, in every band', () => {
    const rows: PositionRow[] = [{ row: 1, id: 'far', ra: 56.5, dec: -32.2 }];
    const stamps = resolveStamps(db, dataDir, rows, request({ bands: bands('g', 'r') }), LIMITS);
    expect(stamps).toEqual(
      ['g', 'r'].map((band) => ({
        row: 1,
        id: 'far',
        ra: 56.5,
        dec: -32.2,
        band,
        status: 'no_coverage',
        message: `no ${COADD} image in band ${band} covers the position`,
        cut: false,
        image: undefined,
        box: undefined,
        clipped: undefined,
        n: undefined,
      })),
    );
    const filtered = resolveStamps(
      db,
      dataDir,
      [rowAt(1, coaddFile(17, 'g'), 100, 100)],
      request({ collection: 'other', time: { lo: 50000, hi: 50001 } }),
      LIMITS,
    );
    expect(filtered[0]).toMatchObject({
      status: 'no_coverage',
      message: `no ${COADD} image of collection other in band g between MJD 50000 and 50001 covers the position`,
    });
  });

  test('a stamp running off the edge is partial: clipped box, and cut or not by EDGE', () => {
    const rows = [rowAt(1, coaddFile(17, 'g'), 300.4, 3.2), rowAt(2, coaddFile(17, 'g'), 522.9, 523.6, { size: 11 })];
    const expected = [
      { box: { x0: 285, y0: -12, nx: 32, ny: 32 }, clipped: { x0: 285, y0: 0, nx: 32, ny: 20 } },
      { box: { x0: 518, y0: 519, nx: 11, ny: 11 }, clipped: { x0: 518, y0: 519, nx: 7, ny: 6 } },
    ];
    for (const edge of ['clip', 'pad', 'skip'] as const) {
      const stamps = resolveStamps(db, dataDir, rows, request({ edge }), LIMITS);
      expect(stamps.map(({ box, clipped }) => ({ box, clipped }))).toEqual(expected);
      for (const stamp of stamps) {
        expect(stamp.status).toBe('partial');
        expect(stamp.cut).toBe(edge !== 'skip');
        expect(stamp.message).toContain(`(EDGE=${edge})`);
      }
    }
    const [skipped] = resolveStamps(db, dataDir, rows, request({ edge: 'skip' }), LIMITS);
    expect(skipped!.message).toBe('skipped: the stamp runs off the image edge, 32×20 of its 32×32 pixels are on the image (EDGE=skip)');
  });

  test('invalid rows keep their message, one entry per band, in row then band order', () => {
    const rows: PositionRow[] = [
      rowAt(1, coaddFile(17, 'g'), 100, 100),
      { row: 2, id: 'bad', ra: NaN, dec: NaN, invalid: 'ra "abc" is not a number in decimal degrees' },
      rowAt(3, coaddFile(17, 'g'), 200, 200, { band: 'i', bandSpec: parseBand('i', 'band') }),
      { row: 4, id: '4', ra: 10, dec: NaN },
      rowAt(5, coaddFile(17, 'g'), 300, 300),
    ];
    const stamps = resolveStamps(db, dataDir, rows, request({ bands: bands('r', 'g') }), LIMITS);
    expect(stamps.map((s) => [s.row, s.band, s.status])).toEqual([
      [1, 'r', 'planned'],
      [1, 'g', 'planned'],
      [2, 'r', 'invalid'],
      [2, 'g', 'invalid'],
      [3, 'i', 'planned'],
      [4, 'r', 'invalid'],
      [4, 'g', 'invalid'],
      [5, 'r', 'planned'],
      [5, 'g', 'planned'],
    ]);
    expect(stamps[2]!.message).toBe('ra "abc" is not a number in decimal degrees');
    expect(stamps[5]!.message).toBe('the row has no position');
    expect(stamps[4]!.image!.file).toBe(coaddFile(17, 'i'));
    expect(stamps.map((s) => s.image?.file)).toEqual([
      coaddFile(17, 'r'),
      coaddFile(17, 'g'),
      undefined,
      undefined,
      coaddFile(17, 'i'),
      undefined,
      undefined,
      coaddFile(17, 'r'),
      coaddFile(17, 'g'),
    ]);
  });

  test('without BAND every LSST band is resolved, u to y', () => {
    const stamps = resolveStamps(db, dataDir, [rowAt(1, coaddFile(17, 'g'), 100, 100)], request({ bands: [] }), LIMITS);
    expect(stamps.map((s) => s.band)).toEqual([...LETTERS]);
    expect(stamps.every((s) => s.status === 'planned')).toBe(true);
  });

  test('MATCH=all: every covering image, by t_min then did, numbered', () => {
    const overlap = rowAt(1, coaddFile(17, 'g'), 12, 262.3);
    const size = { value: 31, unit: 'pix' } as const;
    const stamps = resolveStamps(db, dataDir, [overlap], request({ match: 'all', bands: bands('g', 'i'), size }), LIMITS);
    const byTime = (band: string): string[] => [coaddFile(16, band), coaddFile(17, band)].sort((a, b) => tMins.get(a)! - tMins.get(b)!);
    expect(stamps.map((s) => [s.band, s.image?.file, s.n])).toEqual([
      ['g', byTime('g')[0], 0],
      ['g', byTime('g')[1], 1],
      ['i', byTime('i')[0], 0],
      ['i', byTime('i')[1], 1],
    ]);
    // One position, two pixel grids: x = 12 on patch 17 and 512 on patch 16 (x0 = ⌈x − 15.5⌉).
    expect(stamps.filter((s) => s.band === 'g').map((s) => s.box!.x0)).toEqual(
      byTime('g').map((file) => (file === coaddFile(17, 'g') ? -3 : 497)),
    );

    // Two visits in r and i under one wavelength interval: the earlier (i) first.
    const visits = resolveStamps(
      db,
      dataDir,
      [rowAt(1, VISIT_I, 254.2, 250.7)],
      request({ match: 'all', dpsubtype: CALEXP, bands: bands(R_TO_I) }),
      LIMITS,
    );
    expect(tMins.get(VISIT_I)!).toBeLessThan(tMins.get(VISIT_R)!);
    expect(visits.map((s) => [s.band, s.image?.file, s.n, s.status])).toEqual([
      ['600e-9_750e-9', VISIT_I, 0, 'planned'],
      ['600e-9_750e-9', VISIT_R, 1, 'planned'],
    ]);
    expect(visits[0]!.box).toEqual({ x0: 239, y0: 235, nx: 32, ny: 32 });
    const best = resolveStamps(
      db,
      dataDir,
      [rowAt(1, VISIT_I, 254.2, 250.7)],
      request({ dpsubtype: CALEXP, bands: bands(R_TO_I) }),
      LIMITS,
    );
    expect(best).toHaveLength(1);
    expect(best[0]!.n).toBeUndefined();
  });

  test('rows override the job: DPSUBTYPE, TIME and SIZE', () => {
    const centre = rowAt(1, VISIT_I, 254.2, 250.7);
    const rows: PositionRow[] = [
      { ...centre, row: 1 },
      { ...centre, row: 2, dpsubtype: CALEXP },
      { ...centre, row: 3, dpsubtype: CALEXP, tMin: 60390 },
      { ...centre, row: 4, dpsubtype: CALEXP, tMax: 60380 },
      { ...centre, row: 5, dpsubtype: CALEXP, tMin: 60000, tMax: 60001 },
      { ...centre, row: 6, size: 9 },
    ];
    const stamps = resolveStamps(db, dataDir, rows, request({ match: 'all', bands: bands(R_TO_I) }), LIMITS);
    expect(stamps.map((s) => [s.row, s.status, s.image?.file, s.box?.nx])).toEqual([
      [1, 'planned', coaddFile(17, 'r'), 32],
      [1, 'planned', coaddFile(17, 'i'), 32],
      [2, 'planned', VISIT_I, 32],
      [2, 'planned', VISIT_R, 32],
      [3, 'planned', VISIT_R, 32],
      [4, 'planned', VISIT_I, 32],
      [5, 'no_coverage', undefined, undefined],
      [6, 'planned', coaddFile(17, 'r'), 9],
      [6, 'planned', coaddFile(17, 'i'), 9],
    ]);
    expect(stamps[6]!.message).toBe(`no ${CALEXP} image in band 600e-9_750e-9 between MJD 60000 and 60001 covers the position`);
  });

  test('SIZE in arcsec: pixels from the pixel scale (1.6″ here), halves to even', () => {
    const rows = [rowAt(1, coaddFile(17, 'g'), 100.3, 200.6)];
    const sides = [16, 20, 20.8, 4, 1.6, 0.1].map((arcsec) => {
      const [stamp] = resolveStamps(db, dataDir, rows, request({ size: { value: arcsec, unit: 'arcsec' } }), LIMITS);
      return [stamp!.box!.nx, stamp!.box!.ny];
    });
    expect(sides).toEqual([
      [10, 10],
      [12, 12],
      [13, 13],
      [2, 2],
      [1, 1],
      [1, 1],
    ]);
    const [degrees] = resolveStamps(db, dataDir, rows, request({ size: { value: 0.01, unit: 'deg' } }), LIMITS);
    expect(degrees!.box).toEqual({ x0: 90, y0: 190, nx: 22, ny: 22 }); // 36″ / 1.6″ = 22.5 → 22
  });

  test('too_large: over the pixel limit counting planes; EDGE=clip counts the clipped box', () => {
    const rows = [rowAt(1, coaddFile(17, 'g'), 100.3, 100.6), rowAt(2, coaddFile(17, 'g'), 300.4, 3.2)];
    const planes = ['IMAGE', 'MASK', 'VARIANCE'] as const;
    const padded = resolveStamps(db, dataDir, rows, request({ planes: [...planes] }), { maxPixels: 3000 });
    expect(padded.map((s) => [s.status, s.cut])).toEqual([
      ['too_large', false],
      ['too_large', false],
    ]);
    expect(padded[0]!.message).toBe('the stamp would hold 3072 pixels (32×32 × 3 planes); the limit is 3000');
    expect(padded[0]!.box).toEqual({ x0: 85, y0: 85, nx: 32, ny: 32 });
    const clipped = resolveStamps(db, dataDir, rows, request({ planes: [...planes], edge: 'clip' }), { maxPixels: 3000 });
    expect(clipped.map((s) => [s.status, s.cut])).toEqual([
      ['too_large', false],
      ['partial', true],
    ]);
    expect(resolveStamps(db, dataDir, rows, request(), { maxPixels: 1024 })[0]!.status).toBe('planned');
  });

  test('an image that cannot be read is an error entry, not a failure', () => {
    const empty = path.join(scratch.dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const rows = [rowAt(1, coaddFile(17, 'g'), 12, 262.3), { row: 2, id: 'far', ra: 56.5, dec: -32.2 }];
    const best = resolveStamps(db, empty, rows, request(), LIMITS);
    const first = [didOf(coaddFile(16, 'g')), didOf(coaddFile(17, 'g'))].sort()[0]!;
    expect(best.map((s) => [s.row, s.status, s.image?.did, s.cut])).toEqual([
      [1, 'error', first, false],
      [2, 'no_coverage', undefined, false],
    ]);
    expect(best[0]!.message).toMatch(/^image butler:\/\/dp02\/\S+ \(deepCoadd_calexp\/.*\.fits\): the file cannot be read: .*ENOENT/);
    const all = resolveStamps(db, empty, rows, request({ match: 'all' }), LIMITS);
    expect(all.map((s) => [s.row, s.status, s.n])).toEqual([
      [1, 'error', 0],
      [1, 'error', 1],
      [2, 'no_coverage', undefined],
    ]);
  });

  test('100,000 random positions (measured, printed)', () => {
    // A seeded generator over the two patches and a margin around them (some positions miss).
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows: PositionRow[] = Array.from({ length: 100_000 }, (_, i) => ({
      row: i + 1,
      id: String(i + 1),
      ra: 55.45 + random() * 0.7,
      dec: -32.4 + random() * 0.36,
    }));
    const lines: string[] = [];
    for (const [label, overrides] of [
      ['best, 6 bands', { bands: [] }],
      ['all, 6 bands', { bands: [], match: 'all' }],
      ['best, 1 band', { bands: bands('r') }],
    ] as const) {
      const wall = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      const stamps = resolveStamps(db, dataDir, rows, request(overrides), LIMITS);
      const used = process.cpuUsage(cpu);
      const ms = Number(process.hrtime.bigint() - wall) / 1e6;
      const counts: Record<string, number> = {};
      for (const stamp of stamps) counts[stamp.status] = (counts[stamp.status] ?? 0) + 1;
      lines.push(
        `${label}: ${ms.toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${stamps.length} entries ${JSON.stringify(counts)}`,
      );
    }
    console.log(`resolveStamps, 100,000 positions over the tiny demo repository:\n${lines.join('\n')}`);
  });
});

/** Cutout2D's full and clipped boxes for each case: the reference the boxes must equal. */
const CUTOUT2D = String.raw`
import json, sys, warnings
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

warnings.simplefilter('ignore')
out = []
for case in json.load(sys.stdin):
    with fits.open(case['file']) as hdul:
        hdu = hdul['IMAGE']
        wcs = WCS(hdu.header)
        size = case['size'] if case['unit'] == 'pix' else case['size'] * u.Unit(case['unit'])
        position = SkyCoord(case['ra'] * u.deg, case['dec'] * u.deg, frame='icrs')
        cut = Cutout2D(hdu.data, position, size, wcs=wcs, mode='partial', fill_value=np.nan)
        (ys, xs), (cy, cx) = cut.slices_original, cut.slices_cutout
        ny, nx = cut.data.shape
        out.append({'box': [xs.start - cx.start, ys.start - cy.start, nx, ny],
                    'clipped': [xs.start, ys.start, xs.stop - xs.start, ys.stop - ys.start]})
json.dump(out, sys.stdout)
`;

describeWith('astropy', 'the boxes are astropy Cutout2D’s', () => {
  test('coadds (TAN) and visits (rotated TAN-SIP), odd and even sizes, pixels and arcsec, at edges', () => {
    const cases: { file: string; x: number; y: number; size: number; unit: 'pix' | 'arcsec' | 'deg'; subtype: string }[] = [];
    let k = 0;
    for (const [file, subtype] of [
      [coaddFile(17, 'g'), COADD],
      [coaddFile(16, 'r'), COADD],
      [VISIT_I, CALEXP],
      [VISIT_R, CALEXP],
    ] as const) {
      const [width, height] = wcsOf(file).imageSize!;
      for (const [x, y] of [
        [100.3, 200.6],
        [250.5, 249.5],
        [31.91, 77.08],
        [2.2, height - 1.4],
        [width - 3.7, 5.51],
        [width / 2 + 0.49, height / 2 - 0.49],
      ] as const) {
        const sizes = [
          [31, 'pix'],
          [32, 'pix'],
          [1, 'pix'],
          [20, 'arcsec'],
          [37.3, 'arcsec'],
          [0.005, 'deg'],
        ] as const;
        const [size, unit] = sizes[k++ % sizes.length]!;
        cases.push({ file, x, y, size, unit, subtype });
      }
    }
    const ours = cases.map((c, i) => {
      const row = rowAt(i + 1, c.file, c.x, c.y);
      // The image the test means, not whatever else is deeper there: MATCH=all, then that image.
      const stamps = resolveStamps(
        db,
        dataDir,
        [row],
        request({ match: 'all', dpsubtype: c.subtype, bands: [], size: { value: c.size, unit: c.unit }, edge: 'clip' }),
        LIMITS,
      );
      const stamp = stamps.find((s) => s.image?.file === c.file);
      if (stamp === undefined) throw new Error(`case ${i}: ${c.file} not found at (${c.x}, ${c.y})`);
      return { ra: row.ra, dec: row.dec, box: stamp.box!, clipped: stamp.clipped! };
    });
    const reference = runPython<{ box: number[]; clipped: number[] }[]>(
      CUTOUT2D,
      cases.map((c, i) => ({ file: path.join(dataDir, c.file), ra: ours[i]!.ra, dec: ours[i]!.dec, size: c.size, unit: c.unit })),
    );
    const asArrays = ours.map(({ box, clipped }) => ({
      box: [box.x0, box.y0, box.nx, box.ny],
      clipped: [clipped.x0, clipped.y0, clipped.nx, clipped.ny],
    }));
    expect(asArrays).toEqual(reference);
    // The cases do reach the edges.
    expect(asArrays.filter((c) => c.box.join() !== c.clipped.join()).length).toBeGreaterThanOrEqual(4);
  });
});
