/**
 * The worker thread's prepared statements (worker/obscore.ts): every cone is the same SQL text
 * with other bound values, so one statement serves them all, also after a result that MAXREC
 * cut short (its iteration was left unfinished).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseAdql } from '../../shared/adql';
import { translateAdql } from '../../shared/adql/translate';
import { ObscoreStore, PUBLISHED_TABLES } from '../../shared/obscore/store';
import { addSyntheticRows } from '../../shared/obscore/synthetic';
import { contains, makeCircle } from '../../shared/sky';
import { columnField, createWriter, type Cell } from '../../shared/votable';
import { obscoreConnection, preparedStatement, writeRows } from '../../worker/obscore';

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

/** Runs a cone through the thread's statement cache; returns the statement and the rows' DIDs. */
async function cone(ra: number, dec: number, radius: number, maxrec: number) {
  const translated = translateAdql(parseAdql(`SELECT obs_publisher_did, s_ra, s_dec FROM ivoa.ObsCore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', ${ra}, ${dec}, ${radius}))`), PUBLISHED_TABLES);
  const db = obscoreConnection(file);
  const statement = preparedStatement(db, translated.sql);
  const rows: Cell[][] = [];
  const writer = createWriter('csv', new Writable({ write: (_chunk, _encoding, done) => done() }));
  const originalRow = writer.row.bind(writer);
  writer.row = (cells) => {
    rows.push([...cells]);
    return originalRow(cells);
  };
  await writer.begin(translated.columns.map((c) => columnField(c, c.column?.description)));
  const overflow = await writeRows(statement, translated.params, writer, maxrec, translated.columns.map((c) => c.column), 'http://x');
  await writer.end(overflow);
  return { statement, rows, overflow };
}

test('one statement for every cone; reusable after a MAXREC cut; the rows of the exact test', async () => {
  const first = await cone(10, 20, 8, 3);
  expect(first.overflow).toBe(true);
  expect(first.rows).toHaveLength(3);
  const second = await cone(200, -30, 8, 1000);
  expect(second.statement).toBe(first.statement);
  expect(second.overflow).toBe(false);
  const circle = makeCircle({ ra: 200, dec: -30 }, 8);
  const db = obscoreConnection(file);
  const expected = (db.prepare('SELECT obs_publisher_did AS did, s_ra AS ra, s_dec AS dec FROM ivoa_obscore').all() as { did: string; ra: number; dec: number }[])
    .filter((r) => contains(circle, r))
    .map((r) => r.did)
    .sort();
  expect(expected.length).toBeGreaterThan(10);
  expect(second.rows.map((r) => r[0]).sort()).toEqual(expected);
});
