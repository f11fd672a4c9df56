/**
 * Part of `npm run build`: writes the ADQL parsers generated from shared/adql/adql.peggy as
 * modules into dist/shared/adql/, so that a processor thread loads them instead of generating
 * them (~150 ms each). shared/adql/parser.ts checks the grammar's digest and generates the
 * parser itself when the built one is missing or stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtParserPath, parserSource } from '../shared/adql/parser';

for (const cache of [false, true]) {
  const file = builtParserPath(cache);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, parserSource(cache));
}
