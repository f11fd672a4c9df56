/**
 * `npm run bulk` (scripts/bulk.ts) against a real stack: submits a table, follows the job,
 * downloads and unpacks the archive, prints the statuses; run again with the same --out it
 * resumes a cut-short download from where it stopped; a refused table exits 2.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../shared/runtime';
import { statusCounts } from '../../scripts/bulk';
import { startTapStack, type TapFixture } from '../tap/fixture';
import { TARGET } from './helpers';

let fx: TapFixture;
let dir: string;

beforeAll(async () => {
  fx = await startTapStack({ workers: 1, env: { BULK_PART_STAMPS: '2' } });
  dir = fs.mkdtempSync(path.join(fx.stack.dir, 'cli-'));
}, 60000);
afterAll(() => fx?.close());

function bulk(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'dist/scripts/bulk.js'), ...args], { timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('statusCounts reads the status column of manifest.csv, quoted fields included', () => {
  const csv = 'row,id,status,message\r\n1,a,ok,\r\n2,"b,c",no_coverage,"no image, ""none"""\r\n3,"d\r\ne",ok,\r\n';
  expect([...statusCounts(csv)]).toEqual([
    ['ok', 2],
    ['no_coverage', 1],
  ]);
});

test('submits, follows, downloads and unpacks; a second run resumes a download cut short', async () => {
  const table = path.join(dir, 'targets.csv');
  fs.writeFileSync(table, `id,ra,dec\ncluster,${TARGET.ra},${TARGET.dec}\nfar,10,10\nnear,${TARGET.ra + 0.001},${TARGET.dec}\n`);
  const out = path.join(dir, 'out');
  const args = [table, '--url', fx.stack.url, '--bands', 'g,r', '--size', '16', '--out', out];
  const first = await bulk(args);
  expect([first.code, first.stderr]).toEqual([0, '']);
  expect(first.stdout).toMatch(/^submitted http:\/\/127\.0\.0\.1:\d+\/api\/bulk\/async\/\w+$/m);
  expect(first.stdout).toMatch(/^COMPLETED 100\.0% 4\/4 stamps \(ok 4, failed 0\)$/m);
  expect(first.stdout).toContain('4 stamps and manifest.csv in');
  expect(first.stdout).toMatch(/^ok: 4, no_coverage: 2$/m);
  expect(fs.readdirSync(path.join(out, 'stamps')).sort()).toEqual(['cluster_g.fits', 'cluster_r.fits', 'near_g.fits', 'near_r.fits']);
  const stamp = fs.readFileSync(path.join(out, 'stamps', 'cluster_g.fits'));
  expect(stamp.subarray(0, 30).toString('latin1')).toBe('SIMPLE  =                    T');
  const archive = fs.readFileSync(path.join(out, 'archive.tar'));

  // The download stopped after 1,000 bytes: the next run continues the same job from there.
  fs.rmSync(path.join(out, 'archive.tar'));
  fs.rmSync(path.join(out, 'stamps'), { recursive: true });
  fs.writeFileSync(path.join(out, 'archive.tar.part'), archive.subarray(0, 1000));
  const second = await bulk(args);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/^continuing http:\/\/.*\/api\/bulk\/async\/\w+$/m);
  expect(second.stdout).toContain('resuming the download at byte 1000');
  expect(fs.readFileSync(path.join(out, 'archive.tar')).equals(archive)).toBe(true);
  expect(fs.readFileSync(path.join(out, 'stamps', 'cluster_g.fits')).equals(stamp)).toBe(true);
}, 120000);

test('a table the service refuses: the reason, exit code 2', async () => {
  const table = path.join(dir, 'bad.csv');
  fs.writeFileSync(table, 'name,x\na,1\n');
  const run = await bulk([table, '--url', fx.stack.url, '--out', path.join(dir, 'bad')]);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^the service refused the batch \(400\): UsageError: /);
});
