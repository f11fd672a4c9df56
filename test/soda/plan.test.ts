/**
 * Cutout plans on small synthetic files: which HDUs are cut (2-D images with an RA/DEC WCS),
 * their rectangles, the primary HDU copied or cut, BAND/TIME/POL against the dataset's coverage,
 * no overlap → null, and the datasets that cannot be cut.
 */
import { writeFileSync } from 'node:fs';
import { extensionHeader } from '../../shared/demo';
import { type FitsFile, Header, openFitsSync, writeFitsBuffer } from '../../shared/fits';
import { makeCircle, makeRange } from '../../shared/sky';
import { type DatasetCoverage, overlapsCoverage, pixelBox, planCutout } from '../../shared/soda';
import { cutoutOf, exposureHdus, planes, sodaFailure, tanSpec, tempDir, wcsOf } from './helpers';

const UNKNOWN: DatasetCoverage = { emMin: null, emMax: null, tMin: null, tMax: null };
const R_BAND: DatasetCoverage = { emMin: 552e-9, emMax: 691e-9, tMin: 60000.1, tMax: 60000.1 + 30 / 86400 };

const spec = tanSpec({ width: 120, height: 100, ra: 150, dec: 2, arcsecPerPixel: 2, rotation: 30, xy0: [1000, 2000] });
const wcs = wcsOf(spec);
const inside = makeCircle(wcs.pixelToSky0(40, 60), 15 * wcs.pixelScale);

let dir: ReturnType<typeof tempDir>;
const files: Record<string, FitsFile> = {};

function withHeader(edit: (h: Header) => void): Header {
  const h = extensionHeader('IMAGE', spec);
  edit(h);
  return h;
}

beforeAll(() => {
  dir = tempDir();
  const { image } = planes(spec);
  const shape = [spec.width, spec.height];
  const write = (name: string, hdus: Parameters<typeof writeFitsBuffer>[0]): void => {
    writeFileSync(dir.path(name), writeFitsBuffer(hdus));
    files[name] = openFitsSync(dir.path(name));
  };
  write('exposure.fits', exposureHdus(spec));
  write('single.fits', [{ header: extensionHeader('IMAGE', spec), data: image, shape }]);
  write('mixed.fits', [
    { header: new Header().set('ORIGIN', 'test') },
    { header: new Header().set('EXTNAME', 'SPECTRUM'), data: new Float32Array(50), shape: [50] },
    { header: withHeader((h) => h.set('EXTNAME', 'CUBE')), data: new Float32Array(24), shape: [4, 3, 2] },
    { header: new Header().set('EXTNAME', 'NOWCS'), data: image, shape },
    { header: extensionHeader('IMAGE', spec), data: image, shape },
  ]);
  write('nowcs.fits', [{ header: new Header() }, { header: new Header().set('EXTNAME', 'IMAGE'), data: image, shape }]);
  write('sin.fits', [
    { header: new Header() },
    { header: withHeader((h) => h.set('CTYPE1', 'RA---SIN').set('CTYPE2', 'DEC--SIN')), data: image, shape },
  ]);
  write('fk4.fits', [
    { header: new Header() },
    { header: withHeader((h) => h.set('RADESYS', 'FK4').set('EQUINOX', 1950)), data: image, shape },
  ]);
});

afterAll(() => {
  for (const file of Object.values(files)) file.close();
  dir?.cleanup();
});

describe('which HDUs are cut', () => {
  test('a Rubin exposure without spatial filter: IMAGE, MASK and VARIANCE whole, the primary header copied', () => {
    const whole = { x0: 0, y0: 0, width: 120, height: 100 };
    expect(planCutout(files['exposure.fits']!, cutoutOf({}), UNKNOWN)).toEqual({
      primary: 'header',
      hdus: [
        { index: 1, name: 'IMAGE', rect: whole, imageSize: [120, 100] },
        { index: 2, name: 'MASK', rect: whole, imageSize: [120, 100] },
        { index: 3, name: 'VARIANCE', rect: whole, imageSize: [120, 100] },
      ],
    });
  });

  test('a circle: the same rectangle on every plane, the one pixelBox gives', () => {
    const plan = planCutout(files['exposure.fits']!, cutoutOf({ spatial: { param: 'CIRCLE', shape: inside } }), R_BAND)!;
    const rect = pixelBox(wcs, inside);
    expect(rect).toEqual({ x0: 25, y0: 45, width: 31, height: 31 });
    expect(plan.hdus.map((h) => [h.index, h.rect])).toEqual([
      [1, rect],
      [2, rect],
      [3, rect],
    ]);
  });

  test('tables, 1-D arrays, cubes and images without a celestial WCS are left out', () => {
    const plan = planCutout(files['mixed.fits']!, cutoutOf({ spatial: { param: 'POS', shape: inside } }), UNKNOWN)!;
    expect(plan.primary).toBe('header');
    expect(plan.hdus.map((h) => [h.index, h.name])).toEqual([[4, 'IMAGE']]);
  });

  test('a single-image file: the primary HDU itself is cut', () => {
    const plan = planCutout(files['single.fits']!, cutoutOf({ spatial: { param: 'POS', shape: inside } }), UNKNOWN)!;
    expect(plan).toEqual({
      primary: 'cut',
      hdus: [{ index: 0, name: 'IMAGE', rect: { x0: 25, y0: 45, width: 31, height: 31 }, imageSize: [120, 100] }],
    });
  });

  test('a region off the image, or touching no image: null (sync answers 204)', () => {
    const away = makeCircle(wcs.pixelToSky0(400, 60), 10 * wcs.pixelScale);
    expect(planCutout(files['exposure.fits']!, cutoutOf({ spatial: { param: 'CIRCLE', shape: away } }), UNKNOWN)).toBeNull();
    expect(
      planCutout(files['exposure.fits']!, cutoutOf({ spatial: { param: 'POS', shape: makeRange(10, 20, -5, 5) } }), UNKNOWN),
    ).toBeNull();
  });
});

