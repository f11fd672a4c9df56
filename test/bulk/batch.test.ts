/**
 * A batch's files as the finish step reads them: the archive's stamp members in the order they
 * lie in the packs (part by part, by offset, each picture after its stamp), whatever order the
 * outcomes come in.
 */
import path from 'node:path';
import { packFile, stampMembers, type BatchPlan, type PlannedRow, type StampOutcome } from '../../shared/bulk/batch';

const DIR = '/batch';

function plannedRow(index: number, part: number | undefined): PlannedRow {
  return {
    row: index + 1,
    id: String(index + 1),
    ra: 10,
    dec: 20,
    band: 'g',
    status: part === undefined ? 'no_coverage' : 'ok',
    x0: 0,
    y0: 0,
    nx: 8,
    ny: 8,
    ...(part === undefined ? {} : { part, image: 0, member: `stamps/${index + 1}_g.fits`, preview: `previews/${index + 1}_g.png` }),
  };
}

// Rows 0..5: row 2 has nothing to cut; rows 0, 3, 5 are in part 2; rows 1, 4 in part 1.
const PLAN: BatchPlan = {
  createdAt: Date.UTC(2026, 11, 5),
  packaging: 'zip',
  dryRun: false,
  parts: 2,
  images: [{ did: 'butler://x', subtype: 'lsst.deepCoadd_calexp', tMin: 60000 }],
  rows: [plannedRow(0, 2), plannedRow(1, 1), plannedRow(2, undefined), plannedRow(3, 2), plannedRow(4, 1), plannedRow(5, 2)],
};

const ok = (index: number, offset: number, picture?: number): StampOutcome => ({
  index,
  status: 'ok',
  offset,
  bytes: 100,
  crc32: 1000 + index,
  ...(picture === undefined ? {} : { preview: { offset: picture, bytes: 10, crc32: 2000 + index } }),
});

const OUTCOMES: StampOutcome[] = [
  ok(4, 0, 100), // part 1: row 4's stamp, then its picture, then row 1's
  ok(1, 110),
  ok(5, 0), // part 2: rows 5, 0, 3
  ok(0, 100, 200),
  { index: 3, status: 'error', message: 'unreadable' },
];

const listed = (outcomes: readonly StampOutcome[]) =>
  stampMembers(DIR, PLAN, new Map(outcomes.map((o) => [o.index, o]))).map((m) => [
    m.name,
    'file' in m.source ? path.basename(m.source.file) : 'memory',
    'file' in m.source ? m.source.offset : -1,
    m.size,
    m.crc32,
  ]);

const EXPECTED = [
  ['stamps/5_g.fits', packFile(1), 0, 100, 1004],
  ['previews/5_g.png', packFile(1), 100, 10, 2004],
  ['stamps/2_g.fits', packFile(1), 110, 100, 1001],
  ['stamps/6_g.fits', packFile(2), 0, 100, 1005],
  ['stamps/1_g.fits', packFile(2), 100, 100, 1000],
  ['previews/1_g.png', packFile(2), 200, 10, 2000],
];

describe('stampMembers', () => {
  test('part by part, by offset in the pack, each picture after its stamp; failed stamps left out', () => {
    expect(listed(OUTCOMES)).toEqual(EXPECTED);
  });

  test('the same members whatever order the outcomes come in', () => {
    expect(listed([...OUTCOMES].reverse())).toEqual(EXPECTED);
    expect(listed([OUTCOMES[3]!, OUTCOMES[1]!, OUTCOMES[4]!, OUTCOMES[0]!, OUTCOMES[2]!])).toEqual(EXPECTED);
  });

  test('pack files under the batch directory, dated by the plan', () => {
    const members = stampMembers(DIR, PLAN, new Map(OUTCOMES.map((o) => [o.index, o])));
    expect(members.map((m) => ('file' in m.source ? m.source.file : ''))).toEqual([
      ...Array(3).fill(path.join(DIR, 'part-1.pack')),
      ...Array(3).fill(path.join(DIR, 'part-2.pack')),
    ]);
    expect(new Set(members.map((m) => m.mtime.getTime()))).toEqual(new Set([PLAN.createdAt]));
  });
});
