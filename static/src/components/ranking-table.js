// Ranked table of villages beside the map, synced with it: hovering or
// selecting a row highlights the village on the map and vice versa. One Tab
// stop (roving tabindex); arrow keys move, Enter selects, Space toggles the
// priority list while picking.

import { h, replaceChildren } from '../dom.js';
import { extend, t } from '../i18n.js';
import { formatMeasure, measureLabel, valueOf } from './choropleth.js';

extend({
  id: {
    'table.caption': 'Peringkat desa menurut {measure}',
    'table.rank': 'Peringkat',
    'table.village': 'Desa',
    'table.value': 'Nilai',
    'table.delta': 'Perubahan peringkat',
    'table.kecamatan': 'Kecamatan (telusuri)',
    'table.allKecamatan': 'Seluruh kabupaten',
    'table.empty': 'Belum ada skor kebutuhan. Jalankan penghitungan skor (sinergi score).',
    'table.count': '{n} desa',
    'table.selected': 'Terpilih: {name}',
    'table.details': 'Lihat rincian',
    'table.inList': 'dalam daftar prioritas',
    'table.help': 'Panah atas/bawah untuk berpindah, Enter untuk memilih.',
    'crumb.regency': 'Kabupaten',
  },
  en: {
    'table.caption': 'Villages ranked by {measure}',
    'table.rank': 'Rank',
    'table.village': 'Village',
    'table.value': 'Value',
    'table.delta': 'Rank change',
    'table.kecamatan': 'District (drill down)',
    'table.allKecamatan': 'Whole regency',
    'table.empty': 'No need scores yet. Run the score computation (sinergi score).',
    'table.count': '{n} villages',
    'table.selected': 'Selected: {name}',
    'table.details': 'Show details',
    'table.inList': 'in the priority list',
    'table.help': 'Up/down arrows to move, Enter to select.',
    'crumb.regency': 'Regency',
  },
});

/**
 * @param {HTMLElement} host
 * @param {object} o
 * @param {() => string} o.measure current measure key
 * @param {(code: string|null) => void} o.onHover
 * @param {(code: string) => void} o.onSelect
 * @param {(code: string) => void} o.onDetails
 * @param {(code: string) => boolean} o.inList whether the village is in the priority list
 * @param {(kecamatan: string|null, codes: string[]) => void} o.onKecamatan drill-down changed
 */
