/**
 * previewOfFits / planeOfFits on files written by this project's writer (Rubin layout: empty
 * primary, IMAGE float32, MASK with MP_ keywords, VARIANCE; and a BITPIX 16 primary with
 * BSCALE/BZERO/BLANK) and by astropy (BITPIX 16 scaled with ImageHDU.scale), against astropy
 * reading the same file. Needs astropy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FitsError, Header, openFitsSync, writeFitsBuffer } from '../../shared/fits';
import {
  type Cuts,
  type DisplayOptions,
  type Stretch,
  downsample,
  downsampledPlaneOfFits,
  planeHdus,
  planeOfFits,
  previewOfFits,
} from '../../shared/preview';
import { seededRandom } from '../../shared/random';
import { runPython } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { decodePng, makeSky, pictureIndex, pythonReference } from './helpers';

const W = 40;
const H = 30;
const NO_DATA = 1 << 8;
const DETECTED = 1 << 5;

/** Physical values as astropy sees them (raw + BZERO/BSCALE, BLANK and MASK NO_DATA → NaN), then the reference levels. */
const BODY = String.raw`
from astropy.io import fits
RESULTS = []
for arrays, prm in CASES:
    with fits.open(prm['path'], do_not_scale_image_data=True) as hl:
        hdu = hl[prm['hdu']]
        raw, hdr = hdu.data, hdu.header
        if raw.dtype.kind == 'f':
            a = raw.astype(raw.dtype.newbyteorder('='))
        else:
            a = hdr.get('BZERO', 0) + hdr.get('BSCALE', 1) * raw.astype(np.float64)
            if 'BLANK' in hdr:
                a[raw == hdr['BLANK']] = np.nan
        if prm['mask']:
            m = hl['MASK']
            a[(m.data.astype(np.int64) & (1 << m.header['MP_NO_DATA'])) != 0] = np.nan
        a[~np.isfinite(a)] = np.nan
        nan = int(np.isnan(a).sum())
        if prm.get('maxSide'):
            a = downsample(a, prm['maxSide'])
        lo, hi, lev = levels(a, prm['cuts'], prm['stretch'])
        RESULTS.append({'levels': lev.ravel().tolist(), 'shape': list(lev.shape), 'dtype': str(raw.dtype.newbyteorder('=')), 'nan': nan})
`;

function extension(name: string, extra: (h: Header) => void = () => undefined): Header {
  const h = new Header();
  h.set('EXTNAME', name);
  extra(h);
  return h;
}

