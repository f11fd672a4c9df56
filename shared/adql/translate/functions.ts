/**
 * SQLite functions the translated SQL calls (ADQL 2.1 §4.2 geometry, §2.3.9 LIKE/ILIKE, RAND,
 * TRUNCATE). Geometry values travel between them as STC-S text (DALI text is accepted too, so
 * that s_region and DALI-formatted results can be fed back in).
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  BOUNDARY_TOLERANCE_DEG,
  angularDistance,
  area,
  contains,
  coveringCircle,
  formatDali,
  formatStcs,
  intersects,
  makeBox,
  makeCircle,
  makePoint,
  makePointShape,
  makePolygon,
  parseDaliCircle,
  parseDaliPoint,
  parseDaliPolygon,
  parseStcs,
  type Circle,
  type Point,
  type Shape,
} from '../../sky';

const CACHE_LIMIT = 2048;
const shapeCache = new Map<string, Shape>();

/** Parses an STC-S (or DALI) region text; parsed shapes are cached by text. */
export function parseShape(text: string): Shape {
  const cached = shapeCache.get(text);
  if (cached !== undefined) return cached;
  const trimmed = text.trim();
  let shape: Shape;
  if (/^[A-Za-z]/.test(trimmed)) shape = parseStcs(trimmed);
  else {
    // DALI 1.1 §3.3 bare values: 2 numbers a point, 3 a circle, more a polygon.
    const n = trimmed.split(/\s+/).length;
    shape = n === 2 ? parseDaliPoint(trimmed) : n === 3 ? parseDaliCircle(trimmed) : parseDaliPolygon(trimmed);
  }
  if (shapeCache.size >= CACHE_LIMIT) shapeCache.clear();
  shapeCache.set(text, shape);
  return shape;
}

type Value = string | number | bigint | null | Buffer;

function num(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new Error(`${what}: expected a number`);
}

function shapeOf(v: Value): Shape {
  if (typeof v !== 'string') throw new Error('expected a geometry value');
  return parseShape(v);
}

function pointOf(v: Value, what: string): Point {
  const s = shapeOf(v);
  if (s.kind !== 'point') throw new Error(`${what}: expected a POINT`);
  return s;
}

const isNull = (vs: Value[]): boolean => vs.some((v) => v === null);

/** ADQL LIKE pattern (`%`, `_`) → anchored RegExp; cached. */
const likeCache = new Map<string, RegExp>();
function likeRegExp(pattern: string, insensitive: boolean): RegExp {
  const key = `${insensitive ? 'i' : 's'}:${pattern}`;
  let re = likeCache.get(key);
  if (re === undefined) {
    let src = '';
    for (const ch of pattern) src += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    re = new RegExp(`^${src}$`, insensitive ? 'iu' : 'u');
    if (likeCache.size >= CACHE_LIMIT) likeCache.clear();
    likeCache.set(key, re);
  }
  return re;
}

