/**
 * The tutorial's image flow with the real clients: pyvo finds the i-band coadd by TAP,
 * follows its DataLink, opens the signed #this URL with astropy, cuts a stamp around the
 * galaxy cluster through the cutout-sync descriptor (SodaQuery.from_resource) and checks
 * the stamp's WCS; STILTS datalinklint validates the DataLink document.
 */
import { execFile } from 'node:child_process';
import { runPython } from '../helpers/python';
import { startTapStack, type TapFixture } from '../tap/fixture';

let fx: TapFixture;
beforeAll(async () => {
  fx = await startTapStack({ workers: 1 });
}, 60000);
afterAll(() => fx?.close());

const I_COADD = 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c';

const FLOW = String.raw`
import io, json, sys, warnings
warnings.simplefilter('ignore')
import pyvo
from pyvo.dal.adhoc import DatalinkResults, SodaQuery
from astropy.io import fits
from astropy.wcs import WCS
import astropy.units as u
url, ra, dec = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
service = pyvo.dal.TAPService(url + '/api/tap')
query = "SELECT * FROM ivoa.ObsCore WHERE dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_tract = 4431 AND lsst_patch = 17 AND lsst_band = 'i'"
results = service.search(query)
assert len(results) == 1
dataLinkUrl = results[0].getdataurl()
auth_session = service._session
dl_results = DatalinkResults.from_result_url(dataLinkUrl, session=auth_session)
image_url = dl_results.getrecord(0).get('access_url')
hdulist = fits.open(image_url)
out = {'datalink_rows': len(dl_results), 'service_def': str(dl_results.getrecord(1).get('service_def')), 'hdus': [h.name for h in hdulist]}
sq = SodaQuery.from_resource(dl_results, dl_results.get_adhocservice_by_id("cutout-sync"), session=auth_session)
sq.circle = (ra, dec, 0.03 * u.deg)
cut = fits.open(io.BytesIO(sq.execute_stream().read()))
image = cut['IMAGE']
x, y = WCS(image.header).world_to_pixel_values(ra, dec)
out.update({'cut_hdus': [h.name for h in cut], 'soda_id': cut[0].header['SODA_ID'], 'shape': list(image.data.shape), 'target': [float(x), float(y)]})
print(json.dumps(out))
`;

test('TAP → DataLink → #this with astropy → SODA cutout with pyvo', async () => {
  const ra = 55.7467376;
  const dec = -32.2861552;
  const out = JSON.parse(await runPython(FLOW, [fx.stack.url, String(ra), String(dec)], 120000)) as {
    datalink_rows: number; service_def: string; hdus: string[]; cut_hdus: string[]; soda_id: string; shape: number[]; target: number[];
  };
  expect(out.datalink_rows).toBe(3);
  expect(out.service_def).toBe('cutout-sync');
  expect(out.hdus).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
  expect(out.cut_hdus).toEqual(['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
  expect(out.soda_id).toBe(I_COADD);
  // A 0.03° circle at the demo's binned 1.6″ pixels: about 135 px across, the target in the middle.
  const [height, width] = out.shape as [number, number];
  expect(Math.abs(width - 135)).toBeLessThanOrEqual(2);
  expect(Math.abs(height - 135)).toBeLessThanOrEqual(2);
  expect(Math.abs(out.target[0]! - (width - 1) / 2)).toBeLessThan(1);
  expect(Math.abs(out.target[1]! - (height - 1) / 2)).toBeLessThan(1);
}, 150000);

test('datalinklint: 0 errors, 0 warnings', async () => {
  const report = await new Promise<string>((resolve, reject) =>
    execFile('stilts', ['datalinklint', `votable=${fx.stack.url}/api/datalink/links?ID=${I_COADD}`], { timeout: 120000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  expect(report).toContain('I-DLNR-1 Datalink table rows checked: 3');
  expect(report).toMatch(/Totals: Errors: 0; Warnings: 0;/);
}, 150000);
