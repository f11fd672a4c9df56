/** The HTML landing page at `/`: what this service offers, where, and queries to try. */
import { TAP_EXAMPLES } from '../shared/tap/metadata';
import type { UwsService } from '../shared/uws/service';
import { escapeXml } from '../shared/xml';

/** The IVOA endpoints of each built-in service, by service name. */
const ENDPOINTS: Readonly<Record<string, readonly string[]>> = {
  tap: ['sync', 'async', 'capabilities', 'availability', 'tables', 'examples'],
  cutout: ['sync', 'async', 'capabilities', 'availability'],
  sia: ['query', 'capabilities', 'availability'],
  bulk: ['async', 'capabilities', 'availability'],
};

export function landingPage(base: string, services: Iterable<UwsService>): string {
  const link = (path: string) => `<a href="${escapeXml(base + path)}"><code>${escapeXml(path)}</code></a>`;
  const rows = [...services]
    .map((s) => {
      const endpoints = ENDPOINTS[s.name] ?? (s.asyncJobs === false ? [] : ['async']);
      return `<li><b>${escapeXml(s.title)}</b>: ${endpoints.map((e) => link(`/api/${s.name}/${e}`)).join(' ')}</li>`;
    })
    .join('\n');
  const coadd = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';
  const examples = TAP_EXAMPLES.slice(4, 9)
    .map(
      (e) =>
        `<li>${escapeXml(e.name)}: <a href="${escapeXml(`${base}/api/tap/sync?LANG=ADQL&QUERY=${encodeURIComponent(e.query ?? '')}`)}"><code>${escapeXml(e.query ?? '')}</code></a></li>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>VO image services</title>
<style>body{font-family:system-ui,sans-serif;max-width:56em;margin:2em auto;padding:0 1em;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}li{margin:.3em 0}</style>
</head><body>
<h1>VO image services</h1>
<p>IVOA services for astronomical images: TAP queries over ObsCore, DataLink, SODA cutouts and
SIA discovery, with asynchronous UWS 1.1 jobs. Use them from pyvo, TOPCAT or any HTTP client.</p>
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
curl '${escapeXml(base)}/api/tap/async/&lt;job&gt;?WAIT=60'                 # blocks until the phase changes</pre>
</body></html>
`;
}
