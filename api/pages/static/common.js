// Helpers of the pages' scripts: plain ES modules served as they are (no build step). Text from
// the services is only ever set as textContent, and only URLs of this origin become links or
// images, so a hostile value in a table can neither inject markup nor a javascript: link.

/** Base URL of the service (PUBLIC_URL or the host the page came from), from the layout. */
export const base = document.body.dataset.base ?? '';

/** An element with attributes and children (strings become text nodes, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The URL when it is an http(s) URL of this origin, else null. */
export function ownUrl(text) {
  if (typeof text !== 'string' || text === '') return null;
  try {
    const url = new URL(text, location.href);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== location.origin) return null;
    return url;
  } catch {
    return null;
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function children(node, name) {
  return Array.from(node.getElementsByTagNameNS('*', name));
}

/**
 * A VOTable's first TABLE (TABLEDATA) as { fields, rows, overflow, error }: fields with their
 * attributes, rows of cell texts (null for an empty cell), overflow when QUERY_STATUS says the
 * rows were cut at MAXREC, error the message of a DALI error document.
 */
export function parseVotable(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) return { fields: [], rows: [], overflow: false, error: 'the answer is not XML' };
  const status = children(doc, 'INFO').filter((info) => info.getAttribute('name') === 'QUERY_STATUS');
  const error = status.find((info) => info.getAttribute('value') === 'ERROR');
  if (error) return { fields: [], rows: [], overflow: false, error: error.textContent.trim() || 'error' };
  const table = children(doc, 'TABLE')[0];
  if (!table) return { fields: [], rows: [], overflow: false, error: null };
  const fields = children(table, 'FIELD').map((f) => ({
    name: f.getAttribute('name') ?? '',
    datatype: f.getAttribute('datatype') ?? 'char',
    unit: f.getAttribute('unit'),
    ucd: f.getAttribute('ucd'),
  }));
  const rows = children(table, 'TR').map((tr) =>
    children(tr, 'TD').map((td) => {
      const value = td.textContent;
      return value === '' ? null : value;
    }),
  );
  const overflow = status.some((info) => info.getAttribute('value') === 'OVERFLOW');
  return { fields, rows, overflow, error: null };
}

/** Fetches and parses a VOTable; an HTTP error's body (a DALI error document or text) becomes `error`. */
export async function fetchVotable(url, init = {}) {
  const reply = await fetch(url, { ...init, headers: { Accept: 'application/x-votable+xml, text/xml;q=0.9', ...(init.headers ?? {}) } });
  const text = await reply.text();
  if (reply.ok) return parseVotable(text);
  const parsed = parseVotable(text);
  return { fields: [], rows: [], overflow: false, error: parsed.error ?? `${reply.status} ${text.slice(0, 300)}` };
}

/** The column index of a field by name (case-insensitive), or -1. */
export function column(fields, name) {
  return fields.findIndex((f) => f.name.toLowerCase() === name.toLowerCase());
}

const NUMERIC = new Set(['short', 'int', 'long', 'float', 'double', 'unsignedByte']);

/**
 * A sortable table (click a heading): `columns` are { label, cell(row) → Node|string,
 * sortValue(row) }; the first `max` rows of the current order are drawn; `decorate(tr, row)`
 * is called on each row's <tr> when it is made.
 */
export function sortableTable(columns, rows, max = 1000, decorate = undefined) {
  const table = el('table', { class: 'data' });
  const head = el('tr');
  const body = el('tbody');
  let order = rows.slice();
  // A row's <tr> is made once and moved when sorted (its thumbnail is not fetched again).
  const made = new WeakMap();
  const rowNode = (row) => {
    let tr = made.get(row);
    if (!tr) {
      tr = el(
        'tr',
        {},
        columns.map((c) => el('td', { class: c.numeric ? 'num' : undefined }, c.cell(row))),
      );
      decorate?.(tr, row);
      made.set(row, tr);
    }
    return tr;
  };
  const draw = () => body.replaceChildren(...order.slice(0, max).map(rowNode));
  columns.forEach((c, i) => {
    const th = el('th', { class: c.sortValue ? 'sortable' : undefined, scope: 'col', title: c.title }, c.label);
    if (c.sortValue) {
      th.addEventListener('click', () => {
        const ascending = th.getAttribute('aria-sort') !== 'ascending';
        head.querySelectorAll('th').forEach((other) => other.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        const key = (row) => c.sortValue(row);
        order = rows.slice().sort((a, b) => {
          const x = key(a);
          const y = key(b);
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        draw();
      });
      th.dataset.column = String(i);
    }
    head.append(th);
  });
  table.append(el('thead', {}, head), body);
  draw();
  const note =
    rows.length > max ? el('p', { class: 'note' }, `The first ${max} of ${rows.length} rows are shown; sort to see others.`) : null;
  return el('div', { class: 'scroll' }, table, note);
}

/** The columns of a VOTable as sortableTable columns (numbers sorted as numbers). */
export function fieldColumns(fields, only) {
  const indexes = only ? only.map((name) => column(fields, name)).filter((i) => i >= 0) : fields.map((_, i) => i);
  return indexes.map((i) => {
    const f = fields[i];
    const numeric = NUMERIC.has(f.datatype);
    const real = f.datatype === 'double' || f.datatype === 'float';
    return {
      label: f.name,
      title: f.unit ? `${f.name} (${f.unit})` : f.name,
      numeric,
      // Reals shown to 10 significant digits (the exact value in the tooltip); sorted exactly.
      cell: (row) =>
        real && row[i] !== null && Number.isFinite(Number(row[i]))
          ? el('span', { title: row[i] }, String(Number(Number(row[i]).toPrecision(10))))
          : cellNode(row[i]),
      sortValue: (row) => (row[i] === null ? null : numeric ? Number(row[i]) : row[i]),
    };
  });
}

/** A cell: a link when it is a URL of this service, else its text. */
export function cellNode(value) {
  if (value === null || value === undefined) return '';
  const url = /^https?:\/\//.test(value) ? ownUrl(value) : null;
  return url ? el('a', { href: url.href }, value.length > 60 ? `${value.slice(0, 57)}…` : value) : value;
}

/** Runs `work` over `items`, at most `n` at a time. */
export async function eachLimited(items, n, work) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch {
        // One failed item (a thumbnail) must not stop the others.
      }
    }
  });
  await Promise.all(lanes);
}

