// The village's trend across periods as a small inline SVG line chart of M0
// (smoothed), with the rank at each point; no charting library. Accessible: the
// SVG is an image with a title and a description that states the change in words,
// and the values are in a table (folded under "Lihat angka").

import { h } from '../dom.js';
import { extend, formatNumber, t } from '../i18n.js';

extend({
  id: {
    'trend.title': 'Tren M0 (dihaluskan) {name}, {from}–{to}',
    'trend.one': 'Hanya satu periode ({period}): M0 {m0}, peringkat {rank}.',
    'trend.desc': 'M0 {dir} dari {a} ({from}) menjadi {b} ({to}); peringkat dari {ra} menjadi {rb}.',
    'trend.up': 'naik',
    'trend.down': 'turun',
    'trend.flat': 'tetap',
    'trend.values': 'Lihat angka',
    'trend.period': 'Periode',
    'trend.m0': 'M0',
    'trend.rank': 'Peringkat',
    'trend.inNeed': 'KK membutuhkan',
    'trend.point': '{period}: M0 {m0}, peringkat {rank}, {n} KK membutuhkan',
  },
  en: {
    'trend.title': 'M0 (smoothed) trend of {name}, {from}–{to}',
    'trend.one': 'Only one period ({period}): M0 {m0}, rank {rank}.',
    'trend.desc': 'M0 {dir} from {a} ({from}) to {b} ({to}); rank from {ra} to {rb}.',
    'trend.up': 'rose',
    'trend.down': 'fell',
    'trend.flat': 'stayed',
    'trend.values': 'Show the values',
    'trend.period': 'Period',
    'trend.m0': 'M0',
    'trend.rank': 'Rank',
    'trend.inNeed': 'Households in need',
    'trend.point': '{period}: M0 {m0}, rank {rank}, {n} households in need',
  },
});

const SVG = 'http://www.w3.org/2000/svg';
const W = 300;
const H = 120;
const PAD = { l: 34, r: 22, t: 22, b: 22 };
let seq = 0;

/** An SVG element (h() creates HTML elements). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const fmt = (v) => (typeof v === 'number' ? formatNumber(v, { maximumFractionDigits: 3, minimumFractionDigits: 3 }) : '—');
const fmtN = (v) => (typeof v === 'number' ? formatNumber(v) : v ?? '—');
const fmtRank = (r) => (r ? `#${r}` : '—');

/**
 * @param {Array<{period: string, m0_eb?: number, rank?: number, in_need?: number|string}>} trend oldest first
 * @param {string} name the village name
 * @returns {HTMLElement}
 */
export function trendChart(trend, name) {
  const id = `trend-${++seq}`;
  const pts = trend.filter((x) => x && x.period);
  const vals = pts.map((x) => (typeof x.m0_eb === 'number' ? x.m0_eb : null));
  const max = Math.max(0.05, ...vals.filter((v) => v !== null)) * 1.15;
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const xOf = (i) => PAD.l + (pts.length === 1 ? iw / 2 : (iw * i) / (pts.length - 1));
  const yOf = (v) => PAD.t + ih - (ih * v) / max;

  const first = pts[0];
  const last = pts[pts.length - 1];
  let desc;
  if (pts.length === 1) {
    desc = t('trend.one', { period: first.period, m0: fmt(first.m0_eb), rank: fmtRank(first.rank) });
  } else {
    const a = first.m0_eb;
    const b = last.m0_eb;
    const dir = typeof a === 'number' && typeof b === 'number' && Math.abs(b - a) > 1e-9 ? (b > a ? 'trend.up' : 'trend.down') : 'trend.flat';
    desc = t('trend.desc', { dir: t(dir), a: fmt(a), b: fmt(b), from: first.period, to: last.period, ra: fmtRank(first.rank), rb: fmtRank(last.rank) });
  }
  const title = t('trend.title', { name: name || '', from: first?.period ?? '', to: last?.period ?? '' });

  // Line through the periods that have a value (a gap stays a gap).
  let d = '';
  let pen = false;
  vals.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`;
    pen = true;
  });

  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'trend-svg', role: 'img', 'aria-labelledby': `${id}-t`, 'aria-describedby': `${id}-d`, focusable: 'false' },
    s('title', { id: `${id}-t` }, title),
    s('desc', { id: `${id}-d` }, desc),
    // Axes: baseline at 0 and the top value.
    s('line', { x1: PAD.l, x2: W - PAD.r, y1: yOf(0), y2: yOf(0), class: 'trend-axis' }),
    s('line', { x1: PAD.l, x2: W - PAD.r, y1: yOf(max / 1.15), y2: yOf(max / 1.15), class: 'trend-grid' }),
    s('text', { x: PAD.l - 4, y: yOf(0) + 3, class: 'trend-tick', 'text-anchor': 'end' }, '0'),
    s('text', { x: PAD.l - 4, y: yOf(max / 1.15) + 3, class: 'trend-tick', 'text-anchor': 'end' }, formatNumber(max / 1.15, { maximumFractionDigits: 2 })),
    d ? s('path', { d, class: 'trend-line' }) : null,
    ...pts.map((p, i) =>
      s(
        'g',
        { class: 'trend-pt', 'data-period': p.period },
        vals[i] !== null ? s('circle', { cx: xOf(i), cy: yOf(vals[i]), r: 3.5 }, s('title', {}, t('trend.point', { period: p.period, m0: fmt(p.m0_eb), rank: fmtRank(p.rank), n: fmtN(p.in_need) }))) : null,
        vals[i] !== null && p.rank ? s('text', { x: xOf(i), y: yOf(vals[i]) - 7, class: 'trend-rank', 'text-anchor': 'middle' }, `#${p.rank}`) : null,
        s('text', { x: xOf(i), y: H - 6, class: 'trend-tick', 'text-anchor': 'middle' }, p.period),
      ),
    ),
  );

  const table = h(
    'table',
    { class: 'trend-table', id: `${id}-table` },
    h('thead', null, h('tr', null, ['trend.period', 'trend.m0', 'trend.rank', 'trend.inNeed'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', null, pts.map((p) => h('tr', null, h('th', { scope: 'row' }, p.period), h('td', null, fmt(p.m0_eb)), h('td', null, fmtRank(p.rank)), h('td', null, String(fmtN(p.in_need)))))),
  );
  return h('figure', { class: 'trend', id: 'trend' }, svg, h('details', { class: 'trend-values' }, h('summary', null, t('trend.values')), table));
}
