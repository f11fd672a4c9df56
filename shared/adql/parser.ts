/**
 * ADQL 2.1 parser: a peggy parser generated once per process from adql.peggy, wrapped with
 * input guards (length, nesting depth) and readable syntax errors.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type peggy from 'peggy';
import type { AdqlQuery } from './ast';
import { PROJECT_ROOT } from '../runtime';

export const MAX_QUERY_LENGTH = 100_000;
export const MAX_NESTING_DEPTH = 64;
/**
 * Deepest AST allowed (object levels). Long operator chains nest without parentheses
 * (a + a + ... is left-deep), and later recursive passes must not overflow on them.
 */
export const MAX_AST_DEPTH = 1000;

export class AdqlSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  /** The message without the "ADQL syntax error at ..." prefix. */
  readonly detail: string;

  constructor(detail: string, line: number, column: number) {
    super(`ADQL syntax error at line ${line}, column ${column}: ${detail}`);
    this.name = 'AdqlSyntaxError';
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

/** tsc does not copy the grammar to dist/, so compiled code reads it from the source tree. */
function grammarPath(): string {
  const local = path.join(__dirname, 'adql.peggy');
  if (fs.existsSync(local)) return local;
  return path.join(PROJECT_ROOT, 'shared', 'adql', 'adql.peggy');
}

// Packrat caching bounds backtracking: without it, alternatives that re-parse the same
// nested text (aggregate vs. function call, predicate vs. parenthesised search condition)
// could take time exponential in the nesting depth. The cache costs as much as it saves on
// the shallow queries users write (a cone query: 0.32 ms cached, 0.10 ms not), so queries
// nested at most UNCACHED_MAX_DEPTH parentheses deep, where re-parsing is bounded, go to a
// parser without it. Generating a parser costs ~150 ms, in every thread that parses: `npm run
// build` writes both as modules (scripts/build-adql.ts), which a thread loads in ~8 ms; they
// are generated here only when the built ones are missing or from another grammar.
const GRAMMAR = fs.readFileSync(grammarPath(), 'utf8');

/** The parser modules `npm run build` writes, with or without the packrat cache. */
export function builtParserPath(cache: boolean): string {
  return path.join(PROJECT_ROOT, 'dist', 'shared', 'adql', cache ? 'adql-parser-packrat.js' : 'adql-parser.js');
}

/** Identifies the grammar a built parser was generated from. */
export function grammarDigest(grammar: string = GRAMMAR): string {
  return createHash('sha256').update(grammar).digest('hex').slice(0, 16);
}

/** The parser's source as a CommonJS module that also exports the grammar's digest. */
export function parserSource(cache: boolean): string {
  const source = peggyModule().generate(GRAMMAR, { cache, output: 'source', format: 'commonjs' });
  return `${source}\nmodule.exports.grammarDigest = ${JSON.stringify(grammarDigest())};\n`;
}

function peggyModule(): typeof peggy {
  // Loaded only when a parser has to be generated (~30 ms).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('peggy') as typeof peggy;
}

function loadParser(cache: boolean): peggy.Parser {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(builtParserPath(cache)) as peggy.Parser & { grammarDigest?: string };
    if (built.grammarDigest === grammarDigest()) return built;
  } catch {
    // not built: generated below
  }
  return peggyModule().generate(GRAMMAR, { cache });
}

const SHALLOW_PARSER = loadParser(false);
let packratParser: peggy.Parser | undefined;
export const UNCACHED_MAX_DEPTH = 6;

const NON_SELECT = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'GRANT',
  'REVOKE',
  'MERGE',
  'REPLACE',
  'ATTACH',
  'DETACH',
  'PRAGMA',
  'VACUUM',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
]);

interface Position {
  line: number;
  column: number;
}

/** Position of `offset` in `text` (1-based line and column). */
function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function fail(text: string, offset: number, detail: string): never {
  const p = positionAt(text, offset);
  throw new AdqlSyntaxError(detail, p.line, p.column);
}

/**
 * Lexical pre-scan: rejects unterminated strings/identifiers and too deep parenthesis nesting
 * (subqueries always sit in parentheses) before the recursive-descent parser sees the input,
 * so that no input can exhaust the stack. Returns the offset of the first token and the
 * deepest nesting.
 */
function preScan(text: string): { first: number; deepest: number } {
  let depth = 0;
  let deepest = 0;
  let first = -1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f') {
      i++;
      continue;
    }
    if (first < 0) first = i;
    if (c === "'" || c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= text.length) {
          fail(text, start, c === "'" ? 'unterminated string literal' : 'unterminated quoted identifier');
        }
        if (text[i] === c) {
          if (text[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
      continue;
    }
    if (c === '(') {
      depth++;
      deepest = Math.max(deepest, depth);
      if (depth > MAX_NESTING_DEPTH) {
        fail(text, i, `query nested too deeply (more than ${MAX_NESTING_DEPTH} levels of parentheses)`);
      }
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    }
    i++;
  }
  return { first, deepest };
}

function isLocation(v: unknown): v is { line: number; column: number } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { line?: unknown }).line === 'number' &&
    typeof (v as { column?: unknown }).column === 'number'
  );
}

