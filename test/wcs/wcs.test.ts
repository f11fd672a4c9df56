import { angularDistance, contains, distanceToShape, skyBoundingBox } from '../../shared/sky';
import { WcsError, headerFromRecord, parseWcs } from '../../shared/wcs';
import type { HeaderValue } from '../../shared/wcs';
import { HEADERS, type Header, fitInverseSip } from './headers';

const headerNamed = (prefix: string): Header => {
  const found = HEADERS.find((h) => h.name.startsWith(prefix));
  if (found === undefined) throw new Error(`no test header ${prefix}`);
  return found.header;
};
const wcsOf = (header: Header) => parseWcs(headerFromRecord(header));
const errorOf = (header: Header): string => {
  try {
    wcsOf(header);
  } catch (error) {
    expect(error).toBeInstanceOf(WcsError);
    return (error as Error).message;
  }
  throw new Error('expected a WcsError');
};

const TAN = headerNamed('TAN with CD');
const SIP = headerNamed('TAN-SIP order 3 without');

describe('pixel conventions', () => {
  it('maps CRPIX to CRVAL', () => {
    const wcs = wcsOf(TAN);
    const sky = wcs.pixelToSky(1024.5, 2048.5);
    expect(sky.ra).toBeCloseTo(150.1, 12);
    expect(sky.dec).toBeCloseTo(2.2, 12);
    expect(wcs.crval).toEqual({ ra: 150.1, dec: 2.2 });
  });

  it('0-based helpers are the FITS coordinates minus one', () => {
    for (const header of [TAN, SIP]) {
      const wcs = wcsOf(header);
      for (const [x, y] of [
        [1, 1],
        [100.25, 3000.75],
        [2048, 17],
      ] as const) {
        expect(wcs.pixelToSky0(x - 1, y - 1)).toEqual(wcs.pixelToSky(x, y));
        const sky = wcs.pixelToSky(x, y);
        const fits = wcs.skyToPixel(sky.ra, sky.dec);
        const zero = wcs.skyToPixel0(sky.ra, sky.dec);
        expect(zero.x).toBeCloseTo(fits.x - 1, 9);
        expect(zero.y).toBeCloseTo(fits.y - 1, 9);
      }
    }
  });

  it('batch variants match the single-point ones for both origins', () => {
    const wcs = wcsOf(SIP);
    const xs = [1, 500.5, 2048, 0.5];
    const ys = [1, 4000.25, 12, 4176.5];
    const fits = wcs.pixelToSkyBatch(xs, ys, 1);
    const zero = wcs.pixelToSkyBatch(
      xs.map((x) => x - 1),
      ys.map((y) => y - 1),
      0,
    );
    xs.forEach((x, i) => {
      const single = wcs.pixelToSky(x, ys[i]!);
      expect(fits.ra[i]).toBe(single.ra);
      expect(fits.dec[i]).toBe(single.dec);
      expect(zero.ra[i]).toBe(single.ra);
    });
    const back = wcs.skyToPixelBatch(fits.ra, fits.dec, 0);
    xs.forEach((x, i) => {
      expect(back.x[i]).toBeCloseTo(x - 1, 7);
      expect(back.y[i]).toBeCloseTo(ys[i]! - 1, 7);
    });
    expect(() => wcs.pixelToSkyBatch([1, 2], [1], 1)).toThrow(RangeError);
  });

  it('SIP inverse round-trips below 1e-8 pixel, with or without AP/BP, also just outside the image', () => {
    for (const header of [SIP, { ...SIP, ...fitInverseSip(SIP, 4) }]) {
      const wcs = wcsOf(header);
      for (let x = -200; x <= 2250; x += 245) {
        for (let y = -200; y <= 4400; y += 460) {
          const sky = wcs.pixelToSky(x, y);
          const back = wcs.skyToPixel(sky.ra, sky.dec);
          expect(Math.hypot(back.x - x, back.y - y)).toBeLessThan(1e-8);
        }
      }
    }
  });

  it('positions TAN cannot show (90° or more from the reference point) give NaN', () => {
    const wcs = wcsOf(TAN);
    const far = wcs.skyToPixel(330.1, -2.2);
    expect(far.x).toBeNaN();
    expect(far.y).toBeNaN();
    expect(wcs.containsSky(330.1, -2.2)).toBe(false);
  });
});

