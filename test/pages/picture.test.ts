/**
 * FITS results drawn as pictures (api/uws/router.ts resultPicture, behind GET of a result with
 * RESPONSEFORMAT=image/png or image/jpeg): a result alone in its file or inside a pack, the
 * display parameters, and the refusals: not FITS or nothing to draw (400), bad parameters
 * (400), past the size budget (413), gone (404).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpError } from '../../api/http/errors';
import { PREVIEW_MAX_BYTES, RESULT_PICTURE_MAX_SIDE, resultPicture } from '../../api/uws/router';
import { writeFitsBuffer } from '../../shared/fits';
import type { JobResult } from '../../shared/uws/model';
import { exposureHdus, tanSpec } from '../soda/helpers';

let dir: string;
let fits: Buffer;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pages-picture-'));
  fits = writeFitsBuffer(exposureHdus(tanSpec({ width: 60, height: 40, ra: 10, dec: 20, arcsecPerPixel: 0.2 })));
  fs.writeFileSync(path.join(dir, 'stamp.fits'), fits);
  // A pack: other results around this one.
  fs.writeFileSync(path.join(dir, 'results.pack'), Buffer.concat([Buffer.alloc(2880, 7), fits, Buffer.from('next result')]));
  fs.writeFileSync(path.join(dir, 'table.xml'), '<VOTABLE/>');
  fs.writeFileSync(
    path.join(dir, 'header-only.fits'),
    writeFitsBuffer([{ header: exposureHdus(tanSpec({ width: 2, height: 2, ra: 0, dec: 0, arcsecPerPixel: 1 }))[0]!.header }]),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const result = (file: string, extra: Partial<JobResult> = {}): JobResult => ({
  id: 'stamp-1',
  file,
  mimeType: 'application/fits',
  size: fs.existsSync(path.join(dir, file)) ? fs.statSync(path.join(dir, file)).size : 0,
  ...extra,
});

/** Width and height from a PNG's IHDR. */
function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

test('the budget is 16 MiB', () => {
  expect(PREVIEW_MAX_BYTES).toBe(16 * 2 ** 20);
});

test('a FITS result, alone or inside a pack, drawn as PNG at most PREVIEW_SIZE on a side, or as JPEG', async () => {
  const alone = await resultPicture(result('stamp.fits'), path.join(dir, 'stamp.fits'), [{ name: 'PREVIEW_SIZE', value: '30' }], 'png');
  expect(pngSize(alone)).toEqual([30, 20]);
  const packed = await resultPicture(
    result('results.pack', { offset: 2880, size: fits.length }),
    path.join(dir, 'results.pack'),
    [{ name: 'PREVIEW_SIZE', value: '30' }],
    'png',
  );
  expect(packed).toEqual(alone);
  // Drawn in the api: never larger than RESULT_PICTURE_MAX_SIDE, whatever PREVIEW_SIZE asks.
  const big = writeFitsBuffer(exposureHdus(tanSpec({ width: 1100, height: 300, ra: 10, dec: 20, arcsecPerPixel: 0.2 })));
  fs.writeFileSync(path.join(dir, 'big.fits'), big);
  for (const params of [[], [{ name: 'PREVIEW_SIZE', value: '4096' }]]) {
    expect(pngSize(await resultPicture(result('big.fits', { size: big.length }), path.join(dir, 'big.fits'), params, 'png'))).toEqual([
      Math.ceil(1100 / 3),
      Math.ceil(300 / 3),
    ]);
  }
  expect(RESULT_PICTURE_MAX_SIDE).toBe(512);
  const jpeg = await resultPicture(result('stamp.fits'), path.join(dir, 'stamp.fits'), [], 'jpeg');
  expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
});

test('refused: not FITS, nothing to draw, bad display parameters, too large, gone', async () => {
  expect(await refusal(resultPicture(result('table.xml'), path.join(dir, 'table.xml'), [], 'png'))).toEqual({
    status: 400,
    message: 'UsageError: result stamp-1 is not a FITS file',
  });
  expect((await refusal(resultPicture(result('header-only.fits'), path.join(dir, 'header-only.fits'), [], 'png'))).status).toBe(400);
  const bad = await refusal(
    resultPicture(result('stamp.fits'), path.join(dir, 'stamp.fits'), [{ name: 'PREVIEW_SIZE', value: '0' }], 'png'),
  );
  expect(bad.status).toBe(400);
  expect(bad.message).toMatch(/^UsageError: PREVIEW_SIZE/);
  const large = await refusal(resultPicture(result('stamp.fits'), path.join(dir, 'stamp.fits'), [], 'png', fits.length - 1));
  expect(large).toEqual({
    status: 413,
    message: `result stamp-1 has ${fits.length} bytes: previews are drawn of results up to ${fits.length - 1} bytes`,
  });
  expect((await refusal(resultPicture(result('gone.fits'), path.join(dir, 'gone.fits'), [], 'png'))).status).toBe(404);
  // A pack shorter than its record (its files replaced meanwhile).
  expect(
    (
      await refusal(
        resultPicture(result('results.pack', { offset: 2880, size: fits.length * 2 }), path.join(dir, 'results.pack'), [], 'png'),
      )
    ).status,
  ).toBe(404);
});
