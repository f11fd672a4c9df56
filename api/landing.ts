/** The HTML landing page at `/`: what this service offers and where. */
import type { UwsService } from '../shared/uws/service';
import { escapeXml } from '../shared/xml';

export function landingPage(base: string, services: Iterable<UwsService>): string {
  const rows = [...services]
    .map((s) => `<li><b>${escapeXml(s.title)}</b>: UWS 1.1 jobs at <a href="${escapeXml(`${base}/api/${s.name}/async`)}"><code>/api/${escapeXml(s.name)}/async</code></a></li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>VO image services</title>
<style>body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>VO image services</h1>
<p>IVOA services for astronomical images: TAP queries over ObsCore, DataLink, SODA cutouts and
SIA discovery, all run as asynchronous UWS 1.1 jobs. Use them from pyvo, TOPCAT or any HTTP client.</p>
<h2>Services</h2>
<ul>
${rows || '<li>No services are enabled on this server.</li>'}
</ul>
<h2>Using a job service</h2>
<pre>curl -i -d PHASE=RUN -d NAME=value ${escapeXml(base)}/api/&lt;service&gt;/async     # 303 to the new job
curl '${escapeXml(base)}/api/&lt;service&gt;/async/&lt;job&gt;?WAIT=60'                 # blocks until the phase changes</pre>
</body></html>
`;
}