export function createRankingTable(host, { measure, onHover, onSelect, onDetails, inList, onKecamatan }) {
  let rows = [];
  let prevRank = new Map();
  let kec = '';
  let selected = null;
  let active = null; // code of the row holding the Tab stop

  const kecSel = h('select', { id: 'kecamatan-select', onchange: () => setKecamatan(kecSel.value) });
  const crumb = h('nav', { class: 'crumbs', 'aria-label': 'breadcrumb' });
  const caption = h('caption', { class: 'visually-hidden' });
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'rank-table', id: 'rank-table' }, caption, thead, tbody);
  const scroller = h('div', { class: 'table-scroll', tabindex: '-1' }, table);
  const foot = h('div', { class: 'table-foot' });
  const help = h('p', { class: 'legend-note', id: 'rank-help' });
  replaceChildren(
    host,
    h('div', { class: 'field field-sm' }, h('label', { for: 'kecamatan-select', id: 'kecamatan-label' }), kecSel),
    crumb,
    help,
    scroller,
    foot,
  );

  table.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest?.('tr[data-code]');
    if (!tr) return;
    const sib = ev.key === 'ArrowDown' ? tr.nextElementSibling : ev.key === 'ArrowUp' ? tr.previousElementSibling : null;
    if (sib) {
      ev.preventDefault();
      focusRow(sib);
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      focusRow(ev.key === 'Home' ? tbody.firstElementChild : tbody.lastElementChild);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onSelect(tr.dataset.code);
    }
  });
  tbody.addEventListener('mouseover', (ev) => {
    const tr = ev.target.closest?.('tr[data-code]');
    if (tr) onHover(tr.dataset.code);
  });
  tbody.addEventListener('mouseleave', () => onHover(null));
  tbody.addEventListener('click', (ev) => {
    const tr = ev.target.closest?.('tr[data-code]');
    if (tr) {
      active = tr.dataset.code;
      onSelect(tr.dataset.code);
    }
  });

  function focusRow(tr) {
    if (!tr) return;
    for (const r of tbody.querySelectorAll('tr[tabindex="0"]')) r.tabIndex = -1;
    tr.tabIndex = 0;
    active = tr.dataset.code;
    tr.focus();
    onHover(tr.dataset.code);
  }

  function visibleRows() {
    const m = measure();
    const key = m === 'none' || m === 'hotspot' ? 'm0_eb' : m;
    return rows
      .filter((p) => !kec || p.kecamatan_code === kec)
      .sort((a, b) => {
        const va = valueOf(a, key);
        const vb = valueOf(b, key);
        if (va === null && vb === null) return String(a.code).localeCompare(String(b.code));
        if (va === null) return 1;
        if (vb === null) return -1;
        return vb - va || String(a.code).localeCompare(String(b.code));
      });
  }

  function render() {
    const m = measure();
    const key = m === 'none' || m === 'hotspot' ? 'm0_eb' : m;
    host.querySelector('#kecamatan-label').textContent = t('table.kecamatan');
    help.textContent = t('table.help');
    const kecs = new Map();
    for (const p of rows) if (p.kecamatan_code) kecs.set(p.kecamatan_code, p.kecamatan_name || p.kecamatan_code);
    replaceChildren(
      kecSel,
      h('option', { value: '' }, t('table.allKecamatan')),
      [...kecs].sort((a, b) => a[1].localeCompare(b[1], 'id')).map(([c, n]) => h('option', { value: c }, `${n} (${c})`)),
    );
    kecSel.value = kec;
    const sel = selected ? rows.find((p) => p.code === selected) : null;
    replaceChildren(
      crumb,
      h('button', { type: 'button', class: 'crumb', onclick: () => setKecamatan('') }, t('crumb.regency')),
      kec ? [' › ', h('button', { type: 'button', class: 'crumb', onclick: () => onKecamatan(kec, codesOf(kec)) }, `Kec. ${kecs.get(kec)}`)] : null,
      sel && (!kec || sel.kecamatan_code === kec) ? [' › ', h('span', { class: 'crumb-current' }, sel.name)] : null,
    );
    caption.textContent = t('table.caption', { measure: measureLabel(key) });
    replaceChildren(
      thead,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'num' }, t('table.rank')),
        h('th', { scope: 'col' }, t('table.village')),
        h('th', { scope: 'col', class: 'num', title: measureLabel(key) }, measureLabel(key)),
        h('th', { scope: 'col', class: 'num', title: t('table.delta') }, '±'),
      ),
    );
    const vis = visibleRows();
    if (!vis.some((p) => p.code === active)) active = vis[0]?.code ?? null;
    if (!rows.some((p) => valueOf(p, 'm0_eb') !== null || valueOf(p, 'm0') !== null)) {
      replaceChildren(tbody, h('tr', null, h('td', { colspan: '4', class: 'panel-empty' }, t('table.empty'))));
    } else {
      replaceChildren(
        tbody,
        vis.map((p) => {
          const before = prevRank.get(p.code);
          const d = typeof before === 'number' && typeof p.rank === 'number' ? before - p.rank : 0;
          const listed = inList(p.code);
          return h(
            'tr',
            {
              dataset: { code: p.code },
              tabindex: p.code === active ? '0' : '-1',
              class: [p.code === selected ? 'is-selected' : '', listed ? 'is-listed' : ''].join(' ').trim() || null,
              'aria-selected': String(p.code === selected),
            },
            h('td', { class: 'num' }, p.rank ?? '—'),
            h(
              'td',
              null,
              h('span', { class: 'cell-name' }, p.name),
              listed ? h('span', { class: 'badge', title: t('table.inList') }, '★') : null,
              h('span', { class: 'cell-sub' }, p.kecamatan_name || ''),
            ),
            h('td', { class: 'num' }, formatMeasure(key, p[key] ?? null)),
            h(
              'td',
              { class: `num delta ${d > 0 ? 'up' : d < 0 ? 'down' : ''}`, dataset: { delta: String(d) } },
              d > 0 ? `▲${d}` : d < 0 ? `▼${-d}` : '',
            ),
          );
        }),
      );
    }
    replaceChildren(
      foot,
      h('span', null, t('table.count', { n: vis.length })),
      sel ? h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'rank-details', onclick: () => onDetails(sel.code) }, t('table.details')) : null,
    );
  }

  function codesOf(k) {
    return rows.filter((p) => p.kecamatan_code === k).map((p) => p.code);
  }

  function setKecamatan(k) {
    kec = k || '';
    render();
    onKecamatan(kec || null, kec ? codesOf(kec) : rows.map((p) => p.code));
  }

  return {
    /** New rows; keepDelta compares ranks with the previous rows (weights changed). */
    setRows(list, { keepDelta = false } = {}) {
      prevRank = keepDelta ? new Map(rows.map((p) => [p.code, p.rank])) : new Map();
      rows = list.slice();
      render();
    },
    render,
    /** Highlight a row hovered on the map (no focus change). */
    hover(code) {
      for (const r of tbody.querySelectorAll('tr.is-hover')) r.classList.remove('is-hover');
      if (!code) return;
      const tr = tbody.querySelector(`tr[data-code="${CSS.escape(code)}"]`);
      if (tr) {
        tr.classList.add('is-hover');
        if (!host.hidden && host.offsetParent) tr.scrollIntoView({ block: 'nearest' });
      }
    },
    select(code) {
      selected = code;
      if (code) active = code;
      render();
      const tr = code && tbody.querySelector(`tr[data-code="${CSS.escape(code)}"]`);
      if (tr && host.offsetParent) tr.scrollIntoView({ block: 'nearest' });
    },
    kecamatan: () => kec || null,
  };
}
