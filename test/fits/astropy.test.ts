/**
 * Interoperability with astropy.io.fits (the reference Python implementation): files we write
 * must read the same in astropy, and files astropy writes must read the same with this module.
 * Needs astropy (test/helpers/tools.ts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type Card, type FitsFile, type PhysicalPixels, type RawPixels, openFitsSync, writeFitsBuffer } from '../../shared/fits';
import { PYTHON } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { makeTempDir, richInputs } from './helpers';

/**
 * describe PATH: JSON of every HDU as astropy sees it: cards, raw stored values
 * (do_not_scale_image_data) and physical values. write PATH: first writes a file with astropy.
 * Header floats travel as repr() strings, pixel floats as JSON numbers (both exact), integers
 * as decimal strings (64-bit safe), NaN as null.
 */
const SCRIPT = String.raw`
import sys, json, math
import numpy as np
from astropy.io import fits
from astropy.io.fits.card import Undefined

def enc_value(v):
    if v is None or isinstance(v, Undefined): return ['undefined', None]
    if isinstance(v, (bool, np.bool_)): return ['logical', bool(v)]
    if isinstance(v, (int, np.integer)): return ['integer', str(int(v))]
    if isinstance(v, (float, np.floating)): return ['float', repr(float(v))]
    if isinstance(v, complex): return ['complex', [repr(v.real), repr(v.imag)]]
    return ['string', str(v)]

def enc_cards(h):
    out = []
    for c in h.cards:
        if c.keyword in ('COMMENT', 'HISTORY', ''):
            out.append([c.keyword, 'commentary', str(c.value), ''])
        else:
            t, v = enc_value(c.value)
            out.append([c.keyword, t, v, c.comment or ''])
    return out

def enc_array(a):
    if a is None: return None
    flat = np.asarray(a).ravel()  # C order: NAXIS1 fastest, as on disk
    if flat.dtype.kind == 'f':
        return [None if math.isnan(x) else float(x) for x in flat.tolist()]
    return [str(int(x)) for x in flat.tolist()]

def describe(path):
    out = []
    with fits.open(path) as f, fits.open(path, do_not_scale_image_data=True) as raw:
        for hdu, rhdu in zip(f, raw):
            kind = type(hdu).__name__
            entry = {'kind': kind, 'cards': enc_cards(hdu.header) if kind != 'CompImageHDU' else None}
            if kind in ('PrimaryHDU', 'ImageHDU'):
                entry['phys'] = enc_array(hdu.data)
                entry['raw'] = enc_array(rhdu.data)
            out.append(entry)
    return out

def write(path):
    W, H = 7, 5
    prim = fits.PrimaryHDU()
    h = prim.header
    h['OBJECT'] = ("NGC 1234 'core'", 'target')
    h['LONGSTR'] = ('This value is much longer than one card can hold, so astropy continues it. ' * 3).strip()
    h['LONGCMT'] = ('x' * 100, 'a comment that also goes onto CONTINUE cards because the value is long')
    h['HIERARCH ESO DET CHIP NAME'] = 'CCD-1'
    h['HIERARCH ESO TEL AIRM START'] = 1.2345
    h['CPLX'] = complex(1.5, -2)
    h['UNDEF'] = None
    h['BIGNUM'] = 2**70
    h['TINY'] = 1e-300
    h['NEGZERO'] = -0.0
    h['FLAG'] = False
    h['COMMENT'] = 'a comment'
    h['HISTORY'] = 'a history'
    sci = np.arange(W * H, dtype=np.float32).reshape(H, W) / np.float32(3)
    sci[1, 2] = np.nan
    mask = (np.arange(W * H, dtype=np.int32).reshape(H, W) * 104729) - 1000000
    mask[4, 6] = -999
    mask_hdu = fits.ImageHDU(mask, name='MASK')
    mask_hdu.header['BLANK'] = -999
    scaled = fits.ImageHDU(np.arange(W * H, dtype=np.float64).reshape(H, W) * 0.25 - 3.5, name='SCALED')
    scaled.scale('int16', bscale=0.25, bzero=-3.5)
    table = fits.BinTableHDU.from_columns([
        fits.Column(name='ID', format='J', array=np.arange(4, dtype=np.int32)),
        fits.Column(name='VLA', format='PJ()', array=np.array([np.arange(n, dtype=np.int32) for n in range(1, 5)], dtype=object)),
    ], name='CATALOG')
    fits.HDUList([
        prim,
        fits.ImageHDU(sci, name='SCI'),
        table,
        fits.ImageHDU(np.arange(W * H, dtype=np.uint16).reshape(H, W) * 1800, name='U16'),
        mask_hdu,
        scaled,
        fits.CompImageHDU(np.arange(W * H, dtype=np.float32).reshape(H, W), name='COMP'),
        fits.ImageHDU(np.linspace(-1e10, 1e-10, W * H).reshape(H, W), name='F64'),
        fits.ImageHDU(np.arange(W * H, dtype=np.uint8).reshape(H, W), name='U8'),
        fits.ImageHDU(np.arange(W * H, dtype=np.int64).reshape(H, W) * 2**40 - 2**62, name='I64'),
    ]).writeto(path, overwrite=True)

if sys.argv[1] == 'write':
    write(sys.argv[2])
print(json.dumps(describe(sys.argv[2])))
`;

