// A bulk job's manifest (its `manifest` result, a VOTable) as a sortable table on the job page:
// a thumbnail of each stamp cut (its result drawn with RESPONSEFORMAT=image/png), and the
// counts of each status.
import { column, el, fetchVotable, fieldColumns, ownUrl, sortableTable } from './common.js';

const holder = document.getElementById('manifest');
const THUMBNAIL_SIZE = 64;

async function show() {
  const manifest = await fetchVotable(holder.dataset.url);
  if (manifest.error) {
    holder.replaceChildren(el('p', { class: 'problem' }, `The manifest could not be read: ${manifest.error}`));
    return;
  }
  const { fields, rows } = manifest;
  const status = column(fields, 'status');
  const url = column(fields, 'url');
  const counts = new Map();
  for (const row of rows) counts.set(row[status] ?? 'unknown', (counts.get(row[status] ?? 'unknown') ?? 0) + 1);
  const summary = el(
    'p',
    { class: 'count', id: 'manifest-count' },
    `${rows.length} row${rows.length === 1 ? '' : 's'}: `,
    [...counts].map(([s, n]) => `${n} ${s}`).join(', '),
    '. Click a heading to sort.',
  );
  const stamp = {
    label: 'Stamp',
    cell: (row) => {
      const href = url >= 0 && row[status] === 'ok' ? ownUrl(row[url]) : null;
      if (!href) return '';
      const picture = new URL(href);
      picture.searchParams.set('RESPONSEFORMAT', 'image/png');
      picture.searchParams.set('PREVIEW_SIZE', String(THUMBNAIL_SIZE));
      return el('a', { href: href.href }, el('img', { class: 'thumb small', src: picture.href, alt: 'stamp', loading: 'lazy' }));
    },
  };
  const shown = fieldColumns(fields).filter((c) => !['url', 'member', 'preview', 'rgb'].includes(c.label));
  holder.replaceChildren(summary, sortableTable([stamp, ...shown], rows));
}

if (holder) void show();