describeWith('astropy', 'previewOfFits', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const image = makeSky(W, H, 'fits-image');
  image[7] = NaN;
  const mask = new Int32Array(W * H);
  const rand = seededRandom('fits-mask');
  for (let i = 0; i < mask.length; i++) {
    if (rand() < 0.05) mask[i]! |= NO_DATA;
    if (rand() < 0.2) mask[i]! |= DETECTED;
  }
  for (let x = 0; x < W; x++) mask[2 * W + x] = NO_DATA; // row 3 (FITS) has no data
  const scaledRaw = Int16Array.from(makeSky(W, H, 'fits-int16'), (v) => Math.round(v * 10 - 1500));
  scaledRaw[W * 5 + 3] = -32768;
  scaledRaw[W * 20 + 30] = -32768;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-fits-'));
    const primary = new Header();
    primary.set('OBJECT', 'preview test');
    const maskHeader = extension('MASK', (h) => {
      h.set('MP_DETECTED', 5);
      h.set('MP_NO_DATA', 8);
    });
    fs.writeFileSync(
      file('rubin.fits'),
      writeFitsBuffer([
        { header: primary },
        { header: extension('IMAGE'), data: image, shape: [W, H] },
        { header: maskHeader, data: mask, shape: [W, H] },
        { header: extension('VARIANCE'), data: Float32Array.from(image, (v) => Math.abs(v) + 25), shape: [W, H] },
      ]),
    );
    const scaledHeader = new Header();
    scaledHeader.set('BSCALE', 0.5);
    scaledHeader.set('BZERO', 1000);
    scaledHeader.set('BLANK', -32768);
    fs.writeFileSync(file('int16.fits'), writeFitsBuffer([{ header: scaledHeader, data: scaledRaw, shape: [W, H] }]));
    // astropy's own BITPIX 16: physical values stored with ImageHDU.scale (BSCALE 0.25, BZERO 3000).
    await runPython(
      String.raw`
import sys, numpy as np
from astropy.io import fits
rng = np.random.default_rng(7)
phys = (3000 + 40 * rng.standard_normal((${H}, ${W}))).astype(np.float64)
phys[5:8, 10:14] += 2000
hdu = fits.PrimaryHDU(phys)
hdu.scale('int16', bscale=0.25, bzero=3000)
fits.HDUList([hdu]).writeto(sys.argv[1], overwrite=True)
`,
      [file('astropy16.fits')],
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: {
    name: string;
    path: string;
    hdu: number;
    mask: boolean;
    stretch: Stretch;
    cuts: Cuts;
    extname?: string;
    maxSide?: number;
    dtype: string;
  }[] = [
    {
      name: 'Rubin calexp layout, IMAGE + MASK',
      path: 'rubin.fits',
      hdu: 1,
      mask: true,
      stretch: 'asinh',
      cuts: { kind: 'percentile', lo: 0.5, hi: 99.5 },
      dtype: 'float32',
    },
    {
      name: 'extname VARIANCE (the MASK applies to it too)',
      path: 'rubin.fits',
      hdu: 3,
      mask: true,
      stretch: 'linear',
      cuts: { kind: 'minmax' },
      extname: 'VARIANCE',
      dtype: 'float32',
    },
    {
      name: 'BITPIX 16, BSCALE/BZERO/BLANK (our writer)',
      path: 'int16.fits',
      hdu: 0,
      mask: false,
      stretch: 'sqrt',
      cuts: { kind: 'zscale' },
      dtype: 'int16',
    },
    {
      name: 'Rubin layout shrunk to 13 pixels a side (read in strips)',
      path: 'rubin.fits',
      hdu: 1,
      mask: true,
      stretch: 'asinh',
      cuts: { kind: 'zscale' },
      maxSide: 13,
      dtype: 'float32',
    },
    {
      name: 'BITPIX 16 with BLANK shrunk to 10 pixels a side',
      path: 'int16.fits',
      hdu: 0,
      mask: false,
      stretch: 'linear',
      cuts: { kind: 'percentile', lo: 2, hi: 98 },
      maxSide: 10,
      dtype: 'int16',
    },
    {
      name: 'BITPIX 16 scaled by astropy',
      path: 'astropy16.fits',
      hdu: 0,
      mask: false,
      stretch: 'log',
      cuts: { kind: 'minmax' },
      dtype: 'int16',
    },
  ];

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const [ref] = await pythonReference<{ levels: number[]; shape: [number, number]; dtype: string; nan: number }>(BODY, [
      {
        arrays: {},
        params: { path: file(c.path), hdu: c.hdu, mask: c.mask, cuts: c.cuts, stretch: c.stretch, maxSide: c.maxSide ?? null },
      },
    ]);
    expect(ref!.dtype).toBe(c.dtype);
    const [h, w] = ref!.shape;
    expect([w, h]).toEqual(c.maxSide ? [Math.ceil(W / Math.ceil(W / c.maxSide)), Math.ceil(H / Math.ceil(W / c.maxSide))] : [W, H]);
    const options: DisplayOptions = { stretch: c.stretch, cuts: c.cuts, cmap: 'gray', ...(c.maxSide ? { maxSide: c.maxSide } : {}) };
    const planeOptions = c.extname ? { extname: c.extname } : {};
    const fromPath = await previewOfFits(file(c.path), options, 'png', planeOptions);
    const fromBytes = await previewOfFits(fs.readFileSync(file(c.path)), options, 'png', planeOptions);
    expect(fromBytes.equals(fromPath)).toBe(true);
    const pic = decodePng(fromPath);
    expect([pic.width, pic.height]).toEqual([w, h]);
    let exact = 0;
    ref!.levels.forEach((level, i) => {
      const p = pictureIndex(w, h, i);
      if (level === -1) {
        expect(pic.rgba[4 * p + 3]).toBe(0);
        return;
      }
      expect(pic.rgba[4 * p + 3]).toBe(255);
      expect(Math.abs(pic.rgba[4 * p]! - level)).toBeLessThanOrEqual(1);
      if (pic.rgba[4 * p] === level) exact++;
    });
    expect(exact / ref!.levels.filter((l) => l !== -1).length).toBeGreaterThanOrEqual(0.99);
    // The pixels without data are the ones the file says: NaN, BLANK, MASK NO_DATA.
    const expectedMissing = {
      'rubin.fits': c.mask ? 1 + mask.filter((m, i) => m & NO_DATA && i !== 7).length : 0,
      'int16.fits': 2,
      'astropy16.fits': 0,
    }[c.path];
    expect(ref!.nan).toBe(expectedMissing);
  });

  test('planeOfFits: float32 IMAGE, MASK NO_DATA only (not DETECTED), float64 for scaled integers', () => {
    const bytes = fs.readFileSync(file('rubin.fits'));
    const plane = planeOfFits(bytes);
    expect(plane.data).toBeInstanceOf(Float32Array);
    expect([plane.width, plane.height]).toEqual([W, H]);
    expect(plane.data).toEqual(image);
    expect([...plane.masked!]).toEqual([...mask].map((m) => (m & NO_DATA ? 1 : 0)));
    // Asking for DETECTED too marks those pixels as well.
    const both = planeOfFits(bytes, { maskPlanes: ['NO_DATA', 'detected'] });
    expect([...both.masked!]).toEqual([...mask].map((m) => (m & (NO_DATA | DETECTED) ? 1 : 0)));
    // A plane name the MASK does not define: no mask at all.
    expect(planeOfFits(bytes, { maskPlanes: ['CR'] }).masked).toBeUndefined();
    const scaled = planeOfFits(fs.readFileSync(file('int16.fits')));
    expect(scaled.data).toBeInstanceOf(Float64Array);
    expect(scaled.data[0]).toBe(1000 + 0.5 * scaledRaw[0]!);
    expect(scaled.data[W * 5 + 3]).toBeNaN();
    expect(scaled.masked).toBeUndefined();
    const f = openFitsSync(file('rubin.fits'));
    try {
      const hdus = planeHdus(f);
      expect([hdus.image.extname, hdus.mask?.hdu.extname, hdus.mask?.bits]).toEqual(['IMAGE', 'MASK', NO_DATA]);
      expect(planeHdus(f, { extname: 'MASK' }).mask).toBeNull(); // drawing the mask itself
    } finally {
      f.close();
    }
  });

  test('read in strips and averaged on the way: the same plane as downsampling the whole image', () => {
    for (const [name, extname] of [
      ['rubin.fits', undefined],
      ['rubin.fits', 'VARIANCE'],
      ['int16.fits', undefined],
      ['astropy16.fits', undefined],
    ] as const) {
      const f = openFitsSync(file(name));
      try {
        const planeOptions = extname ? { extname } : {};
        const whole = planeOfFits(f, planeOptions);
        for (const maxSide of [39, 13, 7, 1]) {
          const expected = downsample(whole, maxSide);
          // Strips of one block row, of a few, and of the whole image (the last one partial).
          for (const stripBytes of [1, 700, 5000, 1 << 20]) {
            const strips = downsampledPlaneOfFits(f, maxSide, planeOptions, stripBytes);
            expect(strips).toEqual(expected);
          }
        }
        // Factor 1: the whole plane, as planeOfFits reads it.
        expect(downsampledPlaneOfFits(f, 40, planeOptions)).toEqual(whole);
      } finally {
        f.close();
      }
    }
  });

  test('files without an image to draw are FitsErrors', async () => {
    fs.writeFileSync(file('empty.fits'), writeFitsBuffer([{ header: new Header() }]));
    const options: DisplayOptions = { stretch: 'linear', cuts: { kind: 'minmax' }, cmap: 'gray' };
    await expect(previewOfFits(file('empty.fits'), options, 'png')).rejects.toThrow(FitsError);
    await expect(previewOfFits(file('empty.fits'), options, 'png')).rejects.toThrow(/has no image HDU with data/);
    await expect(previewOfFits(file('rubin.fits'), options, 'png', { extname: 'NOPE' })).rejects.toThrow('has no HDU with EXTNAME "NOPE"');
    await expect(previewOfFits(file('missing.fits'), options, 'png')).rejects.toThrow(/ENOENT/);
  });
});
