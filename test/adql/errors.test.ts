import { AdqlSyntaxError, MAX_NESTING_DEPTH, MAX_QUERY_LENGTH, parseAdql } from '../../shared/adql';

function errorOf(text: string): { message: string; line: number; column: number } {
  try {
    parseAdql(text);
  } catch (e) {
    if (e instanceof AdqlSyntaxError) return { message: e.message, line: e.line, column: e.column };
    throw e;
  }
  throw new Error(`parsed: ${text}`);
}

describe('rejected queries', () => {
  test.each([
    [
      'SELECT a WHERE x = 1',
      'ADQL syntax error at line 1, column 10: expected AS, FROM, operator, identifier, ",", "(" or ".", found "WHERE"',
    ],
    ['SELECT a\nFORM t', 'ADQL syntax error at line 2, column 6: expected FROM or ",", found "t"'],
    ['SELECT a FROM', 'ADQL syntax error at line 1, column 14: expected identifier or "(", found end of query'],
    ["SELECT * FROM t\nWHERE name = 'abc", 'ADQL syntax error at line 2, column 14: unterminated string literal'],
    ['SELECT "abc FROM t', 'ADQL syntax error at line 1, column 8: unterminated quoted identifier'],
    ['SELECT a FROM t WHERE a = @', 'ADQL syntax error at line 1, column 27: expected expression, found "@"'],
    ['SELECT a, FROM t', 'ADQL syntax error at line 1, column 11: expected expression, found "FROM"'],
    ['SELECT TOP 5 DISTINCT a FROM t', 'ADQL syntax error at line 1, column 14: expected expression or "*", found "DISTINCT"'],
    [
      'SELECT a FROM t WHERE a = 1 garbage',
      'ADQL syntax error at line 1, column 29: expected end of query, AND, EXCEPT, GROUP, HAVING, INTERSECT, OFFSET, OR, ORDER, UNION, ..., found "garbage"',
    ],
    [
      'SELECT * FROM t WHERE CONTAINS(POINT(1, 2), CIRCLE(1, 2, 3))',
      'ADQL syntax error at line 1, column 61: expected comparison or predicate (=, <, LIKE, IN, BETWEEN, IS NULL...) or operator, found end of query',
    ],
    ['DROP TABLE ivoa.ObsCore', 'ADQL syntax error at line 1, column 1: only SELECT queries are allowed, found "DROP"'],
    ['\n  insert into t values (1)', 'ADQL syntax error at line 2, column 3: only SELECT queries are allowed, found "insert"'],
    ['  -- nothing\n', 'ADQL syntax error at line 2, column 1: empty query'],
    ['SELECT * FROM t WHERE AND a = 1', 'ADQL syntax error at line 1, column 23: expected EXISTS, NOT or expression, found "AND"'],
    ['SELECT a FROM t ORDER a', 'ADQL syntax error at line 1, column 23: expected BY, found "a"'],
    ['SELECT * FROM t WHERE a IN ()', 'ADQL syntax error at line 1, column 29: expected SELECT or expression, found ")"'],
    ['SELECT * FROM t JOIN u', 'ADQL syntax error at line 1, column 23: expected AS, ON, USING, identifier or ".", found end of query'],
    [
      'SELECT CAST(a AS FOO) FROM t',
      'ADQL syntax error at line 1, column 18: expected type (INTEGER, SMALLINT, BIGINT, REAL, DOUBLE PRECISION, CHAR, VARCHAR or TIMESTAMP), found "FOO"',
    ],
    ['SELECT * FROM (SELECT a FROM t)', 'ADQL syntax error at line 1, column 32: expected AS or identifier, found end of query'],
    ['SELECT "" FROM t', 'ADQL syntax error at line 1, column 8: expected ALL, DISTINCT, TOP, expression or "*", found """"'],
    ['WITH x AS (SELECT 1 FROM t) SELECT * FROM x', 'ADQL syntax error at line 1, column 1: expected SELECT, found "WITH"'],
    ['SELECT 1abc FROM t', 'ADQL syntax error at line 1, column 8: expected ALL, DISTINCT, TOP, expression or "*", found "1abc"'],
  ])('%s', (text, message) => {
    expect(errorOf(text).message).toBe(message);
  });

  test('error exposes line and column', () => {
    expect(errorOf('SELECT *\nFROM t\nWHERE a = = 1')).toMatchObject({ line: 3, column: 11 });
  });

  test('nesting depth limit', () => {
    const ok = `SELECT ${'('.repeat(MAX_NESTING_DEPTH)}1${')'.repeat(MAX_NESTING_DEPTH)} FROM t`;
    expect(() => parseAdql(ok)).not.toThrow();
    const deep = `SELECT ${'('.repeat(MAX_NESTING_DEPTH + 1)}1${')'.repeat(MAX_NESTING_DEPTH + 1)} FROM t`;
    expect(errorOf(deep).message).toBe(
      `ADQL syntax error at line 1, column ${8 + MAX_NESTING_DEPTH}: query nested too deeply (more than 64 levels of parentheses)`,
    );
    // Parentheses inside strings and comments do not count.
    expect(() => parseAdql(`SELECT '${'('.repeat(200)}' FROM t -- ${'('.repeat(200)}`)).not.toThrow();
  });

  test('length limit', () => {
    const long = `SELECT a FROM t WHERE a = '${'x'.repeat(MAX_QUERY_LENGTH)}'`;
    expect(errorOf(long).message).toBe(`ADQL syntax error at line 1, column 1: query too long (${long.length} characters; maximum 100000)`);
  });

  test('AST depth limit', () => {
    expect(errorOf(`SELECT ${'a + '.repeat(2000)}1 FROM t`).message).toMatch(
      /^ADQL syntax error at line 1, column \d+: query too complex \(expressions nested more than 1000 levels deep\)$/,
    );
  });

  test('long but flat inputs parse quickly', () => {
    const conds = Array.from({ length: 400 }, (_, i) => `c${i} = ${i}`).join(' AND ');
    const start = Date.now();
    const q = parseAdql(`SELECT * FROM t WHERE ${conds}`);
    expect(q.kind).toBe('select');
    expect(Date.now() - start).toBeLessThan(2000);
  });
});
