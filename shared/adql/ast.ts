/**
 * Typed AST for ADQL 2.1 queries (IVOA REC-ADQL-2.1). Names are kept unresolved (text plus
 * `quoted` flag) so that TAP_SCHEMA validation and SQLite translation can resolve them later;
 * every node carries the location of its first token for error messages.
 */

export interface SourceLocation {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** 0-based character offset. */
  offset: number;
}

interface Node {
  loc: SourceLocation;
}

/** §2.1.3: regular identifiers are case-insensitive, delimited ("quoted") ones keep their case. */
export interface Identifier extends Node {
  kind: 'identifier';
  name: string;
  quoted: boolean;
}

// ---------------------------------------------------------------------------------------------
// Queries (§2.2)

export interface OrderItem extends Node {
  /** An expression, a select-list alias (an unqualified column reference) or a 1-based position. */
  target: Expression | PositionRef;
  /** null when neither ASC nor DESC was written (ascending by default). */
  direction: 'ASC' | 'DESC' | null;
}

/** ORDER BY n: refers to the n-th select item (§2.2.5). */
export interface PositionRef extends Node {
  kind: 'position';
  position: number;
}

export interface QuerySpecification extends Node {
  kind: 'select';
  quantifier: 'ALL' | 'DISTINCT' | null;
  top: number | null;
  /** Empty array means `SELECT *`. */
  items: SelectItem[];
  /** Comma-separated table references (implicit cross joins). */
  from: TableReference[];
  where: Expression | null;
  groupBy: Expression[];
  having: Expression | null;
  orderBy: OrderItem[];
  offset: number | null;
}

/** §2.2.7 (set operators). ORDER BY/OFFSET after a set operation apply to its result. */
export interface SetOperation extends Node {
  kind: 'setOperation';
  op: 'UNION' | 'INTERSECT' | 'EXCEPT';
  all: boolean;
  left: AdqlQuery;
  right: AdqlQuery;
  orderBy: OrderItem[];
  offset: number | null;
}

export type AdqlQuery = QuerySpecification | SetOperation;

// ---------------------------------------------------------------------------------------------
// Select list

/** `*` (table null) or `t.*` / `s.t.*`. */
export interface AllColumns extends Node {
  kind: 'allColumns';
  table: TableName | null;
}

export interface SelectExpression extends Node {
  kind: 'selectExpression';
  expr: Expression;
  alias: Identifier | null;
}

export type SelectItem = AllColumns | SelectExpression;

// ---------------------------------------------------------------------------------------------
// FROM clause

export interface TableName extends Node {
  kind: 'tableName';
  schema: Identifier | null;
  name: Identifier;
}

export interface TableRef extends Node {
  kind: 'table';
  table: TableName;
  alias: Identifier | null;
}

export interface DerivedTable extends Node {
  kind: 'derivedTable';
  query: AdqlQuery;
  alias: Identifier;
}

export type JoinType = 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS';

/** Location: the ON / USING keyword. */
export type JoinCondition =
  { kind: 'on'; condition: Expression; loc: SourceLocation } | { kind: 'using'; columns: Identifier[]; loc: SourceLocation };

export interface Join extends Node {
  kind: 'join';
  joinType: JoinType;
  /** NATURAL join (columns matched by name). */
  natural: boolean;
  left: TableReference;
  right: TableReference;
  /** null for NATURAL and CROSS joins. */
  condition: JoinCondition | null;
}

export type TableReference = TableRef | DerivedTable | Join;

// ---------------------------------------------------------------------------------------------
// Value expressions (§2.3)

export interface NumberLiteral extends Node {
  kind: 'number';
  /** Source text, kept so that big or exact decimal values are not rounded. */
  text: string;
  value: number;
  numberType: 'integer' | 'decimal' | 'exponent' | 'hex';
}

export interface StringLiteral extends Node {
  kind: 'string';
  /** Unescaped value ('' → '). */
  value: string;
}

export interface ColumnRef extends Node {
  kind: 'column';
  schema: Identifier | null;
  table: Identifier | null;
  column: Identifier;
}

export interface UnaryExpression extends Node {
  kind: 'unary';
  op: '-' | '+';
  operand: Expression;
}

export type BinaryOperator = '+' | '-' | '*' | '/' | '||';

export interface BinaryExpression extends Node {
  kind: 'binary';
  op: BinaryOperator;
  left: Expression;
  right: Expression;
}

export const MATH_FUNCTIONS = [
  'ABS',
  'CEILING',
  'DEGREES',
  'EXP',
  'FLOOR',
  'LOG',
  'LOG10',
  'MOD',
  'PI',
  'POWER',
  'RADIANS',
  'SQRT',
  'RAND',
  'ROUND',
  'TRUNCATE',
] as const;
export const TRIG_FUNCTIONS = ['ACOS', 'ASIN', 'ATAN', 'ATAN2', 'COS', 'COT', 'SIN', 'TAN'] as const;
export const STRING_FUNCTIONS = ['LOWER', 'UPPER'] as const;
export const OTHER_FUNCTIONS = ['COALESCE'] as const;
export const GEOMETRY_FUNCTIONS = [
  'POINT',
  'CIRCLE',
  'POLYGON',
  'BOX',
  'REGION',
  'CONTAINS',
  'INTERSECTS',
  'DISTANCE',
  'AREA',
  'COORD1',
  'COORD2',
  'COORDSYS',
  'CENTROID',
] as const;
export const AGGREGATE_FUNCTIONS = ['COUNT', 'AVG', 'MAX', 'MIN', 'SUM'] as const;

