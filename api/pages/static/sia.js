// The image search page: a page opened with a position runs /api/sia/query (SIA 2.0) and shows
// each image's footprint (s_region) around the search circle, and a table with thumbnails.
import { base, column, datasetColumns, el, fetchVotable, fieldColumns, fillThumbnails, sortableTable } from './common.js';

const SVG = 'http://www.w3.org/2000/svg';
const out = document.getElementById('sia-result');
const form = document.getElementById('sia-form');
const value = (name) => form.elements.namedItem(name).value.trim();

/** The columns shown (the service answers every ObsCore column). */
const SHOWN = ['obs_id', 'dataproduct_subtype', 'lsst_band', 'lsst_tract', 'lsst_patch', 'lsst_visit', 's_ra', 's_dec', 't_min', 's_fov'];
const rad = Math.PI / 180;

function svgEl(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  return node;
}

/** Vertices of an STC-S polygon (`POLYGON [frame] ra dec ...`), or null. */
function polygonOf(stcs) {
  const words = (stcs ?? '').trim().split(/\s+/);
  if (words[0]?.toUpperCase() !== 'POLYGON') return null;
  const numbers = words
    .slice(1)
    .filter((w) => !/^[A-Za-z]/.test(w))
    .map(Number);
  if (numbers.length < 6 || numbers.some((n) => !Number.isFinite(n))) return null;
  const points = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) points.push([numbers[i], numbers[i + 1]]);
  return points;
}

/** Gnomonic projection about (ra0, dec0), degrees on the sky; east to the left, north up (SVG y down). */
function project(ra0, dec0) {
  const [a0, d0] = [ra0 * rad, dec0 * rad];
  return ([ra, dec]) => {
    const [a, d] = [ra * rad, dec * rad];
    const cosc = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(a - a0);
    const x = (Math.cos(d) * Math.sin(a - a0)) / cosc / rad;
    const y = (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(a - a0)) / cosc / rad;
    return [-x, -y];
  };
}

function footprints(fields, rows, ra, dec, radius) {
  const region = column(fields, 's_region');
  const toPlane = project(ra, dec);
  const shapes = rows.map((row) => {
    const polygon = polygonOf(region >= 0 ? row[region] : null);
    return polygon ? polygon.map(toPlane) : null;
  });
  let extent = radius * 1.2;
  for (const shape of shapes) for (const [x, y] of shape ?? []) extent = Math.max(extent, Math.abs(x), Math.abs(y));
  extent *= 1.05;
  const svg = svgEl('svg', { class: 'footprints', viewBox: `${-extent} ${-extent} ${2 * extent} ${2 * extent}`, role: 'img' });
  svg.append(svgEl('title', {}));
  svg.firstChild.textContent = `${shapes.filter(Boolean).length} footprints around ${ra}, ${dec}`;
  const polygons = shapes.map((shape) => {
    if (!shape) return null;
    const polygon = svgEl('polygon', { points: shape.map(([x, y]) => `${x},${y}`).join(' ') });
    svg.append(polygon);
    return polygon;
  });
  svg.append(svgEl('circle', { cx: 0, cy: 0, r: radius, class: 'search' }));
  const caption = el('p', { class: 'note' }, `North up, east left; ${(2 * extent).toFixed(3)}° across. The search circle in orange.`);
  return { figure: el('div', {}, svg, caption), polygons };
}

async function run() {
  const [ra, dec, radius] = ['RA', 'DEC', 'RADIUS'].map((n) => Number(value(n)));
  if (![ra, dec, radius].every(Number.isFinite) || radius <= 0) {
    out.replaceChildren(el('p', { class: 'problem' }, 'RA, Dec and radius must be numbers of degrees, the radius above 0.'));
    return;
  }
  const params = new URLSearchParams({ POS: `CIRCLE ${ra} ${dec} ${radius}`, MAXREC: value('MAXREC') || '100' });
  if (value('BAND')) params.set('BAND', value('BAND'));
  out.replaceChildren(el('p', { class: 'loading' }, 'Searching…'));
  const table = await fetchVotable(`${base}/api/sia/query?${params}`);
  if (table.error) {
    out.replaceChildren(el('p', { class: 'problem', id: 'sia-error' }, table.error));
    return;
  }
  const { figure, polygons } = footprints(table.fields, table.rows, ra, dec, radius);
  const thumbs = [];
  const columns = [...datasetColumns(table.fields, thumbs), ...fieldColumns(table.fields, SHOWN)];
  // Hovering a row lights its footprint.
  const indexOf = new Map(table.rows.map((row, i) => [row, i]));
  const list = sortableTable(columns, table.rows, 1000, (tr, row) => (tr.dataset.index = String(indexOf.get(row))));
  list.addEventListener('mouseover', (event) => {
    polygons.forEach((p) => p?.classList.remove('hover'));
    const tr = event.target.closest('tbody tr');
    if (tr) polygons[Number(tr.dataset.index)]?.classList.add('hover');
  });
  const summary = el(
    'p',
    { class: 'count', id: 'sia-count' },
    `${table.rows.length} image${table.rows.length === 1 ? '' : 's'}${table.overflow ? ' (cut at MAXREC)' : ''}.`,
  );
  out.replaceChildren(summary, el('div', { class: 'sky' }, figure, list));
  await fillThumbnails(thumbs);
}

if (new URL(location.href).searchParams.has('RA')) void run();
