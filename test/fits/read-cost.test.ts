/**
 * The read-cost model (shared/fits/read-cost.ts): when a rectangle's rows are read as one span,
 * learnt from what reads cost on the machine, with some reads the other way to keep learning.
 */
import { EXPLORE_EVERY, MIN_SPAN_SAMPLE, MODEL_GAP_MAX, MODEL_GAP_MIN, ReadCostModel } from '../../shared/fits/read-cost';

/** `n` rounds of observations: rows at `rowUs` µs a read, 1 MiB spans at `bytesPerUs`. */
function taught(model: ReadCostModel, rowUs: number, bytesPerUs: number, n = 4): ReadCostModel {
  for (let i = 0; i < n; i++) {
    model.observeRows(64, (64 * rowUs) / 1000);
    model.observeSpan(1 << 20, (rowUs + (1 << 20) / bytesPerUs) / 1000);
  }
  return model;
}

test('until it has seen both kinds of read, the default gap, and one rectangle in 8 read each way', () => {
  const model = new ReadCostModel(24 << 10);
  expect(model.estimate()).toBe(24 << 10);
  const gaps = Array.from({ length: 16 }, () => model.nextGap());
  // Each half of 8: the default, rows one by one at turn 1, one span at turn 5.
  const eight = [24576, 0, 24576, 24576, 24576, MODEL_GAP_MAX, 24576, 24576];
  expect(gaps).toEqual([...eight, ...eight]);
  // Rows alone teach nothing yet.
  for (let i = 0; i < 10; i++) model.observeRows(64, 0.064);
  expect(model.estimate()).toBe(24 << 10);
});

test('the gap is a row read’s cost in span bytes: a cheap read and slow spans coalesce less', () => {
  // An Intel VM as measured: ~1.1 µs a read, ~4.5 GB/s spans: ~5 KiB.
  expect(taught(new ReadCostModel(24 << 10), 1.1, 4500).estimate()).toBe(Math.round(1.1 * 4500));
  // An AMD VM: ~3 µs a read, ~10 GB/s: ~30 KiB.
  expect(taught(new ReadCostModel(24 << 10), 3, 10000).estimate()).toBe(30000);
  // Bounded both ways.
  expect(taught(new ReadCostModel(24 << 10), 0.01, 1000).estimate()).toBe(MODEL_GAP_MIN);
  expect(taught(new ReadCostModel(24 << 10), 50, 100000).estimate()).toBe(MODEL_GAP_MAX);
});

test('it follows a change of costs, and short reads say nothing about bytes', () => {
  const model = taught(new ReadCostModel(24 << 10), 1, 4000);
  expect(model.estimate()).toBe(4000);
  const before = model.estimate();
  model.observeSpan(MIN_SPAN_SAMPLE - 1, 1000); // a very slow small read: ignored
  expect(model.estimate()).toBe(before);
  taught(model, 3, 4000, 40);
  expect(model.estimate()).toBeGreaterThan(11000);
  expect(model.estimate()).toBeLessThanOrEqual(12000);
});

test('once trained, one rectangle in EXPLORE_EVERY is read each other way', () => {
  const model = taught(new ReadCostModel(24 << 10), 1, 4000);
  const gaps = Array.from({ length: 2 * EXPLORE_EVERY }, () => model.nextGap());
  expect(gaps.filter((g) => g === 0)).toHaveLength(2);
  expect(gaps.filter((g) => g === MODEL_GAP_MAX)).toHaveLength(2);
  expect(gaps.filter((g) => g === 4000)).toHaveLength(2 * EXPLORE_EVERY - 4);
});
