/**
 * pyvo 1.2 (Debian's python3-pyvo) against a live server: TAPService.run_sync, run_async,
 * submit_job + wait + fetch_result, exactly as the tutorial uses them, with getdataurl()
 * on ObsCore rows and the error a client sees for a bad query.
 */
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { runPython } from '../helpers/python';
import { describeWith } from '../helpers/tools';
import { startTapStack, type TapFixture } from './fixture';

describeWith('pyvo', 'pyvo against a live TAP service', () => {
  let fx: TapFixture;
  beforeAll(async () => {
    fx = await startTapStack({ workers: 1 });
  }, 60000);
  afterAll(() => fx?.close());

  const SCRIPT = String.raw`
import json, sys
import pyvo
url = sys.argv[1]
service = pyvo.dal.TAPService(url)
out = {}
q = "SELECT * FROM ivoa.ObsCore WHERE dataproduct_type = 'image' AND obs_collection = 'LSST.DP02' AND dataproduct_subtype = 'lsst.deepCoadd_calexp' AND lsst_tract = 4431 AND lsst_patch = 17 AND lsst_band = 'i'"
results = service.search(q)
out['sync_rows'] = len(results)
out['dataurl'] = results[0].getdataurl()
out['did'] = str(results[0]['obs_publisher_did'])
t = service.run_sync("SELECT lsst_band, COUNT(*) AS n FROM ivoa.ObsCore WHERE dataproduct_subtype = 'lsst.deepCoadd_calexp' GROUP BY lsst_band ORDER BY lsst_band").to_table()
out['bands'] = [str(b) for b in t['lsst_band']]
out['counts'] = [int(n) for n in t['n']]
a = service.run_async("SELECT TOP 3 obs_publisher_did FROM ivoa.ObsCore ORDER BY obs_publisher_did")
out['async_rows'] = len(a)
job = service.submit_job("SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = 'ivoa.ObsCore'")
job.run()
job.wait(phases=['COMPLETED', 'ERROR', 'ABORTED'], timeout=60)
out['job_phase'] = job.phase
out['job_rows'] = len(job.fetch_result())
job.delete()
out['maxrec_rows'] = len(service.run_sync('SELECT obs_id FROM ivoa.ObsCore', maxrec=2))
try:
    service.run_sync('SELECT nope FROM ivoa.ObsCore')
    out['error'] = None
except pyvo.dal.DALQueryError as e:
    out['error'] = str(e)
print(json.dumps(out))
`;

  test('run_sync, run_async, submit_job + wait, getdataurl, maxrec and errors', async () => {
    const out = JSON.parse(await runPython(SCRIPT, [`${fx.stack.url}/api/tap`], 120000)) as Record<string, unknown>;
    const coadds = fx.datasets.filter((d) => d.datasetType === 'deepCoadd_calexp');
    const bands = [...new Set(coadds.map((d) => d.band))].sort();
    expect(out).toEqual({
      sync_rows: 1,
      dataurl: `${fx.stack.url}/api/datalink/links?ID=butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c`,
      did: 'butler://dp02/20d28216-534a-4102-b8a7-1c7f32a9b78c',
      bands,
      counts: bands.map((b) => coadds.filter((d) => d.band === b).length),
      async_rows: 3,
      job_phase: 'COMPLETED',
      job_rows: OBSCORE_COLUMNS.length,
      maxrec_rows: 2,
      error: expect.stringContaining('unknown column "nope"'),
    });
  }, 150000);
});
