/**
 * Prints an AST back to canonical ADQL (upper-case keywords, single spaces). Composite operands
 * are parenthesised, so parse(formatAdql(ast)) equals ast up to locations.
 */
import type { AdqlQuery, Expression, Identifier, OrderItem, SelectItem, TableName, TableReference } from './ast';

const REGULAR = /^[A-Za-z][A-Za-z0-9_]*$/;

export function formatIdentifier(id: Identifier): string {
  // Quoted identifiers keep their quotes: quoting changes case sensitivity (§2.1.3).
  if (!id.quoted && REGULAR.test(id.name)) return id.name;
  return `"${id.name.replace(/"/g, '""')}"`;
}

function formatTableName(t: TableName): string {
  return t.schema ? `${formatIdentifier(t.schema)}.${formatIdentifier(t.name)}` : formatIdentifier(t.name);
}

function formatString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Expressions that never need parentheses as operands. */
function isAtomic(e: Expression): boolean {
  switch (e.kind) {
    case 'number':
    case 'string':
    case 'column':
    case 'function':
    case 'userFunction':
    case 'aggregate':
    case 'geometry':
    case 'case':
    case 'cast':
    case 'subquery':
      return true;
    default:
      return false;
  }
}

/** Binding strength of value operators (§2.3: || < + - < * / < unary sign). */
function valuePrecedence(e: Expression): number {
  if (e.kind === 'binary') return e.op === '||' ? 1 : e.op === '+' || e.op === '-' ? 2 : 3;
  return 4;
}

/**
 * Operand of a binary operator: parenthesised only when precedence or (for right operands)
 * left-associativity requires it, so long left-deep chains print without nesting.
 */
function binaryOperand(e: Expression, parent: number, side: 'left' | 'right'): string {
  const needs = !isAtomic(e) && (side === 'left' ? valuePrecedence(e) < parent : valuePrecedence(e) <= parent);
  return needs ? `(${formatExpression(e)})` : formatExpression(e);
}

function operand(e: Expression): string {
  return isAtomic(e) ? formatExpression(e) : `(${formatExpression(e)})`;
}

/** Operand of a predicate or boolean connective: conditions need parentheses, values don't. */
function valueOperand(e: Expression): string {
  return e.kind === 'binary' || e.kind === 'unary' || isAtomic(e) ? formatExpression(e) : `(${formatExpression(e)})`;
}

function list(items: Expression[]): string {
  return items.map(formatExpression).join(', ');
}

export function formatExpression(e: Expression): string {
  switch (e.kind) {
    case 'number':
      return e.text;
    case 'string':
      return formatString(e.value);
    case 'column':
      return [e.schema, e.table, e.column]
        .filter((p): p is Identifier => p !== null)
        .map(formatIdentifier)
        .join('.');
    case 'unary':
      return `${e.op}${operand(e.operand)}`;
    case 'binary': {
      const prec = valuePrecedence(e);
      return `${binaryOperand(e.left, prec, 'left')} ${e.op} ${binaryOperand(e.right, prec, 'right')}`;
    }
    case 'function':
      return `${e.name}(${list(e.args)})`;
    case 'userFunction':
      return `${e.name}(${list(e.args)})`;
    case 'aggregate':
      if (e.arg === null) return `${e.name}(*)`;
      return `${e.name}(${e.quantifier ? `${e.quantifier} ` : ''}${formatExpression(e.arg)})`;
    case 'geometry':
      return `${e.name}(${list(e.coordSys ? [e.coordSys, ...e.args] : e.args)})`;
    case 'case': {
      const parts = ['CASE'];
      if (e.operand) parts.push(formatExpression(e.operand));
      for (const w of e.whens) parts.push(`WHEN ${formatExpression(w.when)} THEN ${formatExpression(w.then)}`);
      if (e.otherwise) parts.push(`ELSE ${formatExpression(e.otherwise)}`);
      parts.push('END');
      return parts.join(' ');
    }
    case 'cast':
      return `CAST(${formatExpression(e.expr)} AS ${e.type.name}${e.type.length === null ? '' : `(${e.type.length})`})`;
    case 'subquery':
      return `(${formatAdql(e.query)})`;
    case 'comparison':
      return `${valueOperand(e.left)} ${e.op} ${valueOperand(e.right)}`;
    case 'between':
      return `${valueOperand(e.expr)} ${e.negated ? 'NOT ' : ''}BETWEEN ${valueOperand(e.low)} AND ${valueOperand(e.high)}`;
    case 'like':
      return `${valueOperand(e.expr)} ${e.negated ? 'NOT ' : ''}${e.caseInsensitive ? 'ILIKE' : 'LIKE'} ${valueOperand(e.pattern)}`;
    case 'in': {
      const source = e.source.kind === 'list' ? list(e.source.items) : formatAdql(e.source.query);
      return `${valueOperand(e.expr)} ${e.negated ? 'NOT ' : ''}IN (${source})`;
    }
    case 'isNull':
      return `${valueOperand(e.expr)} IS ${e.negated ? 'NOT ' : ''}NULL`;
    case 'exists':
      return `EXISTS (${formatAdql(e.query)})`;
    case 'logical':
      return `${condOperand(e.left, e.op, 'left')} ${e.op} ${condOperand(e.right, e.op, 'right')}`;
    case 'not':
      // <boolean_factor> ::= [NOT] <boolean_primary>: a connective or NOT needs parentheses.
      return `NOT ${e.operand.kind === 'logical' || e.operand.kind === 'not' ? `(${formatExpression(e.operand)})` : formatExpression(e.operand)}`;
  }
}

