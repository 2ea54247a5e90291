// The village's score card (village vs kecamatan vs regency), "why this rank"
// (indicator contributions), trend, neighbours and the plans present, loaded
// from GET /api/v1/villages/{code} (and /plans?village=).

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, has, t } from '../i18n.js';
import { HOTSPOT_COLORS } from './choropleth.js';
import { errorText, loadingLine, num, rupiah } from './ui.js';
import { trendChart } from './trend-chart.js';

extend({
  id: {
    'detail.loading': 'Memuat skor desa…',
    'detail.failed': 'Skor desa tidak dapat dimuat: {msg}',
    'detail.noScore': 'Desa ini belum punya skor.',
    'detail.rank': 'Peringkat {rank} dari {n} di kabupaten · ke-{rk} di kecamatan',
    'detail.card': 'Kartu skor',
    'detail.measure': 'Ukuran',
    'detail.village': 'Desa',
    'detail.kecamatan': 'Kecamatan',
    'detail.regency': 'Kabupaten',
    'detail.why': 'Mengapa peringkat ini?',
    'detail.whyNote': 'Sumbangan tiap indikator terhadap M0 desa (%).',
    'detail.trend': 'Tren antar periode',
    'detail.neighbours': 'Desa tetangga',
    'detail.plans': 'Rencana CSR di desa ini',
    'detail.noPlans': 'Belum ada rencana CSR.',
    'detail.disclosure': 'Angka dengan kontrol pengungkapan (jumlah < 5 disembunyikan).',
    'detail.hotspot': 'Titik panas: {label}',
    'ind.extreme_poverty': 'Kemiskinan ekstrem',
    'ind.stunting': 'Stunting',
    'ind.unemployment': 'Pengangguran',
    'row.m0_eb': 'M0 (dihaluskan)',
    'row.h': 'H, rasio KK membutuhkan',
    'row.in_need': 'KK membutuhkan',
    'row.households': 'Jumlah KK',
    'row.density': 'KK membutuhkan/km²',
    'plan.status.submitted': 'diajukan',
    'plan.status.approved': 'disetujui',
    'plan.status.rejected': 'ditolak',
    'plan.status.running': 'berjalan',
    'plan.status.done': 'selesai',
    'plan.status.draft': 'draf',
  },
  en: {
    'detail.loading': 'Loading the village scores…',
    'detail.failed': 'The village scores could not be loaded: {msg}',
    'detail.noScore': 'This village has no score yet.',
    'detail.rank': 'Rank {rank} of {n} in the regency · {rk} in its district',
    'detail.card': 'Score card',
    'detail.measure': 'Measure',
    'detail.village': 'Village',
    'detail.kecamatan': 'District',
    'detail.regency': 'Regency',
    'detail.why': 'Why this rank?',
    'detail.whyNote': 'Each indicator’s share of the village M0 (%).',
    'detail.trend': 'Trend across periods',
    'detail.neighbours': 'Neighbouring villages',
    'detail.plans': 'CSR plans in this village',
    'detail.noPlans': 'No CSR plans yet.',
    'detail.disclosure': 'Numbers under disclosure control (counts below 5 hidden).',
    'detail.hotspot': 'Hot spot: {label}',
    'ind.extreme_poverty': 'Extreme poverty',
    'ind.stunting': 'Stunting',
    'ind.unemployment': 'Unemployment',
    'row.m0_eb': 'M0 (smoothed)',
    'row.h': 'H, share in need',
    'row.in_need': 'Households in need',
    'row.households': 'Households',
    'row.density': 'In need per km²',
    'plan.status.submitted': 'submitted',
    'plan.status.approved': 'approved',
    'plan.status.rejected': 'rejected',
    'plan.status.running': 'running',
    'plan.status.done': 'done',
    'plan.status.draft': 'draft',
  },
});

const IND_COLORS = { extreme_poverty: '#b45309', stunting: '#0e7490', unemployment: '#7c3aed' };

export function indicatorLabel(k) {
  return has(`ind.${k}`) ? t(`ind.${k}`) : k;
}

export function planStatusLabel(s) {
  return has(`plan.status.${s}`) ? t(`plan.status.${s}`) : s;
}

/**
 * Render the detail of village code into el (async; a newer call wins).
 * @param {HTMLElement} el
 * @param {string} code
 * @param {{plans?: boolean, onUnauthorized?: () => void}} opts
 */
