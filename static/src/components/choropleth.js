// Choropleth controls and legend: the measure (M0, volume, density, a sector
// score, hot spots), the classification (quantiles, equal intervals, natural
// breaks) and the number of classes. Owns the fill colour of each village.

import { breaks as classBreaks, classOf, colors, METHODS, NO_DATA_COLOR } from '../classify.js';
import { h, replaceChildren } from '../dom.js';
import { extend, formatNumber, has, t } from '../i18n.js';

extend({
  id: {
    'measure.label': 'Ukuran',
    'measure.none': 'Tanpa warna (batas saja)',
    'measure.m0_eb': 'M0 (dihaluskan) — peringkat',
    'measure.m0': 'M0 (mentah)',
    'measure.h_eb': 'H, rasio KK membutuhkan',
    'measure.in_need': 'Volume: KK membutuhkan',
    'measure.density': 'Kepadatan: KK membutuhkan/km²',
    'measure.sector': 'Skor sektor {name}',
    'measure.hotspot': 'Titik panas (Gi*)',
    'method.label': 'Klasifikasi',
    'method.quantile': 'Kuantil',
    'method.equal': 'Interval sama',
    'method.jenks': 'Natural breaks (Jenks)',
    'classes.label': 'Kelas',
    'legend.noData': 'Tidak ada data / disembunyikan',
    'legend.noScores': 'Belum ada skor untuk diwarnai.',
    'hotspot.hot': 'Titik panas (signifikan)',
    'hotspot.cold': 'Titik dingin (signifikan)',
    'hotspot.not_significant': 'Tidak signifikan',
    'sector.ekonomi': 'ekonomi',
    'sector.kesehatan': 'kesehatan',
    'sector.pendidikan': 'pendidikan',
    'sector.lingkungan': 'lingkungan',
    'sector.infrastruktur': 'infrastruktur',
    'legend.collapse': 'Ringkas legenda',
    'legend.expand': 'Buka legenda lengkap (ukuran, kelas, lapisan)',
  },
  en: {
    'measure.label': 'Measure',
    'measure.none': 'No colour (boundaries only)',
    'measure.m0_eb': 'M0 (smoothed) — the rank',
    'measure.m0': 'M0 (raw)',
    'measure.h_eb': 'H, share of households in need',
    'measure.in_need': 'Volume: households in need',
    'measure.density': 'Density: households in need/km²',
    'measure.sector': 'Sector score {name}',
    'measure.hotspot': 'Hot spots (Gi*)',
    'method.label': 'Classes by',
    'method.quantile': 'Quantiles',
    'method.equal': 'Equal intervals',
    'method.jenks': 'Natural breaks (Jenks)',
    'classes.label': 'Classes',
    'legend.noData': 'No data / suppressed',
    'legend.noScores': 'No scores to colour yet.',
    'hotspot.hot': 'Hot spot (significant)',
    'hotspot.cold': 'Cold spot (significant)',
    'hotspot.not_significant': 'Not significant',
    'sector.ekonomi': 'economy',
    'sector.kesehatan': 'health',
    'sector.pendidikan': 'education',
    'sector.lingkungan': 'environment',
    'sector.infrastruktur': 'infrastructure',
    'legend.collapse': 'Collapse the legend',
    'legend.expand': 'Open the full legend (measure, classes, layers)',
  },
});

/**
 * A button that folds the legend box to its colour classes (the measure,
 * classification and layer switches hide). At 1024×768 and smaller it starts
 * folded (1280×800 starts open); the choice is remembered.
 */
function legendToggle(box) {
  if (!box) return { render() {} };
  const KEY = 'sinergi.legend';
  let collapsed;
  try {
    collapsed = localStorage.getItem(KEY);
  } catch {
    collapsed = null;
  }
  collapsed = collapsed === null ? window.innerHeight < 800 || window.innerWidth <= 1100 : collapsed === 'collapsed';
  const btn = h('button', { type: 'button', class: 'legend-toggle', id: 'legend-toggle', 'aria-controls': 'choropleth legend-states layer-switches' });
  btn.addEventListener('click', () => {
    collapsed = !collapsed;
    try {
      localStorage.setItem(KEY, collapsed ? 'collapsed' : 'open');
    } catch {
      /* ignore */
    }
    render();
  });
  box.querySelector('.legend-states')?.setAttribute('id', 'legend-states');
  box.prepend(btn);
  function render() {
    box.classList.toggle('is-collapsed', collapsed);
    btn.setAttribute('aria-expanded', String(!collapsed));
    const label = t(collapsed ? 'legend.expand' : 'legend.collapse');
    btn.setAttribute('aria-label', label);
    btn.title = label;
    btn.textContent = collapsed ? '▸' : '▾';
  }
  render();
  return { render };
}

export const HOTSPOT_COLORS = { hot: '#d7301f', cold: '#2b8cbe', not_significant: '#eef0f2' };

/** Label of a measure key. */
export function measureLabel(key) {
  if (key.startsWith('sector_')) {
    const name = key.slice(7);
    return t('measure.sector', { name: has(`sector.${name}`) ? t(`sector.${name}`) : name });
  }
  return t(`measure.${key}`);
}

/** Number shown for a measure value. */
export function formatMeasure(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (key === 'in_need') return formatNumber(v, { maximumFractionDigits: 0 });
  if (key === 'density' || key.startsWith('sector_')) return formatNumber(v, { maximumFractionDigits: 1 });
  return formatNumber(v, { maximumFractionDigits: 3, minimumFractionDigits: 3 });
}