describe('header forms', () => {
  it('accepts a ReadonlyMap, a get() interface, numeric strings and D exponents', () => {
    const reference = wcsOf(TAN).pixelToSky(10, 20);
    const map: ReadonlyMap<string, HeaderValue> = new Map(Object.entries(TAN));
    expect(parseWcs(map).pixelToSky(10, 20)).toEqual(reference);
    const asText = Object.fromEntries(
      Object.entries(TAN).map(([k, v]) => [k, typeof v === 'number' ? String(v).replace('e', 'D') : `${v}   `]),
    );
    expect(parseWcs({ get: (key: string) => asText[key] }).pixelToSky(10, 20)).toEqual(reference);
  });

  it('prefers PC over CD (wcslib precedence) and defaults to 1°/pixel without any matrix', () => {
    const pc = headerNamed('PC + CDELT');
    const withStrayCd = { ...pc, CD1_1: 1, CD2_2: 1 };
    expect(wcsOf(withStrayCd).pixelToSky(1, 1)).toEqual(wcsOf(pc).pixelToSky(1, 1));
    expect(wcsOf(withStrayCd).linearConvention).toBe('PC');
    const bare = wcsOf({ CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN', CRPIX1: 1, CRPIX2: 1, CRVAL1: 0, CRVAL2: 0 });
    expect(bare.linearConvention).toBe('default');
    expect(bare.pixelScale).toBe(1);
    // One pixel along x is 1° of intermediate x, i.e. RA = atan(π/180) rad on the equator (gnomonic).
    const east = bare.pixelToSky(2, 1);
    expect(east.ra).toBeCloseTo((Math.atan(Math.PI / 180) * 180) / Math.PI, 12);
  });

  it('reads an alternative description', () => {
    const alternative = Object.fromEntries(Object.entries(TAN).map(([k, v]) => [k.startsWith('NAXIS') ? k : `${k}A`, v]));
    const wcs = parseWcs(headerFromRecord({ ...alternative, NAXIS1: 2048, NAXIS2: 4096 }), { alt: 'A' });
    expect(wcs.pixelToSky(10, 20)).toEqual(wcsOf(TAN).pixelToSky(10, 20));
  });

  it('records RADESYS and whether it can be used as ICRS', () => {
    expect(wcsOf(TAN)).toMatchObject({ radesys: 'ICRS', icrsCompatible: true });
    expect(wcsOf(headerNamed('PC + CDELT'))).toMatchObject({ radesys: 'FK5', equinox: 2000, icrsCompatible: true });
    expect(wcsOf({ ...TAN, RADESYS: 'FK4', EQUINOX: 1950 })).toMatchObject({ radesys: 'FK4', icrsCompatible: false });
    const { RADESYS: _omitted, ...withoutFrame } = TAN;
    expect(wcsOf(withoutFrame)).toMatchObject({ radesys: 'ICRS', icrsCompatible: true });
    expect(wcsOf({ ...withoutFrame, EQUINOX: 1950 })).toMatchObject({ radesys: 'FK4', icrsCompatible: false });
    expect(wcsOf({ ...withoutFrame, EQUINOX: 2000 })).toMatchObject({ radesys: 'FK5', icrsCompatible: true });
  });
});

describe('footprint', () => {
  it('plain TAN: corners, centre, scale; edges are exact great circles', () => {
    const wcs = wcsOf(TAN);
    const footprint = wcs.footprint();
    expect(footprint.polygon.vertices).toHaveLength(4);
    expect(footprint.corners[0]).toEqual(wcs.pixelToSky(0.5, 0.5));
    expect(footprint.corners[2]).toEqual(wcs.pixelToSky(2048.5, 4096.5));
    expect(footprint.center).toEqual(wcs.pixelToSky(1024.5, 2048.5));
    expect(footprint.pixelScale).toBeCloseTo(Math.sqrt(7.3e-5 * 7.3e-5 + 1.2e-6 * 1.1e-6), 15);
    for (let t = 0; t <= 1; t += 0.05) {
      expect(contains(footprint.polygon, wcs.pixelToSky(0.5 + 2048 * t, 0.5))).toBe(true);
      expect(contains(footprint.polygon, wcs.pixelToSky(2048.5, 0.5 + 4096 * t))).toBe(true);
      expect(contains(footprint.polygon, wcs.pixelToSky(0.5 + 2048 * t, 3000))).toBe(true);
    }
    expect(contains(footprint.polygon, wcs.pixelToSky(-1, 100))).toBe(false);
    expect(wcs.containsSky(footprint.center.ra, footprint.center.dec)).toBe(true);
  });

  it('SIP: densified edges follow the distortion to a small fraction of a pixel', () => {
    const wcs = wcsOf(SIP);
    const footprint = wcs.footprint();
    expect(footprint.polygon.vertices).toHaveLength(32);
    for (let t = 0; t <= 1; t += 0.01) {
      const edge = wcs.pixelToSky(0.5 + 2048 * t, 0.5);
      expect(distanceToShape(footprint.polygon, edge)).toBeLessThan(0.2 * wcs.pixelScale);
    }
  });

  it('an image straddling RA 0 and one containing the pole', () => {
    const straddle = wcsOf(headerNamed('straddling')).footprint();
    expect(contains(straddle.polygon, { ra: 0, dec: 10 })).toBe(true);
    const box = skyBoundingBox(straddle.polygon);
    expect(box.raMin).toBeGreaterThan(359);
    expect(box.raMax).toBeLessThan(1);
    const polar = wcsOf(headerNamed('near the south pole')).footprint();
    expect(contains(polar.polygon, { ra: 0, dec: -90 })).toBe(true);
    expect(angularDistance(polar.center, { ra: 45, dec: -89.5 })).toBeLessThan(1e-9);
  });

  it('needs the image size', () => {
    const { NAXIS1: _n1, NAXIS2: _n2, ...sizeless } = TAN;
    expect(() => wcsOf(sizeless).footprint()).toThrow('footprint needs the image size');
    expect(parseWcs(headerFromRecord(sizeless), { imageSize: [2048, 4096] }).footprint().corners).toHaveLength(4);
  });
});

describe('errors', () => {
  it.each([
    [
      { CTYPE1: 'RA---SIN', CTYPE2: 'DEC--SIN' },
      "unsupported projection SIN in CTYPE1 = 'RA---SIN'; only TAN (optionally TAN-SIP) is supported",
    ],
    [
      { CTYPE1: 'RA---TPV', CTYPE2: 'DEC--TPV' },
      "unsupported projection TPV in CTYPE1 = 'RA---TPV'; only TAN (optionally TAN-SIP) is supported",
    ],
    [{ CTYPE1: 'RA---TAN-ZPX', CTYPE2: 'DEC--TAN-ZPX' }, "unsupported distortion ZPX in CTYPE1 = 'RA---TAN-ZPX'; only SIP is supported"],
    [
      { CTYPE1: 'GLON-TAN', CTYPE2: 'GLAT-TAN' },
      "unsupported celestial coordinate type GLON in CTYPE1 = 'GLON-TAN'; only equatorial RA/DEC is supported",
    ],
    [
      { CTYPE1: 'LINEAR', CTYPE2: '' },
      "no celestial RA/DEC axis pair in CTYPE1 = 'LINEAR', CTYPE2 = ''; expected e.g. RA---TAN and DEC--TAN",
    ],
    [{ CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN-SIP' }, "CTYPE1 = 'RA---TAN' and CTYPE2 = 'DEC--TAN-SIP' disagree about SIP distortion"],
    [
      { CTYPE1: 'RA---TAN-SIP', CTYPE2: 'DEC--TAN-SIP', A_ORDER: undefined },
      "CTYPE1 = 'RA---TAN-SIP' declares SIP distortion but A_ORDER is missing",
    ],
    [{ CD1_1: 0, CD1_2: 0 }, 'the CD matrix of the celestial axes is singular'],
    [{ CUNIT1: 'arcsec' }, "unsupported unit CUNIT1 = 'arcsec'; celestial axes must be in deg"],
    [{ CRVAL2: 95 }, 'CRVAL2 = 95 is not a valid declination'],
    [{ PV1_1: 10 }, 'PV1_1/PV1_2 move the fiducial point of TAN; this is not supported'],
    [{ CRPIX1: 'abc' }, 'CRPIX1 must be a number, got "abc"'],
  ] as Array<[Record<string, HeaderValue | undefined>, string]>)('%p → %s', (changes, message) => {
    const header: Header = { ...TAN };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete header[key];
      else header[key] = value;
    }
    expect(errorOf(header)).toBe(message);
  });

  it('requires the celestial axes to be the first two', () => {
    expect(errorOf({ ...TAN, NAXIS: 3, CTYPE1: 'FREQ', CTYPE2: 'DEC--TAN', CTYPE3: 'RA---TAN' })).toBe(
      'the celestial axes must be the first two image axes, but RA is axis 3',
    );
  });
});
