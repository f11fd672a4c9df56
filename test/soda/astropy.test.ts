/**
 * Cutouts as astropy (the reference Python implementation) sees them: valid FITS
 * (verify('exception'), no warnings), the source's pixels at the offset, a WCS (astropy.wcs,
 * i.e. wcslib with SIP) mapping the cutout's pixels where the source's map, and agreeing with
 * shared/wcs within 1 mas; and circle rectangles within one pixel of astropy's own computation
 * (circle outline by SkyCoord.directional_offset_by, all_world2pix, pixel centres by
 * separation). Needs astropy (test/helpers/tools.ts).
 */
import { writeFileSync } from 'node:fs';
import { type GeneratedDataset, generateDemoRepository } from '../../shared/demo';
import { type FitsFile, type Rect, openFitsSync, scalarLookup } from '../../shared/fits';
import { angularDistance, makeCircle } from '../../shared/sky';
import { type SodaCutout, cutoutBuffer, planCutout } from '../../shared/soda';
import { parseWcs } from '../../shared/wcs';
import { describeWith } from '../helpers/tools';
import { margins, runPython, tempDir, writeExposure, tanSpec } from './helpers';

const MAS = 1 / 3.6e6;

const SCRIPT = String.raw`
import json, math, sys, warnings
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

def celestial(w):
    return w.celestial if w.naxis > 2 else w

out = []
for case in json.load(sys.stdin):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = {}
        with fits.open(case['cutout']) as cut, fits.open(case['source']) as src:
            cut.verify('exception')
            result['names'] = [h.name for h in cut]
            result['bitpix'] = [h.header['BITPIX'] for h in cut]
            result['sodaId'] = cut[0].header.get('SODA_ID')
            x0, y0, w, h = case['rect']
            same = []
            for name in ['IMAGE', 'MASK', 'VARIANCE']:
                a = cut[name].data
                b = src[name].data[y0:y0 + h, x0:x0 + w]
                same.append(bool(a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == 'f')))
            result['sameData'] = same
            pixels = np.array(case['pixels'], dtype=float)
            cw = WCS(cut['IMAGE'].header)
            sw = WCS(src['IMAGE'].header)
            result['cutSky'] = cw.all_pix2world(pixels, 0).tolist()
            result['sourceSky'] = sw.all_pix2world(pixels + [x0, y0], 0).tolist()
            result['maskSky'] = WCS(cut['MASK'].header).all_pix2world(pixels, 0).tolist()
            circle = case.get('circle')
            if circle:
                ra, dec, r = circle
                W, H = src['IMAGE'].header['NAXIS1'], src['IMAGE'].header['NAXIS2']
                centre = SkyCoord(ra * u.deg, dec * u.deg)
                edge = centre.directional_offset_by(np.linspace(0, 360, 20000, endpoint=False) * u.deg, r * u.deg)
                ex, ey = sw.all_world2pix(edge.ra.deg, edge.dec.deg, 0, tolerance=1e-10, maxiter=100)
                keep = (ex >= -0.5) & (ex <= W - 0.5) & (ey >= -0.5) & (ey <= H - 0.5)
                xs, ys = list(ex[keep]), list(ey[keep])
                corners = np.array([[-0.5, -0.5], [W - 0.5, -0.5], [W - 0.5, H - 0.5], [-0.5, H - 0.5]])
                cra, cdec = sw.all_pix2world(corners[:, 0], corners[:, 1], 0)
                for (cx, cy), inside in zip(corners, SkyCoord(cra * u.deg, cdec * u.deg).separation(centre).deg <= r):
                    if inside:
                        xs.append(cx); ys.append(cy)
                def box(x_lo, x_hi, y_lo, y_hi):
                    return [int(x_lo), int(y_lo), int(x_hi - x_lo + 1), int(y_hi - y_lo + 1)]
                result['outlineBox'] = box(max(0, math.floor(min(xs) + 0.5)), min(W - 1, math.ceil(max(xs) - 0.5)),
                                           max(0, math.floor(min(ys) + 0.5)), min(H - 1, math.ceil(max(ys) - 0.5))) if xs else None
                gy, gx = np.mgrid[0:H, 0:W]
                pra, pdec = sw.all_pix2world(gx.ravel(), gy.ravel(), 0)
                inside = SkyCoord(pra * u.deg, pdec * u.deg).separation(centre).deg <= r
                cx, cy = gx.ravel()[inside], gy.ravel()[inside]
                result['centreBox'] = box(cx.min(), cx.max(), cy.min(), cy.max()) if inside.any() else None
    result['warnings'] = [str(w.message) for w in caught]
    out.append(result)
json.dump(out, sys.stdout)
`;

interface Case {
  readonly label: string;
  readonly source: string;
  readonly cutout: string;
  readonly rect: readonly [number, number, number, number];
  /** 0-based pixels of the cutout. */
  readonly pixels: ReadonlyArray<readonly [number, number]>;
  readonly circle?: readonly [number, number, number];
}

