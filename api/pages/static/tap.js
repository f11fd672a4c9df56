// The TAP page: picking an example fills the query box; a page opened with a QUERY runs it with
// /api/tap/sync and shows the rows, each DataLink dataset with its thumbnail and cutout link.
import { base, datalinkUrl, datasetColumns, el, fetchVotable, fieldColumns, fillThumbnails, sortableTable } from './common.js';

const form = document.getElementById('tap-form');
const example = document.getElementById('tap-example');
const query = document.getElementById('tap-query');
const out = document.getElementById('tap-result');

example.addEventListener('change', () => {
  if (example.value) query.value = example.value;
});

/** Thumbnails are looked up for this many rows at most (one DataLink request each). */

async function run() {
  const maxrec = document.getElementById('tap-maxrec').value || '100';
  out.replaceChildren(el('p', { class: 'loading' }, 'Running the query…'));
  const started = performance.now();
  const body = new URLSearchParams({ LANG: 'ADQL', QUERY: query.value, MAXREC: maxrec });
  let table;
  try {
    table = await fetchVotable(`${base}/api/tap/sync`, { method: 'POST', body });
  } catch (err) {
    out.replaceChildren(el('p', { class: 'problem' }, `The query could not be sent: ${err}`));
    return;
  }
  if (table.error) {
    out.replaceChildren(el('p', { class: 'problem', id: 'tap-error' }, table.error));
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const thumbs = [];
  const extra = table.rows.some((row) => datalinkUrl(table.fields, row)) ? datasetColumns(table.fields, thumbs) : [];
  const summary = el(
    'p',
    { class: 'count', id: 'tap-count' },
    `${table.rows.length} row${table.rows.length === 1 ? '' : 's'} in ${seconds} s`,
    table.overflow ? ` (cut at MAXREC=${maxrec})` : '',
    '.',
  );
  out.replaceChildren(summary, sortableTable([...extra, ...fieldColumns(table.fields)], table.rows));
  await fillThumbnails(thumbs);
}

form.addEventListener('submit', (event) => {
  // The address keeps the query (bookmarkable); the page then runs it without a reload.
  event.preventDefault();
  const url = new URL(location.href);
  url.search = new URLSearchParams({ QUERY: query.value, MAXREC: document.getElementById('tap-maxrec').value }).toString();
  history.pushState(null, '', url);
  void run();
});

if (new URL(location.href).searchParams.has('QUERY') && query.value.trim() !== '') void run();
