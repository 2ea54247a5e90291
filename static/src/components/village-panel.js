// Side panel: a keyboard-friendly village picker plus the selected village's
// attributes, labelled in the current language.

import { h, replaceChildren } from '../dom.js';
import { formatNumber, has, t } from '../i18n.js';

/** Attribute rows shown for a village, in order. Extend here for new fields. */
export const VILLAGE_FIELDS = [
  { key: 'name', label: 'field.name' },
  { key: 'code', label: 'field.code', mono: true },
  { key: 'kind', label: 'field.kind', format: (v) => (has(`kind.${v}`) ? t(`kind.${v}`) : v) },
  { key: 'kecamatan_name', label: 'field.kecamatan_name' },
  { key: 'kecamatan_code', label: 'field.kecamatan_code', mono: true },
  {
    key: 'area_km2',
    label: 'field.area_km2',
    format: (v) => (typeof v === 'number' ? t('unit.km2', { n: formatNumber(v, { maximumFractionDigits: 2 }) }) : v),
  },
];

/** "Desa X — Kec. Y (code)" in the current language. */
export function villageLabel(p) {
  const kind = has(`kind.short.${p.kind}`) ? t(`kind.short.${p.kind}`) : t('kind.short.desa');
  return t('tooltip.village', { kind, name: p.name ?? '?', kecamatan: p.kecamatan_name ?? '?', code: p.code ?? '?' });
}

/**
 * @param {object} o
 * @param {HTMLSelectElement} o.select the "find a village" <select>
 * @param {HTMLElement} o.details container for the attribute list
 * @param {(code: string|null) => void} o.onPick user picked a village from the list
 * @param {(code: string) => void} o.onZoom user asked to zoom to the village
 */
export function createVillagePanel({ select, details, onPick, onZoom, extra, actions }) {
  let villages = [];
  let current = null;

  select.addEventListener('change', () => onPick(select.value || null));

  function renderOptions() {
    const byKec = new Map();
    for (const p of villages) {
      const k = p.kecamatan_name || '—';
      if (!byKec.has(k)) byKec.set(k, []);
      byKec.get(k).push(p);
    }
    const collator = new Intl.Collator('id');
    const groups = [...byKec.keys()].sort(collator.compare).map((kec) =>
      h(
        'optgroup',
        { label: kec },
        byKec
          .get(kec)
          .sort((a, b) => collator.compare(a.name || '', b.name || ''))
          .map((p) => h('option', { value: p.code }, p.kind === 'kelurahan' ? `${p.name} (${t('kind.short.kelurahan')})` : p.name)),
      ),
    );
    replaceChildren(select, h('option', { value: '' }, t('panel.findPlaceholder')), groups);
    select.value = current?.code ?? '';
    select.disabled = villages.length === 0;
  }

  function renderDetails() {
    if (!current) {
      replaceChildren(details, h('p', { class: 'panel-empty', dataset: { i18n: 'panel.empty' } }, t('panel.empty')));
      return;
    }
    const p = current;
    const rows = VILLAGE_FIELDS.filter((f) => p[f.key] !== undefined && p[f.key] !== null && p[f.key] !== '').map((f) =>
      h(
        'div',
        { class: 'attr-row', dataset: { field: f.key } },
        h('dt', null, t(f.label)),
        h('dd', { class: f.mono ? 'mono' : null }, f.format ? f.format(p[f.key]) : String(p[f.key])),
      ),
    );
    const kindLabel = has(`kind.${p.kind}`) ? t(`kind.${p.kind}`) : '';
    replaceChildren(
      details,
      h(
        'div',
        { class: 'village-card' },
        h(
          'button',
          { type: 'button', class: 'btn-icon card-close', 'aria-label': t('panel.close'), title: t('panel.close'), onclick: () => onPick(null) },
          h('span', { 'aria-hidden': 'true' }, '×'),
        ),
        h('p', { class: 'village-kind' }, kindLabel),
        h('h3', { class: 'village-name', id: 'village-name', tabindex: '-1' }, p.name ?? p.code),
        h('p', { class: 'village-sub' }, `Kec. ${p.kecamatan_name ?? '—'}`),
        h('dl', { class: 'attr-list', 'aria-labelledby': 'village-name' }, rows),
        h(
          'div',
          { class: 'panel-actions' },
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => onZoom(p.code) }, t('panel.zoomTo')),
          actions ? actions(p) : null,
        ),
        h('div', { class: 'village-extra', id: 'village-extra' }),
      ),
    );
    extra?.(p, details.querySelector('#village-extra'));
  }

  return {
    /** Provide the list of village property objects. */
    setVillages(list) {
      villages = list.filter((p) => p && p.code != null);
      renderOptions();
    },
    /** Show a village (properties object) or null for the empty state. */
    show(p, { focus = false } = {}) {
      current = p;
      select.value = p?.code ?? '';
      renderDetails();
      if (focus && p) details.querySelector('#village-name')?.focus();
    },
    clear() {
      villages = [];
      current = null;
      renderOptions();
      renderDetails();
    },
    render() {
      renderOptions();
      renderDetails();
    },
  };
}
