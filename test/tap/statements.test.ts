/**
 * The worker thread's prepared statements (worker/obscore.ts): every cone is the same SQL text
 * with other bound values, so one statement serves them all, also after a result that MAXREC
 * cut short (its iteration was left unfinished), whether SQLite or JavaScript encodes the rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseAdql } from '../../shared/adql';
import { translateAdql } from '../../shared/adql/translate';
import { ObscoreStore } from '../../shared/obscore/store';
import { PUBLISHED_TABLES } from '../../shared/obscore/published';
import { addSyntheticRows } from '../../shared/obscore/synthetic';
import { contains, makeCircle } from '../../shared/sky';
import { columnField, createWriter } from '../../shared/votable';
import { obscoreConnection, writeRows } from '../../worker/obscore';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-statements-'));
  file = path.join(dir, 'obscore.sqlite');
  const store = await ObscoreStore.open(file);
  addSyntheticRows(store, 5000, { seed: 3 });
  store.close();
});
afterAll(() => {
  obscoreConnection(file).close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs a cone through the thread's statement cache, its rows encoded in SQLite or in
 * JavaScript; returns the CSV rows' DIDs and how many statements it prepared.
 */
async function cone(ra: number, dec: number, radius: number, maxrec: number, nativeRows: boolean) {
  const translated = translateAdql(
    parseAdql(
      `SELECT obs_publisher_did, s_ra, s_dec FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', ${ra}, ${dec}, ${radius}))`,
    ),
    PUBLISHED_TABLES,
  );
  const db = obscoreConnection(file);
  const prepare = jest.spyOn(db, 'prepare');
  let csv = '';
  const writer = createWriter('csv', new Writable({ write: (chunk: Buffer, _encoding, done) => done(void (csv += chunk.toString())) }));
  await writer.begin(translated.columns.map((c) => columnField(c, c.column?.description)));
  const overflow = await writeRows(
    { db, sql: translated.sql, params: translated.params, columnCount: translated.columns.length, cacheable: true },
    writer,
    { maxrec, nativeRows },
  );
  await writer.end(overflow);
  const prepared = prepare.mock.calls.map(([sql]) => sql);
  prepare.mockRestore();
  const dids = csv
    .split('\r\n')
    .slice(1, -1)
    .map((line) => line.split(',')[0]!);
  return { dids, overflow, prepared };
}

test.each([true, false])(
  'one statement for every cone; reusable after a MAXREC cut; the rows of the exact test (rows encoded in SQLite: %s)',
  async (nativeRows) => {
    const first = await cone(10, 20, 8, 3, nativeRows);
    expect(first.overflow).toBe(true);
    expect(first.dids).toHaveLength(3);
    // The query, and with SQLite encoding the rows, the two statements that end a batch.
    expect(first.prepared).toHaveLength(nativeRows ? 3 : 1);
    expect(first.prepared[0]!.includes('vo_csv_batch(')).toBe(nativeRows);
    const second = await cone(200, -30, 8, 1000, nativeRows);
    expect(second.prepared).toHaveLength(0);
    expect(second.overflow).toBe(false);
    const circle = makeCircle({ ra: 200, dec: -30 }, 8);
    const db = obscoreConnection(file);
    const expected = (
      db.prepare('SELECT obs_publisher_did AS did, s_ra AS ra, s_dec AS dec FROM ivoa_obscore').all() as {
        did: string;
        ra: number;
        dec: number;
      }[]
    )
      .filter((r) => contains(circle, r))
      .map((r) => r.did)
      .sort();
    expect(expected.length).toBeGreaterThan(10);
    expect(second.dids.sort()).toEqual(expected);
  },
);
