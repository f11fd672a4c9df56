/** HDU templates: a cutout HDU from a pre-formatted header is byte-identical to the writer's. */
import { Header, ImageHduTemplate, openFitsBuffer, prepareImageHdu, hduBytes, writeFitsBuffer } from '../../shared/fits';

function sourceHeader(): Header {
  const h = new Header();
  h.set('EXTNAME', 'IMAGE');
  h.set('CTYPE1', 'RA---TAN');
  h.set('CTYPE2', 'DEC--TAN');
  h.set('CRPIX1', 2048.5);
  h.set('CRPIX2', 1024.25);
  h.set('CRVAL1', 55.7);
  h.set('CRVAL2', -32.3);
  h.set('LTV1', -4000);
  h.set('LTV2', -100);
  h.set('BUNIT', 'nJy');
  return h;
}

test.each([
  ['float32', new Float32Array([1.5, -2.25, 3, 4e-30, 5, 6])],
  ['int32', new Int32Array([1, -2, 3, 2147483647, -2147483648, 0])],
  ['int16', new Int16Array([1, -2, 3, 32767, -32768, 0])],
  ['float64', new Float64Array([1.5, -2.25, 3, 4e-300, 5, 6])],
])('%s: rendering equals writing the shifted header through the writer, byte for byte', (_name, data) => {
  const template = ImageHduTemplate.create(sourceHeader(), data.subarray(0, 1), ['CRPIX1', 'CRPIX2', 'LTV1', 'LTV2']);
  const values = { CRPIX1: 2048.5 - 100, CRPIX2: 1024.25 - 7, LTV1: -4100, LTV2: -107 };
  const rendered = template.render(values, data, [3, 2]);
  const expected = sourceHeader()
    .set('CRPIX1', values.CRPIX1)
    .set('CRPIX2', values.CRPIX2)
    .set('LTV1', values.LTV1)
    .set('LTV2', values.LTV2);
  const written = hduBytes(prepareImageHdu({ header: expected, data, shape: [3, 2] }, { primary: false }));
  expect(rendered.equals(written)).toBe(true);
  expect(rendered.length % 2880).toBe(0);
});

test('values whose text is wider than columns 11–30, comments, and integer cards given fractions: the writer’s bytes', () => {
  // Each rewritten card must be what the writer formats: a value field rewritten in place when
  // it fits, the whole card (comment moved along) when it does not.
  const source = sourceHeader()
    .set('CRPIX1', -Math.PI * 1e-5, 'Pixel coordinate of reference point')
    .set('CRPIX2', 7, 'an integer card')
    .set('LTV1', 0.5);
  const data = new Float32Array(6);
  const template = ImageHduTemplate.create(source, data.subarray(0, 1), ['CRPIX1', 'CRPIX2', 'LTV1', 'LTV2']);
  for (const values of [
    { CRPIX1: 3.25, CRPIX2: -100, LTV1: -1.0000000000000002e-7, LTV2: -4100 },
    { CRPIX1: -Math.PI * 1e-5, CRPIX2: 7.5, LTV1: 2 ** 64, LTV2: -Math.E * 1e-4 },
  ]) {
    const expected = source.clone();
    for (const [keyword, value] of Object.entries(values)) expected.set(keyword, value);
    const written = hduBytes(prepareImageHdu({ header: expected, data, shape: [3, 2] }, { primary: false }));
    expect(template.render(values, data, [3, 2]).toString('latin1')).toBe(written.toString('latin1'));
  }
});