export async function renderVillageDetail(el, code, { plans = true, onUnauthorized } = {}) {
  const token = Symbol('detail');
  el._token = token;
  replaceChildren(el, loadingLine(t('detail.loading')));
  let d;
  let ps = null;
  try {
    [d, ps] = await Promise.all([
      api.villageDetail(code),
      plans ? api.plans({ village: code }).catch(() => null) : Promise.resolve(null),
    ]);
  } catch (err) {
    if (el._token !== token) return;
    if (err instanceof api.ApiError && err.status === 401) {
      onUnauthorized?.();
      return;
    }
    replaceChildren(el, h('div', { class: 'alert alert-error', role: 'alert' }, h('p', { class: 'alert-message' }, t('detail.failed', { msg: errorText(err) }))));
    return;
  }
  if (el._token !== token) return;
  const v = d.village || {};
  const sc = v.score;
  if (!sc) {
    replaceChildren(el, h('p', { class: 'panel-empty' }, t('detail.noScore')));
    return;
  }
  const rows = [
    ['m0_eb', sc.m0_eb, d.kecamatan?.m0_eb, d.regency?.m0_eb, 3],
    ['h', sc.h, d.kecamatan?.h, d.regency?.h, 3],
    ['in_need', sc.in_need, d.kecamatan?.in_need, d.regency?.in_need, 0],
    ['households', sc.households, d.kecamatan?.households, d.regency?.households, 0],
    ['density', sc.density, d.kecamatan?.density, d.regency?.density, 1],
  ];
  const contrib = Object.entries(sc.contributions || {}).filter(([, x]) => typeof x === 'number');
  contrib.sort((a, b) => b[1] - a[1]);
  const hot = sc.hotspot?.label;
  replaceChildren(
    el,
    h('p', { class: 'rank-line', id: 'village-rank' }, t('detail.rank', { rank: sc.rank, n: d.regency?.villages ?? '?', rk: sc.rank_kecamatan })),
    hot
      ? h('p', { class: 'hot-line' }, h('span', { class: 'swatch', style: `background:${HOTSPOT_COLORS[hot] || '#ccc'}` }), t('detail.hotspot', { label: t(`hotspot.${hot}`) }))
      : null,
    h('h4', { class: 'sub-h', dataset: { i18n: 'detail.card' } }, t('detail.card')),
    h(
      'table',
      { class: 'score-card', id: 'score-card' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('detail.measure')), h('th', { scope: 'col', class: 'num' }, t('detail.village')), h('th', { scope: 'col', class: 'num' }, t('detail.kecamatan')), h('th', { scope: 'col', class: 'num' }, t('detail.regency')))),
      h(
        'tbody',
        null,
        rows.map(([k, a, b, c, dg]) => h('tr', { dataset: { row: k } }, h('th', { scope: 'row' }, t(`row.${k}`)), h('td', { class: 'num' }, num(a, dg)), h('td', { class: 'num' }, num(b, dg)), h('td', { class: 'num' }, num(c, dg)))),
      ),
    ),
    d.disclosure === 'controlled' ? h('p', { class: 'legend-note', dataset: { i18n: 'detail.disclosure' } }, t('detail.disclosure')) : null,
    h('h4', { class: 'sub-h', dataset: { i18n: 'detail.why' } }, t('detail.why')),
    h('p', { class: 'legend-note' }, t('detail.whyNote')),
    h(
      'ul',
      { class: 'contrib', id: 'contributions' },
      contrib.map(([k, x]) =>
        h(
          'li',
          { dataset: { indicator: k } },
          h('span', { class: 'contrib-label' }, indicatorLabel(k)),
          h('span', { class: 'contrib-bar', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.max(0, Math.min(100, x)).toFixed(1)}%;background:${IND_COLORS[k] || '#64748b'}` })),
          h('span', { class: 'contrib-val' }, `${num(x, 1)}%`),
        ),
      ),
    ),
    (d.trend || []).length
      ? [
          h('h4', { class: 'sub-h', dataset: { i18n: 'detail.trend' } }, t('detail.trend')),
          trendChart(d.trend, d.village?.name),
        ]
      : null,
    ps
      ? [
          h('h4', { class: 'sub-h', dataset: { i18n: 'detail.plans' } }, t('detail.plans')),
          (ps.plans || []).length
            ? h(
                'ul',
                { class: 'plain-list', id: 'village-plans' },
                ps.plans.map((p) => h('li', null, h('strong', null, p.company_name || `#${p.company_id}`), ` — ${p.sector}, ${planStatusLabel(p.status)}${typeof p.budget === 'number' ? `, ${rupiah(p.budget)}` : ''}`)),
              )
            : h('p', { class: 'legend-note' }, t('detail.noPlans')),
        ]
      : null,
    (d.neighbours || []).length
      ? [
          h('h4', { class: 'sub-h', dataset: { i18n: 'detail.neighbours' } }, t('detail.neighbours')),
          h(
            'ul',
            { class: 'plain-list' },
            d.neighbours.map((n) => h('li', null, `${n.name} (${n.kecamatan_name})${n.rank ? ` — #${n.rank}` : ''}`)),
          ),
        ]
      : null,
  );
}
