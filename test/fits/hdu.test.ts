import { writeFileSync } from 'node:fs';
import { FitsError, Header, hduBytes, openFits, openFitsBuffer, openFitsSync, prepareImageHdu } from '../../shared/fits';
import { headerBlock, makeTempDir } from './helpers';

const W = 37;
const H = 23;

/** A hand-written binary table with a heap: NAXIS1 = 12 bytes/row, 5 rows, PCOUNT = 100. */
function binTable(extra: string[] = []): Buffer {
  const header = headerBlock([
    "XTENSION= 'BINTABLE'           / binary table extension",
    'BITPIX  =                    8',
    'NAXIS   =                    2',
    'NAXIS1  =                   12',
    'NAXIS2  =                    5',
    'PCOUNT  =                  100',
    'GCOUNT  =                    1',
    'TFIELDS =                    3',
    "TTYPE1  = 'ID      '",
    "TFORM1  = 'J       '",
    "TTYPE2  = 'FLUX    '",
    "TFORM2  = 'E       '",
    "TTYPE3  = 'NAME    '",
    "TFORM3  = '4A      '",
    ...extra,
  ]);
  const data = Buffer.alloc(2880); // 160 bytes of data + zero padding
  for (let i = 0; i < 160; i++) data[i] = 0x41 + (i % 26);
  return Buffer.concat([Buffer.from(header, 'latin1'), data]);
}

/** Rubin-calexp-like layout: empty primary, IMAGE, a BINTABLE in between, MASK, VARIANCE. */
function calexpLike(): { bytes: Buffer; image: Float32Array; mask: Int32Array; variance: Float32Array } {
  const image = Float32Array.from({ length: W * H }, (_, i) => i * 0.5 - 100);
  const mask = Int32Array.from({ length: W * H }, (_, i) => (i * 7919) % 1024);
  const variance = Float32Array.from({ length: W * H }, (_, i) => 1 + i / 1000);
  const primary = new Header().set('TELESCOP', 'Rubin').set('DETECTOR', 42);
  const sciHeader = new Header().set('EXTNAME', 'IMAGE');
  for (let i = 0; i < 40; i++) sciHeader.addHistory(`processing step ${i}`); // 48 cards + END: 2 blocks
  const parts = [
    hduBytes(prepareImageHdu({ header: primary }, { primary: true, extend: true })),
    hduBytes(prepareImageHdu({ header: sciHeader, data: image, shape: [W, H] }, { primary: false })),
    binTable(["EXTNAME = 'CATALOG '"]),
    hduBytes(prepareImageHdu({ header: new Header().set('EXTNAME', 'MASK'), data: mask, shape: [W, H] }, { primary: false })),
    hduBytes(prepareImageHdu({ header: new Header().set('EXTNAME', 'VARIANCE'), data: variance, shape: [W, H] }, { primary: false })),
  ];
  return { bytes: Buffer.concat(parts), image, mask, variance };
}

