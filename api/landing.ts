/**
 * The HTML landing page at `/`: what this service offers, where, the browser pages, and
 * queries to try. It is drawn in the pages' layout (api/pages/html.ts); `/` is outside /api,
 * so it does not know who is signed in and shows no sign-in state.
 */
import { TAP_EXAMPLES } from '../shared/tap/metadata';
import type { UwsService } from '../shared/uws/service';
import { escapeXml } from '../shared/xml';
import { renderPage } from './pages/html';

/** The IVOA endpoints of each built-in service, by service name. */
const ENDPOINTS: Readonly<Record<string, readonly string[]>> = {
  tap: ['sync', 'async', 'capabilities', 'availability', 'tables', 'examples'],
  cutout: ['sync', 'async', 'capabilities', 'availability'],
  sia: ['query', 'capabilities', 'availability'],
  bulk: ['async', 'capabilities', 'availability'],
};

export function landingPage(base: string, services: Iterable<UwsService>): string {
  const link = (path: string) => `<a href="${escapeXml(base + path)}"><code>${escapeXml(path)}</code></a>`;
  // A service without endpoints of its own (the DataLink pictures' renderer) is reached
  // through other resources: not listed.
  const rows = [...services]
    .map((s) => ({ s, endpoints: ENDPOINTS[s.name] ?? (s.asyncJobs === false ? [] : ['async']) }))
    .filter(({ endpoints }) => endpoints.length > 0)
    .map(({ s, endpoints }) => `<li><b>${escapeXml(s.title)}</b>: ${endpoints.map((e) => link(`/api/${s.name}/${e}`)).join(' ')}</li>`)
    .join('\n');
  const coadd = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
  const page = (path: string, label: string, what: string) =>
    `<li><a href="${escapeXml(base + path)}">${escapeXml(label)}</a>: ${escapeXml(what)}</li>`;
  const examples = TAP_EXAMPLES.slice(4, 9)
    .map(
      (e) =>
        `<li>${escapeXml(e.name)}: <a href="${escapeXml(`${base}/api/tap/sync?LANG=ADQL&QUERY=${encodeURIComponent(e.query ?? '')}`)}"><code>${escapeXml(e.query ?? '')}</code></a></li>`,
    )
    .join('\n');
  const body = `<h1>VO image services</h1>
<p>IVOA services for astronomical images: TAP queries over ObsCore, DataLink, SODA cutouts and
SIA discovery, with asynchronous UWS 1.1 jobs. Use them from pyvo, TOPCAT or any HTTP client, or
from this browser.</p>
<h2>In the browser</h2>
<ul class="cards">
${page('/api/tap', 'TAP query', "ADQL over ObsCore with the tutorial's example queries; thumbnails and cutout links per dataset")}
${page('/api/cutout', 'Cutout', 'a SODA cutout of one dataset around a position, previewed, with its FITS file')}
${page('/api/sia', 'Image search', 'SIA 2.0: the images over a position, their footprints drawn around it')}
${page('/api/bulk', 'Bulk cutouts', 'a positions file in; stamps, a manifest and an archive out, with a live progress bar')}
${page('/api/bulk/async', 'Jobs', 'your jobs of each service (TAP, cutout, bulk), their progress, results and manifests')}
</ul>
<p class="note">When the server needs a token, the pages ask for it once (<a href="${escapeXml(`${base}/pages/login`)}">sign in</a>).</p>
<h2>Services</h2>
<ul>
${rows || '<li>No services are enabled on this server.</li>'}
<li><b>DataLink 1.1</b>: ${link(`/api/datalink/links?ID=${coadd}`)} ${link('/api/datalink/capabilities')}</li>
</ul>
<h2>Try</h2>
<ul>
${examples}
<li>A cutout around the demo galaxy cluster: ${link(`/api/cutout/sync?ID=${coadd}&CIRCLE=55.7467376 -32.2861552 0.03`)}</li>
<li>Images over it in the i band: ${link('/api/sia/query?POS=CIRCLE 55.7467376 -32.2861552 0.001&BAND=7.6e-7')}</li>
</ul>
<h2>From Python</h2>
<pre>import pyvo
tap = pyvo.dal.TAPService('${escapeXml(base)}/api/tap')
tap.search("SELECT TOP 5 obs_publisher_did, access_url FROM ivoa.ObsCore")</pre>
<h2>Jobs</h2>
<pre>curl -i -d PHASE=RUN -d LANG=ADQL -d QUERY='SELECT COUNT(*) FROM ivoa.ObsCore' ${escapeXml(base)}/api/tap/async   # 303 to the new job
curl '${escapeXml(base)}/api/tap/async/&lt;job&gt;?WAIT=60'                 # blocks until the phase changes</pre>`;
  // No sign-in state here (see above): the layout is given none.
  return renderPage({ base, owner: null, auth: false }, { title: 'Home', body, section: 'home' });
}
