// Choropleth classification: quantiles, equal intervals and natural breaks
// (Jenks), plus the colour ramps. Pure functions (no DOM), so node --test can
// check them directly.

/** Sequential ramps (ColorBrewer YlOrRd / PuBu), 3 to 7 classes. */
export const RAMPS = {
  need: {
    3: ['#ffeda0', '#feb24c', '#f03b20'],
    4: ['#ffffb2', '#fecc5c', '#fd8d3c', '#e31a1c'],
    5: ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'],
    6: ['#ffffb2', '#fed976', '#feb24c', '#fd8d3c', '#f03b20', '#bd0026'],
    7: ['#ffffb2', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#b10026'],
  },
  density: {
    3: ['#ece7f2', '#a6bddb', '#2b8cbe'],
    4: ['#f1eef6', '#bdc9e1', '#74a9cf', '#0570b0'],
    5: ['#f1eef6', '#bdc9e1', '#74a9cf', '#2b8cbe', '#045a8d'],
    6: ['#f1eef6', '#d0d1e6', '#a6bddb', '#74a9cf', '#2b8cbe', '#045a8d'],
    7: ['#f1eef6', '#d0d1e6', '#a6bddb', '#74a9cf', '#3690c0', '#0570b0', '#034e7b'],
  },
};

export const METHODS = ['quantile', 'equal', 'jenks'];
export const NO_DATA_COLOR = '#d5d9de';

/** Finite numbers of values, sorted ascending. */
function clean(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

/**
 * Class breaks: an ascending array of k+1 numbers [min, b1, …, max]; class i
 * holds values in (breaks[i], breaks[i+1]] (the first class includes min).
 * Fewer classes come back when there are fewer distinct values than k.
 * @param {number[]} values
 * @param {'quantile'|'equal'|'jenks'} method
 * @param {number} k number of classes
 */
export function breaks(values, method, k) {
  const xs = clean(values);
  if (xs.length === 0) return [];
  const distinct = [...new Set(xs)];
  const n = Math.max(1, Math.min(k, distinct.length));
  const min = xs[0];
  const max = xs[xs.length - 1];
  if (n === 1 || min === max) return [min, max];
  let b;
  switch (method) {
    case 'equal':
      b = Array.from({ length: n + 1 }, (_, i) => (i === n ? max : min + ((max - min) * i) / n));
      break;
    case 'jenks':
      b = jenks(xs, n);
      break;
    case 'quantile':
    default:
      b = [min];
      for (let i = 1; i < n; i++) b.push(quantile(xs, i / n));
      b.push(max);
  }
  // Equal neighbouring breaks (ties in quantiles) would make empty classes.
  return b.filter((v, i) => i === 0 || v > b[i - 1]);
}

/** Linear-interpolated quantile of sorted xs (type 7, as R and numpy). */
export function quantile(xs, p) {
  const h = (xs.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return xs[lo] + (xs[hi] - xs[lo]) * (h - lo);
}

/**
 * Jenks natural breaks (Fisher's exact optimal partition of sorted data into k
 * classes minimising the within-class sum of squared deviations), by dynamic
 * programming in O(k·n²). n is at most a few thousand villages here.
 * @param {number[]} xs sorted ascending
 * @param {number} k
 * @returns {number[]} k+1 breaks
 */
export function jenks(xs, k) {
  const n = xs.length;
  // Prefix sums give any segment's sum of squared deviations in O(1).
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    s1[i + 1] = s1[i] + xs[i];
    s2[i + 1] = s2[i] + xs[i] * xs[i];
  }
  const ssd = (i, j) => {
    // segment xs[i..j] inclusive
    const m = j - i + 1;
    const s = s1[j + 1] - s1[i];
    return s2[j + 1] - s2[i] - (s * s) / m;
  };
  // cost[c][j]: best cost of xs[0..j] in c+1 classes; from[c][j]: start of the last class.
  const cost = Array.from({ length: k }, () => new Float64Array(n).fill(Infinity));
  const from = Array.from({ length: k }, () => new Int32Array(n));
  for (let j = 0; j < n; j++) cost[0][j] = ssd(0, j);
  for (let c = 1; c < k; c++) {
    for (let j = c; j < n; j++) {
      let best = Infinity;
      let arg = c;
      for (let i = c; i <= j; i++) {
        const v = cost[c - 1][i - 1] + ssd(i, j);
        if (v < best) {
          best = v;
          arg = i;
        }
      }
      cost[c][j] = best;
      from[c][j] = arg;
    }
  }
  const starts = [];
  let j = n - 1;
  for (let c = k - 1; c >= 1; c--) {
    const i = from[c][j];
    starts.unshift(i);
    j = i - 1;
  }
  // Break between classes = the last value of the lower class.
  return [xs[0], ...starts.map((i) => xs[i - 1]), xs[n - 1]];
}

/** Goodness of variance fit (1 = perfect) of breaks on values; used by tests. */
export function gvf(values, b) {
  const xs = clean(values);
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const sdam = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  let sdcm = 0;
  for (let c = 0; c < b.length - 1; c++) {
    const cls = xs.filter((x) => classOf(x, b) === c);
    if (!cls.length) continue;
    const m = cls.reduce((a, x) => a + x, 0) / cls.length;
    sdcm += cls.reduce((a, x) => a + (x - m) ** 2, 0);
  }
  return sdam === 0 ? 1 : 1 - sdcm / sdam;
}

/** Class index of v for breaks b (-1 for missing values). */
export function classOf(v, b) {
  if (typeof v !== 'number' || !Number.isFinite(v) || b.length < 2) return -1;
  for (let i = 1; i < b.length - 1; i++) if (v <= b[i]) return i - 1;
  return b.length - 2;
}

/** Colours for n classes of ramp (falls back to the nearest size). */
export function colors(ramp, n) {
  const r = RAMPS[ramp] || RAMPS.need;
  if (n <= 1) return [r[3][2]];
  if (n === 2) return [r[3][0], r[3][2]];
  return r[Math.min(7, n)];
}
