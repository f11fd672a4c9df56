import { formatAdql, parseAdql } from '../../shared/adql';
import { CORPUS } from './corpus';
import { strip } from './helpers';

describe('formatAdql round trips', () => {
  test.each(CORPUS)('%s', (text) => {
    const ast = parseAdql(text);
    const printed = formatAdql(ast);
    expect(strip(parseAdql(printed))).toEqual(strip(ast));
    // Canonical output is a fixed point.
    expect(formatAdql(parseAdql(printed))).toBe(printed);
  });

  test('canonical form', () => {
    expect(formatAdql(parseAdql("select top 3 a x, -a*b+c from s.t o where a=1 or not b like 'x' and c is not null order by 1 desc"))).toBe(
      "SELECT TOP 3 a AS x, -a * b + c FROM s.t AS o WHERE a = 1 OR NOT b LIKE 'x' AND c IS NOT NULL ORDER BY 1 DESC",
    );
    expect(
      formatAdql(
        parseAdql(
          'SELECT a - (b - c), (a + b) * -c, a || b + 1 FROM t WHERE (a = 1 OR b = 1) AND (c = 1 AND d = 1) OR NOT (e = 1 OR f = 1)',
        ),
      ),
    ).toBe('SELECT a - (b - c), (a + b) * -c, a || b + 1 FROM t WHERE (a = 1 OR b = 1) AND (c = 1 AND d = 1) OR NOT (e = 1 OR f = 1)');
    expect(formatAdql(parseAdql('SELECT "a""b", "Sel" FROM "T" NATURAL JOIN u'))).toBe(
      'SELECT "a""b", "Sel" FROM "T" NATURAL INNER JOIN u',
    );
  });
});

describe('source locations', () => {
  /** Every node (object with a `kind`) carries a 1-based line/column inside the input. */
  function checkLocations(node: unknown, text: string): number {
    if (Array.isArray(node)) return node.reduce((n: number, x) => n + checkLocations(x, text), 0);
    if (node === null || typeof node !== 'object') return 0;
    let count = 0;
    const rec = node as Record<string, unknown>;
    if ('kind' in rec) {
      const loc = rec.loc as { line: number; column: number; offset: number } | undefined;
      expect(loc).toBeDefined();
      if (loc) {
        expect(loc.offset).toBeGreaterThanOrEqual(0);
        expect(loc.offset).toBeLessThan(text.length);
        const lines = text.slice(0, loc.offset).split('\n');
        expect({ line: loc.line, column: loc.column }).toEqual({ line: lines.length, column: lines[lines.length - 1]!.length + 1 });
      }
      count++;
    }
    for (const [k, v] of Object.entries(rec)) if (k !== 'loc') count += checkLocations(v, text);
    return count;
  }

  test.each(CORPUS)('%s', (text) => {
    const multiline = text.replace(/ (FROM|WHERE|AND|JOIN|ORDER) /g, '\n  $1 ');
    expect(checkLocations(parseAdql(multiline), multiline)).toBeGreaterThan(3);
  });

  test('identifier and keyword positions', () => {
    const q = parseAdql('SELECT a\nFROM t\nWHERE x IN (1, 2)');
    expect(q.kind === 'select' && q.where?.kind === 'in' && q.where.source.loc).toEqual({ line: 3, column: 9, offset: 24 });
  });
});
