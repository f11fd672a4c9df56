/**
 * Pictures of bulk stamps, in process: the sizes the start step plans them with bound what
 * they take; a composite is made only of stamps on one pixel grid (one shape, the same sky at
 * every corner), and is then shared/preview's renderRgb of their IMAGE planes; the manifest's
 * picture columns and messages.
 */
import { writeFileSync } from 'node:fs';
import { compositesByIndex, manifestRows, type BatchPlan, type StampOutcome } from '../../shared/bulk/batch';
import { compositeBound, compositeOf, previewBound } from '../../shared/bulk/pictures';
import { gridImageOf, gridMismatch, type GridImage } from '../../shared/preview';
import { closeStampFiles, cutStamp, type PixelBox } from '../../shared/bulk/stamp';
import { writeFitsBuffer } from '../../shared/fits';
import { DEFAULT_DISPLAY, renderPreview, renderRgb } from '../../shared/preview';
import { exposureHdus, tanSpec, tempDir } from '../soda/helpers';
import { makeSky } from '../preview/helpers';

const PROVENANCE = { id: 'p', row: 1, ra: 150, dec: 2, band: 'g', did: 'butler://dp02/x' };

let dir: ReturnType<typeof tempDir>;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => {
  closeStampFiles();
  dir?.cleanup();
});

describe('planned sizes', () => {
  const box: PixelBox = { x0: 0, y0: 0, nx: 64, ny: 64 };

  test('a picture: its pixels uncompressed (alpha in PNG), a filter byte per row, 1 KiB of headers', () => {
    expect(previewBound(box, { format: 'png', display: DEFAULT_DISPLAY })).toBe(64 * (64 * 2 + 1) + 1024);
    expect(previewBound(box, { format: 'jpeg', display: { ...DEFAULT_DISPLAY, cmap: 'viridis' } })).toBe(64 * (64 * 3 + 1) + 1024);
    // PREVIEW_SIZE=20: blocks of 4, 16 × 16.
    expect(previewBound(box, { format: 'png', display: { ...DEFAULT_DISPLAY, maxSide: 20 } })).toBe(16 * (16 * 2 + 1) + 1024);
    expect(compositeBound(box, { bands: ['i', 'r', 'g'], format: 'png' })).toBe(64 * (64 * 4 + 1) + 1024);
    expect(compositeBound({ x0: 0, y0: 0, nx: 50, ny: 30 }, { bands: ['i', 'r', 'g'], format: 'jpeg', maxSide: 10 })).toBe(
      6 * (10 * 3 + 1) + 1024,
    );
  });

  test('bound what is drawn: noisy sky with NaN (alpha), in every colour map and format', () => {
    const data = makeSky(64, 64, 'bounds', 40);
    for (let i = 0; i < 64 * 8; i++) data[i] = NaN;
    const plane = { width: 64, height: 64, data };
    for (const format of ['png', 'jpeg'] as const) {
      for (const cmap of ['gray', 'viridis'] as const) {
        const display = { ...DEFAULT_DISPLAY, cmap, cuts: { kind: 'minmax' } as const };
        expect(renderPreview(plane, display, format).length).toBeLessThanOrEqual(previewBound(box, { format, display }));
      }
      const rgb = { bands: ['i', 'r', 'g'], format } as const;
      expect(renderRgb([plane, plane, plane], {}, format).length).toBeLessThanOrEqual(compositeBound(box, rgb));
    }
  });
});

