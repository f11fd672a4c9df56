/** Shared test utilities for the FITS module: temp dirs, hand-made cards, a deterministic PRNG. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, type ImageHduInput } from '../../shared/fits';
import { seededRandom } from '../../shared/random';

export function makeTempDir(): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fits-test-'));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An 80-character record from a shorter literal. */
export function rec(text: string): string {
  if (text.length > 80) throw new Error(`test record longer than 80: ${text}`);
  return text.padEnd(80);
}

/** Header text made of the given records, END, and space padding to a 2880-byte block. */
export function headerBlock(records: string[]): string {
  const text = [...records.map(rec), rec('END')].join('');
  return text.padEnd(Math.ceil(text.length / 2880) * 2880, ' ');
}

/** Deterministic, so failures are reproducible. */
export const prng = seededRandom;

/** A file exercising every card form and every BITPIX, with odd sizes so padding matters. */
export function richInputs(): ImageHduInput[] {
  const primary = new Header()
    .set('OBJECT', "NGC 1234 'core'", 'target')
    .set('LONGSTR', 'This value is much longer than a single FITS card can hold, so it is continued. '.repeat(3).trim(), 'and a comment')
    .set('ESO DET CHIP NAME', 'CCD #3')
    .set('HIERARCH ESO TEL AIRM START', 1.2345)
    .set('EXPTIME', 30.0, 'seconds', { numberType: 'float' })
    .set('CPLX', { re: 1.5, im: -2 })
    .set('UNDEF', null, 'no value')
    .set('BIGINT', 123456789012345678901234567890n)
    .set('FLAG', false)
    .set('TINY', 1e-300)
    .set('NEGZERO', -0)
    .addComment('a comment card')
    .addHistory('a history card');
  return [
    { header: primary },
    {
      header: new Header().set('EXTNAME', 'SCI').set('BUNIT', 'nJy'),
      data: Float32Array.from({ length: 35 }, (_, i) => i / 3),
      shape: [7, 5],
    },
    { header: new Header().set('EXTNAME', 'MASK'), data: Int32Array.from({ length: 35 }, (_, i) => (i * 2654435761) | 0), shape: [7, 5] },
    { header: new Header().set('EXTNAME', 'U16'), data: Uint16Array.from({ length: 6 }, (_, i) => i * 13107), shape: [3, 2] },
    {
      header: new Header().set('EXTNAME', 'SCALED').set('BSCALE', 0.25).set('BZERO', -3.5).set('BLANK', -32768),
      data: new Int16Array([1, -32768, 3, 4]),
      shape: [2, 2],
    },
    { header: new Header().set('EXTNAME', 'BYTES'), data: new Uint8Array([0, 1, 254, 255, 7]), shape: [5, 1] },
    { header: new Header().set('EXTNAME', 'I64'), data: new BigInt64Array([1n, -1n, 2n ** 62n]), shape: [3] },
    { header: new Header().set('EXTNAME', 'F64'), data: new Float64Array([Math.PI, -Math.E, 1e-300]), shape: [1, 3] },
  ];
}