interface View {
  names: string[];
  bitpix: number[];
  sodaId: string | null;
  sameData: boolean[];
  cutSky: Array<[number, number]>;
  sourceSky: Array<[number, number]>;
  maskSky: Array<[number, number]>;
  outlineBox?: [number, number, number, number] | null;
  centreBox?: [number, number, number, number] | null;
  warnings: string[];
}

function rectOf([x0, y0, width, height]: readonly [number, number, number, number]): Rect {
  return { x0, y0, width, height };
}

describeWith('astropy', 'astropy reads the cutouts the same way', () => {
  let dir: ReturnType<typeof tempDir>;
  let datasets: GeneratedDataset[];
  const cases: Case[] = [];
  const ours = new Map<string, { rect: Rect; file: FitsFile }>();
  let views: View[];

  beforeAll(async () => {
    dir = tempDir();
    datasets = await generateDemoRepository(dir.path('demo'), { binning: 8, patches: [17], bands: ['i'], visits: 1, diffs: 0 });
    const zero = dir.path('ra0.fits');
    writeExposure(zero, tanSpec({ width: 160, height: 120, ra: 0, dec: -30, arcsecPerPixel: 1, rotation: 20 }));
    const sources = [...datasets.map((d) => ({ label: d.datasetType, path: d.path })), { label: 'RA 0', path: zero }];
    const longId = `butler://dp02/${'0123456789abcdef'.repeat(8)}?with='quotes'`;
    for (const { label, path } of sources) {
      const file = openFitsSync(path);
      const wcs = parseWcs(scalarLookup(file.hdu('IMAGE').header));
      const [w, h] = wcs.imageSize!;
      const circles: Array<[string, number, number, number]> = [
        ['inside', 0.4 * w, 0.55 * h, 30],
        ['across a corner', w - 6, 4, 22],
      ];
      for (const [where, x, y, radiusPixels] of circles) {
        const centre = wcs.pixelToSky0(x, y);
        const radius = radiusPixels * wcs.pixelScale;
        const cutout: SodaCutout = {
          id: longId,
          spatial: { param: 'CIRCLE', shape: makeCircle(centre, radius) },
          band: null,
          time: null,
          pol: null,
        };
        const plan = planCutout(file, cutout, { emMin: null, emMax: null, tMin: null, tMax: null })!;
        const rect = plan.hdus[0]!.rect;
        const name = `${label}, circle ${where}`;
        const path = dir.path(`${cases.length}.fits`);
        writeFileSync(path, cutoutBuffer(file, plan, cutout));
        ours.set(name, { rect, file: openFitsSync(path) });
        cases.push({
          label: name,
          source: file.name,
          cutout: path,
          rect: [rect.x0, rect.y0, rect.width, rect.height],
          pixels: [
            [0, 0],
            [rect.width - 1, rect.height - 1],
            [rect.width / 3, rect.height / 2],
          ],
          circle: [centre.ra, centre.dec, radius],
        });
      }
      file.close();
    }
    views = runPython<View[]>(SCRIPT, cases);
  });

  afterAll(() => {
    for (const { file } of ours.values()) file.close();
    dir?.cleanup();
  });

  test('valid FITS without warnings, the planes in order, the source pixels at the offset', () => {
    expect(views).toHaveLength(6);
    views.forEach((view, k) => {
      expect([cases[k]!.label, view.warnings]).toEqual([cases[k]!.label, []]);
      expect(view.names).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
      expect(view.bitpix).toEqual([8, -32, 32, -32]);
      expect(view.sameData).toEqual([true, true, true]);
      expect(view.sodaId).toMatch(/^butler:\/\/dp02\/(0123456789abcdef){8}\?with='quotes'$/);
    });
  });

  test("the cutout's WCS in astropy maps its pixels where the source's map (≤ 1e-9°), and as shared/wcs does (≤ 1 mas)", () => {
    views.forEach((view, k) => {
      const { file } = ours.get(cases[k]!.label)!;
      const wcs = parseWcs(scalarLookup(file.hdu('IMAGE').header));
      cases[k]!.pixels.forEach(([x, y], i) => {
        const [ra, dec] = view.cutSky[i]!;
        const [sra, sdec] = view.sourceSky[i]!;
        expect(angularDistance({ ra, dec }, { ra: sra, dec: sdec })).toBeLessThan(1e-9);
        expect(view.maskSky[i]).toEqual(view.cutSky[i]);
        expect(angularDistance(wcs.pixelToSky0(x, y), { ra, dec })).toBeLessThan(MAS);
      });
    });
  });

  test("circle rectangles: every pixel centre astropy finds inside is in ours; each side within one pixel of astropy's outline", () => {
    views.forEach((view, k) => {
      const rect = rectOf(cases[k]!.rect);
      expect(view.centreBox).toBeTruthy();
      const centres = margins(rect, rectOf(view.centreBox!));
      expect(Math.min(centres.left, centres.right, centres.bottom, centres.top)).toBeGreaterThanOrEqual(0);
      const outline = margins(rect, rectOf(view.outlineBox!));
      for (const side of [outline.left, outline.right, outline.bottom, outline.top]) expect(Math.abs(side)).toBeLessThanOrEqual(1);
    });
  });
});
