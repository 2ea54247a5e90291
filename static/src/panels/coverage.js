// Planner coverage view: need (households) against planned money per village
// and sector for one year (GET /api/v1/coverage), with gaps (high need, no
// plan) and overlaps (several companies in one cell without a team), as a
// table and as village colours on the map.

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, t } from '../i18n.js';
import { showAlert, clearAlert } from '../components/alert.js';
import { errorText, loadingLine, num, rupiah } from '../components/ui.js';

extend({
  id: {
    'tab.coverage': 'Cakupan',
    'cov.title': 'Cakupan kebutuhan vs rencana',
    'cov.year': 'Tahun',
    'cov.sector': 'Sektor',
    'cov.allSectors': 'Semua sektor',
    'cov.show': 'Tampilkan',
    'cov.all': 'Semua sel',
    'cov.gaps': 'Hanya celah',
    'cov.overlaps': 'Hanya tumpang tindih',
    'cov.colour': 'Warnai peta menurut cakupan',
    'cov.load': 'Muat',
    'cov.loading': 'Memuat cakupan…',
    'cov.summary': '{cells} sel · {gaps} celah · {overlaps} tumpang tindih · direncanakan {planned} · diajukan {submitted}',
    'cov.empty': 'Tidak ada sel dengan pilihan ini.',
    'cov.village': 'Desa',
    'cov.need': 'Kebutuhan (KK)',
    'cov.planned': 'Direncanakan',
    'cov.submitted': 'Diajukan',
    'cov.companies': 'Perusahaan',
    'cov.status': 'Status',
    'cov.st.overlap': 'Tumpang tindih',
    'cov.st.gap': 'Celah',
    'cov.st.covered': 'Ada rencana',
    'cov.st.submitted': 'Menunggu persetujuan',
    'cov.st.none': 'Tanpa rencana',
    'cov.more': '{n} sel lain tidak ditampilkan; saring menurut sektor atau status.',
    'cov.note': 'Celah: kebutuhan di kuartil teratas tanpa rencana. Tumpang tindih: beberapa perusahaan di satu sel tanpa tim dari pencocokan.',
  },
  en: {
    'tab.coverage': 'Coverage',
    'cov.title': 'Need vs planned coverage',
    'cov.year': 'Year',
    'cov.sector': 'Sector',
    'cov.allSectors': 'All sectors',
    'cov.show': 'Show',
    'cov.all': 'All cells',
    'cov.gaps': 'Gaps only',
    'cov.overlaps': 'Overlaps only',
    'cov.colour': 'Colour the map by coverage',
    'cov.load': 'Load',
    'cov.loading': 'Loading coverage…',
    'cov.summary': '{cells} cells · {gaps} gaps · {overlaps} overlaps · planned {planned} · submitted {submitted}',
    'cov.empty': 'No cells match this choice.',
    'cov.village': 'Village',
    'cov.need': 'Need (households)',
    'cov.planned': 'Planned',
    'cov.submitted': 'Submitted',
    'cov.companies': 'Companies',
    'cov.status': 'Status',
    'cov.st.overlap': 'Overlap',
    'cov.st.gap': 'Gap',
    'cov.st.covered': 'Planned',
    'cov.st.submitted': 'Awaiting approval',
    'cov.st.none': 'No plan',
    'cov.more': '{n} more cells not shown; filter by sector or status.',
    'cov.note': 'Gap: need in the top quartile with no plan. Overlap: several companies in one cell without a team from the matcher.',
  },
});

/** Colours per coverage status, strongest first (a village shows its strongest cell). */
export const COVERAGE_COLORS = {
  overlap: '#ea580c',
  gap: '#dc2626',
  submitted: '#facc15',
  covered: '#16a34a',
  none: '#cbd5e1',
};
const ORDER = ['overlap', 'gap', 'submitted', 'covered', 'none'];
const MAX_ROWS = 300; // a long table slows the tab; the filters narrow it

