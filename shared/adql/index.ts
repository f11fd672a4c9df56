/** Public API of the ADQL 2.1 parser (IVOA REC-ADQL-2.1). */
export type * from './ast';
export { MATH_FUNCTIONS, TRIG_FUNCTIONS, STRING_FUNCTIONS, OTHER_FUNCTIONS, GEOMETRY_FUNCTIONS, AGGREGATE_FUNCTIONS } from './ast';
export { parseAdql, AdqlSyntaxError, MAX_QUERY_LENGTH, MAX_NESTING_DEPTH, MAX_AST_DEPTH } from './parser';
export { formatAdql, formatExpression, formatIdentifier } from './print';
