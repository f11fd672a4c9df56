/**
 * One result in every output format, read back by an independent reader: astropy parses the
 * TABLEDATA and BINARY2 VOTables and the CSV of `SELECT *` over the demo ObsCore table, all
 * encoded inside SQLite (shared/votable/native.ts), and every cell must agree, nulls
 * included; the same query with the rows encoded in JavaScript must give the same bytes.
 */
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { runPython } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { comparableDocument } from '../votable/helpers';
import { startTapStack, type TapFixture } from './fixture';

let fx: TapFixture;
let baseline: TapFixture;
beforeAll(async () => {
  // One PUBLIC_URL: both servers write the same absolute links.
  const env = { PUBLIC_URL: 'http://vo.example' };
  [fx, baseline] = await Promise.all([
    startTapStack({ workers: 1, env }),
    startTapStack({ workers: 1, env: { ...env, NATIVE_ROWS: '0' } }),
  ]);
}, 90000);
afterAll(async () => {
  await fx?.close();
  await baseline?.close();
});

const QUERY = 'SELECT * FROM ivoa.ObsCore ORDER BY obs_publisher_did';

const SCRIPT = String.raw`
import io, json, sys, urllib.parse, urllib.request
import numpy as np
from astropy.io import ascii
from astropy.io.votable import parse_single_table
url, query = sys.argv[1], sys.argv[2]
def fetch(fmt):
    body = urllib.parse.urlencode({'LANG': 'ADQL', 'QUERY': query, 'RESPONSEFORMAT': fmt}).encode()
    return urllib.request.urlopen(url + '/sync', body).read()
tables = {
    'votable': parse_single_table(io.BytesIO(fetch('votable'))).to_table(),
    'votable/b2': parse_single_table(io.BytesIO(fetch('votable/b2'))).to_table(),
    'csv': ascii.read(fetch('csv').decode(), format='csv', fast_reader=False),
}
def cell(v):
    if np.ma.is_masked(v):
        return None
    if isinstance(v, (bytes, np.bytes_)):
        v = v.decode()
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    # astropy reads a null char cell of a VOTable as '' and a null CSV field as masked.
    return str(v) or None
out = {'rows': {k: len(t) for k, t in tables.items()}, 'columns': tables['votable'].colnames, 'differences': [], 'nulls': 0}
ref = tables['votable']
for name in ref.colnames:
    column = [cell(v) for v in ref[name]]
    out['nulls'] += sum(v is None for v in column)
    for fmt in ('votable/b2', 'csv'):
        other = [cell(v) for v in tables[fmt][name]]
        if other != column:
            i = next(i for i, (a, b) in enumerate(zip(column, other)) if a != b)
            out['differences'].append([fmt, name, i, column[i], other[i]])
print(json.dumps(out))
`;

describeWith('astropy', 'astropy reads every format', () => {
  test('TABLEDATA, BINARY2 and CSV of SELECT * agree cell for cell in astropy', async () => {
    const out = JSON.parse(await runPython(SCRIPT, [`${fx.stack.url}/api/tap`, QUERY], 120000)) as {
      rows: Record<string, number>;
      columns: string[];
      differences: unknown[];
      nulls: number;
    };
    const rows = fx.datasets.length;
    expect(rows).toBeGreaterThanOrEqual(15);
    expect(out.rows).toEqual({ votable: rows, 'votable/b2': rows, csv: rows });
    expect(out.columns).toEqual(OBSCORE_COLUMNS.map((c) => c.name));
    expect(out.differences).toEqual([]);
    // The comparison covers nulls too (ObsCore columns this demo leaves empty).
    expect(out.nulls).toBeGreaterThan(0);
  }, 150000);
});

test.each(['votable', 'votable/b2', 'csv', 'tsv'])('%s: the same bytes whether SQLite or JavaScript encodes the rows', async (format) => {
  const fetch = async (stack: TapFixture) => {
    const body = new URLSearchParams({ LANG: 'ADQL', QUERY, RESPONSEFORMAT: format });
    const res = await globalThis.fetch(`${stack.stack.url}/api/tap/sync`, { method: 'POST', body });
    expect(res.status).toBe(200);
    return res.text();
  };
  const [native, javascript] = [await fetch(fx), await fetch(baseline)];
  expect(native.length).toBeGreaterThan(10000);
  // (BINARY2's links are inside its base64.)
  if (format !== 'votable/b2') expect(native).toContain('http://vo.example/api/datalink/links?ID=');
  expect(comparableDocument(native)).toBe(comparableDocument(javascript));
});
