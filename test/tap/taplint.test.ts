/**
 * STILTS taplint (Debian's stilts) against a live server, all its stages. taplint exits 0
 * even when it reports errors, so the test reads its Totals line and the messages.
 */
import { execFile } from 'node:child_process';
import { describeWith } from '../helpers/tools';
import { startTapStack, type TapFixture } from './fixture';

describeWith('stilts', 'STILTS taplint', () => {
  let fx: TapFixture;
  beforeAll(async () => {
    fx = await startTapStack({ workers: 1 });
  }, 60000);
  afterAll(() => fx?.close());

  function taplint(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('stilts', ['taplint', `tapurl=${url}`], { timeout: 240000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`taplint failed: ${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  }

  test('taplint: 0 errors, 0 warnings over every stage', async () => {
    const report = await taplint(`${fx.stack.url}/api/tap`);
    const totals = /Totals: Errors: (\d+); Warnings: (\d+); Infos: (\d+); Summaries: (\d+); Failures: (\d+)/.exec(report);
    expect(totals).not.toBeNull();
    const problems = report.split('\n').filter((line) => /^[EWF]-/.test(line));
    // The one failure is the ObsLocTAP stage (LOC): this service publishes no ivoa.obsplan table.
    expect(problems).toEqual(['F-LOC-NOTP-1 No table with name ivoa.obsplan']);
    expect(totals!.slice(1, 3)).toEqual(['0', '0']);
    // Every stage ran, including the query, UWS, ObsCore, upload and examples stages.
    for (const stage of ['TMV', 'TME', 'TMS', 'TMC', 'CPV', 'CAP', 'AVV', 'QGE', 'QPO', 'QAS', 'UWS', 'MDQ', 'OBS', 'UPL', 'EXA']) {
      expect(report).toContain(`Section ${stage}:`);
    }
    expect(Number(totals![3])).toBeGreaterThan(100);
  }, 300000);
});
