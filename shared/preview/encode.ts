/**
 * 8-bit pixels → PNG or JPEG file bytes, synchronously.
 *
 * Libraries, chosen by measurement (2-core AMD EPYC VM, node 20, p50 of encoding noise-
 * dominated sky pictures, 64×64 / 1024×1024; bench/preview.ts measures whole renderings):
 *  - PNG, gray+alpha: pngjs with the settings below 0.08 / 34 ms; fast-png 0.25 / 69 ms (its
 *    deflate is JavaScript; files 2–19 % smaller; and it is ESM-only, which jest's CommonJS
 *    runtime, running these tests, does not load from node_modules without transform changes);
 *    sharp 1.6 / 90 ms (asynchronous only; libvips' pipeline set-up dominates small pictures).
 *    pngjs filters rows in JavaScript and deflates with node's own zlib.
 *  - JPEG, RGB: @julusian/jpeg-turbo (libjpeg-turbo through N-API; prebuilt binaries shipped
 *    inside the npm package, so nothing is downloaded or compiled at install) 0.11 / 7.4 ms;
 *    sharp 0.68 / 13 ms (asynchronous only); jpeg-js 51 / 178 ms: it rebuilds its Huffman and
 *    category tables (65535-entry arrays of arrays) on every call, ~50 ms alone, which rules
 *    it out for 64×64 stamps.
 * Both are synchronous, so renderPreview is a plain function. Neither keeps process-wide
 * native state that a worker thread's exit could tear down: sharp's libvips/GLib must be
 * loaded on the main thread before any worker thread uses it (lovell/sharp#2263), and our
 * processor threads end after an idle time. test/preview/threads.test.ts loads and uses both
 * in threads that exit or are terminated one after another. jpeg-turbo stays at 2.x: 3.x
 * needs node ≥ 22.18.
 *
 * PNG settings: filter Sub on every row, zlib level 4, default strategy. On noisy sky
 * pictures the files are within 6 % of the smallest any pngjs setting tried made (adaptive
 * filtering, levels 1–9, strategies default/filtered/RLE), 1.1–1.5× faster than pngjs's
 * defaults (adaptive, level 9, Z_RLE) at 1024² and up to 8× at 64², whose RGB(A) files were
 * also 1.6–1.9× larger; level 6 once took 220 ms on a 1024² RGBA picture of noise.
 * JPEG settings: quality 90 and no chroma subsampling (4:4:4): a colour map's hue carries
 * data, and 4:2:0 more than doubled the error of viridis pictures (mean 14 levels instead of
 * 6 on pure noise); gray pictures are encoded as one channel.
 */
import { FORMAT_GRAY, FORMAT_RGB, SAMP_444, SAMP_GRAY, compressSync } from '@julusian/jpeg-turbo';
import { PNG } from 'pngjs';

/** 8-bit pixels, top row first, channels interleaved: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array;
}

export const JPEG_QUALITY = 90;
const PNG_DEFLATE_LEVEL = 4;
const PNG_FILTER_SUB = 1;

const PNG_COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;

function bufferOf(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function checkRaster(image: RasterImage): void {
  const { width, height, channels, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
    throw new RangeError(`a picture needs a positive integer size, not ${width}×${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `a ${width}×${height} picture of ${channels} channels needs ${width * height * channels} bytes, not ${data.length}`,
    );
  }
}

/** PNG, 8 bits per channel, colour type from the channels (0 gray, 4 gray+alpha, 2 RGB, 6 RGBA). */
export function encodePng(image: RasterImage): Buffer {
  checkRaster(image);
  const colorType = PNG_COLOR_TYPE[image.channels];
  const png = new PNG();
  png.width = image.width;
  png.height = image.height;
  png.data = bufferOf(image.data);
  // Input and output colour types are equal, so pngjs takes the bytes as they are (no RGBA copy).
  return PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: image.channels === 2 || image.channels === 4,
    bitDepth: 8,
    filterType: PNG_FILTER_SUB,
    deflateLevel: PNG_DEFLATE_LEVEL,
    deflateStrategy: 0,
  });
}

/** Baseline JPEG of a gray (1 channel) or RGB (3 channels) picture. */
export function encodeJpeg(image: RasterImage, quality = JPEG_QUALITY): Buffer {
  checkRaster(image);
  if (image.channels !== 1 && image.channels !== 3) throw new RangeError(`JPEG takes 1 or 3 channels, not ${image.channels}`);
  const gray = image.channels === 1;
  return compressSync(bufferOf(image.data), {
    width: image.width,
    height: image.height,
    format: gray ? FORMAT_GRAY : FORMAT_RGB,
    subsampling: gray ? SAMP_GRAY : SAMP_444,
    quality,
  });
}
