/**
 * The demo repository as files: determinism, dataset list and layout, primary keywords, and the
 * IMAGE/MASK/VARIANCE structure of every file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  BANDS,
  DEMO_DEFAULTS,
  MASK_PLANES,
  datasetUuid,
  demoOptionsFromEnv,
  generateDemoRepository,
  planDemoRepository,
  resolveDemoOptions,
  type GeneratedDataset,
} from '../../shared/demo';
import { type Header, openFitsSync } from '../../shared/fits';
import { TINY, find, generateTiny, sha256, tempDir } from './helpers';

const FIXED_ID = '20d28216-534a-4102-b8a7-1c7f32a9b78c';
let repo: { dir: string; datasets: GeneratedDataset[]; cleanup: () => void };

beforeAll(async () => {
  repo = await generateTiny();
});
afterAll(() => repo?.cleanup());

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function cardType(header: Header, key: string): string | undefined {
  return header.getCard(key)?.type;
}

describe('determinism', () => {
  test('two runs write byte-identical files; a re-run in place changes nothing', async () => {
    const second = await generateTiny();
    try {
      const first = repo.datasets.map((d) => [d.relativePath, sha256(d.path)]);
      const again = second.datasets.map((d) => [d.relativePath, sha256(d.path)]);
      expect(again).toEqual(first);
      expect(new Set(first.map(([, h]) => h)).size).toBe(first.length);
      // Overwrite the second repository in place: same bytes, no stray temporary files.
      const rerun = await generateDemoRepository(second.dir, TINY);
      expect(rerun.map((d) => [d.relativePath, sha256(d.path)])).toEqual(first);
      expect(listFiles(second.dir)).toEqual(first.map(([p]) => p).sort());
    } finally {
      second.cleanup();
    }
  });

  test('a file does not depend on which other files are generated', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const subset = await generateDemoRepository(dir, { ...TINY, patches: [17], bands: ['i'], visits: 2, diffs: 1 });
      expect(subset.map((d) => d.relativePath)).toHaveLength(4);
      for (const d of subset) expect(sha256(d.path)).toBe(sha256(find(repo.datasets, { relativePath: d.relativePath }).path));
    } finally {
      cleanup();
    }
  });

  test('another seed gives other pixels but the same coadd layout and ids', () => {
    const a = planDemoRepository({ ...TINY, seed: 1 });
    const b = planDemoRepository({ ...TINY, seed: 2 });
    const coadds = (plans: typeof a) => plans.filter((p) => p.datasetType === 'deepCoadd_calexp').map((p) => [p.relativePath, p.id]);
    expect(coadds(b)).toEqual(coadds(a));
    expect(b.filter((p) => p.datasetType === 'calexp').map((p) => p.id)).not.toEqual(
      a.filter((p) => p.datasetType === 'calexp').map((p) => p.id),
    );
  });
});

describe('dataset list and layout', () => {
  test('coadds of both patches in six bands, two calexps, one difference image', () => {
    const coadds = repo.datasets.filter((d) => d.datasetType === 'deepCoadd_calexp');
    expect(coadds.map((d) => `${d.patch}${d.band}`)).toEqual([...BANDS.map((b) => `17${b}`), ...BANDS.map((b) => `16${b}`)]);
    for (const d of coadds) {
      expect(d.relativePath).toBe(`deepCoadd_calexp/4431/${d.patch}/${d.band}/deepCoadd_calexp_4431_${d.patch}_${d.band}.fits`);
      expect([d.tract, d.visit, d.detector]).toEqual([4431, undefined, undefined]);
      expect([d.width, d.height]).toEqual([525, 525]);
      expect(d.physicalFilter).toBe(`${d.band}_sim_1.4`);
    }
    const calexps = repo.datasets.filter((d) => d.datasetType === 'calexp');
    const diffs = repo.datasets.filter((d) => d.datasetType === 'goodSeeingDiff_differenceExp');
    expect(calexps).toHaveLength(2);
    expect(diffs).toHaveLength(1);
    expect(new Set(calexps.map((d) => d.band)).size).toBe(2);
    for (const d of [...calexps, ...diffs]) {
      expect(d.visit).toBeGreaterThanOrEqual(1172000);
      expect(d.visit).toBeLessThan(1173000);
      expect(Number.isInteger(d.detector) && d.detector! >= 0 && d.detector! <= 188).toBe(true);
      expect(d.relativePath).toBe(`${d.datasetType}/${d.visit}/${d.band}/${d.datasetType}_${d.visit}_${d.detector}.fits`);
      expect([d.width, d.height]).toEqual([509, 500]);
      expect(d.tract).toBeUndefined();
    }
    // The difference image is of the first visit, with its geometry.
    expect([diffs[0]!.visit, diffs[0]!.detector, diffs[0]!.band]).toEqual([calexps[0]!.visit, calexps[0]!.detector, calexps[0]!.band]);
  });

  test('files exist with the reported sizes, and nothing else is written', () => {
    for (const d of repo.datasets) {
      expect(d.path).toBe(join(repo.dir, ...d.relativePath.split('/')));
      expect(statSync(d.path).size).toBe(d.bytes);
      expect(d.bytes % 2880).toBe(0);
    }
    expect(listFiles(repo.dir)).toEqual(repo.datasets.map((d) => d.relativePath).sort());
  });

  test('ids are distinct v4-shaped UUIDs; tract 4431 patch 17 i has the tutorial id', () => {
    const ids = repo.datasets.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(find(repo.datasets, { datasetType: 'deepCoadd_calexp', patch: 17, band: 'i' }).id).toBe(FIXED_ID);
    expect(datasetUuid('deepCoadd_calexp', { band: 'i', tract: 4431, patch: 17 })).toBe(FIXED_ID);
    // Name-based: the same data id always gives the same id, another one another id.
    expect(datasetUuid('calexp', { band: 'r', visit: 1172001, detector: 5 })).toBe(
      datasetUuid('calexp', { detector: 5, visit: 1172001, band: 'r' }),
    );
    expect(datasetUuid('calexp', { band: 'r', visit: 1172001, detector: 5 })).not.toBe(
      datasetUuid('goodSeeingDiff_differenceExp', { band: 'r', visit: 1172001, detector: 5 }),
    );
  });
});

describe('primary header', () => {
  test('the i-band coadd of patch 17 carries every keyword the ingest relies on', () => {
    const d = find(repo.datasets, { datasetType: 'deepCoadd_calexp', patch: 17, band: 'i' });
    const fits = openFitsSync(d.path);
    try {
      const h = fits.hdus[0]!.header;
      expect(fits.hdus[0]!.axes).toEqual([]);
      expect(h.get('HIERARCH LSST BUTLER ID')).toBe(FIXED_ID);
      expect(h.get('HIERARCH LSST BUTLER DATASETTYPE')).toBe('deepCoadd_calexp');
      expect(h.get('HIERARCH LSST BUTLER DATAID BAND')).toBe('i');
      expect(h.get('HIERARCH LSST BUTLER DATAID PHYSICAL_FILTER')).toBe('i_sim_1.4');
      expect(h.get('HIERARCH LSST BUTLER DATAID TRACT')).toBe(4431);
      expect(h.get('HIERARCH LSST BUTLER DATAID PATCH')).toBe(17);
      expect(cardType(h, 'HIERARCH LSST BUTLER DATAID TRACT')).toBe('integer');
      expect(cardType(h, 'HIERARCH LSST BUTLER DATAID PATCH')).toBe('integer');
      expect(h.has('HIERARCH LSST BUTLER DATAID VISIT')).toBe(false);
      expect(h.get('FILTER')).toBe('i_sim_1.4');
      expect(h.get('INSTRUME')).toBe('LSSTCam-imSim');
      expect(h.get('TELESCOP')).toBe('LSST');
      expect(h.get('TIMESYS')).toBe('TAI');
      expect(h.get('BINNING')).toBe(8);
      expect(cardType(h, 'BINNING')).toBe('integer');
      for (const key of ['MJD-OBS', 'MJD-END', 'EXPTIME']) expect(cardType(h, key)).toBe('float');
      const start = h.getNumber('MJD-OBS')!;
      const end = h.getNumber('MJD-END')!;
      expect(start).toBeGreaterThan(59853);
      expect(end).toBeLessThan(61700);
      expect(end - start).toBeGreaterThan(1500);
      // Total exposure of the inputs: NCOMBINE visits of 30 s, DP0.2-like numbers for i.
      expect(h.getNumber('EXPTIME')).toBe(h.getInteger('NCOMBINE')! * 30);
      expect(h.getInteger('NCOMBINE')).toBeGreaterThanOrEqual(70);
      expect(h.getString('DATE-OBS')).toMatch(/^202\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    } finally {
      fits.close();
    }
  });

  test('visit images: visit, detector, epoch and 30 s exposures; calexp and difference agree', () => {
    for (const d of repo.datasets.filter((x) => x.datasetType !== 'deepCoadd_calexp')) {
      const fits = openFitsSync(d.path);
      try {
        const h = fits.hdus[0]!.header;
        expect(h.get('HIERARCH LSST BUTLER ID')).toBe(d.id);
        expect(h.get('HIERARCH LSST BUTLER DATASETTYPE')).toBe(d.datasetType);
        expect(h.get('HIERARCH LSST BUTLER DATAID VISIT')).toBe(d.visit);
        expect(h.get('HIERARCH LSST BUTLER DATAID DETECTOR')).toBe(d.detector);
        expect(h.get('HIERARCH LSST BUTLER DATAID BAND')).toBe(d.band);
        expect(h.get('HIERARCH LSST BUTLER DATAID PHYSICAL_FILTER')).toBe(`${d.band}_sim_1.4`);
        expect(h.has('HIERARCH LSST BUTLER DATAID TRACT')).toBe(false);
        expect(h.get('EXPTIME')).toBe(30);
        expect(cardType(h, 'EXPTIME')).toBe('float');
        expect(h.has('MJD-END')).toBe(false);
        const mjd = h.getNumber('MJD-OBS')!;
        expect(mjd).toBeGreaterThan(59990);
        expect(mjd).toBeLessThan(61010);
      } finally {
        fits.close();
      }
    }
    const calexp = repo.datasets.find((d) => d.datasetType === 'calexp')!;
    const diff = repo.datasets.find((d) => d.datasetType === 'goodSeeingDiff_differenceExp')!;
    const mjdOf = (file: string) => {
      const fits = openFitsSync(file);
      try {
        return fits.hdus[0]!.header.getNumber('MJD-OBS');
      } finally {
        fits.close();
      }
    };
    expect(mjdOf(diff.path)).toBe(mjdOf(calexp.path));
  });
});

describe('extensions', () => {
  test('every file: primary without data, then IMAGE (-32), MASK (32), VARIANCE (-32) of one shape, each with the WCS', () => {
    for (const d of repo.datasets) {
      const fits = openFitsSync(d.path);
      try {
        expect(fits.hdus.map((h) => h.extname)).toEqual([null, 'IMAGE', 'MASK', 'VARIANCE']);
        expect(fits.hdus.map((h) => h.bitpix)).toEqual([8, -32, 32, -32]);
        expect(fits.hdus[0]!.header.get('EXTEND')).toBe(true);
        const sip = d.datasetType !== 'deepCoadd_calexp';
        for (const hdu of fits.hdus.slice(1)) {
          const h = hdu.header;
          expect(hdu.axes).toEqual([d.width, d.height]);
          expect(h.get('XTENSION')).toBe('IMAGE');
          expect(h.get('EXTTYPE')).toBe(hdu.extname);
          expect(h.get('CTYPE1')).toBe(sip ? 'RA---TAN-SIP' : 'RA---TAN');
          expect(h.get('CTYPE2')).toBe(sip ? 'DEC--TAN-SIP' : 'DEC--TAN');
          expect(h.get('RADESYS')).toBe('ICRS');
          expect(h.get('EQUINOX')).toBe(2000);
          for (const key of ['CRVAL1', 'CRVAL2', 'CRPIX1', 'CRPIX2', 'CD1_1', 'CD1_2', 'CD2_1', 'CD2_2', 'LTV1', 'LTV2']) {
            expect(cardType(h, key)).toBe('float');
          }
          expect(h.getNumber('CD1_1')! * h.getNumber('CD2_2')! - h.getNumber('CD1_2')! * h.getNumber('CD2_1')!).toBeLessThan(0);
          if (sip) {
            expect([h.get('A_ORDER'), h.get('B_ORDER'), h.get('AP_ORDER'), h.get('BP_ORDER')]).toEqual([3, 3, 4, 4]);
            expect(Math.abs(h.getNumber('A_2_0')!)).toBeGreaterThan(0);
            expect(Math.abs(h.getNumber('B_0_3')!)).toBeGreaterThan(0);
          } else {
            expect(h.has('A_ORDER')).toBe(false);
            expect(h.getNumber('CD1_2')).toBe(0);
          }
        }
        // The three planes carry the same WCS cards.
        const wcsCards = (i: number) =>
          fits.hdus[i]!.header.cards.filter((c) => /^(C|A_|B_|AP_|BP_|LTV|RADESYS|EQUINOX)/.test(c.keyword)).map((c) => [
            c.keyword,
            c.value,
          ]);
        expect(wcsCards(2)).toEqual(wcsCards(1));
        expect(wcsCards(3)).toEqual(wcsCards(1));
        expect(fits.hdus[1]!.header.get('BUNIT')).toBe('nJy');
        const mask = fits.hdus[2]!.header;
        expect(mask.get('MP_BAD')).toBe(0);
        expect(mask.get('MP_SAT')).toBe(1);
        expect(mask.get('MP_DETECTED')).toBe(5);
        expect(mask.get('HIERARCH MP_DETECTED_NEGATIVE')).toBe(MASK_PLANES.DETECTED_NEGATIVE);
      } finally {
        fits.close();
      }
    }
  });

  test('pixels: noise as the variance says, masks from the defined planes only', () => {
    const allowed = Object.values(MASK_PLANES).reduce<number>((m, bit) => m | (1 << bit), 0);
    for (const d of [
      find(repo.datasets, { datasetType: 'deepCoadd_calexp', patch: 16, band: 'r' }),
      ...repo.datasets.filter((x) => x.visit !== undefined),
    ]) {
      const fits = openFitsSync(d.path);
      try {
        const image = fits.readImage('IMAGE').data;
        const variance = fits.readImage('VARIANCE').data;
        const mask = fits.readImage('MASK').data;
        let chi2 = 0;
        let n = 0;
        let detected = 0;
        let badVariance = 0;
        let unknownBits = 0;
        for (let i = 0; i < image.length; i++) {
          if (!(variance[i]! > 0)) badVariance++;
          if (mask[i]! & ~allowed) unknownBits++;
          if (mask[i]! & (1 << MASK_PLANES.DETECTED)) detected++;
          if (mask[i] === 0) {
            chi2 += (image[i]! * image[i]!) / variance[i]!;
            n++;
          }
        }
        expect([badVariance, unknownBits]).toEqual([0, 0]);
        // Undetected pixels are noise of the stated variance (sources below 1σ per pixel add a little).
        expect(chi2 / n).toBeGreaterThan(0.95);
        expect(chi2 / n).toBeLessThan(1.1);
        expect(detected).toBeGreaterThan(d.datasetType === 'goodSeeingDiff_differenceExp' ? 0 : 1000);
        if (d.visit !== undefined) {
          let edge = 0;
          for (const m of mask) if (m & (1 << MASK_PLANES.EDGE)) edge++;
          expect(edge).toBeGreaterThanOrEqual(2 * (d.width + d.height) - 4);
        }
      } finally {
        fits.close();
      }
    }
  });
});

describe('options', () => {
  test('defaults', () => {
    expect(resolveDemoOptions()).toEqual(DEMO_DEFAULTS);
    expect(DEMO_DEFAULTS).toMatchObject({ binning: 4, patches: [17, 16, 18, 10, 24], visits: 6, diffs: 3 });
    const plans = planDemoRepository();
    expect(plans).toHaveLength(5 * 6 + 6 + 3);
    const coadd = plans.find((p) => p.datasetType === 'deepCoadd_calexp')!;
    expect([coadd.wcs.width, coadd.wcs.height]).toEqual([1050, 1050]);
    const calexp = plans.find((p) => p.datasetType === 'calexp')!;
    expect([calexp.wcs.width, calexp.wcs.height]).toEqual([1018, 1000]);
  });

  test('from DEMO_* variables, with errors naming the variable', () => {
    expect(demoOptionsFromEnv({})).toEqual({});
    expect(
      demoOptionsFromEnv({
        DEMO_BINNING: '2',
        DEMO_PATCHES: '17, 10',
        DEMO_BANDS: 'gri',
        DEMO_VISITS: '3',
        DEMO_DIFFS: '1',
        DEMO_SEED: '7',
      }),
    ).toEqual({ binning: 2, patches: [17, 10], bands: ['g', 'r', 'i'], visits: 3, diffs: 1, seed: 7 });
    expect(demoOptionsFromEnv({ DEMO_BANDS: 'z,y' }).bands).toEqual(['z', 'y']);
    expect(() => demoOptionsFromEnv({ DEMO_BINNING: '3' })).toThrow(/DEMO_BINNING/);
    expect(() => demoOptionsFromEnv({ DEMO_PATCHES: '17,49' })).toThrow(/DEMO_PATCHES/);
    expect(() => demoOptionsFromEnv({ DEMO_BANDS: 'gx' })).toThrow(/DEMO_BANDS/);
    expect(() => demoOptionsFromEnv({ DEMO_VISITS: 'six' })).toThrow(/DEMO_VISITS/);
    expect(() => demoOptionsFromEnv({ DEMO_VISITS: '2', DEMO_DIFFS: '3' })).toThrow(/DEMO_DIFFS/);
    expect(() => resolveDemoOptions({ binning: 3 })).toThrow(/binning/);
    expect(() => resolveDemoOptions({ patches: [50] })).toThrow(/patch/);
  });

  test('the command writes the files and reports them (ingest left out with DEMO_INGEST=0)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { demoData } = await import('../../scripts/demo-data');
      const summary = await demoData({
        DATA_DIR: join(dir, 'data'),
        OBSCORE_DB: join(dir, 'obscore.sqlite'),
        LOG_LEVEL: 'silent',
        DEMO_BINNING: '8',
        DEMO_PATCHES: '17',
        DEMO_BANDS: 'i',
        DEMO_VISITS: '1',
        DEMO_DIFFS: '1',
        DEMO_INGEST: '0',
      });
      expect(summary).toMatch(/^demo data: 3 files \([\d.]+ MB, binning 8\) written to .* in [\d.]+ s$/);
      expect(sha256(join(dir, 'data', 'deepCoadd_calexp/4431/17/i/deepCoadd_calexp_4431_17_i.fits'))).toBe(
        sha256(find(repo.datasets, { datasetType: 'deepCoadd_calexp', patch: 17, band: 'i' }).path),
      );
      expect(existsSync(join(dir, 'obscore.sqlite'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
