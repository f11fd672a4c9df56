/**
 * ADQL 2.1 AST → SQLite SQL. Validates every table and column against the published
 * definitions (TAP 1.1 §4: only what TAP_SCHEMA lists is readable), names physical tables and
 * columns from those definitions only (double-quoted, behind generated aliases), binds string
 * literals as parameters, and describes the output columns for the VOTable FIELDs.
 * Numeric literals are written from their parsed value (never the source text).
 */
import type {
  AdqlQuery,
  ColumnRef,
  Expression,
  Identifier,
  OrderItem,
  QuerySpecification,
  SelectItem,
  SetOperation,
  SourceLocation,
  TableName,
  TableReference,
} from '../ast';
import { columnSqlName, publishedLinkSql, unqualified, type ColumnDef, type TableDef } from '../../tapschema/model';
import { conePrefilter } from '../../obscore/cone';
import { rtreePrefilter } from '../../obscore/rtree';
import { cartesianBoundingBox, makeBox, makeCircle, makePointShape, makePolygon, type Point, type Shape } from '../../sky';

export type SqlParam = string | number | null;

export class AdqlValidationError extends Error {
  override name = 'AdqlValidationError';
  constructor(
    message: string,
    readonly loc: SourceLocation | null = null,
  ) {
    super(message);
  }
}

/** One column of the result: its unique name and VOTable FIELD metadata. */
export interface OutputColumn extends Pick<ColumnDef, 'name' | 'datatype' | 'arraysize' | 'xtype' | 'unit' | 'ucd' | 'utype'> {
  /** The published column, when the item is a plain column reference. */
  column: ColumnDef | null;
}

export interface TranslatedQuery {
  sql: string;
  params: SqlParam[];
  columns: OutputColumn[];
}

type TypeInfo = Omit<OutputColumn, 'name' | 'column'>;

interface SourceColumn {
  name: string;
  sqlName: string;
  type: TypeInfo;
  def: ColumnDef | null;
}

/** A table reference in scope (§2.2.2): published table or derived table. */
interface Source {
  /** Published name (`ivoa.ObsCore`) or the derived table's alias, for messages. */
  label: string;
  table: TableDef | null;
  alias: Identifier | null;
  sqlAlias: string;
  columns: SourceColumn[];
  /** Columns merged by USING/NATURAL: an unqualified reference takes the first. */
  merged: Set<string>;
}

interface Scope {
  sources: Source[];
  parent: Scope | null;
  /** Select-list output names (for ORDER BY / GROUP BY aliases). */
  outputs: OutputColumn[];
}

/** A double-quoted SQL identifier: definition names, generated aliases, or escaped output names. */
const q = (name: string): string => {
  if (name.includes('\0')) throw new AdqlValidationError('identifiers must not contain NUL');
  return `"${name.replace(/"/g, '""')}"`;
};
const same = (id: Identifier, name: string): boolean => (id.quoted ? id.name === name : id.name.toLowerCase() === name.toLowerCase());
/** A name as messages show it (delimited identifiers without their quotes). */
const written = (id: Identifier): string => id.name;

const CHAR: TypeInfo = { datatype: 'char', arraysize: '*' };
const DOUBLE: TypeInfo = { datatype: 'double' };
const LONG: TypeInfo = { datatype: 'long' };
const INT: TypeInfo = { datatype: 'int' };

function typeOfColumn(def: ColumnDef): TypeInfo {
  const t: TypeInfo = { datatype: def.datatype };
  if (def.arraysize !== undefined) t.arraysize = def.arraysize;
  if (def.xtype !== undefined) t.xtype = def.xtype;
  if (def.unit !== undefined) t.unit = def.unit;
  if (def.ucd !== undefined) t.ucd = def.ucd;
  if (def.utype !== undefined) t.utype = def.utype;
  return t;
}

const MATH_SQL: Readonly<Record<string, string>> = {
  ABS: 'abs',
  CEILING: 'ceil',
  DEGREES: 'degrees',
  EXP: 'exp',
  FLOOR: 'floor',
  LOG: 'ln',
  LOG10: 'log10',
  MOD: 'mod',
  PI: 'pi',
  POWER: 'power',
  RADIANS: 'radians',
  SQRT: 'sqrt',
  RAND: 'adql_rand',
  ROUND: 'round',
  TRUNCATE: 'adql_truncate',
  ACOS: 'acos',
  ASIN: 'asin',
  ATAN: 'atan',
  ATAN2: 'atan2',
  COS: 'cos',
  SIN: 'sin',
  TAN: 'tan',
  LOWER: 'lower',
  UPPER: 'upper',
  COALESCE: 'coalesce',
};

