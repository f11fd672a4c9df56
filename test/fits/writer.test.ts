import { readFileSync } from 'node:fs';
import {
  FitsError,
  Header,
  type ImageHduInput,
  fitsChunks,
  openFits,
  openFitsBuffer,
  writeFitsBuffer,
  writeFitsFile,
} from '../../shared/fits';
import { makeTempDir, rec, richInputs } from './helpers';

function records(bytes: Buffer, from: number, count: number): string[] {
  const text = bytes.toString('latin1', from, from + count * 80);
  return Array.from({ length: count }, (_, i) => text.slice(i * 80, i * 80 + 80));
}

describe('writing FITS', () => {
  const tmp = makeTempDir();
  afterAll(() => tmp.cleanup());

  test('structural keywords come first in mandatory order; other cards keep their order', () => {
    const messy = new Header()
      .set('OBJECT', 'M31')
      .set('NAXIS', 3)
      .set('BITPIX', 16)
      .set('SIMPLE', true)
      .set('EXTEND', false)
      .set('NAXIS1', 99)
      .set('PCOUNT', 5)
      .set('AFTER', 1);
    const bytes = writeFitsBuffer([{ header: messy }, { header: messy, data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] }]);
    expect(records(bytes, 0, 7)).toEqual([
      rec('SIMPLE  =                    T / conforms to FITS standard'),
      rec('BITPIX  =                   16 / array data type'),
      rec('NAXIS   =                    0 / number of array dimensions'),
      rec('EXTEND  =                    T / FITS dataset may contain extensions'),
      rec("OBJECT  = 'M31     '"),
      rec('AFTER   =                    1'),
      rec('END'),
    ]);
    expect(bytes.toString('latin1', 7 * 80, 2880).trim()).toBe(''); // header padded with spaces
    expect(records(bytes, 2880, 10)).toEqual([
      rec("XTENSION= 'IMAGE   '           / Image extension"),
      rec('BITPIX  =                  -32 / array data type'),
      rec('NAXIS   =                    2 / number of array dimensions'),
      rec('NAXIS1  =                    3'),
      rec('NAXIS2  =                    2'),
      rec('PCOUNT  =                    0 / number of parameters'),
      rec('GCOUNT  =                    1 / number of groups'),
      rec("OBJECT  = 'M31     '"),
      rec('AFTER   =                    1'),
      rec('END'),
    ]);
    // Data: big-endian, zero padded to the block.
    expect(bytes.length).toBe(3 * 2880);
    expect(bytes.readFloatBE(5760)).toBe(1);
    expect(bytes.readFloatBE(5760 + 20)).toBe(6);
    expect(bytes.subarray(5760 + 24).every((b) => b === 0)).toBe(true);
  });

  test('a primary with data and no extensions has no EXTEND; unsigned data get BZERO/BSCALE', () => {
    const bytes = writeFitsBuffer([{ data: new Uint16Array([0, 65535]), shape: [2] }]);
    expect(records(bytes, 0, 7)).toEqual([
      rec('SIMPLE  =                    T / conforms to FITS standard'),
      rec('BITPIX  =                   16 / array data type'),
      rec('NAXIS   =                    1 / number of array dimensions'),
      rec('NAXIS1  =                    2'),
      rec('BZERO   =                32768 / offset for unsigned integers'),
      rec('BSCALE  =                    1 / default scaling factor'),
      rec('END'),
    ]);
    expect(bytes.readInt16BE(2880)).toBe(-32768);
    expect(bytes.readInt16BE(2882)).toBe(32767);
    expect(openFitsBuffer(bytes).readImage(0).data).toEqual(new Float64Array([0, 65535]));
  });

  test('shape errors, conflicting BZERO, and shape taken from the header', () => {
    expect(() => writeFitsBuffer([{ data: new Float32Array(6), shape: [4, 2] }])).toThrow(
      'primary HDU: shape [4, 2] does not hold 6 values',
    );
    expect(() => writeFitsBuffer([{ data: new Float32Array(6) }])).toThrow(/a shape is needed/);
    expect(() => writeFitsBuffer([{ header: new Header().set('BZERO', 5), data: new Uint16Array(2), shape: [2] }])).toThrow(FitsError);
    expect(() => writeFitsBuffer([])).toThrow(FitsError);
    const withAxes = new Header().set('NAXIS', 2).set('NAXIS1', 3).set('NAXIS2', 2);
    const file = openFitsBuffer(writeFitsBuffer([{ header: withAxes, data: new Float32Array(6) }]));
    expect(file.hdus[0]!.axes).toEqual([3, 2]);
  });

  test('round trip: write → read → write gives identical bytes and the same cards', async () => {
    const inputs = richInputs();
    const first = writeFitsBuffer(inputs);
    const path = tmp.path('rich.fits');
    await writeFitsFile(path, inputs);
    expect(readFileSync(path).equals(first)).toBe(true);
    expect(Buffer.concat([...fitsChunks(inputs, 16)]).equals(first)).toBe(true);

    const file = await openFits(path);
    try {
      expect(file.hdus).toHaveLength(inputs.length);
      const copied: ImageHduInput[] = file.hdus.map((hdu) => {
        if (hdu.axes.length === 0) return { header: hdu.header };
        return { header: hdu.header, data: file.readRawImage(hdu).data, shape: hdu.axes };
      });
      const second = writeFitsBuffer(copied);
      expect(second.equals(first)).toBe(true);

      // Card values survive (the writer only prepends structural keywords).
      const primary = file.hdus[0]!.header;
      for (const card of inputs[0]!.header!.cards) {
        expect(primary.cards).toContainEqual(card);
      }
      expect(primary.getString('LONGSTR')).toBe(inputs[0]!.header!.getString('LONGSTR'));
      expect(primary.getCard('LONGSTR')!.comment).toBe('and a comment');
      expect(primary.getString('ESO DET CHIP NAME')).toBe('CCD #3');
      expect(Object.is(primary.getNumber('NEGZERO'), -0)).toBe(true);
      expect(primary.getBigInt('BIGINT')).toBe(123456789012345678901234567890n);
      expect(file.readImage('U16').data).toEqual(new Float64Array([0, 13107, 26214, 39321, 52428, 65535]));
      expect(file.readImage('SCALED').data).toEqual(new Float64Array([-3.25, NaN, -2.75, -2.5]));
      expect(file.readRawImage('I64').data).toEqual(new BigInt64Array([1n, -1n, 2n ** 62n]));
      expect(file.readImage('F64').data).toEqual(new Float64Array([Math.PI, -Math.E, 1e-300]));
      expect(file.readRawImage('SCI').data).toEqual(inputs[1]!.data);
      expect(file.hdu('BYTES').dataSize).toBe(5);
    } finally {
      file.close();
    }
  });

  test('a file written from physical unsigned data and from its raw copy are identical', () => {
    const u32 = new Uint32Array([0, 1, 2147483648, 4294967295]);
    const a = writeFitsBuffer([{ data: u32, shape: [2, 2] }]);
    const f = openFitsBuffer(a);
    const raw = f.readRawImage(0);
    expect(raw.data).toEqual(new Int32Array([-2147483648, -2147483647, 0, 2147483647]));
    const b = writeFitsBuffer([{ header: f.hdus[0]!.header, data: raw.data, shape: [2, 2] }]);
    expect(b.equals(a)).toBe(true);
    expect(f.readImage(0).data).toEqual(new Float64Array([0, 1, 2147483648, 4294967295]));
  });
});
