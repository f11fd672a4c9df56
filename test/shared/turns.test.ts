/**
 * Turns (shared/turns.ts): at most `atOnce` pieces of work at a time, the rest in order, a
 * finished piece handing its turn to the next, and optional work skipped when too many wait.
 */
import { Turns } from '../../shared/turns';

/** A piece of work that ends when told to, recording when it started. */
function piece(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
    finish,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('two at once, the others in order; each turn handed over, never more than two running', async () => {
  const turns = new Turns(2, 10);
  const log: string[] = [];
  const pieces = ['a', 'b', 'c', 'd', 'e'].map((name) => piece(log, name));
  const results = pieces.map((p) => turns.run(p.work));
  await settle();
  expect(log).toEqual(['start a', 'start b']);
  expect(turns.load).toEqual({ running: 2, waiting: 3 });
  pieces[1]!.finish();
  await settle();
  // A newcomer now waits behind c, d and e.
  const late = piece(log, 'f');
  const lateResult = turns.run(late.work);
  await settle();
  expect(log).toEqual(['start a', 'start b', 'start c']);
  expect(turns.load).toEqual({ running: 2, waiting: 3 });
  for (const p of [pieces[0]!, pieces[2]!, pieces[3]!, pieces[4]!, late]) {
    p.finish();
    await settle();
  }
  expect(log).toEqual(['start a', 'start b', 'start c', 'start d', 'start e', 'start f']);
  expect(await Promise.all([...results, lateResult])).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  expect(turns.load).toEqual({ running: 0, waiting: 0 });
});

test('optional work is skipped (undefined) when maxWaiting pieces wait; a failure frees its turn', async () => {
  const turns = new Turns(1, 1);
  const log: string[] = [];
  const first = piece(log, 'first');
  const running = turns.run(first.work);
  const waiting = turns.run(async () => 'second', true);
  expect(await turns.run(async () => 'skipped', true)).toBeUndefined();
  first.finish();
  expect(await running).toBe('first');
  expect(await waiting).toBe('second');
  await expect(turns.run(() => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
  expect(await turns.run(async () => 'after')).toBe('after');
  expect(turns.load).toEqual({ running: 0, waiting: 0 });
});
