/**
 * The demo files as astropy (the reference Python implementation) reads them: valid FITS, the
 * same structure and keywords, and the same WCS (wcslib with SIP) as shared/wcs to within
 * 1 mas. Needs astropy (test/helpers/tools.ts).
 */
import { spawnSync } from 'node:child_process';
import { TARGET, type GeneratedDataset } from '../../shared/demo';
import { angularDistance } from '../../shared/sky';
import { PYTHON } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { generateTiny, readPlane } from './helpers';

const SCRIPT = String.raw`
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

out = []
for case in json.load(sys.stdin):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with fits.open(case['path']) as f:
            f.verify('exception')
            primary = f[0].header
            image = f['IMAGE']
            wcs = WCS(image.header)
            target = wcs.all_world2pix([[case['ra'], case['dec']]], 1, tolerance=1e-12, maxiter=200)[0]
            sky = wcs.all_pix2world(np.array(case['pixels'], dtype=float), 1)
            out.append({
                'names': [h.name for h in f],
                'bitpix': [h.header['BITPIX'] for h in f],
                'shapes': [list(h.data.shape) if h.data is not None else None for h in f],
                'id': primary['HIERARCH LSST BUTLER ID'],
                'datasetType': primary['HIERARCH LSST BUTLER DATASETTYPE'],
                'band': primary['HIERARCH LSST BUTLER DATAID BAND'],
                'visit': primary.get('HIERARCH LSST BUTLER DATAID VISIT'),
                'patch': primary.get('HIERARCH LSST BUTLER DATAID PATCH'),
                'mjd': primary['MJD-OBS'],
                'ctype': list(wcs.wcs.ctype),
                'sip': wcs.sip is not None,
                'maskPlanes': {k: v for k, v in f['MASK'].header.items() if k.startswith('MP_')},
                'imageSum': float(np.sum(image.data, dtype=np.float64)),
                'target': target.tolist(),
                'sky': sky.tolist(),
            })
    out[-1]['warnings'] = [str(w.message) for w in caught]
json.dump(out, sys.stdout)
`;

interface AstropyView {
  names: string[];
  bitpix: number[];
  shapes: Array<number[] | null>;
  id: string;
  datasetType: string;
  band: string;
  visit: number | null;
  patch: number | null;
  mjd: number;
  ctype: string[];
  sip: boolean;
  maskPlanes: Record<string, number>;
  imageSum: number;
  target: [number, number];
  sky: Array<[number, number]>;
  warnings: string[];
}

const MAS = 1 / 3.6e6;

describeWith('astropy', 'astropy reads the demo files the same way', () => {
  let repo: { dir: string; datasets: GeneratedDataset[]; cleanup: () => void };
  beforeAll(async () => {
    repo = await generateTiny({ binning: 8, patches: [17], bands: ['i'], visits: 2, diffs: 1 });
  });
  afterAll(() => repo?.cleanup());

  test('structure, keywords and WCS (TAN coadd, TAN-SIP calexps and difference image) within 1 mas', () => {
    const cases = repo.datasets.map((d) => {
      const pixels: Array<[number, number]> = [];
      for (const fx of [0, 0.25, 0.5, 0.75, 1]) for (const fy of [0, 0.5, 1]) pixels.push([0.5 + fx * d.width, 0.5 + fy * d.height]);
      return { path: d.path, ra: TARGET.ra, dec: TARGET.dec, pixels };
    });
    const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`astropy run failed (${run.status}): ${run.stderr}`);
    const views = JSON.parse(run.stdout) as AstropyView[];
    expect(views.map((v) => v.datasetType)).toEqual(['deepCoadd_calexp', 'calexp', 'goodSeeingDiff_differenceExp', 'calexp']);
    views.forEach((view, k) => {
      const d = repo.datasets[k]!;
      expect(view.warnings).toEqual([]);
      expect(view.names).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
      expect(view.bitpix).toEqual([8, -32, 32, -32]);
      expect(view.shapes).toEqual([null, [d.height, d.width], [d.height, d.width], [d.height, d.width]]);
      expect([view.id, view.datasetType, view.band]).toEqual([d.id, d.datasetType, d.band]);
      expect(view.visit).toBe(d.visit ?? null);
      expect(view.patch).toBe(d.patch ?? null);
      expect(view.maskPlanes).toMatchObject({ MP_BAD: 0, MP_SAT: 1, MP_DETECTED: 5, MP_DETECTED_NEGATIVE: 6 });
      const sip = d.datasetType !== 'deepCoadd_calexp';
      expect(view.sip).toBe(sip);
      expect(view.ctype).toEqual(sip ? ['RA---TAN-SIP', 'DEC--TAN-SIP'] : ['RA---TAN', 'DEC--TAN']);

      const plane = readPlane(d.path);
      expect(plane.primary.getNumber('MJD-OBS')).toBe(view.mjd);
      let sum = 0;
      for (const v of plane.data) sum += v;
      expect(Math.abs(sum - view.imageSum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(sum)) + 1e-3);
      // The target: same pixel (FITS 1-based) within 1 mas, and inside every image.
      const ours = plane.wcs.skyToPixel(TARGET.ra, TARGET.dec);
      expect(Math.hypot(ours.x - view.target[0], ours.y - view.target[1]) * plane.wcs.pixelScale).toBeLessThan(MAS);
      expect(plane.wcs.containsSky(TARGET.ra, TARGET.dec)).toBe(true);
      // Corners, edges and centre: same sky position within 1 mas.
      cases[k]!.pixels.forEach(([x, y], i) => {
        const s = plane.wcs.pixelToSky(x, y);
        const [ra, dec] = view.sky[i]!;
        expect(angularDistance(s, { ra, dec })).toBeLessThan(MAS);
      });
    });
  });
});