/**
 * The URL of a dataset's thumbnail: its DataLink document's #thumbnail row (DataLink 1.1,
 * http://www.ivoa.net/rdf/datalink/core#thumbnail), or null when it has none.
 */
export async function thumbnailOf(datalinkUrl) {
  const links = await fetchVotable(datalinkUrl);
  if (links.error) return null;
  const semantics = column(links.fields, 'semantics');
  const access = column(links.fields, 'access_url');
  if (semantics < 0 || access < 0) return null;
  const row = links.rows.find((r) => r[semantics] === '#thumbnail' && r[access]);
  return row ? ownUrl(row[access]) : null;
}

/** Whether a row's access_url is a DataLink document of this service (ObsCore access_format says so). */
export function datalinkUrl(fields, row) {
  const access = column(fields, 'access_url');
  if (access < 0) return null;
  const url = ownUrl(row[access]);
  if (!url) return null;
  const format = column(fields, 'access_format');
  const isDatalink = (format >= 0 && /content=datalink/.test(row[format] ?? '')) || /\/datalink\/links$/.test(url.pathname);
  return isDatalink ? url : null;
}

/** The cutout form of a row's dataset (its ID from the DataLink URL or obs_publisher_did), at its centre. */
export function cutoutFormUrl(fields, row) {
  const link = datalinkUrl(fields, row);
  const didColumn = column(fields, 'obs_publisher_did');
  const id = link?.searchParams.get('ID') ?? (didColumn >= 0 ? row[didColumn] : null);
  if (!id) return null;
  const url = new URL(`${base}/api/cutout`, location.href);
  url.searchParams.set('ID', id);
  const ra = column(fields, 's_ra');
  const dec = column(fields, 's_dec');
  if (ra >= 0 && row[ra] !== null) url.searchParams.set('RA', row[ra]);
  if (dec >= 0 && row[dec] !== null) url.searchParams.set('DEC', row[dec]);
  return url;
}

/** Fills the thumbnail cells (`cells`: [datalink URL, td]) from DataLink, a few at a time. */
export function fillThumbnails(cells) {
  return eachLimited(cells, 4, async ([link, cell]) => {
    const url = await thumbnailOf(link.href);
    if (!url) {
      cell.replaceWith(el('span', { class: 'none', title: 'no #thumbnail link in its DataLink document' }, '—'));
      return;
    }
    cell.replaceWith(el('img', { class: 'thumb small', src: url.href, alt: 'thumbnail', loading: 'lazy' }));
  });
}

/** Thumbnails are fetched for at most this many rows of a table (one DataLink request each). */
const THUMBNAIL_ROWS = 50;

/**
 * The "Preview" and "Cutout" columns of a table of datasets (TAP or SIA rows): a slot that
 * `thumbs` records ([datalink URL, cell], for fillThumbnails) and a link to the cutout form.
 */
export function datasetColumns(fields, thumbs) {
  return [
    {
      label: 'Preview',
      cell: (row) => {
        const link = datalinkUrl(fields, row);
        if (!link) return '';
        const cell = el('span', { class: 'thumbslot' }, '…');
        if (thumbs.length < THUMBNAIL_ROWS) thumbs.push([link, cell]);
        return cell;
      },
    },
    {
      label: 'Cutout',
      cell: (row) => {
        const url = cutoutFormUrl(fields, row);
        return url ? el('a', { href: url.href, class: 'cutout-link' }, 'cutout') : '';
      },
    },
  ];
}
