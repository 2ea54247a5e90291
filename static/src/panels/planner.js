// Planner panels: priority list (click villages on the map or in the table,
// save it), the matcher (locus or sector mode, teams on the map, accept), the
// weights editor, submitted plans to approve, and exports.

import * as L from 'leaflet';
import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, formatNumber, t } from '../i18n.js';
import { showAlert, clearAlert } from '../components/alert.js';
import { indicatorLabel, planStatusLabel } from '../components/village-detail.js';
import { busy, errorText, loadingLine, num, rupiah } from '../components/ui.js';
import { createCoveragePanel } from './coverage.js';
import { createCompanyAreasPanel } from './company-areas.js';

extend({
  id: {
    'tab.ranking': 'Peringkat',
    'tab.priority': 'Prioritas',
    'tab.weights': 'Bobot',
    'tab.plans': 'Rencana',
    'prio.title': 'Daftar prioritas',
    'prio.name': 'Nama daftar',
    'prio.year': 'Tahun',
    'prio.pick': 'Pilih desa di peta',
    'prio.pickOn': 'Memilih… klik desa di peta atau tabel',
    'prio.hint': 'Aktifkan “Pilih desa di peta”, lalu klik desa di peta atau di tabel peringkat untuk menambah/menghapus.',
    'prio.empty': 'Belum ada desa dalam daftar.',
    'prio.remove': 'Hapus {name} dari daftar',
    'prio.up': 'Naikkan {name}',
    'prio.add': 'Tambah ke prioritas',
    'prio.removeShort': 'Hapus dari prioritas',
    'prio.save': 'Simpan daftar',
    'prio.saving': 'Menyimpan…',
    'prio.saved': 'Daftar “{name}” tersimpan (versi {version}, {n} desa).',
    'prio.count': '{n} desa dipilih',
    'prio.needName': 'Isi nama daftar dan pilih minimal satu desa.',
    'prio.saved.lists': 'Daftar tersimpan',
    'prio.load': 'Muat',
    'match.title': 'Pencocokan perusahaan',
    'match.mode': 'Mode',
    'match.locus': 'Lokus (tim per desa)',
    'match.sector': 'Sektor (perusahaan per sektor)',
    'match.run': 'Jalankan pencocokan',
    'match.running': 'Menghitung usulan…',
    'match.needSaved': 'Simpan daftar prioritas dulu; pencocokan memakai desa dalam daftar.',
    'match.summary': 'Usulan #{id}: menutup {covered} dari {total} kebutuhan berbobot.',
    'match.team': 'Tim',
    'match.noTeam': 'Tidak ada tim: {reason}',
    'match.noTeamPlain': 'Tidak ada tim untuk desa ini.',
    'match.complete': 'lengkap',
    'match.partial': 'sebagian',
    'match.accept': 'Terima usulan (buat rencana)',
    'match.accepted': 'Usulan diterima: {n} rencana dibuat.',
    'match.sectorHead': 'Perusahaan per sektor',
    'weights.title': 'Bobot indikator',
    'weights.note': 'Catatan perubahan',
    'weights.k': 'Ambang k (proporsi deprivasi)',
    'weights.save': 'Simpan bobot & hitung ulang',
    'weights.saving': 'Menyimpan & menghitung ulang…',
    'weights.saved': 'Bobot versi {version} disimpan. Peringkat diperbarui; ▲▼ menunjukkan perubahan.',
    'weights.current': 'Versi aktif: {version} ({by})',
    'weights.reset': 'Kembalikan bawaan',
    'weights.sum': 'Bobot dinormalkan server agar berjumlah 1.',
    'plans.title': 'Rencana perusahaan',
    'plans.filter': 'Status',
    'plans.all': 'Semua',
    'plans.empty': 'Tidak ada rencana dengan status ini.',
    'plans.approve': 'Setujui',
    'plans.reject': 'Tolak',
    'plans.approved': 'Rencana #{id} disetujui.',
    'plans.rejected': 'Rencana #{id} ditolak.',
    'export.title': 'Ekspor peringkat',
    'export.note': 'Ekspor memakai kontrol pengungkapan (jumlah < 5 disembunyikan).',
    'print.button': 'Cetak peta & tabel',
    'area.rect': 'Gambar persegi',
    'area.poly': 'Gambar poligon',
    'area.cancel': 'Batal menggambar',
    'area.hintRect': 'Klik satu sudut di peta, lalu sudut seberangnya. Esc membatalkan.',
    'area.hintPoly': 'Klik titik-titik batas di peta; klik titik pertama untuk menutup. Esc membatalkan.',
    'area.selecting': 'Mencari desa dalam area…',
    'area.added': '{added} desa dari area ditambahkan menurut peringkat ({already} sudah ada dalam daftar).',
    'area.none': 'Tidak ada desa dalam area yang digambar.',
    'area.group': 'Pilih dengan menggambar area',
  },
  en: {
    'tab.ranking': 'Ranking',
    'tab.priority': 'Priorities',
    'tab.weights': 'Weights',
    'tab.plans': 'Plans',
    'prio.title': 'Priority list',
    'prio.name': 'List name',
    'prio.year': 'Year',
    'prio.pick': 'Pick villages on the map',
    'prio.pickOn': 'Picking… click villages on the map or table',
    'prio.hint': 'Turn on “Pick villages on the map”, then click villages on the map or in the ranking table to add/remove them.',
    'prio.empty': 'No villages in the list yet.',
    'prio.remove': 'Remove {name} from the list',
    'prio.up': 'Move {name} up',
    'prio.add': 'Add to priorities',
    'prio.removeShort': 'Remove from priorities',
    'prio.save': 'Save list',
    'prio.saving': 'Saving…',
    'prio.saved': 'List “{name}” saved (version {version}, {n} villages).',
    'prio.count': '{n} villages picked',
    'prio.needName': 'Give the list a name and pick at least one village.',
    'prio.saved.lists': 'Saved lists',
    'prio.load': 'Load',
    'match.title': 'Company matching',
    'match.mode': 'Mode',
    'match.locus': 'Locus (a team per village)',
    'match.sector': 'Sector (companies per sector)',
    'match.run': 'Run the matcher',
    'match.running': 'Computing the proposal…',
    'match.needSaved': 'Save the priority list first; the matcher uses the villages in it.',
    'match.summary': 'Proposal #{id}: covers {covered} of {total} weighted need.',
    'match.team': 'Team',
    'match.noTeam': 'No team: {reason}',
    'match.noTeamPlain': 'No team for this village.',
    'match.complete': 'complete',
    'match.partial': 'partial',
    'match.accept': 'Accept the proposal (create plans)',
    'match.accepted': 'Proposal accepted: {n} plans created.',
    'match.sectorHead': 'Companies per sector',
    'weights.title': 'Indicator weights',
    'weights.note': 'Note on the change',
    'weights.k': 'Cut-off k (share of deprivations)',
    'weights.save': 'Save weights & recompute',
    'weights.saving': 'Saving & recomputing…',
    'weights.saved': 'Weights version {version} saved. Ranking updated; ▲▼ show the changes.',
    'weights.current': 'Current version: {version} ({by})',
    'weights.reset': 'Restore defaults',
    'weights.sum': 'The server normalises the weights to sum to 1.',
    'plans.title': 'Company plans',
    'plans.filter': 'Status',
    'plans.all': 'All',
    'plans.empty': 'No plans with this status.',
    'plans.approve': 'Approve',
    'plans.reject': 'Reject',
    'plans.approved': 'Plan #{id} approved.',
    'plans.rejected': 'Plan #{id} rejected.',
    'export.title': 'Export the ranking',
    'export.note': 'Exports use disclosure control (counts below 5 hidden).',
    'print.button': 'Print map & table',
    'area.rect': 'Draw a rectangle',
    'area.poly': 'Draw a polygon',
    'area.cancel': 'Stop drawing',
    'area.hintRect': 'Click one corner on the map, then the opposite corner. Esc cancels.',
    'area.hintPoly': 'Click the boundary points on the map; click the first point to close. Esc cancels.',
    'area.selecting': 'Finding villages in the area…',
    'area.added': '{added} villages from the area added in rank order ({already} already in the list).',
    'area.none': 'No village in the drawn area.',
    'area.group': 'Pick by drawing an area',
  },
});

