// Company panel: its operating area, ring-1/ring-2 villages with aggregate
// (disclosure-controlled) need, neighbouring companies with overlaps, the
// matcher's suggestions and the plan entry form. Never a household: every
// number here comes from aggregate endpoints.

import * as L from 'leaflet';
import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, t } from '../i18n.js';
import { getUser } from '../state.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { planStatusLabel } from '../components/village-detail.js';
import { areaEditControls, busy, errorText, loadingLine, num, rupiah } from '../components/ui.js';

extend({
  id: {
    'tab.company': 'Perusahaan',
    'tab.newPlan': 'Rencana',
    'co.noCompany': 'Akun ini tidak terhubung ke perusahaan mana pun. Hubungi Bapperida.',
    'co.loading': 'Memuat data perusahaan…',
    'co.sectors': 'Sektor',
    'co.reach': 'Jangkauan',
    'co.area': 'Luas wilayah operasi',
    'co.edit': 'Ubah wilayah operasi',
    'co.editLoading': 'Memuat editor…',
    'co.draw': 'Gambar poligon baru',
    'co.removePart': 'Hapus bagian (klik poligon)',
    'co.saveArea': 'Simpan wilayah',
    'co.savingArea': 'Menyimpan…',
    'co.cancel': 'Batal',
    'co.editHint': 'Seret titik sudut untuk mengubah; “Gambar poligon baru” lalu klik titik-titik di peta dan klik titik pertama untuk menutup.',
    'co.parts': '{n} poligon',
    'co.areaEmpty': 'Wilayah operasi kosong: gambar minimal satu poligon.',
    'co.areaSaved': 'Wilayah operasi disimpan; ring desa diperbarui.',
    'co.budget': 'Anggaran per tahun',
    'co.zoom': 'Perbesar ke wilayah operasi',
    'co.rings': 'Desa ring 1 dan ring 2',
    'co.ringNote': 'Ring 1: bersinggungan dengan wilayah operasi; ring 2: dalam jangkauan. Angka agregat dengan kontrol pengungkapan.',
    'co.ring': 'Ring',
    'co.dist': 'Jarak',
    'co.need': 'KK membutuhkan',
    'co.neighbours': 'Perusahaan tetangga',
    'co.noNeighbours': 'Tidak ada perusahaan lain dalam {km} km.',
    'co.overlap': 'tumpang tindih {a} km²',
    'co.distKm': '{d} km',
    'co.shared': '{n} desa bersama',
    'co.cluster': 'satu klaster',
    'co.suggestions': 'Usulan desa dari pencocokan',
    'co.noSuggestions': 'Belum ada usulan untuk sektor dan anggaran perusahaan.',
    'co.legendOwn': 'Wilayah operasi Anda',
    'co.legendOther': 'Perusahaan tetangga',
    'plan.title': 'Ajukan rencana CSR',
    'plan.village': 'Desa',
    'plan.sector': 'Sektor',
    'plan.year': 'Tahun',
    'plan.budget': 'Anggaran (Rp)',
    'plan.target': 'Target KK',
    'plan.program': 'Program',
    'plan.submit': 'Ajukan rencana',
    'plan.submitting': 'Mengajukan…',
    'plan.submitted': 'Rencana #{id} diajukan; menunggu persetujuan Bapperida.',
    'plan.mine': 'Rencana perusahaan',
    'plan.none': 'Belum ada rencana.',
  },
  en: {
    'tab.company': 'Company',
    'tab.newPlan': 'Plans',
    'co.noCompany': 'This account is not linked to a company. Contact the planning agency.',
    'co.loading': 'Loading the company…',
    'co.sectors': 'Sectors',
    'co.reach': 'Reach',
    'co.area': 'Operating area',
    'co.edit': 'Edit the operating area',
    'co.editLoading': 'Loading the editor…',
    'co.draw': 'Draw a new polygon',
    'co.removePart': 'Remove a part (click a polygon)',
    'co.saveArea': 'Save the area',
    'co.savingArea': 'Saving…',
    'co.cancel': 'Cancel',
    'co.editHint': 'Drag corner points to change the shape; “Draw a new polygon”, then click points on the map and click the first point to close it.',
    'co.parts': '{n} polygons',
    'co.areaEmpty': 'The operating area is empty: draw at least one polygon.',
    'co.areaSaved': 'Operating area saved; village rings updated.',
    'co.budget': 'Budget per year',
    'co.zoom': 'Zoom to the operating area',
    'co.rings': 'Ring-1 and ring-2 villages',
    'co.ringNote': 'Ring 1: touching the operating area; ring 2: within reach. Aggregates under disclosure control.',
    'co.ring': 'Ring',
    'co.dist': 'Distance',
    'co.need': 'Households in need',
    'co.neighbours': 'Neighbouring companies',
    'co.noNeighbours': 'No other company within {km} km.',
    'co.overlap': 'overlap {a} km²',
    'co.distKm': '{d} km',
    'co.shared': '{n} shared villages',
    'co.cluster': 'same cluster',
    'co.suggestions': 'Villages suggested by the matcher',
    'co.noSuggestions': 'No suggestions for the company’s sectors and budget yet.',
    'co.legendOwn': 'Your operating area',
    'co.legendOther': 'Neighbouring companies',
    'plan.title': 'Submit a CSR plan',
    'plan.village': 'Village',
    'plan.sector': 'Sector',
    'plan.year': 'Year',
    'plan.budget': 'Budget (Rp)',
    'plan.target': 'Target households',
    'plan.program': 'Programme',
    'plan.submit': 'Submit plan',
    'plan.submitting': 'Submitting…',
    'plan.submitted': 'Plan #{id} submitted; awaiting the planning agency’s approval.',
    'plan.mine': 'The company’s plans',
    'plan.none': 'No plans yet.',
  },
});