/** Registers every `adql_*` function on a connection. */
export function registerAdqlFunctions(db: BetterSqlite3.Database): void {
  const det = { deterministic: true, varargs: true } as const;
  const fn = (name: string, impl: (...args: Value[]) => Value) =>
    db.function(name, det, (...args: unknown[]) => {
      const vs = args as Value[];
      return isNull(vs) ? null : impl(...vs);
    });

  // §2.3.9: LIKE is case-sensitive, ILIKE is not (SQLite's LIKE is ASCII case-insensitive).
  fn('adql_like', (v, p) => (likeRegExp(String(p), false).test(String(v)) ? 1 : 0));
  fn('adql_ilike', (v, p) => (likeRegExp(String(p), true).test(String(v)) ? 1 : 0));
  db.function('adql_rand', { deterministic: false, varargs: true }, () => Math.random());
  fn('adql_truncate', (x, n) => {
    const f = 10 ** (n === undefined ? 0 : Math.trunc(num(n, 'TRUNCATE')));
    return Math.trunc(num(x, 'TRUNCATE') * f) / f;
  });

  // §4.2 geometry constructors.
  fn('adql_point', (ra, dec) => formatStcs(makePointShape(num(ra, 'POINT'), num(dec, 'POINT'), 'POINT')));
  fn('adql_circle', (...a) =>
    a.length === 2
      ? formatStcs(makeCircle(pointOf(a[0]!, 'CIRCLE'), num(a[1]!, 'CIRCLE'), 'CIRCLE'))
      : formatStcs(makeCircle({ ra: num(a[0]!, 'CIRCLE'), dec: num(a[1]!, 'CIRCLE') }, num(a[2]!, 'CIRCLE'), 'CIRCLE')),
  );
  fn('adql_box', (...a) => {
    const [center, rest] =
      a.length === 3 ? [pointOf(a[0]!, 'BOX'), a.slice(1)] : [{ ra: num(a[0]!, 'BOX'), dec: num(a[1]!, 'BOX') }, a.slice(2)];
    return formatStcs(makeBox(center, num(rest[0]!, 'BOX'), num(rest[1]!, 'BOX'), 'BOX'));
  });
  fn('adql_polygon', (...a) => {
    const vertices: Point[] = [];
    if (a.every((v) => typeof v === 'string' && /^[A-Za-z]/.test(v.trim()))) for (const v of a) vertices.push(pointOf(v, 'POLYGON'));
    else for (let i = 0; i + 1 < a.length; i += 2) vertices.push({ ra: num(a[i]!, 'POLYGON'), dec: num(a[i + 1]!, 'POLYGON') });
    return formatStcs(makePolygon(vertices, 'POLYGON'));
  });
  fn('adql_region', (t) => formatStcs(shapeOf(t)));

  // §4.2 predicates and measures.
  fn('adql_contains', (a, b) => {
    const inner = shapeOf(a);
    const outer = shapeOf(b);
    if (inner.kind === 'point') return contains(outer, inner) ? 1 : 0;
    if (outer.kind === 'circle' && inner.kind === 'circle') {
      return angularDistance(inner.center, outer.center) + inner.radius <= outer.radius + BOUNDARY_TOLERANCE_DEG ? 1 : 0;
    }
    // A cap of at most a hemisphere is convex: a polygon lies in it when all its vertices do.
    if (outer.kind === 'circle' && inner.kind === 'polygon' && outer.radius <= 90)
      return inner.vertices.every((v) => contains(outer, v)) ? 1 : 0;
    throw new Error(
      `CONTAINS: a ${inner.kind} in a ${outer.kind} is not supported (POINT in any shape, CIRCLE or POLYGON in a CIRCLE are)`,
    );
  });
  // CONTAINS(POINT(ra, dec), CIRCLE(cra, cdec, r)) on numbers, once per candidate row: the
  // circle of a query is constant, so it is checked once and kept (compared by value: a
  // string key cost more than the test itself); five fixed arguments skip the varargs path.
  let cone: { ra: Value; dec: Value; r: Value; circle: Circle } | undefined;
  db.function('adql_point_in_circle', { deterministic: true }, (ra: Value, dec: Value, cra: Value, cdec: Value, r: Value) => {
    if (ra === null || dec === null || cra === null || cdec === null || r === null) return null;
    if (cone === undefined || cone.ra !== cra || cone.dec !== cdec || cone.r !== r) {
      cone = {
        ra: cra,
        dec: cdec,
        r,
        circle: makeCircle({ ra: num(cra, 'CIRCLE'), dec: num(cdec, 'CIRCLE') }, num(r, 'CIRCLE'), 'CIRCLE'),
      };
    }
    return contains(cone.circle, makePoint(num(ra, 'POINT'), num(dec, 'POINT'), 'POINT')) ? 1 : 0;
  });
  fn('adql_intersects', (a, b) => (intersects(shapeOf(a), shapeOf(b)) ? 1 : 0));
  fn('adql_distance', (...a) =>
    a.length === 4
      ? angularDistance(
          { ra: num(a[0]!, 'DISTANCE'), dec: num(a[1]!, 'DISTANCE') },
          { ra: num(a[2]!, 'DISTANCE'), dec: num(a[3]!, 'DISTANCE') },
        )
      : angularDistance(pointOf(a[0]!, 'DISTANCE'), pointOf(a[1]!, 'DISTANCE')),
  );
  fn('adql_area', (s) => area(shapeOf(s)));
  fn('adql_coord1', (p) => pointOf(p, 'COORD1').ra);
  fn('adql_coord2', (p) => pointOf(p, 'COORD2').dec);
  fn('adql_centroid', (s) => {
    const shape = shapeOf(s);
    const c = shape.kind === 'point' ? shape : coveringCircle(shape).center;
    return formatStcs(makePointShape(c.ra, c.dec));
  });
  /** Geometry results in the select list are written in DALI form (xtype point/circle/polygon). */
  fn('adql_dali', (s) => formatDali(shapeOf(s), { bare: true }));
}
