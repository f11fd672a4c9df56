/**
 * Rows read in one call (shared/fits/native/rows.cc, built by `npm run build`): the same bytes
 * as one fs.readSync per row, the row where the file ends, errors as −errno, and arguments that
 * would write past the target refused. fdSource uses it for a rectangle's rows; the JavaScript
 * loop it replaces reads the same bytes (useNativeReadRows(false), as FITS_NATIVE_ROWS=0 sets it,
 * in a child process).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { FITS_ROWS_ADDON, errnoName, nativeReadRows } from '../../shared/fits/native';
import { compiledModule } from '../../shared/runtime';
import { makeTempDir, prng } from './helpers';

const ROW = 1000;
const ROWS = 40;

describe('readRows', () => {
  const tmp = makeTempDir();
  const file = tmp.path('rows.bin');
  let fd: number;
  beforeAll(() => {
    const rand = prng(3);
    fs.writeFileSync(file, Buffer.from(Uint8Array.from({ length: ROW * ROWS }, () => Math.floor(rand() * 256))));
    fd = fs.openSync(file, 'r');
  });
  afterAll(() => {
    fs.closeSync(fd);
    tmp.cleanup();
  });

  test('is built by npm run build', () => {
    expect(fs.existsSync(FITS_ROWS_ADDON)).toBe(true);
    expect(nativeReadRows()).toBeDefined();
  });

  test('reads each row at its offset, one after another in the target', () => {
    const readRows = nativeReadRows()!;
    const whole = fs.readFileSync(file);
    for (const [position, count, bytes, stride] of [
      [0, ROWS, ROW, ROW],
      [17, 12, 33, 3 * ROW],
      [ROW * (ROWS - 1), 1, ROW, ROW],
      [5, 0, 10, 10],
    ] as const) {
      const target = new Uint8Array(count * bytes + 4).fill(0xaa);
      expect(readRows(fd, target.subarray(2), position, count, bytes, stride)).toBe(0);
      const expected = Buffer.concat(
        Array.from({ length: count }, (_, r) => whole.subarray(position + r * stride, position + r * stride + bytes)),
      );
      expect(Buffer.from(target.subarray(2, 2 + count * bytes))).toEqual(expected);
      expect([target[0], target[1], target[target.length - 2], target[target.length - 1]]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    }
  });

  test('says in which row the file ends, and the errno of a failed read', () => {
    const readRows = nativeReadRows()!;
    // Rows at 0, 15,000 and 30,000 are in the file's 40,000 bytes; at 0, 19,600 and 39,200 the third is not.
    expect(readRows(fd, new Uint8Array(3 * ROW), 0, 3, ROW, 15000)).toBe(0);
    expect(readRows(fd, new Uint8Array(3 * ROW), 0, 3, ROW, 19600)).toBe(3);
    expect(readRows(fd, new Uint8Array(ROW), ROW * ROWS, 1, ROW, ROW)).toBe(1);
    const closed = fs.openSync(file, 'r');
    fs.closeSync(closed);
    const status = readRows(closed, new Uint8Array(ROW), 0, 1, ROW, ROW);
    expect(errnoName(-status)).toBe('EBADF');
  });

  test('refuses rows that do not fit the target, and targets that are not bytes', () => {
    const readRows = nativeReadRows()!;
    expect(() => readRows(fd, new Uint8Array(ROW * 2 - 1), 0, 2, ROW, ROW)).toThrow(/do not fit the target/);
    expect(() => readRows(fd, new Float32Array(ROW) as unknown as Uint8Array, 0, 1, ROW, ROW)).toThrow(/Uint8Array/);
    expect(() => readRows(fd, new Uint8Array(ROW), -1, 1, ROW, ROW)).toThrow(/do not fit/);
  });

  test('a FITS rectangle reads the same with the addon and with one fs.readSync per row', () => {
    // The JavaScript loop runs in a child with FITS_NATIVE_ROWS=0 (the addon is loaded once per process).
    const script = `
      const { writeFitsBuffer, openFitsSync } = require(${JSON.stringify(compiledModule(require.resolve('../../shared/fits')))});
      const native = require(${JSON.stringify(compiledModule(require.resolve('../../shared/fits/native')))});
      native.useNativeReadRows(process.argv[1] === 'native');
      const fs = require('node:fs');
      const file = ${JSON.stringify(tmp.path('wide.fits'))};
      if (!fs.existsSync(file)) {
        const data = Float32Array.from({ length: 4000 * 50 }, (_, i) => Math.sin(i) * 1000);
        fs.writeFileSync(file, writeFitsBuffer([{ data, shape: [4000, 50] }]));
      }
      const fits = openFitsSync(file);
      const bytes = fits.readRectBytes(0, { x0: 1234, y0: 7, width: 64, height: 40 }, undefined, { maxGapBytes: 0 });
      const hash = require('node:crypto').createHash('sha256').update(bytes).digest('hex');
      process.stdout.write(hash + ' ' + bytes.length + ' ' + (native.nativeReadRows() ? 'addon' : 'javascript'));
    `;
    const run = (how: 'native' | 'javascript') => {
      const child = spawnSync(process.execPath, ['-e', script, how], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      return child.stdout;
    };
    const native = run('native');
    expect(native).toMatch(/^[0-9a-f]{64} 10240 addon$/);
    expect(run('javascript')).toBe(native.replace(/addon$/, 'javascript'));
  });
});