test('a whole file from a cached primary + template reads back with the right values', () => {
  const primary = new Header().set('ORIGIN', 'test');
  const primaryBytes = writeFitsBuffer([{ header: primary }, { data: new Float32Array(1), shape: [1, 1] }]).subarray(0, 2880);
  const template = ImageHduTemplate.create(sourceHeader(), new Float32Array(1), ['CRPIX1', 'CRPIX2']);
  const pixels = Float32Array.from({ length: 64 * 48 }, (_, i) => i / 7);
  const file = openFitsBuffer(template.render({ CRPIX1: 10.5, CRPIX2: -3 }, pixels, [64, 48], primaryBytes));
  expect(file.hdus).toHaveLength(2);
  const image = file.hdus[1]!;
  expect(image.axes).toEqual([64, 48]);
  expect(image.header.getNumber('CRPIX1')).toBe(10.5);
  expect(image.header.getNumber('CRPIX2')).toBe(-3);
  expect(image.header.getString('BUNIT')).toBe('nJy');
  const read = file.readRawRect(1, { x0: 0, y0: 0, width: 64, height: 48 });
  expect(Array.from(read.data as Float32Array)).toEqual(Array.from(pixels));
});

test('a keyword that is not variable, or data of the wrong length, is refused', () => {
  const template = ImageHduTemplate.create(sourceHeader(), new Float32Array(1), ['CRPIX1']);
  expect(() => template.render({ CRVAL1: 1 }, new Float32Array(4), [2, 2])).toThrow('keyword CRVAL1 is not variable in this template');
  expect(() => template.render({}, new Float32Array(3), [2, 2])).toThrow('data of 3 values for a 2×2 image');
});

test('a cutout read straight into the template’s data area equals rendering decoded pixels, byte for byte', () => {
  const width = 300;
  const height = 200;
  const pixels = Float32Array.from({ length: width * height }, (_, i) => Math.sin(i) * 1000);
  const source = openFitsBuffer(writeFitsBuffer([{}, { header: sourceHeader(), data: pixels, shape: [width, height] }]));
  const hdu = source.hdus[1]!;
  const template = ImageHduTemplate.create(hdu.header, new Float32Array(1), ['CRPIX1', 'CRPIX2', 'LTV1', 'LTV2']);
  const rect = { x0: 17, y0: 33, width: 64, height: 48 };
  const values = { CRPIX1: 2048.5 - 17, CRPIX2: 1024.25 - 33, LTV1: -4017, LTV2: -133 };
  const { bytes, data } = template.layout(values, [64, 48]);
  const filled = source.readRectBytes(hdu, rect, data);
  // The bytes went into the output buffer itself, not into a copy.
  expect(filled.buffer).toBe(data.buffer);
  expect(filled.byteOffset).toBe(data.byteOffset);
  const rendered = template.render(values, source.readRawRect(hdu, rect).data, [64, 48]);
  expect(bytes.equals(rendered)).toBe(true);
  // And the values are those of the source rectangle.
  const back = openFitsBuffer(Buffer.concat([writeFitsBuffer([{}]), bytes])).readRawRect(1, { x0: 0, y0: 0, width: 64, height: 48 })
    .data as Float32Array;
  expect(back[0]).toBe(pixels[33 * width + 17]);
  expect(back[64 * 48 - 1]).toBe(pixels[(33 + 47) * width + 17 + 63]);
  expect(() => source.readRectBytes(hdu, rect, new Uint8Array(10))).toThrow('a 64×48 rectangle needs 12288 bytes, the target has 10');
});

test('laid out into memory handed in: the same bytes in that memory; memory of another size is refused', () => {
  const template = ImageHduTemplate.create(sourceHeader(), new Float32Array(1), ['CRPIX1']);
  const fresh = template.layout({ CRPIX1: 3.5 }, [10, 7]);
  fresh.data.fill(1);
  const into = Buffer.alloc(fresh.bytes.length, 0xff); // dirty, as a reused pack arena is
  const laid = template.layout({ CRPIX1: 3.5 }, [10, 7], undefined, into);
  expect(laid.bytes).toBe(into);
  expect(laid.data.buffer).toBe(into.buffer);
  laid.data.fill(1);
  expect(into.equals(fresh.bytes)).toBe(true);
  expect(() => template.layout({ CRPIX1: 3.5 }, [10, 7], undefined, Buffer.alloc(fresh.bytes.length - 2880))).toThrow(
    `an HDU of ${fresh.bytes.length} bytes laid out into ${fresh.bytes.length - 2880}`,
  );
});
