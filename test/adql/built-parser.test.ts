import fs from 'node:fs';
import peggy from 'peggy';
import { builtParserPath, grammarDigest, parseAdql } from '../../shared/adql/parser';

// `npm test` builds first: the parsers npm run build writes (scripts/build-adql.ts) are what
// processor threads load instead of generating them.
describe('the ADQL parsers written by npm run build', () => {
  const query =
    "SELECT TOP 5 obs_id, s_ra FROM ivoa.ObsCore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 62, -37, 0.1)) = 1 ORDER BY s_ra";

  it.each([false, true])('with cache=%s: from this grammar, and parsing as a freshly generated parser does', (cache) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(builtParserPath(cache)) as peggy.Parser & { grammarDigest: string };
    expect(built.grammarDigest).toBe(grammarDigest());
    const grammar = fs.readFileSync(require.resolve('../../shared/adql/adql.peggy'), 'utf8');
    const fresh = peggy.generate(grammar, { cache });
    expect(built.parse(query)).toEqual(fresh.parse(query));
    expect(parseAdql(query, { packrat: cache })).toEqual(fresh.parse(query));
  });

  it('another grammar has another digest (a stale built parser is not used)', () => {
    expect(grammarDigest('query = "SELECT"')).not.toBe(grammarDigest());
    expect(grammarDigest()).toMatch(/^[0-9a-f]{16}$/);
  });
});