/** Iterative (stack-safe) check that the AST is not deeper than MAX_AST_DEPTH. */
function checkAstDepth(root: object): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_AST_DEPTH) {
      const at = (node as { loc?: unknown }).loc;
      const { line, column } = isLocation(at) ? at : { line: 1, column: 1 };
      throw new AdqlSyntaxError(`query too complex (expressions nested more than ${MAX_AST_DEPTH} levels deep)`, line, column);
    }
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
}

/** The token starting at `offset`, for "found ..." in messages. */
function tokenAt(text: string, offset: number): string {
  if (offset >= text.length) return 'end of query';
  const rest = text.slice(offset, offset + 40);
  const word = /^[A-Za-z0-9_.]+/.exec(rest);
  if (word) return `"${word[0]}"`;
  const string = /^'(?:[^']|'')*'?/.exec(rest) ?? /^"(?:[^"]|"")*"?/.exec(rest);
  if (string) return string[0].length > 30 ? `"${string[0].slice(0, 30)}..."` : `"${string[0]}"`;
  const op = /^(<>|!=|<=|>=|\|\|)/.exec(rest);
  return `"${op ? op[0] : rest[0]}"`;
}

const PUNCTUATION_ORDER = [',', '(', ')', '.', '*'];
/** Expectations that together just mean "a value expression can start here". */
const EXPRESSION_START = ['AVG', 'CASE', 'CAST', 'COUNT', 'MAX', 'MIN', 'SUM', '+', '-', '(', 'number', 'string', 'identifier'];
const PREDICATE_KEYWORDS = ['BETWEEN', 'ILIKE', 'IN', 'IS', 'LIKE', 'NOT'];
const OPERATORS = ['+', '-', '*', '/', '||'];

function joinAlternatives(parts: string[]): string {
  if (parts.length > 10) return `${parts.slice(0, 10).join(', ')}, ...`;
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Short, readable list of what the parser expected: the dozens of tokens that can start an
 * expression or a predicate are summarised, keywords are upper-cased.
 */
function describeExpected(expected: peggy.parser.Expectation[]): string {
  const items = new Set<string>();
  let end = false;
  for (const e of expected) {
    if (e.type === 'literal') items.add(/^[a-z]/i.test(e.text) ? e.text.toUpperCase() : e.text);
    else if (e.type === 'other') items.add(e.description);
    else if (e.type === 'end') end = true;
    // character classes only come from whitespace and the inside of tokens
  }
  const summary: string[] = [];
  if (items.has('number')) {
    for (const x of EXPRESSION_START) items.delete(x);
    summary.push('expression');
  }
  if (items.has('comparison operator')) {
    for (const x of [...PREDICATE_KEYWORDS, 'comparison operator']) items.delete(x);
    summary.push('comparison or predicate (=, <, LIKE, IN, BETWEEN, IS NULL...)');
  }
  if (OPERATORS.filter((o) => items.has(o)).length >= 2) {
    for (const x of OPERATORS) items.delete(x);
    summary.push('operator');
  }
  const keywords = [...items].filter((x) => /^[A-Z]/.test(x)).sort();
  const others = [...items].filter((x) => /^[a-z]/.test(x)).sort();
  const punctuation = [...items]
    .filter((x) => !/^[A-Za-z]/.test(x) && x !== '--')
    .sort((a, b) => rank(a) - rank(b))
    .map((x) => `"${x}"`);
  return joinAlternatives([...(end ? ['end of query'] : []), ...keywords, ...summary, ...others, ...punctuation]);
}

function rank(p: string): number {
  const i = PUNCTUATION_ORDER.indexOf(p);
  return i < 0 ? PUNCTUATION_ORDER.length : i;
}

/**
 * Parses one ADQL query (§2.2 <query_expression>; a trailing `;` is tolerated because TAP
 * clients often send one). Throws AdqlSyntaxError for anything else. `packrat` forces the
 * caching parser whatever the depth (the tests compare the two).
 */
export function parseAdql(text: string, options: { packrat?: boolean } = {}): AdqlQuery {
  if (typeof text !== 'string') throw new AdqlSyntaxError('query must be a string', 1, 1);
  if (text.length > MAX_QUERY_LENGTH) {
    throw new AdqlSyntaxError(`query too long (${text.length} characters; maximum ${MAX_QUERY_LENGTH})`, 1, 1);
  }
  const { first, deepest } = preScan(text);
  if (first < 0) fail(text, text.length, 'empty query');
  const firstWord = /^[A-Za-z]+/.exec(text.slice(first, first + 20));
  if (firstWord && NON_SELECT.has(firstWord[0].toUpperCase())) {
    fail(text, first, `only SELECT queries are allowed, found "${firstWord[0]}"`);
  }
  const parser = deepest <= UNCACHED_MAX_DEPTH && options.packrat !== true ? SHALLOW_PARSER : (packratParser ??= loadParser(true));
  try {
    const ast = parser.parse(text) as AdqlQuery;
    checkAstDepth(ast);
    return ast;
  } catch (e) {
    if (e instanceof AdqlSyntaxError) throw e;
    if (e instanceof parser.SyntaxError) {
      const offset = e.location.start.offset;
      const found = tokenAt(text, offset);
      const expected = e.expected ? describeExpected(e.expected) : '';
      const detail = expected ? `expected ${expected}, found ${found}` : `unexpected ${found}`;
      fail(text, offset, detail);
    }
    // Defence in depth: a stack overflow must still surface as a syntax error.
    if (e instanceof RangeError) throw new AdqlSyntaxError('query too complex', 1, 1);
    throw e;
  }
}
