/**
 * What a thread line shares with its worker's main thread (worker/line-thread-state.ts): the
 * request it runs, as the main thread reads it from another view of the same memory, and the
 * main thread's cancel with its reason.
 */
import { TASK_CANCELLED } from '../../shared/db/cancel';
import { LineTally, LineThreadState } from '../../worker/line-thread-state';

test('the main thread reads the running request (id, start, limit) from the shared memory, and nothing once it ended', () => {
  const thread = new LineThreadState();
  const main = new LineThreadState(thread.buffer);
  expect(main.running()).toBeUndefined();
  const before = Date.now();
  thread.begin('abcdefghijklmnop', 300);
  const running = main.running()!;
  expect(running.id).toBe('abcdefghijklmnop');
  expect(running.seconds).toBe(300);
  expect(running.started).toBeGreaterThanOrEqual(before);
  expect(running.started).toBeLessThanOrEqual(Date.now());
  thread.end();
  expect(main.running()).toBeUndefined();
  // A shorter id after a longer one: no bytes of the old one are read.
  thread.begin('short', 5);
  expect(main.running()).toMatchObject({ id: 'short', seconds: 5 });
});

test('a cancel carries its reason, and sets the flag shared/db/cancel.ts reads', () => {
  const thread = new LineThreadState();
  const main = new LineThreadState(thread.buffer);
  thread.begin('abcdefghijklmnop', 3);
  expect(thread.cancelled()).toBeUndefined();
  main.cancel('duration');
  expect(thread.cancelled()).toBe('duration');
  expect(Atomics.load(thread.task, TASK_CANCELLED)).toBe(1);
  const other = new LineThreadState();
  new LineThreadState(other.buffer).cancel('abort');
  expect(other.cancelled()).toBe('abort');
});

describe('LineTally', () => {
  test('the main thread takes what the thread added since it last took, per service', () => {
    const thread = new LineTally(['tap', 'cutout']);
    const main = new LineTally(['tap', 'cutout'], thread.buffer);
    expect(main.take()).toEqual([]);
    thread.add('tap', { rows: 3 });
    thread.add('tap', undefined);
    thread.add('cutout', { cutouts: 1, cutoutBytes: 72000 });
    thread.add('sia', { rows: 5 }); // not a service of this line: not counted
    expect(main.take()).toEqual([
      { service: 'tap', requests: 2, work: { rows: 3 } },
      { service: 'cutout', requests: 1, work: { cutouts: 1, cutoutBytes: 72000 } },
    ]);
    expect(main.take()).toEqual([]);
    thread.add('cutout', { cutouts: 2, cutoutBytes: 2 ** 40 });
    expect(main.take()).toEqual([{ service: 'cutout', requests: 1, work: { cutouts: 2, cutoutBytes: 2 ** 40 } }]);
  });
});