/** A measure's numeric value from village properties ("<5" counts → null). */
export function valueOf(p, key) {
  const v = p?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * @param {HTMLElement} host where controls + legend go (inside the map legend box)
 * @param {() => void} onChange the fill changed: restyle the map/table
 */
export function createChoropleth(host, onChange) {
  let measures = ['m0_eb'];
  let state = { measure: 'm0_eb', method: 'quantile', k: 5 };
  let props = [];
  let b = [];
  let cols = [];
  try {
    Object.assign(state, JSON.parse(localStorage.getItem('sinergi.choropleth') || '{}'));
  } catch {
    /* ignore */
  }

  const measureSel = h('select', { id: 'measure-select', onchange: () => set({ measure: measureSel.value }) });
  const methodSel = h('select', { id: 'method-select', onchange: () => set({ method: methodSel.value }) });
  const kSel = h('select', { id: 'classes-select', onchange: () => set({ k: Number(kSel.value) }) });
  const legendList = h('ul', { class: 'legend-list legend-classes', id: 'choropleth-legend' });
  const methodRow = h(
    'div',
    { class: 'legend-row' },
    h('div', { class: 'field field-sm' }, h('label', { for: 'method-select', id: 'method-label' }), methodSel),
    h('div', { class: 'field field-sm field-k' }, h('label', { for: 'classes-select', id: 'classes-label' }), kSel),
  );
  replaceChildren(
    host,
    h('div', { class: 'field field-sm' }, h('label', { for: 'measure-select', id: 'measure-label' }), measureSel),
    methodRow,
    legendList,
  );

  const toggle = legendToggle(host.closest('.legend'));

  function set(patch) {
    state = { ...state, ...patch };
    try {
      localStorage.setItem('sinergi.choropleth', JSON.stringify(state));
    } catch {
      /* ignore */
    }
    compute();
    render();
    onChange();
  }

  function compute() {
    if (state.measure === 'none' || state.measure === 'hotspot') {
      b = [];
      cols = [];
      return;
    }
    b = classBreaks(props.map((p) => valueOf(p, state.measure)), state.method, state.k);
    cols = colors(state.measure === 'density' ? 'density' : 'need', Math.max(1, b.length - 1));
  }

  function render() {
    toggle.render();
    host.querySelector('#measure-label').textContent = t('measure.label');
    host.querySelector('#method-label').textContent = t('method.label');
    host.querySelector('#classes-label').textContent = t('classes.label');
    replaceChildren(
      measureSel,
      ['none', ...measures].map((m) => h('option', { value: m, selected: m === state.measure }, m === 'none' ? t('measure.none') : measureLabel(m))),
    );
    measureSel.value = state.measure;
    replaceChildren(methodSel, METHODS.map((m) => h('option', { value: m }, t(`method.${m}`))));
    methodSel.value = state.method;
    replaceChildren(kSel, [3, 4, 5, 6, 7].map((k) => h('option', { value: String(k) }, String(k))));
    kSel.value = String(state.k);
    const classed = state.measure !== 'none' && state.measure !== 'hotspot';
    methodRow.hidden = !classed;
    let items = [];
    if (state.measure === 'hotspot') {
      items = ['hot', 'cold', 'not_significant'].map((l) => legendItem(HOTSPOT_COLORS[l], t(`hotspot.${l}`)));
    } else if (classed && b.length >= 2) {
      for (let i = 0; i < b.length - 1; i++) {
        const lo = i === 0 ? b[0] : b[i];
        items.push(legendItem(cols[i], `${i === 0 ? '' : '> '}${formatMeasure(state.measure, lo)} – ${formatMeasure(state.measure, b[i + 1])}`, i));
      }
    } else if (classed) {
      items.push(h('li', { class: 'legend-note' }, t('legend.noScores')));
    }
    if (classed || state.measure === 'hotspot') items.push(legendItem(NO_DATA_COLOR, t('legend.noData')));
    replaceChildren(legendList, items);
    legendList.dataset.classes = String(Math.max(0, b.length - 1));
  }

  function legendItem(color, label, i) {
    return h(
      'li',
      { dataset: i === undefined ? {} : { class: String(i) } },
      h('span', { class: 'swatch', style: `background:${color};border:1px solid #8a96a3`, 'aria-hidden': 'true' }),
      h('span', null, label),
    );
  }

  return {
    /** New village properties (after a (re)load). */
    setData(list) {
      props = list;
      const keys = new Set();
      for (const p of list) for (const k of Object.keys(p)) if (k.startsWith('sector_')) keys.add(k);
      const hasScores = list.some((p) => valueOf(p, 'm0_eb') !== null || valueOf(p, 'm0') !== null);
      measures = hasScores ? ['m0_eb', 'm0', 'h_eb', 'in_need', 'density', ...[...keys].sort(), 'hotspot'] : [];
      if (state.measure !== 'none' && !measures.includes(state.measure)) state.measure = measures[0] || 'none';
      compute();
      render();
    },
    /** Leaflet fill options for a village. */
    fill(p) {
      if (state.measure === 'none') return {};
      if (state.measure === 'hotspot') {
        const l = p.hotspot;
        return { fillColor: HOTSPOT_COLORS[l] || NO_DATA_COLOR, fillOpacity: l ? 0.75 : 0.5 };
      }
      const c = classOf(valueOf(p, state.measure), b);
      return c < 0 ? { fillColor: NO_DATA_COLOR, fillOpacity: 0.55 } : { fillColor: cols[c], fillOpacity: 0.72 };
    },
    /** The current measure key ('none' when off). */
    measure: () => state.measure,
    state: () => ({ ...state, breaks: b.slice() }),
    set,
    render,
  };
}