export function createCompanyPanel(ctx) {
  const panel = h('section', { class: 'tab-panel', id: 'tab-company', hidden: true });
  const planPanel = h('section', { class: 'tab-panel', id: 'tab-newplan', hidden: true });
  const alertHost = h('div', { hidden: true });
  const planAlert = h('div', { hidden: true });
  const body = h('div', { id: 'company-body' });
  const areaLayer = L.featureGroup();
  let data = null; // {company, rings, neighbours, suggestions, others}
  let ringOf = new Map();
  let editor = null; // area editor while editing (src/area-editor.js, loaded on demand)
  const editBox = h('div', { id: 'area-edit' });
  const editAlert = h('div', { hidden: true });
  let areaNote = '';

  async function startEdit(btn) {
    const map = ctx.map();
    if (!map || !data || editor) return;
    clearAlert(editAlert);
    await busy(
      btn,
      t('co.editLoading'),
      async () => {
        const { startAreaEditor } = await import('../area-editor.js');
        areaLayer.remove();
        // Clicks on villages draw points now, they do not open the village tab.
        ctx.setPicker(() => true);
        editor = startAreaEditor(map, data.company.area, { onChange: renderEdit });
      },
      { alertHost: editAlert, onUnauthorized: ctx.onUnauthorized },
    );
    areaNote = '';
    renderEdit();
  }

  function stopEdit() {
    ctx.setPicker(null);
    editor?.stop();
    editor = null;
    drawAreas();
    renderEdit();
  }

  async function saveArea(btn) {
    clearAlert(editAlert);
    const area = editor?.geometry();
    if (!area) {
      showAlert(editAlert, { message: t('co.areaEmpty') });
      return;
    }
    const co = data.company;
    const err = await busy(
      btn,
      t('co.savingArea'),
      async () => {
        await api.updateCompanyArea(co, area);
      },
      { alertHost: editAlert, onUnauthorized: ctx.onUnauthorized },
    );
    if (err) return;
    ctx.setPicker(null);
    editor.stop();
    editor = null;
    areaNote = t('co.areaSaved');
    await load();
  }

  function renderEdit() {
    if (!editor) {
      replaceChildren(
        editBox,
        editAlert,
        areaNote ? h('p', { class: 'ok-line', role: 'status', id: 'area-saved' }, areaNote) : null,
        h('div', { class: 'btn-row' }, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'area-edit-start', onclick: (ev) => startEdit(ev.currentTarget) }, t('co.edit'))),
      );
      return;
    }
    replaceChildren(editBox, editAlert, areaEditControls(editor, 'area', { onSave: saveArea, onCancel: stopEdit }));
  }

  async function load() {
    const u = getUser();
    const id = u?.company_id;
    replaceChildren(panel, alertHost, body);
    if (!id) {
      replaceChildren(body, h('p', { class: 'panel-empty' }, t('co.noCompany')));
      return;
    }
    replaceChildren(body, loadingLine(t('co.loading')));
    try {
      const [company, rings, neighbours, suggestions, all] = await Promise.all([
        api.company(id),
        api.companyRings(id),
        api.companyNeighbours(id),
        api.companySuggestions(id).catch((err) => ({ error: err })),
        api.companies().catch(() => ({ companies: [] })),
      ]);
      data = { company, rings: rings.villages || [], neighbours, suggestions, all: all.companies || [] };
      ringOf = new Map(data.rings.map((r) => [r.code, r.ring]));
      render();
      drawAreas();
      ctx.restyle();
      zoomArea();
      renderPlanForm();
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(body);
      showAlert(alertHost, { message: errorText(err) });
    }
  }

  function drawAreas() {
    areaLayer.clearLayers();
    if (editor) return; // the editor shows the own area meanwhile
    const map = ctx.map();
    if (!map || !data) return;
    const nIds = new Set((data.neighbours.neighbours || []).map((n) => n.id));
    areaLayer.addTo(map);
    for (const c of data.all) {
      if (!c.area || (c.id !== data.company.id && !nIds.has(c.id))) continue;
      const own = c.id === data.company.id;
      const lyr = L.geoJSON(c.area, {
        style: { color: own ? '#0f766e' : '#9333ea', weight: own ? 3 : 2, dashArray: own ? null : '5 4', fillColor: own ? '#14b8a6' : '#c084fc', fillOpacity: own ? 0.25 : 0.15 },
        interactive: true,
      });
      lyr.bindTooltip(c.name, { sticky: true, className: 'village-tooltip' });
      lyr.addTo(areaLayer);
      lyr.eachLayer((l) => {
        const el = l.getElement?.();
        if (el) {
          el.setAttribute('tabindex', '-1');
          el.dataset.company = String(c.id);
          el.classList.add(own ? 'company-own' : 'company-neighbour');
        }
      });
    }
    areaLayer.bringToFront();
  }

  function zoomArea() {
    const map = ctx.map();
    if (map && areaLayer.getLayers().length) map.flyToBounds(areaLayer.getBounds(), { padding: [30, 30], maxZoom: 13, duration: 0.6 });
  }

  function render() {
    if (!data) return;
    renderEdit();
    const co = data.company;
    const nb = data.neighbours || {};
    const sug = data.suggestions || {};
    const rowsBy = new Map(ctx.rows().map((p) => [p.code, p]));
    replaceChildren(
      body,
      h('h3', { class: 'panel-h', id: 'company-name' }, co.name),
      h(
        'dl',
        { class: 'attr-list attr-compact' },
        h('div', { class: 'attr-row' }, h('dt', null, t('co.sectors')), h('dd', null, (co.sectors || []).join(', '))),
        h('div', { class: 'attr-row' }, h('dt', null, t('co.reach')), h('dd', null, `${num(co.reach_km, 1)} km`)),
        co.area_km2 != null ? h('div', { class: 'attr-row' }, h('dt', null, t('co.area')), h('dd', null, `${num(co.area_km2, 2)} km²`)) : null,
        co.budget_per_year != null ? h('div', { class: 'attr-row' }, h('dt', null, t('co.budget')), h('dd', null, rupiah(co.budget_per_year))) : null,
      ),
      h('div', { class: 'btn-row' }, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: zoomArea }, t('co.zoom'))),
      editBox,
      h('ul', { class: 'legend-list' }, h('li', null, h('span', { class: 'swatch swatch-own' }), t('co.legendOwn')), h('li', null, h('span', { class: 'swatch swatch-other' }), t('co.legendOther'))),
      h('h4', { class: 'sub-h', dataset: { i18n: 'co.neighbours' } }, t('co.neighbours')),
      (nb.neighbours || []).length
        ? h(
            'ul',
            { class: 'plain-list', id: 'neighbour-list' },
            nb.neighbours.map((n) =>
              h(
                'li',
                { dataset: { company: String(n.id) } },
                h('strong', null, n.name),
                h(
                  'span',
                  { class: 'cell-sub' },
                  [
                    (n.sectors || []).join(', '),
                    n.overlap_km2 > 0 ? t('co.overlap', { a: num(n.overlap_km2, 2) }) : t('co.distKm', { d: num(n.dist_km, 1) }),
                    t('co.shared', { n: (n.shared_villages || []).length }),
                    n.same_cluster ? t('co.cluster') : '',
                  ]
                    .filter(Boolean)
                    .join(' · '),
                ),
              ),
            ),
          )
        : h('p', { class: 'panel-empty' }, t('co.noNeighbours', { km: nb.within_km ?? 5 })),
      h('h4', { class: 'sub-h', dataset: { i18n: 'co.suggestions' } }, t('co.suggestions')),
      sug.error
        ? h('p', { class: 'alert alert-error', role: 'alert' }, errorText(sug.error))
        : (sug.suggestions || []).length
          ? h(
              'ul',
              { class: 'plain-list', id: 'suggestion-list' },
              sug.suggestions.map((s) =>
                h('li', null, h('strong', null, `${s.village_name} (${s.sector})`), h('span', { class: 'cell-sub' }, `${num(s.households)} KK · ${rupiah(s.cost)} · ring ${s.ring} — ${s.reason}`)),
              ),
            )
          : h('p', { class: 'panel-empty' }, t('co.noSuggestions')),
      h('h4', { class: 'sub-h', dataset: { i18n: 'co.rings' } }, t('co.rings')),
      h('p', { class: 'legend-note' }, t('co.ringNote')),
      h(
        'table',
        { class: 'rank-table', id: 'ring-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('plan.village')), h('th', { scope: 'col', class: 'num' }, t('co.ring')), h('th', { scope: 'col', class: 'num' }, t('co.dist')), h('th', { scope: 'col', class: 'num' }, t('co.need')))),
        h(
          'tbody',
          null,
          data.rings.map((r) => {
            const p = rowsBy.get(r.code) || {};
            return h(
              'tr',
              { dataset: { code: r.code, ring: String(r.ring) }, tabindex: '-1', onclick: () => ctx.selectCode(r.code, { zoom: true, keepTab: true }) },
              h('td', null, h('span', { class: 'cell-name' }, r.name), h('span', { class: 'cell-sub' }, r.code)),
              h('td', { class: 'num' }, String(r.ring)),
              h('td', { class: 'num' }, `${num(r.dist_km, 1)} km`),
              h('td', { class: 'num' }, num(p.in_need)),
            );
          }),
        ),
      ),
    );
  }

  // ---- Plan entry -----------------------------------------------------------------
  const planForm = h('form', { id: 'plan-form', novalidate: true });
  const plansEl = h('div', { id: 'company-plans' });
  const okEl = h('p', { class: 'ok-line', role: 'status', id: 'plan-ok', hidden: true });

  function renderPlanForm() {
    const co = data?.company;
    if (!co) return;
    const village = h('select', { id: 'plan-village', required: true }, data.rings.map((r) => h('option', { value: r.code }, `${r.name} (ring ${r.ring})`)));
    const sector = h('select', { id: 'plan-sector', required: true }, (co.sectors || []).map((s) => h('option', { value: s }, s)));
    const year = h('input', { id: 'plan-year', type: 'number', min: '2000', max: '2100', value: String(new Date().getFullYear()), required: true });
    const budget = h('input', { id: 'plan-budget', type: 'number', min: '1', step: 'any', required: true });
    const target = h('input', { id: 'plan-target', type: 'number', min: '1', step: '1', required: true });
    const program = h('textarea', { id: 'plan-program', maxlength: '2000', rows: '3' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'plan-submit' }, t('plan.submit'));
    replaceChildren(
      planForm,
      field('plan-village', 'plan.village', village),
      h('div', { class: 'form-row' }, field('plan-sector', 'plan.sector', sector, 'grow'), field('plan-year', 'plan.year', year, 'w-year')),
      h('div', { class: 'form-row' }, field('plan-budget', 'plan.budget', budget, 'grow'), field('plan-target', 'plan.target', target, 'grow')),
      field('plan-program', 'plan.program', program),
      planAlert,
      h('div', { class: 'btn-row' }, submit),
      okEl,
    );
    planForm.onsubmit = async (ev) => {
      ev.preventDefault();
      clearAlert(planAlert);
      okEl.hidden = true;
      if (!planForm.reportValidity()) return;
      await busy(
        submit,
        t('plan.submitting'),
        async () => {
          const r = await api.createPlan({
            company_id: co.id,
            year: Number(year.value),
            village_code: village.value,
            sector: sector.value,
            budget: Number(budget.value),
            target_households: Number(target.value),
            program: program.value.trim(),
          });
          okEl.textContent = t('plan.submitted', { id: r.id });
          okEl.hidden = false;
          loadPlans();
        },
        { alertHost: planAlert, onUnauthorized: ctx.onUnauthorized },
      );
    };
    loadPlans();
  }

  function field(id, key, el, cls = '') {
    return h('div', { class: `field field-sm ${cls}`.trim() }, h('label', { for: id }, t(key)), el);
  }

  async function loadPlans() {
    const co = data?.company;
    if (!co) return;
    try {
      const r = await api.plans({ company: String(co.id) });
      replaceChildren(
        plansEl,
        h('h4', { class: 'sub-h', dataset: { i18n: 'plan.mine' } }, t('plan.mine')),
        (r.plans || []).length
          ? h('ul', { class: 'plan-list' }, r.plans.map((p) => h('li', { dataset: { plan: String(p.id) } }, h('strong', null, `#${p.id} ${p.village_name}`), h('span', { class: `status status-${p.status}` }, planStatusLabel(p.status)), h('div', { class: 'cell-sub' }, `${p.sector} · ${p.year} · ${rupiah(p.budget)}`))))
          : h('p', { class: 'panel-empty', dataset: { i18n: 'plan.none' } }, t('plan.none')),
      );
    } catch (err) {
      replaceChildren(plansEl, h('p', { class: 'alert alert-error', role: 'alert' }, errorText(err)));
    }
  }

  replaceChildren(planPanel, h('h3', { class: 'panel-h', dataset: { i18n: 'plan.title' } }, t('plan.title')), planForm, plansEl);

  return {
    tabs: [
      { id: 'company', label: () => t('tab.company'), panel },
      { id: 'newplan', label: () => t('tab.newPlan'), panel: planPanel },
    ],
    mark: (p) => {
      const r = ringOf.get(p.code);
      if (r === 1) return { color: '#0f766e', weight: 3, opacity: 1 };
      if (r === 2) return { color: '#0f766e', weight: 1.5, dashArray: '4 3', opacity: 0.9 };
      return null;
    },
    onData: () => load(),
    render() {
      render();
      renderPlanForm();
    },
    close() {
      if (editor) ctx.setPicker(null);
      editor?.stop();
      editor = null;
      areaLayer.clearLayers();
      areaLayer.remove();
    },
  };
}
