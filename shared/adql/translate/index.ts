/** ADQL 2.1 → SQLite translation (validation against the published tables) and its SQL functions. */
export { translateAdql, AdqlValidationError } from './translate';
export type { OutputColumn, SqlParam, TranslatedQuery } from './translate';
export { registerAdqlFunctions, parseShape } from './functions';
