// Unit tests of the choropleth classification (no browser, no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breaks, classOf, gvf, jenks } from '../src/classify.js';

test('jenks finds the obvious natural groups', () => {
  const xs = [1, 2, 3, 10, 11, 12, 30, 31, 32].sort((a, b) => a - b);
  assert.deepEqual(jenks(xs, 3), [1, 3, 12, 32]);
  assert.deepEqual(breaks([32, 1, 11, 2, 30, 3, 12, 31, 10], 'jenks', 3), [1, 3, 12, 32]);
});

test('jenks is optimal: no other 3-class split of small data has a better fit', () => {
  // Deterministic pseudo-random data.
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const xs = Array.from({ length: 14 }, () => Math.round(rnd() * 1000) / 10).sort((a, b) => a - b);
  const best = gvf(xs, jenks(xs, 3));
  for (let i = 1; i < xs.length - 1; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const b = [xs[0], xs[i - 1], xs[j - 1], xs[xs.length - 1]];
      if (!(b[1] < b[2])) continue;
      assert.ok(gvf(xs, b) <= best + 1e-12, `split at ${i},${j} beats jenks`);
    }
  }
});

test('quantile and equal-interval breaks', () => {
  const xs = Array.from({ length: 101 }, (_, i) => i);
  assert.deepEqual(breaks(xs, 'quantile', 4), [0, 25, 50, 75, 100]);
  assert.deepEqual(breaks(xs, 'equal', 5), [0, 20, 40, 60, 80, 100]);
  // Skewed data: equal intervals differ from quantiles.
  const skew = [1, 1, 1, 1, 2, 2, 3, 50, 100];
  assert.notDeepEqual(breaks(skew, 'equal', 3), breaks(skew, 'quantile', 3));
});

test('missing values, ties and tiny inputs', () => {
  assert.deepEqual(breaks([null, undefined, NaN], 'jenks', 5), []);
  assert.deepEqual(breaks([4, 4, 4], 'quantile', 5), [4, 4]);
  const b = breaks([1, 1, 1, 1, 1, 2], 'quantile', 4);
  for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1], `strictly increasing: ${b}`);
  assert.equal(classOf(null, [0, 1]), -1);
  assert.equal(classOf(0, [0, 5, 10]), 0);
  assert.equal(classOf(5, [0, 5, 10]), 0);
  assert.equal(classOf(5.01, [0, 5, 10]), 1);
  assert.equal(classOf(99, [0, 5, 10]), 1);
});