const GEOMETRY_SQL: Readonly<Record<string, string>> = {
  POINT: 'adql_point',
  CIRCLE: 'adql_circle',
  POLYGON: 'adql_polygon',
  BOX: 'adql_box',
  REGION: 'adql_region',
  CONTAINS: 'adql_contains',
  INTERSECTS: 'adql_intersects',
  DISTANCE: 'adql_distance',
  AREA: 'adql_area',
  COORD1: 'adql_coord1',
  COORD2: 'adql_coord2',
  CENTROID: 'adql_centroid',
};

const GEOMETRY_TYPES: Readonly<Record<string, TypeInfo>> = {
  POINT: { ...CHAR, xtype: 'point' },
  CIRCLE: { ...CHAR, xtype: 'circle' },
  POLYGON: { ...CHAR, xtype: 'polygon' },
  BOX: { ...CHAR, xtype: 'polygon' },
  CENTROID: { ...CHAR, xtype: 'point' },
  REGION: { ...CHAR, xtype: 'adql:REGION' },
  CONTAINS: INT,
  INTERSECTS: INT,
  DISTANCE: { datatype: 'double', unit: 'deg' },
  AREA: { datatype: 'double', unit: 'deg**2' },
  COORD1: { datatype: 'double', unit: 'deg' },
  COORD2: { datatype: 'double', unit: 'deg' },
  COORDSYS: CHAR,
};

/** Translates a parsed query; throws AdqlValidationError for names that are not published. */
export interface TranslateOptions {
  /**
   * The service's base URL: service-relative columns (ObsCore access_url) are then compared,
   * sorted and returned absolute, as the results show them. Without it they stay as stored.
   */
  baseUrl?: string;
}

export function translateAdql(query: AdqlQuery, tables: readonly TableDef[], options: TranslateOptions = {}): TranslatedQuery {
  return new Translator(tables, options.baseUrl).query(query, null);
}

class Translator {
  private aliasCounter = 0;

  constructor(
    private readonly tables: readonly TableDef[],
    private readonly baseUrl: string | undefined,
  ) {}

  /** A column of a source as SQL: a service-relative one with the base URL (bound) in front. */
  private columnSql(source: Source, column: SourceColumn, params: SqlParam[]): string {
    const sql = `${q(source.sqlAlias)}.${q(column.sqlName)}`;
    if (this.baseUrl === undefined || column.def?.serviceRelative !== true) return sql;
    params.push(this.baseUrl);
    return publishedLinkSql(sql);
  }

  query(query: AdqlQuery, parent: Scope | null): TranslatedQuery {
    return query.kind === 'select' ? this.select(query, parent) : this.setOperation(query, parent);
  }

  // §2.2.7 set operations: each side wrapped so that its own ORDER BY/LIMIT stays legal in SQLite.
  private setOperation(op: SetOperation, parent: Scope | null): TranslatedQuery {
    const left = this.query(op.left, parent);
    const right = this.query(op.right, parent);
    if (left.columns.length !== right.columns.length) {
      throw new AdqlValidationError(
        `${op.op} operands have different numbers of columns (${left.columns.length} and ${right.columns.length})`,
        op.loc,
      );
    }
    const params: SqlParam[] = [...left.params, ...right.params];
    let sql = `SELECT * FROM (${left.sql}) ${op.op}${op.all ? ' ALL' : ''} SELECT * FROM (${right.sql})`;
    const scope: Scope = { sources: [], parent: null, outputs: left.columns };
    if (op.orderBy.length > 0) sql += ` ORDER BY ${this.orderBy(op.orderBy, scope, params, true)}`;
    if (op.offset !== null) {
      sql += ' LIMIT -1 OFFSET ?';
      params.push(op.offset);
    }
    return { sql, params, columns: left.columns };
  }