/**
 * @param {object} ctx shared map-view context (see map-view.js)
 */
export function createPlannerPanels(ctx) {
  // ---- Priority list + matcher ------------------------------------------------
  const prioPanel = h('section', { class: 'tab-panel', id: 'tab-priority', hidden: true });
  const prioAlert = h('div', { hidden: true });
  const matchAlert = h('div', { hidden: true });
  const year = new Date().getFullYear();
  const nameIn = h('input', { id: 'prio-name', type: 'text', required: true, maxlength: '120' });
  const yearIn = h('input', { id: 'prio-year', type: 'number', min: '2000', max: '2100', value: String(year) });
  const pickBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'prio-pick', 'aria-pressed': 'false', onclick: () => setPicking(!picking) });
  const itemsEl = h('ol', { class: 'prio-items', id: 'prio-items' });
  const saveBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'prio-save', onclick: save });
  const savedEl = h('p', { class: 'ok-line', id: 'prio-saved', role: 'status' });
  const listsEl = h('div', { id: 'prio-lists' });
  const modeSel = h('select', { id: 'match-mode' });
  const runBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'match-run', onclick: runMatch });
  const resultEl = h('div', { id: 'match-result', 'aria-live': 'polite' });
  const rectBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'area-rect', onclick: () => drawArea('Rectangle') });
  const polyBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'area-poly', onclick: () => drawArea('Polygon') });
  const drawCancelBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'area-draw-cancel', hidden: true, onclick: () => drawing?.cancel() });
  const areaNote = h('p', { class: 'legend-note', id: 'area-note', role: 'status', 'aria-live': 'polite' });
  let drawing = null; // {shape, cancel} while a selection area is being drawn
  let areaMsg = null; // [key, params] of the last area result
  let items = []; // [{code, name, kecamatan_name}]
  let saved = null; // last saved list
  let picking = false;
  let proposal = null;
  let proposalId = null;
  const teamLayer = L.layerGroup();

  function inList(code) {
    return items.some((x) => x.code === code);
  }

  function toggle(code) {
    const p = ctx.props(code);
    if (!p) return;
    if (inList(code)) items = items.filter((x) => x.code !== code);
    else items.push({ code, name: p.name, kecamatan_name: p.kecamatan_name });
    saved = null;
    renderPrio();
    ctx.restyle();
    ctx.table?.render();
  }

  /** Draw a rectangle or polygon; the server adds the villages it overlaps, in rank order. */
  async function drawArea(shape) {
    const map = ctx.map();
    if (!map || drawing) return;
    clearAlert(prioAlert);
    if (picking) setPicking(false);
    let mod;
    try {
      mod = await import('../area-editor.js');
    } catch (err) {
      showAlert(prioAlert, { message: errorText(err) });
      return;
    }
    // Clicks on villages place corners now; they do not open the village tab.
    ctx.setPicker(() => true);
    const d = mod.drawSelection(map, shape);
    drawing = { shape, cancel: d.cancel };
    areaMsg = null;
    renderPrio();
    const onKey = (ev) => {
      if (ev.key === 'Escape') d.cancel();
    };
    document.addEventListener('keydown', onKey);
    const geometry = await d.done;
    document.removeEventListener('keydown', onKey);
    drawing = null;
    ctx.setPicker(null);
    renderPrio();
    if (!geometry) return;
    areaNote.textContent = t('area.selecting');
    const err = await busy(
      shape === 'Rectangle' ? rectBtn : polyBtn,
      null,
      async () => {
        const r = await api.request('/villages/select', { method: 'POST', json: geometry, timeoutMs: 60000 });
        const found = r.villages || [];
        let added = 0;
        for (const v of found) {
          if (inList(v.code)) continue;
          items.push({ code: v.code, name: v.name, kecamatan_name: v.kecamatan_name });
          added++;
        }
        if (added) saved = null;
        areaMsg = found.length ? ['area.added', { added, already: found.length - added }] : ['area.none', {}];
        document.body.dataset.areaSelected = String(found.length);
        renderPrio();
        ctx.restyle();
        ctx.table?.render();
      },
      { alertHost: prioAlert, onUnauthorized: ctx.onUnauthorized },
    );
    if (err) {
      areaMsg = null;
      renderPrio();
    }
  }

  function setPicking(on) {
    picking = on;
    ctx.setPicker(on ? (p) => (toggle(p.code), true) : null);
    renderPrio();
  }

  async function save() {
    clearAlert(prioAlert);
    const name = nameIn.value.trim();
    if (!name || !items.length) {
      showAlert(prioAlert, { message: t('prio.needName') });
      return;
    }
    await busy(
      saveBtn,
      t('prio.saving'),
      async () => {
        const l = await api.savePriorities({ name, year: Number(yearIn.value) || year, note: '', items: items.map((x, i) => ({ code: x.code, note: '', position: i + 1 })) });
        saved = l;
        renderPrio();
        loadLists();
      },
      { alertHost: prioAlert, onUnauthorized: ctx.onUnauthorized },
    );
  }

  async function loadLists() {
    try {
      const r = await api.priorities();
      const ls = r.lists || [];
      replaceChildren(
        listsEl,
        ls.length
          ? [
              h('h4', { class: 'sub-h', dataset: { i18n: 'prio.saved.lists' } }, t('prio.saved.lists')),
              h(
                'ul',
                { class: 'plain-list' },
                ls.map((l) =>
                  h(
                    'li',
                    null,
                    `${l.name} (${l.year}, v${l.version}, ${(l.items || []).length}) `,
                    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => loadList(l) }, t('prio.load')),
                  ),
                ),
              ),
            ]
          : null,
      );
    } catch {
      replaceChildren(listsEl);
    }
  }

  function loadList(l) {
    items = (l.items || []).map((x) => ({ code: x.code, name: x.name, kecamatan_name: x.kecamatan_name }));
    nameIn.value = l.name;
    yearIn.value = String(l.year);
    saved = l;
    renderPrio();
    ctx.restyle();
    ctx.table?.render();
  }

  async function runMatch() {
    clearAlert(matchAlert);
    if (!saved || !items.length) {
      showAlert(matchAlert, { message: t('match.needSaved') });
      return;
    }
    replaceChildren(resultEl, loadingLine(t('match.running')));
    const err = await busy(
      runBtn,
      t('match.running'),
      async () => {
        const r = await api.runMatch({ mode: modeSel.value, year: saved.year, villages: (saved.items || items).map((x) => x.code) });
        proposal = r.proposal;
        proposalId = r.id ?? null;
        renderProposal();
      },
      { alertHost: matchAlert, onUnauthorized: ctx.onUnauthorized },
    );
    if (err) replaceChildren(resultEl);
  }

  function renderProposal() {
    teamLayer.clearLayers();
    if (!proposal) {
      replaceChildren(resultEl);
      return;
    }
    const p = proposal;
    const codes = (saved?.items || items).map((x) => x.code);
    const teams = new Map((p.teams || []).map((tm) => [tm.village_code, tm]));
    const uncovered = new Map((p.uncovered || []).map((u) => [u.village_code, u]));
    const bySector = new Map();
    for (const a of p.assignments || []) {
      if (!bySector.has(a.sector_name)) bySector.set(a.sector_name, new Map());
      const m = bySector.get(a.sector_name);
      m.set(a.company_name, (m.get(a.company_name) || 0) + a.households);
    }
    const reasons = new Map();
    for (const a of p.assignments || []) {
      if (!reasons.has(a.village_code)) reasons.set(a.village_code, []);
      reasons.get(a.village_code).push(a);
    }
    // Team markers on the map (the group is on the map first, so markers get elements).
    teamLayer.addTo(ctx.map());
    for (const code of codes) {
      const c = ctx.centerOf(code);
      const tm = teams.get(code);
      if (!c) continue;
      const n = tm ? tm.members.length : 0;
      const icon = L.divIcon({
        className: `team-marker ${tm ? (tm.complete ? 'is-complete' : 'is-partial') : 'is-none'}`,
        html: `<span>${n}</span>`,
        iconSize: [26, 26],
      });
      const mk = L.marker(c, { icon, keyboard: false, title: '' });
      const tip = tm ? `${ctx.props(code)?.name}: ${tm.members.join(', ')}` : `${ctx.props(code)?.name}: ${t('match.noTeamPlain')}`;
      mk.bindTooltip(tip, { direction: 'top', className: 'village-tooltip' });
      mk.addTo(teamLayer);
      mk.getElement()?.setAttribute('data-team', code);
    }
    replaceChildren(
      resultEl,
      h('p', { class: 'ok-line' }, t('match.summary', { id: proposalId ?? '—', covered: num(p.need_covered), total: num(p.need_total) })),
      p.mode === 'locus' || modeSel.value === 'locus'
        ? h(
            'ul',
            { class: 'team-list', id: 'team-list' },
            codes.map((code) => {
              const tm = teams.get(code);
              const name = ctx.props(code)?.name || code;
              return h(
                'li',
                { dataset: { code, team: tm ? 'yes' : 'no' } },
                h('strong', null, name),
                tm
                  ? [
                      ` — ${t('match.team')} (${tm.complete ? t('match.complete') : t('match.partial')}): `,
                      h('span', { class: 'team-members' }, tm.members.join(', ')),
                      h('span', { class: 'cell-sub' }, `${tm.sectors.join(', ')} · ${rupiah(tm.cost)}`),
                      h('ul', { class: 'reasons' }, (reasons.get(code) || []).map((a) => h('li', null, `${a.company_name} (${a.sector_name}): ${a.reason}`))),
                    ]
                  : h('span', { class: 'cell-sub' }, uncovered.get(code)?.reason ? t('match.noTeam', { reason: uncovered.get(code).reason }) : t('match.noTeamPlain')),
              );
            }),
          )
        : [
            h('h4', { class: 'sub-h' }, t('match.sectorHead')),
            h(
              'ul',
              { class: 'plain-list', id: 'sector-list' },
              [...bySector].map(([sec, m]) => h('li', null, h('strong', null, sec), ': ', [...m].map(([c, hh]) => `${c} (${num(hh)} KK)`).join(', '))),
            ),
          ],
      proposalId
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-secondary',
              id: 'match-accept',
              onclick: (ev) =>
                busy(ev.currentTarget, null, async () => {
                  const r = await api.acceptProposal(proposalId);
                  showAlert(matchAlert, { message: t('match.accepted', { n: r.plans_created }), tone: 'info' });
                  ev.target.disabled = true;
                }, { alertHost: matchAlert, onUnauthorized: ctx.onUnauthorized }),
            },
            t('match.accept'),
          )
        : null,
    );
  }

  function renderPrio() {
    pickBtn.textContent = picking ? t('prio.pickOn') : t('prio.pick');
    pickBtn.setAttribute('aria-pressed', String(picking));
    pickBtn.classList.toggle('is-on', picking);
    rectBtn.textContent = t('area.rect');
    polyBtn.textContent = t('area.poly');
    drawCancelBtn.textContent = t('area.cancel');
    drawCancelBtn.hidden = !drawing;
    for (const [b, shape] of [[rectBtn, 'Rectangle'], [polyBtn, 'Polygon']]) {
      b.setAttribute('aria-pressed', String(drawing?.shape === shape));
      b.classList.toggle('is-on', drawing?.shape === shape);
      b.disabled = !!drawing && drawing.shape !== shape;
    }
    areaNote.textContent = drawing ? t(drawing.shape === 'Rectangle' ? 'area.hintRect' : 'area.hintPoly') : areaMsg ? t(areaMsg[0], areaMsg[1]) : '';
    prioPanel.querySelector('#area-group-label').textContent = t('area.group');
    saveBtn.textContent = t('prio.save');
    runBtn.textContent = t('match.run');
    replaceChildren(modeSel, h('option', { value: 'locus' }, t('match.locus')), h('option', { value: 'sector' }, t('match.sector')));
    modeSel.value = modeSel.dataset.v || 'locus';
    replaceChildren(
      itemsEl,
      items.length
        ? items.map((x, i) =>
            h(
              'li',
              { dataset: { code: x.code } },
              h('span', { class: 'cell-name' }, x.name),
              h('span', { class: 'cell-sub' }, `${x.kecamatan_name || ''} · ${x.code}`),
              h(
                'span',
                { class: 'item-actions' },
                i > 0
                  ? h('button', { type: 'button', class: 'btn-icon', 'aria-label': t('prio.up', { name: x.name }), title: t('prio.up', { name: x.name }), onclick: () => { [items[i - 1], items[i]] = [items[i], items[i - 1]]; saved = null; renderPrio(); } }, '↑')
                  : null,
                h('button', { type: 'button', class: 'btn-icon', 'aria-label': t('prio.remove', { name: x.name }), title: t('prio.remove', { name: x.name }), onclick: () => toggle(x.code) }, '×'),
              ),
            ),
          )
        : h('li', { class: 'panel-empty', dataset: { i18n: 'prio.empty' } }, t('prio.empty')),
    );
    savedEl.textContent = saved ? t('prio.saved', { name: saved.name, version: saved.version, n: (saved.items || []).length }) : '';
    savedEl.hidden = !saved;
    prioPanel.querySelector('#prio-count').textContent = t('prio.count', { n: items.length });
    for (const [id, key] of [['prio-name-label', 'prio.name'], ['prio-year-label', 'prio.year'], ['prio-title', 'prio.title'], ['match-title', 'match.title'], ['match-mode-label', 'match.mode'], ['prio-hint', 'prio.hint']]) {
      prioPanel.querySelector(`#${id}`).textContent = t(key);
    }
  }
  modeSel.addEventListener('change', () => {
    modeSel.dataset.v = modeSel.value;
  });

  replaceChildren(
    prioPanel,
    h('h3', { class: 'panel-h', id: 'prio-title' }),
    h('p', { class: 'legend-note', id: 'prio-hint' }),
    h('div', { class: 'form-row' }, h('div', { class: 'field field-sm grow' }, h('label', { for: 'prio-name', id: 'prio-name-label' }), nameIn), h('div', { class: 'field field-sm w-year' }, h('label', { for: 'prio-year', id: 'prio-year-label' }), yearIn)),
    h('div', { class: 'btn-row' }, pickBtn, h('span', { class: 'legend-note', id: 'prio-count', role: 'status' })),
    h('div', { class: 'btn-row', role: 'group', 'aria-labelledby': 'area-group-label' }, h('span', { class: 'legend-note', id: 'area-group-label' }), rectBtn, polyBtn, drawCancelBtn),
    areaNote,
    itemsEl,
    prioAlert,
    h('div', { class: 'btn-row' }, saveBtn),
    savedEl,
    listsEl,
    h('h3', { class: 'panel-h', id: 'match-title' }),
    h('div', { class: 'field field-sm' }, h('label', { for: 'match-mode', id: 'match-mode-label' }), modeSel),
    h('div', { class: 'btn-row' }, runBtn),
    matchAlert,
    resultEl,
  );
  nameIn.value = `Prioritas ${year}`;
  renderPrio();

  // ---- Weights ----------------------------------------------------------------
  const wPanel = h('section', { class: 'tab-panel', id: 'tab-weights', hidden: true });
  const wAlert = h('div', { hidden: true });
  const wBody = h('div', { id: 'weights-form' });
  let weights = null;
  let defaults = null;

  async function loadWeights() {
    replaceChildren(wBody, loadingLine('…'));
    try {
      const r = await api.getWeights();
      weights = r.current || r.defaults;
      defaults = r.defaults;
      renderWeights();
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(wBody);
      showAlert(wAlert, { message: errorText(err) });
    }
  }

  function renderWeights(from = weights) {
    if (!from) return;
    const inds = Object.keys(from.indicators || {}).sort();
    const inputs = inds.map((k) => ({
      k,
      el: h('input', { type: 'number', min: '0', max: '1', step: '0.05', id: `w-${k}`, value: String(Math.round(from.indicators[k] * 1000) / 1000) }),
    }));
    const kIn = h('input', { type: 'number', id: 'w-k', min: '0.01', max: '1', step: '0.01', value: String(Math.round((from.k ?? 1 / 3) * 1000) / 1000) });
    const noteIn = h('input', { type: 'text', id: 'w-note', maxlength: '200' });
    const btn = h('button', { type: 'button', class: 'btn btn-primary', id: 'weights-save' }, t('weights.save'));
    const okEl = h('p', { class: 'ok-line', role: 'status', id: 'weights-saved', hidden: true });
    btn.addEventListener('click', async () => {
      clearAlert(wAlert);
      const indicators = {};
      for (const { k, el } of inputs) indicators[k] = Number(el.value);
      await busy(
        btn,
        t('weights.saving'),
        async () => {
          const r = await api.putWeights({ indicators, k: Number(kIn.value), note: noteIn.value.trim() });
          weights = r.weights;
          await ctx.reload({ keepDelta: true });
          renderWeights();
          const ok = wBody.querySelector('#weights-saved');
          ok.textContent = t('weights.saved', { version: r.weights?.version ?? '?' });
          ok.hidden = false;
        },
        { alertHost: wAlert, onUnauthorized: ctx.onUnauthorized },
      );
    });
    replaceChildren(
      wBody,
      h('p', { class: 'legend-note' }, t('weights.current', { version: weights?.version ?? '—', by: weights?.created_by ?? '' })),
      inputs.map(({ k, el }) => h('div', { class: 'field field-sm field-inline' }, h('label', { for: el.id }, indicatorLabel(k)), el)),
      h('div', { class: 'field field-sm field-inline' }, h('label', { for: 'w-k', dataset: { i18n: 'weights.k' } }, t('weights.k')), kIn),
      h('div', { class: 'field field-sm' }, h('label', { for: 'w-note', dataset: { i18n: 'weights.note' } }, t('weights.note')), noteIn),
      h('p', { class: 'legend-note', dataset: { i18n: 'weights.sum' } }, t('weights.sum')),
      h('div', { class: 'btn-row' }, btn, h('button', { type: 'button', class: 'btn btn-ghost', id: 'weights-defaults', onclick: () => renderWeights(defaults) }, t('weights.reset'))),
      okEl,
    );
  }
  replaceChildren(wPanel, h('h3', { class: 'panel-h', dataset: { i18n: 'weights.title' } }, t('weights.title')), wAlert, wBody);

  // ---- Plans ------------------------------------------------------------------
  const pPanel = h('section', { class: 'tab-panel', id: 'tab-plans', hidden: true });
  const pAlert = h('div', { hidden: true });
  const pStatus = h('select', { id: 'plans-status' });
  const pBody = h('div', { id: 'plans-list' });
  const pOk = h('p', { class: 'ok-line', role: 'status', hidden: true, id: 'plans-ok' });
  pStatus.addEventListener('change', loadPlans);

  async function loadPlans() {
    clearAlert(pAlert);
    replaceChildren(pBody, loadingLine('…'));
    try {
      const q = pStatus.value ? { status: pStatus.value } : {};
      const r = await api.plans(q);
      const ps = r.plans || [];
      replaceChildren(
        pBody,
        ps.length
          ? h(
              'ul',
              { class: 'plan-list' },
              ps.map((p) =>
                h(
                  'li',
                  { dataset: { plan: String(p.id), status: p.status } },
                  h('div', null, h('strong', null, `#${p.id} ${p.company_name}`), h('span', { class: `status status-${p.status}` }, planStatusLabel(p.status))),
                  h('div', { class: 'cell-sub' }, `${p.village_name} (${p.village_code}) · ${p.sector} · ${p.year} · ${rupiah(p.budget)} · ${num(p.target_households)} KK`),
                  p.status === 'submitted'
                    ? h(
                        'div',
                        { class: 'btn-row' },
                        h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'aria-label': `${t('plans.approve')} #${p.id}`, onclick: (ev) => decide(ev.currentTarget, p, 'approved') }, t('plans.approve')),
                        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': `${t('plans.reject')} #${p.id}`, onclick: (ev) => decide(ev.currentTarget, p, 'rejected') }, t('plans.reject')),
                      )
                    : null,
                ),
              ),
            )
          : h('p', { class: 'panel-empty', dataset: { i18n: 'plans.empty' } }, t('plans.empty')),
      );
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(pBody);
      showAlert(pAlert, { message: errorText(err) });
    }
  }

  async function decide(btn, p, status) {
    const err = await busy(
      btn,
      null,
      async () => {
        if (status === 'approved') await api.approvePlan(p.id);
        else await api.planStatus(p.id, { status });
      },
      { alertHost: pAlert, onUnauthorized: ctx.onUnauthorized },
    );
    if (!err) {
      pOk.textContent = t(status === 'approved' ? 'plans.approved' : 'plans.rejected', { id: p.id });
      pOk.hidden = false;
      loadPlans();
    }
  }

  function renderPlansHead() {
    const v = pStatus.value || 'submitted';
    replaceChildren(
      pStatus,
      h('option', { value: 'submitted' }, planStatusLabel('submitted')),
      h('option', { value: 'approved' }, planStatusLabel('approved')),
      h('option', { value: 'running' }, planStatusLabel('running')),
      h('option', { value: 'rejected' }, planStatusLabel('rejected')),
      h('option', { value: '' }, t('plans.all')),
    );
    pStatus.value = v;
  }
  renderPlansHead();
  replaceChildren(
    pPanel,
    h('h3', { class: 'panel-h', dataset: { i18n: 'plans.title' } }, t('plans.title')),
    h('div', { class: 'field field-sm' }, h('label', { for: 'plans-status', dataset: { i18n: 'plans.filter' } }, t('plans.filter')), pStatus),
    pAlert,
    pOk,
    pBody,
  );

  // ---- Exports (under the ranking table) ----------------------------------------
  function exportLinks(query) {
    return h(
      'div',
      { class: 'export-box', id: 'exports' },
      h('span', { class: 'export-title', dataset: { i18n: 'export.title' } }, t('export.title')),
      ['csv', 'xlsx', 'geojson'].map((f) => h('a', { class: 'btn btn-secondary btn-sm', href: api.exportUrl(f, query), download: '', dataset: { format: f } }, f.toUpperCase())),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'print-btn', onclick: () => window.print() }, t('print.button')),
      h('p', { class: 'legend-note', dataset: { i18n: 'export.note' } }, t('export.note')),
    );
  }

  // ---- Coverage (need vs planned money, gaps, overlaps) -----------------------------
  const coverage = createCoveragePanel(ctx);
  const companyAreas = createCompanyAreasPanel(ctx);

  let loadedW = false;
  let loadedP = false;
  return {
    tabs: [
      { id: 'priority', label: () => t('tab.priority'), panel: prioPanel, onShow: () => loadLists() },
      { id: 'weights', label: () => t('tab.weights'), panel: wPanel, onShow: () => { if (!loadedW) { loadedW = true; loadWeights(); } } },
      { id: 'plans', label: () => t('tab.plans'), panel: pPanel, onShow: () => { if (!loadedP) { loadedP = true; } loadPlans(); } },
      coverage.tab,
      companyAreas.tab,
    ],
    inList,
    toggle,
    /** Outline for villages in the list. */
    /** Outline for villages in the list; fill by coverage once that tab is open. */
    mark: (p) => {
      const c = coverage.mark(p);
      const l = inList(p.code) ? { color: '#6d28d9', weight: 3, dashArray: null, opacity: 1 } : null;
      return c || l ? { ...c, ...l } : null;
    },
    exportLinks,
    render() {
      renderPrio();
      renderPlansHead();
      if (weights) renderWeights();
      if (proposal) renderProposal();
      coverage.render();
      companyAreas.render();
    },
    close() {
      coverage.close();
      companyAreas.close();
      teamLayer.clearLayers();
      teamLayer.remove();
      picking = false;
      drawing?.cancel();
    },
    formatNumber,
  };
}