describe('BAND, TIME and POL against the coverage (SODA 1.0 §3.4: bounds of the archived dataset)', () => {
  const plan = (filters: Parameters<typeof cutoutOf>[0], coverage: DatasetCoverage) =>
    planCutout(files['exposure.fits']!, cutoutOf(filters), coverage);

  test.each<[string, { lo: number; hi: number }, boolean]>([
    ['inside', { lo: 600e-9, hi: 610e-9 }, true],
    ['covering', { lo: -Infinity, hi: Infinity }, true],
    ['touching the lower end', { lo: 500e-9, hi: 552e-9 }, true],
    ['touching the upper end', { lo: 691e-9, hi: Infinity }, true],
    ['below', { lo: -Infinity, hi: 551e-9 }, false],
    ['above', { lo: 700e-9, hi: 800e-9 }, false],
  ])('BAND %s the r band', (_name, band, overlapping) => {
    expect(plan({ band }, R_BAND) !== null).toBe(overlapping);
  });

  test('TIME inside, around, before and after the exposure', () => {
    expect(plan({ time: { lo: 60000.1, hi: 60000.1 } }, R_BAND)).not.toBeNull();
    expect(plan({ time: { lo: 59000, hi: Infinity } }, R_BAND)).not.toBeNull();
    expect(plan({ time: { lo: -Infinity, hi: 60000 } }, R_BAND)).toBeNull();
    expect(plan({ time: { lo: 60000.2, hi: 60001 } }, R_BAND)).toBeNull();
  });

  test('unknown coverage (null) never excludes; a known bound still does', () => {
    expect(plan({ band: { lo: 1, hi: 2 }, time: { lo: 0, hi: 1 } }, UNKNOWN)).not.toBeNull();
    expect(plan({ band: { lo: 1, hi: 2 } }, { ...UNKNOWN, emMax: 1e-6 })).toBeNull();
    expect(plan({ band: { lo: 1, hi: 2 } }, { ...UNKNOWN, emMin: 1e-7 })).not.toBeNull();
  });

  test('POL: data without polarization states never match; with states, any common one does', () => {
    expect(plan({ pol: ['I'] }, R_BAND)).toBeNull();
    expect(plan({ pol: ['I'] }, { ...R_BAND, polStates: null })).toBeNull();
    expect(plan({ pol: ['Q', 'V'] }, { ...R_BAND, polStates: '/I/Q/U/' })).not.toBeNull();
    expect(plan({ pol: ['V'] }, { ...R_BAND, polStates: '/I/Q/U/' })).toBeNull();
    expect(overlapsCoverage({ spatial: null, band: null, time: null, pol: ['I'] }, { ...UNKNOWN, polStates: 'I' })).toBe(true);
  });

  test('a BAND outside the coverage wins over a region on the image', () => {
    expect(plan({ spatial: { param: 'CIRCLE', shape: inside }, band: { lo: 1e-7, hi: 2e-7 } }, R_BAND)).toBeNull();
  });
});

describe('datasets that cannot be cut: UsageError naming the HDU', () => {
  test('no 2-D image with an RA/DEC WCS', () => {
    expect(sodaFailure(() => planCutout(files['nowcs.fits']!, cutoutOf({}), UNKNOWN))).toBe(
      'UsageError: the dataset has no 2-D image with a celestial (RA/DEC) WCS to cut out\n',
    );
  });

  test('an RA/DEC WCS the service cannot evaluate', () => {
    expect(sodaFailure(() => planCutout(files['sin.fits']!, cutoutOf({}), UNKNOWN))).toBe(
      "UsageError: HDU 1 (IMAGE) of the dataset cannot be cut: unsupported projection SIN in CTYPE1 = 'RA---SIN'; only TAN (optionally TAN-SIP) is supported\n",
    );
  });

  test('a non-ICRS frame: whole images only, a region is refused', () => {
    expect(planCutout(files['fk4.fits']!, cutoutOf({}), UNKNOWN)?.hdus).toHaveLength(1);
    expect(sodaFailure(() => planCutout(files['fk4.fits']!, cutoutOf({ spatial: { param: 'CIRCLE', shape: inside } }), UNKNOWN))).toBe(
      'UsageError: HDU 1 (IMAGE) of the dataset has its WCS in FK4, not ICRS: SODA positions cannot be applied to it\n',
    );
  });
});
