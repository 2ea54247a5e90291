// Planner tab "Perusahaan": pick a company and edit its operating area on the map
// with the same editor companies use (src/area-editor.js, loaded on demand), then
// PUT /api/v1/companies/{id}. The other company fields are sent back unchanged.

import * as L from 'leaflet';
import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, t } from '../i18n.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { areaEditControls, busy, errorText, loadingLine } from '../components/ui.js';

extend({
  id: {
    'tab.companies': 'Perusahaan',
    'ca.title': 'Wilayah operasi perusahaan',
    'ca.company': 'Perusahaan',
    'ca.choose': '— pilih perusahaan —',
    'ca.noArea': 'Perusahaan ini belum punya wilayah operasi.',
    'ca.sectors': 'Sektor: {s}',
    'ca.saved': 'Wilayah operasi {name} disimpan.',
    'ca.note': 'Perubahan wilayah memperbarui ring desa dan usulan pencocokan perusahaan ini.',
  },
  en: {
    'tab.companies': 'Companies',
    'ca.title': 'Companies’ operating areas',
    'ca.company': 'Company',
    'ca.choose': '— choose a company —',
    'ca.noArea': 'This company has no operating area yet.',
    'ca.sectors': 'Sectors: {s}',
    'ca.saved': 'Operating area of {name} saved.',
    'ca.note': 'Changing the area updates this company’s village rings and matcher proposals.',
  },
});

const AREA_STYLE = { color: '#b45309', weight: 2.5, fillColor: '#f59e0b', fillOpacity: 0.18 };

/** @param {object} ctx shared map-view context (see map-view.js) */
export function createCompanyAreasPanel(ctx) {
  const panel = h('section', { class: 'tab-panel', id: 'tab-companies', hidden: true });
  const alertHost = h('div', { hidden: true, id: 'ca-alert' });
  const sel = h('select', { id: 'ca-company' });
  const info = h('div', { id: 'ca-info', 'aria-live': 'polite' });
  const okEl = h('p', { class: 'ok-line', role: 'status', id: 'ca-saved', hidden: true });
  const areaLayer = L.featureGroup();
  let list = [];
  let current = null; // full company of the selection
  let editor = null;
  let loaded = false;

  sel.addEventListener('change', () => choose(sel.value ? Number(sel.value) : null));

  async function load() {
    replaceChildren(info, loadingLine('…'));
    try {
      const r = await api.companies();
      list = (r.companies || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
      loaded = true;
      render();
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(info);
      showAlert(alertHost, { message: errorText(err) });
    }
  }

  async function choose(id) {
    stopEdit();
    okEl.hidden = true;
    clearAlert(alertHost);
    current = null;
    if (id == null) return render();
    replaceChildren(info, loadingLine('…'));
    try {
      current = await api.company(id);
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      showAlert(alertHost, { message: errorText(err) });
    }
    render();
    const map = ctx.map();
    if (map && areaLayer.getLayers().length) map.flyToBounds(areaLayer.getBounds(), { padding: [40, 40], maxZoom: 13, duration: 0.5 });
  }

  function drawArea() {
    areaLayer.clearLayers();
    const map = ctx.map();
    if (!map || !current?.area || editor) return;
    L.geoJSON(current.area, { style: AREA_STYLE, interactive: false }).addTo(areaLayer);
    areaLayer.addTo(map);
  }

  async function startEdit(btn) {
    const map = ctx.map();
    if (!map || !current || editor) return;
    clearAlert(alertHost);
    okEl.hidden = true;
    await busy(
      btn,
      t('co.editLoading'),
      async () => {
        const { startAreaEditor } = await import('../area-editor.js');
        areaLayer.remove();
        ctx.setPicker(() => true);
        editor = startAreaEditor(map, current.area, { onChange: render });
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
    render();
  }

  function stopEdit() {
    if (!editor) return;
    ctx.setPicker(null);
    editor.stop();
    editor = null;
  }

  async function save(btn) {
    clearAlert(alertHost);
    const area = editor?.geometry();
    if (!area) {
      showAlert(alertHost, { message: t('co.areaEmpty') });
      return;
    }
    const co = current;
    const err = await busy(
      btn,
      t('co.savingArea'),
      async () => {
        current = await api.updateCompanyArea(co, area);
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
    if (err) return;
    stopEdit();
    okEl.textContent = t('ca.saved', { name: co.name });
    okEl.hidden = false;
    document.body.dataset.companyAreaSaved = String(co.id);
    render();
  }

  function render() {
    const v = sel.value;
    replaceChildren(sel, h('option', { value: '' }, t('ca.choose')), list.map((c) => h('option', { value: String(c.id) }, c.name)));
    sel.value = v;
    const c = current;
    let body = null;
    if (c && !editor) {
      body = [
        h('p', { class: 'legend-note' }, t('ca.sectors', { s: (c.sectors || []).join(', ') || '—' })),
        c.area ? null : h('p', { class: 'legend-note' }, t('ca.noArea')),
        h('div', { class: 'btn-row' }, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'ca-edit', onclick: (ev) => startEdit(ev.currentTarget) }, t('co.edit'))),
      ];
    } else if (c && editor) {
      body = areaEditControls(editor, 'ca', { onSave: save, onCancel: () => (stopEdit(), render()) });
    }
    replaceChildren(info, body);
    drawArea();
    replaceChildren(
      panel,
      h('h3', { class: 'panel-h', dataset: { i18n: 'ca.title' } }, t('ca.title')),
      h('p', { class: 'legend-note', dataset: { i18n: 'ca.note' } }, t('ca.note')),
      h('div', { class: 'field field-sm' }, h('label', { for: 'ca-company', dataset: { i18n: 'ca.company' } }, t('ca.company')), sel),
      alertHost,
      okEl,
      info,
    );
  }
  render();

  return {
    tab: {
      id: 'companies',
      label: () => t('tab.companies'),
      panel,
      onShow: () => {
        if (!loaded) load();
        else drawArea();
      },
    },
    render,
    close() {
      stopEdit();
      areaLayer.clearLayers();
      areaLayer.remove();
    },
  };
}