export type BuiltinFunctionName =
  (typeof MATH_FUNCTIONS)[number] | (typeof TRIG_FUNCTIONS)[number] | (typeof STRING_FUNCTIONS)[number] | (typeof OTHER_FUNCTIONS)[number];
export type GeometryFunctionName = (typeof GEOMETRY_FUNCTIONS)[number];
export type AggregateFunctionName = (typeof AGGREGATE_FUNCTIONS)[number];

/** Built-in math/trig/string functions (§2.3.x); `name` upper-cased. */
export interface FunctionCall extends Node {
  kind: 'function';
  name: BuiltinFunctionName;
  args: Expression[];
}

/** §2.4 user-defined functions: name kept as written (case-insensitive). */
export interface UserFunctionCall extends Node {
  kind: 'userFunction';
  name: string;
  args: Expression[];
}

/** §2.3.4 set functions. `arg` null means COUNT(*). */
export interface AggregateCall extends Node {
  kind: 'aggregate';
  name: AggregateFunctionName;
  quantifier: 'ALL' | 'DISTINCT' | null;
  arg: Expression | null;
}

/**
 * §4.2 geometric functions. `coordSys` holds the leading coordinate-system string argument
 * (deprecated in ADQL 2.1 but still accepted) when it was given; `args` are the remaining ones.
 */
export interface GeometryCall extends Node {
  kind: 'geometry';
  name: GeometryFunctionName;
  coordSys: Expression | null;
  args: Expression[];
}

export interface CaseWhen {
  when: Expression;
  then: Expression;
}

/** Simple CASE (operand set) or searched CASE (operand null, `when`s are conditions). */
export interface CaseExpression extends Node {
  kind: 'case';
  operand: Expression | null;
  whens: CaseWhen[];
  otherwise: Expression | null;
}

export type CastTypeName = 'INTEGER' | 'SMALLINT' | 'BIGINT' | 'REAL' | 'DOUBLE PRECISION' | 'CHAR' | 'VARCHAR' | 'TIMESTAMP';

export interface CastType {
  name: CastTypeName;
  /** Only for CHAR(n)/VARCHAR(n). */
  length: number | null;
}

/** ADQL 2.1 §2.3.6 (optional type conversion feature). */
export interface CastExpression extends Node {
  kind: 'cast';
  expr: Expression;
  type: CastType;
}

export interface ScalarSubquery extends Node {
  kind: 'subquery';
  query: AdqlQuery;
}

// ---------------------------------------------------------------------------------------------
// Predicates and search conditions (§2.2.3)

export type ComparisonOperator = '=' | '<>' | '<' | '>' | '<=' | '>=';

export interface Comparison extends Node {
  kind: 'comparison';
  /** `!=` is normalised to `<>` (same meaning). */
  op: ComparisonOperator;
  left: Expression;
  right: Expression;
}

export interface BetweenPredicate extends Node {
  kind: 'between';
  negated: boolean;
  expr: Expression;
  low: Expression;
  high: Expression;
}

export interface LikePredicate extends Node {
  kind: 'like';
  negated: boolean;
  /** ILIKE (ADQL 2.1 §2.3.9 case-insensitive match). */
  caseInsensitive: boolean;
  expr: Expression;
  pattern: Expression;
}

/** Location: the IN (or NOT IN) keyword. */
export type InSource =
  { kind: 'list'; items: Expression[]; loc: SourceLocation } | { kind: 'query'; query: AdqlQuery; loc: SourceLocation };

export interface InPredicate extends Node {
  kind: 'in';
  negated: boolean;
  expr: Expression;
  source: InSource;
}

export interface NullPredicate extends Node {
  kind: 'isNull';
  negated: boolean;
  expr: Expression;
}

export interface ExistsPredicate extends Node {
  kind: 'exists';
  query: AdqlQuery;
}

export interface LogicalExpression extends Node {
  kind: 'logical';
  op: 'AND' | 'OR';
  left: Expression;
  right: Expression;
}

export interface NotExpression extends Node {
  kind: 'not';
  operand: Expression;
}

export type Expression =
  | NumberLiteral
  | StringLiteral
  | ColumnRef
  | UnaryExpression
  | BinaryExpression
  | FunctionCall
  | UserFunctionCall
  | AggregateCall
  | GeometryCall
  | CaseExpression
  | CastExpression
  | ScalarSubquery
  | Comparison
  | BetweenPredicate
  | LikePredicate
  | InPredicate
  | NullPredicate
  | ExistsPredicate
  | LogicalExpression
  | NotExpression;
