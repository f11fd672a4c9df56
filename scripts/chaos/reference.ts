/**
 * The reference run: before any fault, every recipe runs twice (once per owner; sync ones by
 * GET and by POST) and the bytes of its results are recorded. Both runs must agree (the
 * recipes are deterministic) and reach the recipe's expected phase or status; everything the
 * load produces later is compared with these.
 */
import type { AsyncRecipe, SyncRecipe } from './recipes';
import type { JobOutcome, Api } from './uws';
import { createJob, fetchOutcome, FINAL_PHASES, readJob, syncRequest } from './uws';

export interface ResultRef {
  id: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export interface AsyncRef {
  phase: string;
  error?: string;
  results: ResultRef[];
  ms: number;
}

export interface SyncRef {
  status: number;
  sha256: string;
  bytes: number;
  contentType?: string;
  ms: number;
}

export interface Reference {
  async: Map<string, AsyncRef>;
  sync: Map<string, SyncRef>;
  /** Jobs the reference run created (they are part of the store the checks read). */
  jobIds: { service: string; id: string; token: string }[];
}

/** Runs one job of the recipe to its end (at most `limitMs`) and reads its outcome. */
export async function runJob(api: Api, recipe: AsyncRecipe, limitMs = 120000): Promise<{ outcome: JobOutcome; ms: number; id: string }> {
  const started = Date.now();
  const { id } = await createJob(api, recipe.service, recipe.params, true);
  let phase: string | undefined;
  while (Date.now() - started < limitMs) {
    const view = await readJob(api, recipe.service, id, { seconds: 10, inPhase: phase });
    phase = view.phase;
    if (phase && FINAL_PHASES.has(phase)) break;
  }
  const ms = Date.now() - started;
  return { outcome: await fetchOutcome(api, recipe.service, id), ms, id };
}

const refOf = (outcome: JobOutcome, ms: number): AsyncRef => ({
  phase: outcome.phase,
  error: outcome.error,
  results: outcome.results.map((r) => ({ id: r.id, mimeType: r.mimeType, size: r.bytes, sha256: r.sha256 })),
  ms,
});

/** How an outcome differs from the reference of its recipe (empty: identical). */
export function compareOutcome(outcome: JobOutcome, ref: AsyncRef, recipe: AsyncRecipe): string[] {
  const problems: string[] = [];
  if (outcome.phase !== 'COMPLETED') return problems; // phases are judged by the checks
  if (recipe.expect !== 'COMPLETED') problems.push(`${recipe.name} is expected to end in ${recipe.expect} but COMPLETED`);
  const ids = outcome.results.map((r) => r.id);
  const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
  if (dup.length) problems.push(`duplicated result ids ${[...new Set(dup)].join(',')}`);
  if (JSON.stringify(ids) !== JSON.stringify(ref.results.map((r) => r.id))) {
    problems.push(
      `results [${ids.slice(0, 12).join(',')}${ids.length > 12 ? ',…' : ''}] (${ids.length}) instead of ${ref.results.length} as in the reference`,
    );
    return problems;
  }
  outcome.results.forEach((r, i) => {
    const expected = ref.results[i]!;
    if (r.bytes !== r.size) problems.push(`result ${r.id}: listed size ${r.size}, downloaded ${r.bytes} bytes`);
    if (r.sha256 !== expected.sha256)
      problems.push(
        `result ${r.id}: ${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}… differs from the reference (${expected.size} bytes, ${expected.sha256.slice(0, 12)}…)`,
      );
    if (r.mimeType !== expected.mimeType) problems.push(`result ${r.id}: media type ${r.mimeType}, reference ${expected.mimeType}`);
  });
  return problems;
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function runReference(
  apis: readonly Api[],
  recipes: { async: AsyncRecipe[]; sync: SyncRecipe[] },
  syncTimeoutMs: number,
): Promise<{ reference: Reference; problems: string[] }> {
  const reference: Reference = { async: new Map(), sync: new Map(), jobIds: [] };
  const problems: string[] = [];
  await pool(recipes.async, 3, async (recipe) => {
    const runs = [];
    for (const api of apis.slice(0, 2)) {
      try {
        const run = await runJob(api, recipe);
        reference.jobIds.push({ service: recipe.service, id: run.id, token: api.token });
        runs.push(refOf(run.outcome, run.ms));
      } catch (err) {
        problems.push(`reference ${recipe.name}: ${(err as Error).message}`);
        return;
      }
    }
    const [first, second] = runs;
    if (!first) return;
    if (first.phase !== recipe.expect)
      problems.push(`reference ${recipe.name}: ${first.phase}${first.error ? ` (${first.error})` : ''}, expected ${recipe.expect}`);
    if (first.phase === 'COMPLETED' && JSON.stringify(first.results.map((r) => r.id)) !== JSON.stringify(recipe.resultIds)) {
      problems.push(
        `reference ${recipe.name}: results [${first.results.map((r) => r.id).join(',')}], expected [${recipe.resultIds.join(',')}]`,
      );
    }
    if (second && JSON.stringify({ ...first, ms: 0 }) !== JSON.stringify({ ...second, ms: 0 })) {
      problems.push(
        `reference ${recipe.name}: two runs differ (not deterministic): ${JSON.stringify({ ...first, ms: 0 }).slice(0, 300)} vs ${JSON.stringify({ ...second, ms: 0 }).slice(0, 300)}`,
      );
    }
    reference.async.set(recipe.name, first);
  });
  await pool(recipes.sync, 3, async (recipe) => {
    const answers = [];
    for (const post of [false, true]) {
      try {
        answers.push(await syncRequest(apis[post ? 1 % apis.length : 0]!, recipe.service, recipe.params, post, syncTimeoutMs));
      } catch (err) {
        problems.push(`reference ${recipe.name}: ${(err as Error).message}`);
        return;
      }
    }
    const [get, post] = answers as [Awaited<ReturnType<typeof syncRequest>>, Awaited<ReturnType<typeof syncRequest>>];
    if (get.status !== recipe.expect)
      problems.push(`reference ${recipe.name}: HTTP ${get.status}, expected ${recipe.expect}: ${get.body.toString().slice(0, 200)}`);
    if (get.status !== post.status || get.sha256 !== post.sha256)
      problems.push(`reference ${recipe.name}: GET and POST differ (${get.status}/${get.bytes} B vs ${post.status}/${post.bytes} B)`);
    reference.sync.set(recipe.name, { status: get.status, sha256: get.sha256, bytes: get.bytes, contentType: get.contentType, ms: get.ms });
  });
  return { reference, problems };
}