describe('composites: only of stamps on one pixel grid', () => {
  const spec = { width: 60, height: 50, ra: 150, dec: 2, arcsecPerPixel: 1, rotation: 10 };
  function exposure(name: string, options: Partial<typeof spec>): string {
    const path = dir.path(name);
    writeFileSync(path, writeFitsBuffer(exposureHdus(tanSpec({ ...spec, ...options }))));
    return path;
  }
  function stamp(path: string, band: string, box: PixelBox): GridImage {
    return gridImageOf(band, cutStamp(path, box, { planes: ['IMAGE', 'MASK'], edge: 'pad', provenance: { ...PROVENANCE, band } }));
  }
  const box: PixelBox = { x0: 10, y0: 8, nx: 24, ny: 20 };

  test('the same grid (one image, or images sharing a WCS): the composite is renderRgb of the IMAGE planes', () => {
    const a = exposure('a.fits', {});
    const b = exposure('b.fits', {});
    const stamps = [stamp(a, 'i', box), stamp(b, 'r', box), stamp(a, 'g', box)] as const;
    expect(gridMismatch(stamps, 'stamps')).toBeUndefined();
    // Padded beyond the image (NaN), and NO_DATA pixels of the MASK: masked in the plane.
    const padded = [stamp(a, 'i', { ...box, x0: -4 }), stamp(b, 'r', { ...box, x0: -4 }), stamp(a, 'g', { ...box, x0: -4 })] as const;
    expect(gridMismatch(padded, 'stamps')).toBeUndefined();
    expect(padded[0].plane.masked).toBeDefined();
    const rgb = { bands: ['i', 'r', 'g'], format: 'png', maxSide: 12 } as const;
    const made = compositeOf(padded, rgb);
    expect(made).toEqual(renderRgb([padded[0].plane, padded[1].plane, padded[2].plane], { maxSide: 12 }, 'png'));
  });

  test('another shape, another rotation, a shift of a tenth of a pixel: no composite, and why', () => {
    const a = exposure('a.fits', {});
    const rotated = exposure('rotated.fits', { rotation: 10.5 });
    const shifted = exposure('shifted.fits', { ra: 150 + 0.1 / 3600 });
    const rgb = { bands: ['i', 'r', 'g'], format: 'png' } as const;
    const smaller = [stamp(a, 'i', box), stamp(a, 'r', { ...box, nx: 23 }), stamp(a, 'g', box)] as const;
    expect(compositeOf(smaller, rgb)).toEqual({ message: 'the i, r, g stamps are 24x20, 23x20, 24x20 pixels' });
    expect(compositeOf([stamp(a, 'i', box), stamp(rotated, 'r', box), stamp(a, 'g', box)], rgb)).toEqual({
      message: expect.stringMatching(
        /^the i, r, g stamps do not lie on one pixel grid \(their images' WCS differ by up to 0\.\d+ pixels\)$/,
      ),
    });
    expect(gridMismatch([stamp(a, 'i', box), stamp(a, 'r', box), stamp(shifted, 'g', box)], 'stamps')).toMatch(
      /differ by up to 0\.(09|10) pixels/,
    );
    // The same image, boxes a pixel apart: the same shape, but other sky.
    expect(gridMismatch([stamp(a, 'i', box), stamp(a, 'r', { ...box, x0: 11 }), stamp(a, 'g', box)], 'stamps')).toMatch(
      /differ by up to 1\.0 pixels/,
    );
  });
});

describe('the manifest rows of pictures', () => {
  const base = { id: 'a', ra: 1, dec: 2, status: 'ok' as const, message: '', part: 1 };
  const plan: BatchPlan = {
    createdAt: 0,
    packaging: 'zip',
    dryRun: false,
    parts: 1,
    images: [],
    rows: ['i', 'r', 'g'].map((band) => ({
      ...base,
      row: 1,
      band,
      member: `stamps/a_${band}.fits`,
      preview: `previews/a_${band}.png`,
    })),
    rgb: { bands: ['i', 'r', 'g'], format: 'png', composites: [{ row: 1, indexes: [0, 1, 2], member: 'previews/a_rgb.png' }] },
  };
  const packed = (index: number, status: 'ok' | 'partial' | 'error', message?: string): StampOutcome => ({
    index,
    status,
    ...(message === undefined ? {} : { message }),
    ...(status === 'error' ? {} : { offset: 100 * index, bytes: 50, crc32: 1 }),
  });
  const url = (id: string) => `https://example.org/${id}`;

  test('a composite made: its member on its three rows; a picture that could not be drawn: none, and why', () => {
    const outcomes = new Map<number, StampOutcome>([
      [0, { ...packed(0, 'ok'), preview: { offset: 50, bytes: 10, crc32: 2 } }],
      [1, { ...packed(1, 'partial', 'padded'), preview: { message: 'no picture: broken' } }],
      [2, packed(2, 'ok')],
    ]);
    const composites = compositesByIndex([{ ...plan.rgb!.composites[0]!, offset: 0, bytes: 20, crc32: 3 }]);
    const rows = [...manifestRows(plan, { outcomes, composites }, url, 'pending')];
    expect(rows.map((r) => [r.band, r.status, r.message || null, r.preview, r.rgb])).toEqual([
      ['i', 'ok', null, 'previews/a_i.png', 'previews/a_rgb.png'],
      ['r', 'partial', 'padded; no picture: broken', null, 'previews/a_rgb.png'],
      ['g', 'ok', null, null, 'previews/a_rgb.png'],
    ]);
  });

  test('a composite not made: the reason on each of its rows, after the stamp’s own', () => {
    const outcomes = new Map([
      [0, packed(0, 'ok')],
      [1, packed(1, 'error', 'unreadable')],
      [2, packed(2, 'partial', 'padded')],
    ]);
    const composites = compositesByIndex([{ ...plan.rgb!.composites[0]!, message: 'no RGB composite: the r stamp was not cut (error)' }]);
    const rows = [...manifestRows(plan, { outcomes, composites }, url, 'pending')];
    expect(rows.map((r) => [r.status, r.message, r.rgb])).toEqual([
      ['ok', 'no RGB composite: the r stamp was not cut (error)', null],
      ['error', 'unreadable; no RGB composite: the r stamp was not cut (error)', null],
      ['partial', 'padded; no RGB composite: the r stamp was not cut (error)', null],
    ]);
  });
});