/** OR < AND (§2.2.3); chains are left-deep, so a same-operator right operand needs parentheses. */
function condOperand(e: Expression, parent: 'AND' | 'OR', side: 'left' | 'right'): string {
  if (e.kind !== 'logical') return formatExpression(e);
  const needs = parent === 'AND' ? e.op === 'OR' || side === 'right' : side === 'right' && e.op === 'OR';
  return needs ? `(${formatExpression(e)})` : formatExpression(e);
}

function formatSelectItem(item: SelectItem): string {
  if (item.kind === 'allColumns') return item.table ? `${formatTableName(item.table)}.*` : '*';
  return item.alias ? `${formatExpression(item.expr)} AS ${formatIdentifier(item.alias)}` : formatExpression(item.expr);
}

function formatTableReference(t: TableReference): string {
  switch (t.kind) {
    case 'table':
      return t.alias ? `${formatTableName(t.table)} AS ${formatIdentifier(t.alias)}` : formatTableName(t.table);
    case 'derivedTable':
      return `(${formatAdql(t.query)}) AS ${formatIdentifier(t.alias)}`;
    case 'join': {
      // Joins are left-associative; a join on the right needs parentheses.
      const right = t.right.kind === 'join' ? `(${formatTableReference(t.right)})` : formatTableReference(t.right);
      const left = formatTableReference(t.left);
      if (t.joinType === 'CROSS') return `${left} CROSS JOIN ${right}`;
      const type = t.joinType === 'INNER' ? 'INNER' : `${t.joinType} OUTER`;
      if (t.natural) return `${left} NATURAL ${type} JOIN ${right}`;
      const cond =
        t.condition === null
          ? ''
          : t.condition.kind === 'on'
            ? ` ON ${formatExpression(t.condition.condition)}`
            : ` USING (${t.condition.columns.map(formatIdentifier).join(', ')})`;
      return `${left} ${type} JOIN ${right}${cond}`;
    }
  }
}

function formatOrderItem(o: OrderItem): string {
  const target = o.target.kind === 'position' ? String(o.target.position) : formatExpression(o.target);
  return o.direction ? `${target} ${o.direction}` : target;
}

function formatTail(orderBy: OrderItem[], offset: number | null): string {
  let s = '';
  if (orderBy.length > 0) s += ` ORDER BY ${orderBy.map(formatOrderItem).join(', ')}`;
  if (offset !== null) s += ` OFFSET ${offset}`;
  return s;
}

export function formatAdql(q: AdqlQuery): string {
  if (q.kind === 'setOperation') {
    // INTERSECT binds tighter than UNION/EXCEPT and set operations nest to the left, so only
    // right operands that are themselves set operations would need parentheses; the grammar
    // never produces those.
    const op = `${q.op}${q.all ? ' ALL' : ''}`;
    return `${formatAdql(q.left)} ${op} ${formatAdql(q.right)}${formatTail(q.orderBy, q.offset)}`;
  }
  let s = 'SELECT';
  if (q.quantifier) s += ` ${q.quantifier}`;
  if (q.top !== null) s += ` TOP ${q.top}`;
  s += q.items.length === 0 ? ' *' : ` ${q.items.map(formatSelectItem).join(', ')}`;
  s += ` FROM ${q.from.map(formatTableReference).join(', ')}`;
  if (q.where) s += ` WHERE ${formatExpression(q.where)}`;
  if (q.groupBy.length > 0) s += ` GROUP BY ${list(q.groupBy)}`;
  if (q.having) s += ` HAVING ${formatExpression(q.having)}`;
  return s + formatTail(q.orderBy, q.offset);
}
