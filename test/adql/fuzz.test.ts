import { AdqlSyntaxError, formatAdql, parseAdql } from '../../shared/adql';
import { CORPUS } from './corpus';
import { strip } from './helpers';
import { seededRandom } from '../../shared/random';

const SOUP = [
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  '(',
  ')',
  ',',
  '.',
  '*',
  '+',
  '-',
  '/',
  '||',
  '=',
  '<>',
  '<=',
  '>',
  "'x'",
  "'",
  '"',
  '"Q"',
  '1',
  '2.5',
  '1e3',
  '0x1F',
  'a',
  't',
  's.t',
  'POINT',
  'CIRCLE',
  'CONTAINS',
  'COUNT',
  'TOP',
  'DISTINCT',
  'JOIN',
  'ON',
  'USING',
  'LEFT',
  'NATURAL',
  'UNION',
  'ALL',
  'ORDER',
  'BY',
  'GROUP',
  'HAVING',
  'OFFSET',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'CAST',
  'AS',
  'INTEGER',
  'IN',
  'IS',
  'NULL',
  'LIKE',
  'ILIKE',
  'BETWEEN',
  'EXISTS',
  '--',
  '\n',
  ';',
  '@',
  '#',
  '\u00e9',
  'DROP',
];

function tokens(text: string): string[] {
  return text.match(/'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|<>|!=|<=|>=|\|\||--|\S/g) ?? [];
}

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const toks = tokens(text);
  const n = 1 + Math.floor(r() * 3);
  let chars = text;
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * toks.length);
    const j = Math.floor(r() * toks.length);
    switch (Math.floor(r() * 7)) {
      case 0:
        toks.splice(i, 1);
        break;
      case 1:
        toks.splice(i, 0, toks[i] ?? '');
        break;
      case 2:
        [toks[i], toks[j]] = [toks[j]!, toks[i]!];
        break;
      case 3:
        toks.splice(i, 0, pick(SOUP));
        break;
      case 4:
        toks[i] = pick(SOUP);
        break;
      case 5: {
        const c = Math.floor(r() * chars.length);
        chars = chars.slice(0, c) + chars.slice(c + 1);
        return chars;
      }
      default: {
        const c = Math.floor(r() * chars.length);
        chars = chars.slice(0, c) + pick(SOUP) + chars.slice(c);
        return chars;
      }
    }
  }
  return toks.filter((t) => t !== undefined).join(' ');
}

function soup(r: () => number): string {
  const n = Math.floor(r() * 40);
  return Array.from({ length: n }, () => SOUP[Math.floor(r() * SOUP.length)]).join(r() < 0.5 ? ' ' : '');
}

test('fuzz: every input parses or throws AdqlSyntaxError', () => {
  const r = seededRandom('adql-fuzz', 20261125); // deterministic: failures are reproducible
  const inputs: string[] = [];
  for (let i = 0; i < 3000; i++) inputs.push(mutate(CORPUS[i % CORPUS.length]!, r));
  for (let i = 0; i < 1500; i++) inputs.push(soup(r));
  // Pathological shapes: deep nesting near the limit, long operator chains.
  inputs.push(`SELECT ${'('.repeat(64)}a${')'.repeat(64)} FROM t`);
  inputs.push(`SELECT * FROM t WHERE ${'(a = 1 OR '.repeat(63)}b = 2${')'.repeat(63)}`);
  inputs.push(`SELECT ${'a + '.repeat(3000)}1 FROM t`);
  inputs.push(`SELECT ${'-'.repeat(5000)}a FROM t`);
  inputs.push('SELECT '.repeat(10000));
  // Alternatives that re-parse the same nested text (aggregate vs. function call) must not
  // blow up exponentially: packrat caching keeps this linear.
  inputs.push(`SELECT ${'SUM('.repeat(60)}a, b${')'.repeat(60)} FROM t`);
  inputs.push(`SELECT * FROM t WHERE ${'((a = 1) AND '.repeat(30)}b${')'.repeat(30)}`);
  inputs.push(`SELECT * FROM t WHERE a IN (${Array.from({ length: 10000 }, (_, i) => i).join(', ')})`);
  let parsed = 0;
  let rejected = 0;
  const start = Date.now();
  for (const input of inputs) {
    // The parser without packrat cache (shallow queries) must accept the same queries with the
    // same AST, and refuse the same at the same place and token (it may list more of what was
    // expected there: the cache skips re-recording expectations).
    let packrat: unknown;
    try {
      packrat = parseAdql(input, { packrat: true });
    } catch (e) {
      packrat = e instanceof Error ? e.message : e;
    }
    try {
      const ast = parseAdql(input);
      expect(ast).toEqual(packrat);
      parsed++;
      // Anything accepted must also survive a round trip.
      expect(strip(parseAdql(formatAdql(ast)))).toEqual(strip(ast));
    } catch (e) {
      if (!(e instanceof AdqlSyntaxError)) throw new Error(`unexpected ${String(e)} for input ${JSON.stringify(input.slice(0, 300))}`);
      const where = (m: unknown) => String(m).replace(/: expected .*(, found .+)$/s, ':$1');
      expect(where(e.message)).toBe(where(packrat));
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
      // Every message names what was expected or why the input is refused.
      expect(e.message).toMatch(/^ADQL syntax error at line \d+, column \d+: (expected \S.*, found .+|[a-z].+)$/s);
      if (/expected (, |or |found)/.test(e.message)) throw new Error(`${e.message} for ${JSON.stringify(input.slice(0, 300))}`);
      rejected++;
    }
  }
  const ms = Date.now() - start;

  console.log(
    `ADQL fuzz: ${inputs.length} inputs (${parsed} parsed, ${rejected} rejected) in ${ms} ms, ${Math.round((inputs.length / ms) * 1000)} inputs/s`,
  );
  expect(parsed).toBeGreaterThan(100);
  expect(rejected).toBeGreaterThan(1000);
  // A guard against catastrophic backtracking only (a loaded 2-core machine took 14 s for
  // what takes 5 s when quiet); parsing speed is measured by benchmarks, not here.
  expect(ms).toBeLessThan(60_000);
});