type PyCard = [string, string, unknown, string];
/** Integer pixels as strings, float pixels as numbers, NaN as null. */
type PyPixels = Array<string | number | null>;
interface PyHdu {
  kind: string;
  cards: PyCard[] | null;
  phys?: PyPixels | null;
  raw?: PyPixels | null;
}

function python(mode: 'describe' | 'write', path: string, scriptPath: string): PyHdu[] {
  const r = spawnSync(PYTHON, [scriptPath, mode, path], { encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PyHdu[];
}

/** A card in a comparable shape: floats as numbers, integers as bigint. */
type Norm = [string, string, unknown, string];

function fromPython(c: PyCard): Norm {
  const [k, t, v, comment] = c;
  switch (t) {
    case 'integer':
      return [k, t, BigInt(v as string), comment];
    case 'float':
      return [k, t, Number(v), comment];
    case 'complex': {
      const [re, im] = v as [string, string];
      return [k, t, [Number(re), Number(im)], comment];
    }
    default:
      return [k, t, v, comment];
  }
}

function fromOurs(c: Card): Norm {
  const comment = c.comment ?? '';
  switch (c.type) {
    case 'integer':
      return [c.keyword, 'integer', BigInt(c.value), comment];
    case 'complex':
      return [c.keyword, 'complex', [c.value.re, c.value.im], comment];
    case 'undefined':
      return [c.keyword, 'undefined', null, comment];
    case 'commentary':
      return [c.keyword, 'commentary', c.value, ''];
    default:
      return [c.keyword, c.type, c.value, comment];
  }
}

/** Our pixels in the Python encoding: integers as strings, floats as numbers, NaN as null. */
function pixels(a: RawPixels | PhysicalPixels, integer: boolean): PyPixels {
  const out: PyPixels = [];
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (typeof v === 'bigint' || integer) out.push(String(v));
    else out.push(Number.isNaN(v) ? null : v);
  }
  return out;
}

/** Asserts that our reading of every HDU equals astropy's description of it. */
function compareWithAstropy(file: FitsFile, py: PyHdu[]): void {
  expect(file.hdus.map((h) => h.kind)).toHaveLength(py.length);
  for (const [i, hdu] of file.hdus.entries()) {
    const p = py[i]!;
    const where = `HDU ${i} (${p.kind})`;
    if (p.kind === 'CompImageHDU') {
      expect([where, hdu.kind]).toEqual([where, 'compressed-image']);
      continue;
    }
    expect([where, hdu.header.cards.map(fromOurs)]).toEqual([where, p.cards!.map(fromPython)]);
    if (p.raw === undefined) continue;
    if (p.raw === null) {
      expect([where, hdu.axes.length]).toEqual([where, 0]);
      continue;
    }
    const raw = file.readRawImage(hdu);
    expect([where, pixels(raw.data, raw.bitpix > 0)]).toEqual([where, p.raw]);
    const phys = pixels(file.readImage(hdu, { type: 'float64' }).data, false);
    // astropy returns integer arrays for unscaled or unsigned data: compare as numbers, and it
    // applies BLANK only to scaled data whereas the standard (§4.4.2.5) makes it undefined always.
    const blank = raw.scaling.blank;
    const expected = p.phys!.map((v, k) => (blank !== null && raw.data[k] === blank ? null : typeof v === 'string' ? Number(v) : v));
    expect([where, phys]).toEqual([where, expected]);
  }
}

describeWith('astropy', 'astropy.io.fits interoperability', () => {
  const tmp = makeTempDir();
  const script = tmp.path('describe.py');
  writeFileSync(script, SCRIPT);
  afterAll(() => tmp.cleanup());

  test('a file written by this module opens in astropy with the same cards and pixels', () => {
    const path = tmp.path('ours.fits');
    writeFileSync(path, writeFitsBuffer(richInputs()));
    const py = python('describe', path, script);
    expect(py.map((h) => h.kind)).toEqual(['PrimaryHDU', ...Array<string>(7).fill('ImageHDU')]);
    const file = openFitsSync(path);
    try {
      compareWithAstropy(file, py);
      // Spot checks against astropy's reading, independent of our parser.
      const cards = new Map(py[0]!.cards!.map((c) => [c[0], c]));
      expect(cards.get('ESO DET CHIP NAME')?.[2]).toBe('CCD #3');
      expect(cards.get('LONGSTR')?.[2]).toBe(file.hdus[0]!.header.getString('LONGSTR'));
      expect(cards.get('NEGZERO')?.[2]).toBe('-0.0');
      expect(py[3]!.phys).toEqual(['0', '13107', '26214', '39321', '52428', '65535']); // uint16 via BZERO
      expect(py[4]!.phys).toEqual([-3.25, null, -2.75, -2.5]); // BSCALE/BZERO/BLANK
    } finally {
      file.close();
    }
  });

  test('a file written by astropy (CONTINUE, HIERARCH, BINTABLE heap, tile compression) reads correctly', () => {
    const path = tmp.path('astropy.fits');
    const py = python('write', path, script);
    const file = openFitsSync(path);
    try {
      compareWithAstropy(file, py);
      const h = file.hdus[0]!.header;
      expect(h.getString('LONGSTR')).toBe('This value is much longer than one card can hold, so astropy continues it. '.repeat(3).trim());
      expect(h.getCard('LONGCMT')).toEqual({
        keyword: 'LONGCMT',
        type: 'string',
        value: 'x'.repeat(100),
        comment: 'a comment that also goes onto CONTINUE cards because the value is long',
      });
      expect(h.getString('ESO DET CHIP NAME')).toBe('CCD-1');
      expect(h.getNumber('HIERARCH ESO TEL AIRM START')).toBe(1.2345);
      expect(h.getComplex('CPLX')).toEqual({ re: 1.5, im: -2 });
      expect(h.get('UNDEF')).toBeNull();
      expect(h.getBigInt('BIGNUM')).toBe(2n ** 70n);
      expect(file.hdu('CATALOG').kind).toBe('bintable');
      expect(file.hdu('CATALOG').pcount).toBeGreaterThan(0);
      expect(() => file.readRect('COMP', { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(
        `tile-compressed FITS is not supported: ${path} HDU 6 (COMP)`,
      );
      expect(file.readRect('U16', { x0: 6, y0: 4, width: 1, height: 1 }).data[0]).toBe(34 * 1800);
      expect(file.readRect('SCI', { x0: 2, y0: 1, width: 1, height: 1 }).data[0]).toBeNaN();
      expect(file.readRect('MASK', { x0: 6, y0: 4, width: 1, height: 1 }).data[0]).toBeNaN();
      expect(file.readRawRect('I64', { x0: 1, y0: 0, width: 1, height: 1 }).data[0]).toBe(2n ** 40n - 2n ** 62n);

      // Copy astropy's images through our writer: astropy must still see the same pixels.
      const copyPath = tmp.path('copy.fits');
      const images = file.hdus.filter((x) => x.kind === 'image' && x.index > 0);
      writeFileSync(
        copyPath,
        writeFitsBuffer([
          { header: file.hdus[0]!.header },
          ...images.map((x) => ({ header: x.header, data: file.readRawImage(x).data, shape: x.axes })),
        ]),
      );
      const copy = python('describe', copyPath, script);
      const byName = (list: PyHdu[], name: string): PyHdu => list.find((x) => x.cards?.some((c) => c[0] === 'EXTNAME' && c[2] === name))!;
      for (const name of ['SCI', 'U16', 'MASK', 'SCALED', 'F64', 'U8', 'I64']) {
        expect([name, byName(copy, name).phys]).toEqual([name, byName(py, name).phys]);
        expect([name, byName(copy, name).raw]).toEqual([name, byName(py, name).raw]);
      }
    } finally {
      file.close();
    }
  });
});
