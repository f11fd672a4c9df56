import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoRepository } from '../../shared/demo';
import { openFitsSync, openFitsBuffer, scalarLookup } from '../../shared/fits';
import { parseWcs } from '../../shared/wcs';
import { combinations, parseSodaRequest, planCutout, cutoutBuffer, cutoutChunks } from '../../shared/soda';
test('scratch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'soda-'));
  const ds = await generateDemoRepository(dir, { binning: 8, patches: [17], bands: ['i'], visits: 1, diffs: 0 });
  for (const d of ds) {
    const f = openFitsSync(d.path);
    const wcs = parseWcs(scalarLookup(f.hdus[1]!.header));
    const c = wcs.pixelToSky0(200, 150);
    const [cut] = combinations(parseSodaRequest([{ name: 'ID', value: 'x' }, { name: 'CIRCLE', value: `${c.ra} ${c.dec} 0.01` }], { multiValued: false }));
    let t0 = performance.now();
    const plan = planCutout(f, cut!, { emMin: null, emMax: null, tMin: null, tMax: null });
    console.log('plan ms', performance.now() - t0, JSON.stringify(plan));
    for (let k = 0; k < 3; k++) { t0 = performance.now(); planCutout(f, cut!, { emMin: null, emMax: null, tMin: null, tMax: null }); console.log('plan', performance.now() - t0); }
    t0 = performance.now();
    const buf = cutoutBuffer(f, plan!, cut!);
    console.log('cut ms', performance.now() - t0, buf.length);
    for (let k = 0; k < 3; k++) { t0 = performance.now(); cutoutBuffer(f, plan!, cut!); console.log('cut', performance.now() - t0); }
    const chunks = Buffer.concat([...cutoutChunks(f, plan!, cut!)]);
    console.log('equal', chunks.equals(buf));
    writeFileSync('/tmp/soda-scratch.fits', buf);
    const o = openFitsBuffer(buf);
    console.log(o.hdus.map((h) => `${h.index} ${h.extname} ${h.axes}`));
    console.log(o.hdus[0]!.header.cards.slice(-8).map((c) => `${c.keyword}=${String(c.value)}`).join(' | '));
    console.log(o.hdus[1]!.header.cards.filter(c=>/CRPIX|LTV/.test(c.keyword)).map((c) => `${c.keyword}=${String(c.value)}`).join(' | '));
    f.close();
  }
  rmSync(dir, { recursive: true });
});