/** Status of one cell. */
export function cellStatus(c) {
  if (c.overlap) return 'overlap';
  if (c.gap) return 'gap';
  if (c.planned_budget > 0) return 'covered';
  if (c.submitted_budget > 0) return 'submitted';
  return 'none';
}

/**
 * @param {object} ctx shared map-view context (see map-view.js)
 */
export function createCoveragePanel(ctx) {
  const panel = h('section', { class: 'tab-panel', id: 'tab-coverage', hidden: true });
  const alertEl = h('div', { hidden: true });
  const yearIn = h('input', { id: 'cov-year', type: 'number', min: '2000', max: '2100', value: String(new Date().getFullYear()) });
  const sectorSel = h('select', { id: 'cov-sector', onchange: () => render() });
  const showSel = h('select', { id: 'cov-show', onchange: () => render() });
  const colourIn = h('input', { id: 'cov-colour', type: 'checkbox', checked: true, onchange: () => ctx.restyle() });
  const loadBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'cov-load', onclick: () => load() });
  const summaryEl = h('p', { class: 'legend-note', id: 'cov-summary', role: 'status' });
  const legendEl = h('div', { class: 'cov-legend', id: 'cov-legend' });
  const body = h('div', { id: 'cov-body' });
  let cells = null;
  let byVillage = new Map(); // code -> status for the current sector filter
  let active = false;

  function filtered() {
    const sec = sectorSel.value;
    const what = showSel.value;
    return (cells || []).filter((c) => (!sec || c.sector === sec) && (what === 'gaps' ? c.gap : what === 'overlaps' ? c.overlap : true));
  }

  function villageStatus() {
    const sec = sectorSel.value;
    const m = new Map();
    for (const c of cells || []) {
      if (sec && c.sector !== sec) continue;
      const s = cellStatus(c);
      const prev = m.get(c.village_code);
      if (!prev || ORDER.indexOf(s) < ORDER.indexOf(prev)) m.set(c.village_code, s);
    }
    return m;
  }

  async function load() {
    clearAlert(alertEl);
    replaceChildren(body, loadingLine(t('cov.loading')));
    try {
      const res = await api.coverage(Number(yearIn.value) || new Date().getFullYear());
      cells = res.cells || [];
      render();
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      cells = null;
      replaceChildren(body);
      showAlert(alertEl, { message: errorText(err) });
    }
    return undefined;
  }

  function renderHead() {
    const sectors = [...new Set((cells || []).map((c) => c.sector))].sort();
    const sv = sectorSel.value;
    replaceChildren(sectorSel, h('option', { value: '' }, t('cov.allSectors')), sectors.map((s) => h('option', { value: s }, s)));
    sectorSel.value = sectors.includes(sv) ? sv : '';
    const wv = showSel.value || 'all';
    replaceChildren(showSel, h('option', { value: 'all' }, t('cov.all')), h('option', { value: 'gaps' }, t('cov.gaps')), h('option', { value: 'overlaps' }, t('cov.overlaps')));
    showSel.value = wv;
    replaceChildren(
      legendEl,
      ORDER.map((s) => h('span', { class: 'cov-key', dataset: { status: s } }, h('span', { class: 'swatch', style: `background:${COVERAGE_COLORS[s]}`, 'aria-hidden': 'true' }), t(`cov.st.${s}`))),
    );
  }

  function render() {
    renderHead();
    byVillage = villageStatus();
    document.body.dataset.coverageCells = String(cells ? cells.length : 0);
    ctx.restyle();
    if (!cells) return;
    const rows = filtered();
    const sum = (f) => rows.reduce((a, c) => a + f(c), 0);
    summaryEl.textContent = t('cov.summary', {
      cells: num(rows.length),
      gaps: num(sum((c) => (c.gap ? 1 : 0))),
      overlaps: num(sum((c) => (c.overlap ? 1 : 0))),
      planned: rupiah(sum((c) => c.planned_budget)),
      submitted: rupiah(sum((c) => c.submitted_budget)),
    });
    if (!rows.length) {
      replaceChildren(body, h('p', { class: 'panel-empty', dataset: { i18n: 'cov.empty' } }, t('cov.empty')));
      return;
    }
    const shown = rows.slice(0, MAX_ROWS);
    replaceChildren(
      body,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'rank-table cov-table', id: 'cov-table' },
          h(
            'thead',
            null,
            h('tr', null, [t('cov.village'), t('cov.sector'), t('cov.need'), t('cov.planned'), t('cov.submitted'), t('cov.companies'), t('cov.status')].map((x) => h('th', { scope: 'col' }, x))),
          ),
          h(
            'tbody',
            null,
            shown.map((c) => {
              const s = cellStatus(c);
              return h(
                'tr',
                { dataset: { village: c.village_code, sector: c.sector, status: s }, tabindex: '0', onclick: () => ctx.selectCode(c.village_code, { keepTab: true, zoom: true }), onkeydown: (ev) => { if (ev.key === 'Enter') ctx.selectCode(c.village_code, { keepTab: true, zoom: true }); } },
                h('td', null, c.village_name || c.village_code, h('div', { class: 'cell-sub' }, c.village_code)),
                h('td', null, c.sector),
                h('td', { class: 'num' }, num(c.need_households)),
                h('td', { class: 'num' }, rupiah(c.planned_budget)),
                h('td', { class: 'num' }, rupiah(c.submitted_budget)),
                h('td', { class: 'num' }, num(c.companies)),
                h('td', null, h('span', { class: 'cov-key', dataset: { status: s } }, h('span', { class: 'swatch', style: `background:${COVERAGE_COLORS[s]}`, 'aria-hidden': 'true' }), t(`cov.st.${s}`))),
              );
            }),
          ),
        ),
      ),
      rows.length > shown.length ? h('p', { class: 'legend-note' }, t('cov.more', { n: num(rows.length - shown.length) })) : null,
    );
  }

  replaceChildren(
    panel,
    h('h3', { class: 'panel-h', dataset: { i18n: 'cov.title' } }, t('cov.title')),
    h(
      'div',
      { class: 'cov-controls' },
      h('div', { class: 'field field-sm' }, h('label', { for: 'cov-year', dataset: { i18n: 'cov.year' } }, t('cov.year')), yearIn),
      h('div', { class: 'field field-sm' }, h('label', { for: 'cov-sector', dataset: { i18n: 'cov.sector' } }, t('cov.sector')), sectorSel),
      h('div', { class: 'field field-sm' }, h('label', { for: 'cov-show', dataset: { i18n: 'cov.show' } }, t('cov.show')), showSel),
      loadBtn,
    ),
    h('label', { class: 'check' }, colourIn, ' ', h('span', { dataset: { i18n: 'cov.colour' } }, t('cov.colour'))),
    legendEl,
    h('p', { class: 'legend-note', dataset: { i18n: 'cov.note' } }, t('cov.note')),
    alertEl,
    summaryEl,
    body,
  );
  loadBtn.textContent = t('cov.load');

  return {
    tab: {
      id: 'coverage',
      label: () => t('tab.coverage'),
      panel,
      onShow: () => {
        active = true;
        if (!cells) load();
        else ctx.restyle();
      },
    },
    /** Village fill while the coverage colours are on (after the tab was opened). */
    mark(p) {
      if (!active || !colourIn.checked || !cells) return null;
      const s = byVillage.get(p.code) || 'none';
      return { fillColor: COVERAGE_COLORS[s], fillOpacity: s === 'none' ? 0.25 : 0.7 };
    },
    render() {
      if (cells) render();
      else renderHead();
      loadBtn.textContent = t('cov.load');
    },
    close() {
      active = false;
      delete document.body.dataset.coverageCells;
    },
  };
}