  private select(spec: QuerySpecification, parent: Scope | null): TranslatedQuery {
    const scope: Scope = { sources: [], parent, outputs: [] };
    const fromParams: SqlParam[] = [];
    const from = spec.from.map((ref) => this.tableReference(ref, scope, fromParams));

    const selectParams: SqlParam[] = [];
    const items: string[] = [];
    const columns: OutputColumn[] = [];
    const used = new Set<string>();
    const unique = (base: string): string => {
      let name = base;
      for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}_${n}`;
      used.add(name.toLowerCase());
      return name;
    };
    const selectItems: SelectItem[] = spec.items.length === 0 ? [{ kind: 'allColumns', table: null, loc: spec.loc }] : spec.items;
    for (const item of selectItems) {
      if (item.kind === 'allColumns') {
        const sources = item.table === null ? scope.sources : [this.sourceForAll(item.table, scope)];
        for (const source of sources) {
          for (const c of source.columns) {
            const name = unique(c.name);
            items.push(`${this.columnSql(source, c, selectParams)} AS ${q(name)}`);
            columns.push({ name, ...c.type, column: c.def });
          }
        }
        continue;
      }
      const expr = item.expr;
      let sql = this.expr(expr, scope, selectParams);
      let type = this.typeOf(expr, scope);
      let def: ColumnDef | null = null;
      let base: string;
      if (expr.kind === 'column') {
        const c = this.resolveColumn(expr, scope);
        def = c.column.def;
        base = c.column.name;
      } else if (expr.kind === 'aggregate') base = expr.name.toLowerCase();
      else if (expr.kind === 'function' || expr.kind === 'geometry') base = expr.name.toLowerCase();
      else base = `col${columns.length + 1}`;
      if (expr.kind === 'geometry' && ['point', 'circle', 'polygon'].includes(type.xtype ?? '')) sql = `adql_dali(${sql})`;
      if (def !== null) type = typeOfColumn(def);
      const name = unique(item.alias !== null ? item.alias.name : base);
      items.push(`${sql} AS ${q(name)}`);
      columns.push({ name, ...type, column: def });
    }
    scope.outputs = columns;

    const params: SqlParam[] = [...selectParams, ...fromParams];
    let sql = `SELECT ${spec.quantifier === 'DISTINCT' ? 'DISTINCT ' : ''}${items.join(', ')}`;
    if (from.length > 0) sql += ` FROM ${from.join(', ')}`;
    if (spec.where !== null) {
      sql += ` WHERE ${this.expr(spec.where, scope, params)}`;
      for (const filter of this.spatialFilters(spec.where, scope)) {
        sql += ` AND ${filter.sql}`;
        params.push(...filter.params);
      }
    }
    if (spec.groupBy.length > 0) sql += ` GROUP BY ${spec.groupBy.map((g) => this.groupItem(g, scope, params)).join(', ')}`;
    if (spec.having !== null) sql += ` HAVING ${this.expr(spec.having, scope, params)}`;
    if (spec.orderBy.length > 0) sql += ` ORDER BY ${this.orderBy(spec.orderBy, scope, params, false)}`;
    if (spec.top !== null || spec.offset !== null) {
      sql += ' LIMIT ?';
      params.push(spec.top ?? -1);
      if (spec.offset !== null) {
        sql += ' OFFSET ?';
        params.push(spec.offset);
      }
    }
    return { sql, params, columns };
  }

  /**
   * Spatial-index prefilters for top-level conjuncts `<predicate> = 1` on ivoa.ObsCore with a
   * constant shape; the exact test still runs on the rows they let through:
   * - `CONTAINS(POINT(s_ra, s_dec), CIRCLE(…))`: the sky index (shared/obscore/cone.ts);
   * - `CONTAINS(POINT(s_ra, s_dec), <other shape>)`: the footprints' R*Tree (the footprint
   *   holds s_ra/s_dec, so its box must meet the shape's box);
   * - CONTAINS or INTERSECTS between s_region and a shape, either way round: the R*Tree
   *   (each of them needs the footprint to meet the shape).
   */
  private spatialFilters(where: Expression, scope: Scope): { sql: string; params: SqlParam[] }[] {
    const conjuncts: Expression[] = [];
    const collect = (e: Expression): void => {
      if (e.kind === 'logical' && e.op === 'AND') {
        collect(e.left);
        collect(e.right);
      } else conjuncts.push(e);
    };
    collect(where);
    /** The ivoa.ObsCore column `name` of this query level that `e` names, as its row id. */
    const obscoreRow = (e: Expression | undefined, name: string): { rowId: string; source: Source } | null => {
      if (e?.kind !== 'column') return null;
      const hit = this.findColumn(e, scope, false);
      if (hit === null || !scope.sources.includes(hit.source) || hit.source.table?.sqlName !== 'ivoa_obscore' || hit.column.name !== name)
        return null;
      return { rowId: `${q(hit.source.sqlAlias)}."_id"`, source: hit.source };
    };
    const out: { sql: string; params: SqlParam[] }[] = [];
    for (const c of conjuncts) {
      if (c.kind !== 'comparison' || c.op !== '=') continue;
      const [one, call] = constantValue(c.left) === 1 ? [c.left, c.right] : [c.right, c.left];
      if (constantValue(one) !== 1 || call.kind !== 'geometry' || (call.name !== 'CONTAINS' && call.name !== 'INTERSECTS')) continue;
      const [first, second] = call.args;
      if (call.name === 'CONTAINS' && first?.kind === 'geometry' && first.name === 'POINT') {
        const ra = obscoreRow(first.args[0], 's_ra');
        const dec = obscoreRow(first.args[1], 's_dec');
        const shape = constantShape(second);
        if (ra !== null && dec !== null && ra.source === dec.source && shape !== null) {
          out.push(shape.kind === 'circle' ? conePrefilter(ra.rowId, shape) : rtreePrefilter(ra.rowId, cartesianBoundingBox(shape)));
          continue;
        }
      }
      const region = obscoreRow(first, 's_region') ?? obscoreRow(second, 's_region');
      const shape = constantShape(first) ?? constantShape(second);
      if (region !== null && shape !== null) out.push(rtreePrefilter(region.rowId, cartesianBoundingBox(shape)));
    }
    return out;
  }

  /** An unqualified name that is a select-list alias (and not a column) refers to the output. */
  private outputAlias(e: Expression, scope: Scope, preferOutput: boolean): OutputColumn | null {
    if (e.kind !== 'column' || e.table !== null) return null;
    const out = scope.outputs.find((o) => same(e.column, o.name));
    if (out === undefined) return null;
    if (preferOutput) return out;
    return this.findColumn(e, scope, false) === null ? out : null;
  }

  private groupItem(e: Expression, scope: Scope, params: SqlParam[]): string {
    const alias = this.outputAlias(e, scope, false);
    return alias !== null ? q(alias.name) : this.expr(e, scope, params);
  }

  // §2.2.5 ORDER BY: position, select-list alias, or expression.
  private orderBy(order: OrderItem[], scope: Scope, params: SqlParam[], outputsOnly: boolean): string {
    return order
      .map((o) => {
        let sql: string;
        if (o.target.kind === 'position') {
          if (o.target.position < 1 || o.target.position > scope.outputs.length) {
            throw new AdqlValidationError(
              `ORDER BY position ${o.target.position} is not in the select list (1 to ${scope.outputs.length})`,
              o.loc,
            );
          }
          sql = String(o.target.position);
        } else {
          const alias = this.outputAlias(o.target, scope, true);
          if (alias !== null) sql = q(alias.name);
          else if (outputsOnly) throw new AdqlValidationError('ORDER BY of a set operation must name a result column or position', o.loc);
          else sql = this.expr(o.target, scope, params);
        }
        return o.direction === 'DESC' ? `${sql} DESC` : sql;
      })
      .join(', ');
  }

  // ---------------------------------------------------------------------------------------------
  // FROM (§2.2.2)

  private resolveTable(name: TableName): TableDef {
    const matches = this.tables.filter(
      (t) => same(name.name, unqualified(t.name)) && (name.schema === null || same(name.schema, t.schema)),
    );
    const text = name.schema === null ? written(name.name) : `${written(name.schema)}.${written(name.name)}`;
    if (matches.length === 0) throw new AdqlValidationError(`unknown table "${text}"`, name.loc);
    if (matches.length > 1) throw new AdqlValidationError(`ambiguous table "${text}" (${matches.map((t) => t.name).join(', ')})`, name.loc);
    return matches[0]!;
  }

  private tableReference(ref: TableReference, scope: Scope, params: SqlParam[]): string {
    switch (ref.kind) {
      case 'table': {
        const table = this.resolveTable(ref.table);
        const sqlAlias = `t${++this.aliasCounter}`;
        scope.sources.push({
          label: table.name,
          table,
          alias: ref.alias,
          sqlAlias,
          merged: new Set(),
          columns: table.columns.map((c) => ({ name: c.name, sqlName: columnSqlName(c), type: typeOfColumn(c), def: c })),
        });
        return `${q(table.sqlName)} AS ${q(sqlAlias)}`;
      }
      case 'derivedTable': {
        const sub = this.query(ref.query, scope.parent);
        params.push(...sub.params);
        const sqlAlias = `t${++this.aliasCounter}`;
        scope.sources.push({
          label: ref.alias.name,
          table: null,
          alias: ref.alias,
          sqlAlias,
          merged: new Set(),
          columns: sub.columns.map((c) => ({ name: c.name, sqlName: c.name, type: typeOfOutput(c), def: c.column })),
        });
        return `(${sub.sql}) AS ${q(sqlAlias)}`;
      }
      case 'join': {
        const left = this.tableReference(ref.left, scope, params);
        const leftCount = scope.sources.length;
        const right = this.tableReference(ref.right, scope, params);
        const kind = ref.joinType === 'INNER' ? 'JOIN' : ref.joinType === 'CROSS' ? 'CROSS JOIN' : `${ref.joinType} JOIN`;
        if (ref.natural || ref.condition?.kind === 'using') {
          // Compare the shared columns explicitly: physical names may differ between tables.
          const lefts = scope.sources.slice(0, leftCount);
          const rights = scope.sources.slice(leftCount);
          const names =
            ref.condition?.kind === 'using'
              ? ref.condition.columns.map((c) => c.name.toLowerCase())
              : lefts.flatMap((s) => s.columns.map((c) => c.name)).filter((n) => rights.some((s) => s.columns.some((c) => c.name === n)));
          const conds = names.map((n) => {
            const l = this.sideColumn(lefts, n, ref.loc, params);
            const r = this.sideColumn(rights, n, ref.loc, params);
            for (const s of scope.sources) s.merged.add(n);
            return `${l} = ${r}`;
          });
          return `${left} ${ref.joinType === 'CROSS' ? 'JOIN' : kind} ${right} ON ${conds.length > 0 ? conds.join(' AND ') : '1'}`;
        }
        if (ref.condition?.kind === 'on') return `${left} ${kind} ${right} ON ${this.expr(ref.condition.condition, scope, params)}`;
        return `${left} ${kind} ${right}`;
      }
    }
  }

  private sideColumn(sources: Source[], name: string, loc: SourceLocation, params: SqlParam[]): string {
    for (const s of sources) {
      const c = s.columns.find((col) => col.name.toLowerCase() === name);
      if (c !== undefined) return this.columnSql(s, c, params);
    }
    throw new AdqlValidationError(`unknown join column "${name}"`, loc);
  }

  private sourceForAll(name: TableName, scope: Scope): Source {
    const found = scope.sources.filter((s) => this.sourceMatches(s, name.schema, name.name));
    if (found.length !== 1) {
      const text = name.schema === null ? written(name.name) : `${written(name.schema)}.${written(name.name)}`;
      throw new AdqlValidationError(found.length === 0 ? `unknown table "${text}"` : `ambiguous table "${text}"`, name.loc);
    }
    return found[0]!;
  }

  /** Whether a qualifier (schema.table, table, or alias) designates a source. */
  private sourceMatches(source: Source, schema: Identifier | null, table: Identifier): boolean {
    if (schema === null && source.alias !== null && same(table, source.alias.name)) return true;
    if (source.table === null || source.alias !== null) return false;
    return same(table, unqualified(source.table.name)) && (schema === null || same(schema, source.table.schema));
  }

  // ---------------------------------------------------------------------------------------------
  // Columns

  private findColumn(ref: ColumnRef, scope: Scope, strict: boolean): { source: Source; column: SourceColumn } | null {
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      const sources = ref.table === null ? s.sources : s.sources.filter((src) => this.sourceMatches(src, ref.schema, ref.table!));
      if (ref.table !== null && sources.length === 0) continue;
      const hits: { source: Source; column: SourceColumn }[] = [];
      for (const source of sources) {
        const column = source.columns.find((c) => same(ref.column, c.name));
        if (column !== undefined) hits.push({ source, column });
      }
      if (hits.length > 1 && !(ref.table === null && hits[0]!.source.merged.has(hits[0]!.column.name))) {
        if (!strict) return hits[0]!;
        throw new AdqlValidationError(
          `ambiguous column "${written(ref.column)}" (in ${hits.map((h) => h.source.label).join(', ')})`,
          ref.loc,
        );
      }
      if (hits.length >= 1) return hits[0]!;
      if (ref.table !== null && strict) {
        throw new AdqlValidationError(`unknown column "${this.refText(ref)}" (in ${this.listing(sources)})`, ref.loc);
      }
    }
    return null;
  }

  private refText(ref: ColumnRef): string {
    return [ref.schema, ref.table, ref.column]
      .filter((x): x is Identifier => x !== null)
      .map(written)
      .join('.');
  }

  private listing(sources: Source[]): string {
    return sources.map((s) => `${s.label}: ${s.columns.map((c) => c.name).join(', ')}`).join('; ');
  }

  private resolveColumn(ref: ColumnRef, scope: Scope): { source: Source; column: SourceColumn } {
    const hit = this.findColumn(ref, scope, true);
    if (hit !== null) return hit;
    if (ref.table !== null) {
      const qualifier = [ref.schema, ref.table]
        .filter((x): x is Identifier => x !== null)
        .map(written)
        .join('.');
      throw new AdqlValidationError(`unknown table "${qualifier}" in column reference "${this.refText(ref)}"`, ref.loc);
    }
    const listing = scope.sources.length > 0 ? ` (in ${this.listing(scope.sources)})` : '';
    throw new AdqlValidationError(`unknown column "${this.refText(ref)}"${listing}`, ref.loc);
  }

  // ---------------------------------------------------------------------------------------------
  // Expressions (§2.3) and predicates (§2.2.3)

  private expr(e: Expression, scope: Scope, params: SqlParam[]): string {
    const x = (sub: Expression): string => this.expr(sub, scope, params);
    switch (e.kind) {
      case 'number':
        if (!Number.isFinite(e.value)) throw new AdqlValidationError(`number ${e.text} out of range`, e.loc);
        // Integer digits are kept exactly (no double rounding); anything else from the parsed value.
        if (e.numberType === 'integer' && /^[0-9]+$/.test(e.text)) return e.text;
        return e.value < 0 ? `(${String(e.value)})` : String(e.value);
      case 'string':
        params.push(e.value);
        return '?';
      case 'column': {
        const { source, column } = this.resolveColumn(e, scope);
        return this.columnSql(source, column, params);
      }
      case 'unary':
        return `(${e.op}${x(e.operand)})`;
      case 'binary':
        return `(${x(e.left)} ${e.op} ${x(e.right)})`;
      case 'function': {
        if (e.name === 'COT') return `(1.0 / tan(${x(e.args[0]!)}))`;
        const args = e.args.map(x);
        // §2.3.5: ROUND/TRUNCATE without digits; float arithmetic for trig/log of integers.
        return `${MATH_SQL[e.name]!}(${args.join(', ')})`;
      }
      case 'userFunction':
        throw new AdqlValidationError(`unknown function "${e.name}"`, e.loc);
      case 'aggregate': {
        if (e.arg === null) return 'count(*)';
        return `${e.name.toLowerCase()}(${e.quantifier === 'DISTINCT' ? 'DISTINCT ' : ''}${x(e.arg)})`;
      }
      case 'geometry': {
        // §4.2.1: the coordinate system argument is ignored (ICRS only).
        if (e.name === 'COORDSYS') {
          params.push('ICRS');
          return '?';
        }
        // CONTAINS(POINT(a, b), CIRCLE(c, d, r)), the cone of nearly every query: compared on
        // numbers, without building and parsing the two shapes' STC-S text per row.
        const [point, circle] = e.args;
        if (
          e.name === 'CONTAINS' &&
          point?.kind === 'geometry' &&
          point.name === 'POINT' &&
          point.args.length === 2 &&
          circle?.kind === 'geometry' &&
          circle.name === 'CIRCLE' &&
          circle.args.length === 3
        ) {
          // Constant arguments bound: the SQL of every cone is then the same text, and the
          // worker reuses its prepared statement (numbers reach the function as numbers either way).
          const args = [...point.args, ...circle.args].map((arg) => {
            const value = constantValue(arg);
            if (value === null) return x(arg);
            params.push(value);
            return '?';
          });
          return `adql_point_in_circle(${args.join(', ')})`;
        }
        const fn = GEOMETRY_SQL[e.name];
        if (fn === undefined) throw new AdqlValidationError(`unsupported geometry function ${e.name}`, e.loc);
        return `${fn}(${e.args.map(x).join(', ')})`;
      }
      case 'case': {
        const parts = ['CASE'];
        if (e.operand !== null) parts.push(x(e.operand));
        for (const w of e.whens) parts.push(`WHEN ${x(w.when)} THEN ${x(w.then)}`);
        if (e.otherwise !== null) parts.push(`ELSE ${x(e.otherwise)}`);
        parts.push('END');
        return `(${parts.join(' ')})`;
      }
      case 'cast': {
        const inner = x(e.expr);
        switch (e.type.name) {
          case 'INTEGER':
          case 'SMALLINT':
          case 'BIGINT':
            return `CAST(${inner} AS INTEGER)`;
          case 'REAL':
          case 'DOUBLE PRECISION':
            return `CAST(${inner} AS REAL)`;
          default:
            return e.type.length !== null ? `substr(CAST(${inner} AS TEXT), 1, ${e.type.length})` : `CAST(${inner} AS TEXT)`;
        }
      }
      case 'subquery': {
        const sub = this.query(e.query, scope);
        if (sub.columns.length !== 1) throw new AdqlValidationError('a scalar subquery must select exactly one column', e.loc);
        params.push(...sub.params);
        return `(${sub.sql})`;
      }
      case 'comparison':
        return `(${x(e.left)} ${e.op} ${x(e.right)})`;
      case 'between':
        return `(${x(e.expr)} ${e.negated ? 'NOT ' : ''}BETWEEN ${x(e.low)} AND ${x(e.high)})`;
      case 'like':
        // §2.3.9: LIKE is case-sensitive (SQLite's is not), ILIKE case-insensitive.
        return `(${e.negated ? 'NOT ' : ''}${e.caseInsensitive ? 'adql_ilike' : 'adql_like'}(${x(e.expr)}, ${x(e.pattern)}))`;
      case 'in': {
        const left = x(e.expr);
        let list: string;
        if (e.source.kind === 'list') list = e.source.items.map(x).join(', ');
        else {
          const sub = this.query(e.source.query, scope);
          if (sub.columns.length !== 1) throw new AdqlValidationError('an IN subquery must select exactly one column', e.source.loc);
          params.push(...sub.params);
          list = sub.sql;
        }
        return `(${left} ${e.negated ? 'NOT ' : ''}IN (${list}))`;
      }
      case 'isNull':
        return `(${x(e.expr)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
      case 'exists': {
        const sub = this.query(e.query, scope);
        params.push(...sub.params);
        return `(EXISTS (${sub.sql}))`;
      }
      case 'logical':
        return `(${x(e.left)} ${e.op} ${x(e.right)})`;
      case 'not':
        return `(NOT ${x(e.operand)})`;
    }
  }

  /** VOTable type of an expression's value (metadata only; SQLite itself is dynamically typed). */
  private typeOf(e: Expression, scope: Scope): TypeInfo {
    switch (e.kind) {
      case 'number':
        return e.numberType === 'integer' || e.numberType === 'hex' ? LONG : DOUBLE;
      case 'string':
        return CHAR;
      case 'column': {
        const { column } = this.resolveColumn(e, scope);
        return column.type;
      }
      case 'unary':
        return this.numeric(this.typeOf(e.operand, scope));
      case 'binary': {
        if (e.op === '||') return CHAR;
        const l = this.typeOf(e.left, scope);
        const r = this.typeOf(e.right, scope);
        return isInteger(l) && isInteger(r) ? LONG : DOUBLE;
      }
      case 'function':
        if (e.name === 'LOWER' || e.name === 'UPPER') return CHAR;
        if (e.name === 'COALESCE') return e.args[0] !== undefined ? this.typeOf(e.args[0], scope) : CHAR;
        if (e.name === 'MOD' && e.args.every((a) => isInteger(this.typeOf(a, scope)))) return LONG;
        return DOUBLE;
      case 'userFunction':
        return CHAR;
      case 'aggregate':
        if (e.name === 'COUNT') return LONG;
        if (e.arg === null) return DOUBLE;
        if (e.name === 'AVG') return { ...stripMeta(this.typeOf(e.arg, scope), true), datatype: 'double' };
        return e.name === 'SUM' ? this.numeric(this.typeOf(e.arg, scope)) : stripMeta(this.typeOf(e.arg, scope), true);
      case 'geometry':
        return GEOMETRY_TYPES[e.name] ?? CHAR;
      case 'case': {
        const first = e.whens[0]?.then ?? e.otherwise;
        return first !== null && first !== undefined ? stripMeta(this.typeOf(first, scope), false) : CHAR;
      }
      case 'cast':
        switch (e.type.name) {
          case 'INTEGER':
            return INT;
          case 'SMALLINT':
            return { datatype: 'short' };
          case 'BIGINT':
            return LONG;
          case 'REAL':
            return { datatype: 'float' };
          case 'DOUBLE PRECISION':
            return DOUBLE;
          case 'TIMESTAMP':
            return { ...CHAR, xtype: 'timestamp' };
          default:
            return e.type.length !== null ? { datatype: 'char', arraysize: `${e.type.length}*` } : CHAR;
        }
      case 'subquery': {
        const c = this.query(e.query, scope).columns[0];
        return c === undefined ? CHAR : typeOfOutput(c);
      }
      default:
        return INT; // predicates: 1/0
    }
  }

  private numeric(t: TypeInfo): TypeInfo {
    return isInteger(t) ? LONG : DOUBLE;
  }
}

/** The value of a numeric literal, possibly signed; null otherwise. */
/**
 * The shape a geometry constructor with constant arguments denotes (POINT, CIRCLE, BOX,
 * POLYGON, in their numeric and point-argument forms), or null: not constant, or invalid
 * (which then fails in the SQL function at run time with its own message).
 */
function constantShape(e: Expression | undefined): Shape | null {
  if (e?.kind !== 'geometry') return null;
  const points: Point[] = [];
  const numbers: number[] = [];
  for (const arg of e.args) {
    const value = constantValue(arg);
    if (value !== null) numbers.push(value);
    else if (arg.kind === 'geometry' && arg.name === 'POINT' && numbers.length === 0) {
      const [ra, dec] = arg.args.map(constantValue);
      if (ra === null || ra === undefined || dec === null || dec === undefined || arg.args.length !== 2) return null;
      points.push({ ra, dec });
    } else return null;
  }
  try {
    switch (e.name) {
      case 'POINT':
        return numbers.length === 2 ? makePointShape(numbers[0]!, numbers[1]!) : null;
      case 'CIRCLE':
        if (points.length === 1 && numbers.length === 1) return makeCircle(points[0]!, numbers[0]!);
        return points.length === 0 && numbers.length === 3 ? makeCircle({ ra: numbers[0]!, dec: numbers[1]! }, numbers[2]!) : null;
      case 'BOX':
        if (points.length === 1 && numbers.length === 2) return makeBox(points[0]!, numbers[0]!, numbers[1]!);
        return points.length === 0 && numbers.length === 4
          ? makeBox({ ra: numbers[0]!, dec: numbers[1]! }, numbers[2]!, numbers[3]!)
          : null;
      case 'POLYGON':
        if (points.length > 0) return numbers.length === 0 ? makePolygon(points) : null;
        if (numbers.length % 2 !== 0) return null;
        return makePolygon(Array.from({ length: numbers.length / 2 }, (_, i) => ({ ra: numbers[2 * i]!, dec: numbers[2 * i + 1]! })));
      default:
        return null;
    }
  } catch {
    return null;
  }
}

function constantValue(e: Expression | undefined): number | null {
  if (e === undefined) return null;
  if (e.kind === 'number') return e.value;
  if (e.kind === 'unary') {
    const v = constantValue(e.operand);
    return v === null ? null : e.op === '-' ? -v : v;
  }
  return null;
}

function typeOfOutput(c: OutputColumn): TypeInfo {
  const { name: _name, column: _column, ...type } = c;
  return type;
}

function isInteger(t: TypeInfo): boolean {
  return t.datatype === 'short' || t.datatype === 'int' || t.datatype === 'long';
}

/** Derived values keep the datatype (and unit for MIN/MAX) but not the column's UCD/utype. */
function stripMeta(t: TypeInfo, keepUnit: boolean): TypeInfo {
  const out: TypeInfo = { datatype: t.datatype };
  if (t.arraysize !== undefined) out.arraysize = t.arraysize;
  if (t.xtype !== undefined) out.xtype = t.xtype;
  if (keepUnit && t.unit !== undefined) out.unit = t.unit;
  return out;
}
