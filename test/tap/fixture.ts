/**
 * A whole system serving TAP over a real ObsCore store: a tiny generated demo repository,
 * ingested into OBSCORE_DB, behind a TestStack (own redis-server, api, worker processes).
 */
import path from 'node:path';
import { generateDemoRepository, type GeneratedDataset } from '../../shared/demo';
import { ingestDirectory } from '../../shared/obscore/ingest';
import { TestStack, type StackOptions } from '../helpers/stack';
import { TINY } from '../demo/helpers';
import fs from 'node:fs';
import os from 'node:os';

export interface TapFixture {
  stack: TestStack;
  datasets: GeneratedDataset[];
  close(): Promise<void>;
}

export async function startTapStack(options: StackOptions = {}): Promise<TapFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-test-'));
  const dataDir = path.join(dir, 'data');
  const obscoreDb = path.join(dir, 'obscore.sqlite');
  const datasets = await generateDemoRepository(dataDir, TINY);
  await ingestDirectory(dataDir, { obscoreDb });
  const stack = await TestStack.start({ ...options, dir, env: { DATA_DIR: dataDir, OBSCORE_DB: obscoreDb, ...options.env } });
  return { stack, datasets, close: () => stack.stop() };
}

/** The TABLEDATA rows of a VOTable as text cells (enough for assertions on small results). */
export function tableRows(votable: string): string[][] {
  const rows: string[][] = [];
  for (const tr of votable.matchAll(/<TR>([\s\S]*?)<\/TR>/g)) {
    rows.push([...tr[1]!.matchAll(/<TD>([\s\S]*?)<\/TD>|<TD\/>/g)].map((td) => td[1] ?? ''));
  }
  return rows;
}

export function fieldNames(votable: string): string[] {
  return [...votable.matchAll(/<FIELD [^>]*name="([^"]*)"/g)].map((m) => m[1]!);
}