describe('HDU location', () => {
  const tmp = makeTempDir();
  afterAll(() => tmp.cleanup());

  test('primary NAXIS=0 + IMAGE + BINTABLE + MASK + VARIANCE: offsets, sizes, kinds', async () => {
    const { bytes, image, mask, variance } = calexpLike();
    expect(bytes.length).toBe(37440);
    const path = tmp.path('calexp.fits');
    writeFileSync(path, bytes);
    const file = await openFits(path);
    try {
      const summary = file.hdus.map((h) => [
        h.index,
        h.kind,
        h.xtension,
        h.extname,
        h.headerOffset,
        h.headerSize,
        h.dataOffset,
        h.dataSize,
        h.paddedDataSize,
      ]);
      expect(summary).toEqual([
        [0, 'image', null, null, 0, 2880, 2880, 0, 0],
        [1, 'image', 'IMAGE', 'IMAGE', 2880, 5760, 8640, W * H * 4, 5760],
        [2, 'bintable', 'BINTABLE', 'CATALOG', 14400, 2880, 17280, 160, 2880],
        [3, 'image', 'IMAGE', 'MASK', 20160, 2880, 23040, W * H * 4, 5760],
        [4, 'image', 'IMAGE', 'VARIANCE', 28800, 2880, 31680, W * H * 4, 5760],
      ]);
      expect(file.hdus[1]!.axes).toEqual([W, H]);
      expect(file.hdus[1]!.bitpix).toBe(-32);
      expect(file.hdus[3]!.bitpix).toBe(32);
      expect(file.hdus[2]!).toMatchObject({ bitpix: 8, axes: [12, 5], pcount: 100, gcount: 1 });
      expect(file.hdus[0]!.header.getString('TELESCOP')).toBe('Rubin');
      expect(file.hdus[0]!.header.getBoolean('EXTEND')).toBe(true);
      expect(file.hdus[1]!.header.history()).toHaveLength(40);

      // By EXTNAME, case-insensitively, and by index.
      expect(file.hdu('variance').index).toBe(4);
      expect(file.hdu('Mask').index).toBe(3);
      expect(file.hdu({ extname: 'IMAGE', extver: 1 }).index).toBe(1);
      expect(file.findHdu({ extname: 'IMAGE', extver: 2 })).toBeUndefined();
      expect(file.hdu(2).extname).toBe('CATALOG');
      expect(file.findHdu('NOPE')).toBeUndefined();
      expect(() => file.hdu('NOPE')).toThrow(`${path} has no HDU with EXTNAME "NOPE"`);
      expect(() => file.hdu(7)).toThrow(`${path} has no HDU 7 (it has 5)`);

      // Data behind the table is still reachable: the table's heap was skipped correctly.
      expect(file.readRawRect('MASK', { x0: 0, y0: 0, width: W, height: H }).data).toEqual(mask);
      expect(file.readRect('VARIANCE', { x0: 0, y0: 0, width: W, height: H }).data).toEqual(variance);
      expect(file.readRect(1, { x0: 0, y0: 0, width: W, height: H }).data).toEqual(image);
      expect(() => file.readRect('CATALOG', { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(
        `${path} HDU 2 (CATALOG) is a BINTABLE extension, not an image`,
      );
      expect(() => file.readRect(0, { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(`${path} HDU 0 has no data array (NAXIS = 0)`);
    } finally {
      file.close();
    }
    // Synchronous open sees the same structure.
    const again = openFitsSync(path);
    expect(again.hdus.map((h) => h.dataOffset)).toEqual([2880, 8640, 17280, 23040, 31680]);
    again.close();
    expect(() => again.readRect(1, { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(/closed/);
  });

  test('tile-compressed images are detected and refused with a clear error', () => {
    const primary = hduBytes(prepareImageHdu({}, { primary: true, extend: true }));
    const bytes = Buffer.concat([primary, binTable(['ZIMAGE  =                    T', "EXTNAME = 'COMPRESSED_IMAGE'"])]);
    const file = openFitsBuffer(bytes, 'cmp.fits');
    expect(file.hdus[1]!.kind).toBe('compressed-image');
    expect(() => file.readRect(1, { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(
      'tile-compressed FITS is not supported: cmp.fits HDU 1 (COMPRESSED_IMAGE)',
    );
    expect(() => file.readRawRect('compressed_image', { x0: 0, y0: 0, width: 1, height: 1 })).toThrow(
      /^tile-compressed FITS is not supported: cmp\.fits HDU 1/,
    );
  });

  test('headers longer than the first read (7 blocks) and one ending exactly on a block', () => {
    const long = new Header();
    for (let i = 0; i < 240; i++) long.set(`KEY${i}`, i);
    const exact = new Header().set('EXTNAME', 'EXACT');
    for (let i = 0; i < 27; i++) exact.set(`K${i}`, i); // 7 structural + 1 + 27 = 35 cards + END = 36
    const data = new Int16Array([1, 2, 3, 4, 5, 6]);
    const bytes = Buffer.concat([
      hduBytes(prepareImageHdu({ header: long, data, shape: [3, 2] }, { primary: true, extend: true })),
      hduBytes(prepareImageHdu({ header: exact, data, shape: [2, 3] }, { primary: false })),
    ]);
    const file = openFitsBuffer(bytes, 'long.fits');
    expect(file.hdus[0]!.headerSize).toBe(7 * 2880); // 245 cards + END
    expect(file.hdus[0]!.header.getInteger('KEY239')).toBe(239);
    expect(file.hdus[1]!.headerOffset).toBe(8 * 2880);
    expect(file.hdus[1]!.headerSize).toBe(2880);
    expect(file.readRawRect(1, { x0: 0, y0: 0, width: 2, height: 3 }).data).toEqual(data);
  });

  test('file-level errors: not FITS, truncated data, missing END; trailing zero padding is ignored', () => {
    expect(() => openFitsBuffer(Buffer.from('hello world'.padEnd(2880)), 'x.txt')).toThrow('x.txt is not a FITS file (no SIMPLE card)');
    const good = hduBytes(prepareImageHdu({ data: new Float64Array(1000), shape: [100, 10] }, { primary: true }));
    expect(() => openFitsBuffer(good.subarray(0, 2880 + 4000), 'cut.fits')).toThrow(
      'cut.fits HDU 0: data of 8000 bytes at offset 2880 extends beyond the end of the file (6880 bytes); the file is truncated',
    );
    expect(() => openFitsBuffer(Buffer.from(headerBlock(['SIMPLE  =                    T']).slice(0, 80)), 'noend.fits')).toThrow(
      'noend.fits HDU 0: header has no END record before the end of the file',
    );
    const padded = openFitsBuffer(Buffer.concat([good, Buffer.alloc(2880)]), 'pad.fits');
    expect(padded.hdus).toHaveLength(1);
    // Missing final data padding (some writers) is tolerated.
    const unpadded = openFitsBuffer(good.subarray(0, 2880 + 8000), 'unpadded.fits');
    expect(unpadded.readRect(0, { x0: 99, y0: 9, width: 1, height: 1 }).data[0]).toBe(0);
    expect(() =>
      openFitsBuffer(
        Buffer.from(headerBlock(['SIMPLE  =                    T', 'BITPIX  =                   12', 'NAXIS   =                    0'])),
        'b.fits',
      ),
    ).toThrow(FitsError);
  });
});
