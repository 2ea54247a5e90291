// Map view: Leaflet map + village layer (choropleth) + side panel with the
// role's tabs + legend with layer switches.
//
// The village layer and the ranking come from one request,
// GET /api/v1/villages?format=geojson (boundaries with the scores the caller
// may see). Overlays (kecamatan outlines, need density, companies) come from
// /tiles through the GeoJSON grid layer in tilelayer.js.

import * as api from '../api.js';
import { byId, h, replaceChildren } from '../dom.js';
import { extend, formatNumber, t } from '../i18n.js';
import { addBasemap, createMap, createVillageLayer, destroyMap, localizeControls } from '../map.js';
import { getUser, setPageState, setVillageCount } from '../state.js';
import { createGeoJSONTileLayer } from '../tilelayer.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { createChoropleth } from '../components/choropleth.js';
import { createRankingTable } from '../components/ranking-table.js';
import { renderVillageDetail } from '../components/village-detail.js';
import { createVillagePanel, villageLabel } from '../components/village-panel.js';
import { createTabs, errorText } from '../components/ui.js';
import { createPlannerPanels } from '../panels/planner.js';
import { createCompanyPanel } from '../panels/company.js';
import { createGisPanel } from '../panels/gis.js';
import { createOfficerPanel } from '../panels/officer.js';

extend({
  id: {
    'tab.village': 'Desa',
    'search.label': 'Cari nama atau kode desa',
    'search.placeholder': 'mis. Wanajaya atau 99.01.07.2003',
    'search.none': 'Tidak ada desa “{q}”.',
    'layers.title': 'Lapisan',
    'layers.kecamatan': 'Batas kecamatan',
    'layers.need': 'Kepadatan KK membutuhkan (grid)',
    'layers.companies': 'Wilayah operasi perusahaan',
    'layers.failed': 'Lapisan {name} gagal dimuat: {msg}',
    'map.stale': 'Skor belum diperbarui sejak batas/bobot terakhir berubah.',
    'map.noScores': 'Belum ada skor kebutuhan; peta menampilkan batas saja.',
  },
  en: {
    'tab.village': 'Village',
    'search.label': 'Search a village name or code',
    'search.placeholder': 'e.g. Wanajaya or 99.01.07.2003',
    'search.none': 'No village “{q}”.',
    'layers.title': 'Layers',
    'layers.kecamatan': 'District boundaries',
    'layers.need': 'Density of households in need (grid)',
    'layers.companies': 'Companies’ operating areas',
    'layers.failed': 'Layer {name} failed to load: {msg}',
    'map.stale': 'Scores are out of date since boundaries/weights last changed.',
    'map.noScores': 'No need scores yet; the map shows boundaries only.',
  },
});

const NEED_COLORS = ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'];

/**
 * @param {object} o
 * @param {() => object} o.getConfig returns the /config document ({} if unavailable)
 * @param {() => void} o.onUnauthorized the session is gone (401)
 */
export function createMapView({ getConfig, onUnauthorized }) {
  const view = byId('map-view');
  const mapEl = byId('map');
  const loadingEl = byId('map-loading');
  const alertHost = byId('map-alert');
  const countEl = byId('map-count');
  const basemapNote = byId('basemap-note');
  const tabList = byId('panel-tabs');
  const tabPanels = byId('tab-panels');
  const villageTab = byId('tab-village');
  const searchIn = byId('village-search');
  const searchList = byId('village-options');
  const searchMsg = byId('search-msg');
  const layersHost = byId('layer-switches');
  const layerAlert = byId('layer-alert');
  const noteEl = byId('map-note');

  let map = null;
  let villages = null; // village layer handle
  let abort = null;
  let resizeObs = null;
  let lastCount = null;
  let rows = [];
  let meta = {};
  let picker = null;
  let roleTabs = [];
  let tabs = null;
  let planner = null;
  let rolePanel = null;
  const overlays = {};
  const marks = [];

  const choropleth = createChoropleth(byId('choropleth'), () => {
    villages?.restyle();
    table?.render();
  });

  const panel = createVillagePanel({
    select: byId('village-select'),
    details: byId('village-details'),
    onPick(code) {
      villages?.selectCode(code, { zoom: code != null });
    },
    onZoom(code) {
      villages?.zoomTo(code);
    },
    extra(p, el) {
      if (p?.code) renderVillageDetail(el, p.code, { plans: getUser()?.role !== 'officer', onUnauthorized });
    },
    actions(p) {
      if (!planner) return null;
      const listed = planner.inList(p.code);
      return h('button', { type: 'button', class: 'btn btn-secondary', id: 'prio-toggle', onclick: () => { planner.toggle(p.code); panel.render(); } }, t(listed ? 'prio.removeShort' : 'prio.add'));
    },
  });

  // Shared context for role panels.
  const ctx = {
    map: () => map,
    rows: () => rows,
    meta: () => meta,
    props: (code) => rows.find((p) => p.code === code) || null,
    centerOf: (code) => villages?.centerOf(code) || null,
    /** Select a village; keepTab leaves the current tab in view. */
    selectCode: (code, opts = {}) => {
      if (opts.keepTab) lastSelectFromMap = false;
      villages?.selectCode(code, opts);
    },
    zoomToCodes: (codes) => villages?.zoomToCodes(codes),
    restyle: () => villages?.restyle(),
    reload: (opts) => loadVillages(opts),
    setPicker(fn) {
      picker = fn;
      mapEl.classList.toggle('is-picking', !!fn);
    },
    addMark(fn) {
      marks.push(fn);
      return () => marks.splice(marks.indexOf(fn), 1);
    },
    onUnauthorized,
    showVillageTab: () => tabs?.select('village'),
    table: null,
  };

  let table = null;

  function onSelect(props) {
    panel.show(props);
    table?.select(props?.code ?? null);
    // A click on the map opens the village tab; a pick in the ranking table
    // keeps the table in view.
    if (props && lastSelectFromMap) tabs?.select('village');
    lastSelectFromMap = true;
  }
  let lastSelectFromMap = true;

  function mark(p) {
    for (const fn of marks) {
      const m = fn(p);
      if (m) return m;
    }
    return null;
  }

  // ---- Search --------------------------------------------------------------------
  // The suggestions list (one option per village) is built when the search
  // box is first used, not while the map is being drawn.
  let searchListFor = null;
  function renderSearchOptions() {
    if (searchListFor === rows) return;
    searchListFor = rows;
    replaceChildren(
      searchList,
      rows.map((p) => h('option', { value: `${p.name} — ${p.code}` }, `Kec. ${p.kecamatan_name}`)),
    );
  }
  searchIn.addEventListener('focus', renderSearchOptions);
  searchIn.addEventListener('input', renderSearchOptions);
  function findVillage(q) {
    const s = q.trim().toLowerCase();
    if (!s) return null;
    const code = s.match(/\d{2}\.\d{2}\.\d{2}\.\d{4}/)?.[0];
    if (code) return rows.find((p) => p.code === code) || null;
    return rows.find((p) => p.name?.toLowerCase() === s) || rows.find((p) => p.name?.toLowerCase().startsWith(s)) || rows.find((p) => p.code.startsWith(s)) || null;
  }
  let lastSearch = '';
  function doSearch() {
    const q = searchIn.value;
    lastSearch = q;
    const p = findVillage(q);
    searchMsg.hidden = !!p || !q.trim();
    searchMsg.textContent = p ? '' : t('search.none', { q: q.trim() });
    if (p) {
      villages?.selectCode(p.code, { zoom: true });
      tabs?.select('village');
    }
  }
  // 'change' fires when a datalist option is chosen, but also on blur: only
  // act on a value not searched yet.
  searchIn.addEventListener('change', () => {
    if (searchIn.value !== lastSearch && findVillage(searchIn.value)) doSearch();
  });
  searchIn.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      doSearch();
    }
  });

  // ---- Overlays (tiles) -----------------------------------------------------------------
  const overlayDefs = [
    {
      id: 'kecamatan',
      label: 'layers.kecamatan',
      on: true,
      make: () =>
        createGeoJSONTileLayer({
          layer: 'kecamatan',
          mode: 'outline',
          minZoom: 8,
          pane: 'overlayPane',
          style: () => ({ color: '#1e293b', weight: 2.2, opacity: 0.85, interactive: false }),
          onChange: (n) => (document.body.dataset.kecamatanFeatures = String(n)),
          onError: (err) => layerError('layers.kecamatan', err),
        }),
    },
    {
      id: 'need',
      label: 'layers.need',
      on: false,
      make: () =>
        createGeoJSONTileLayer({
          layer: 'need',
          mode: 'first',
          minZoom: 10,
          style: (p) => {
            const v = p.households || 0;
            const i = v >= 100 ? 4 : v >= 50 ? 3 : v >= 25 ? 2 : v >= 15 ? 1 : 0;
            return { stroke: false, fillColor: NEED_COLORS[i], fillOpacity: 0.75, interactive: true };
          },
          tooltip: (p) => `${formatNumber(p.households || 0)} KK`,
          onChange: (n) => (document.body.dataset.needFeatures = String(n)),
          onError: (err) => layerError('layers.need', err),
        }),
    },
    {
      id: 'companies',
      label: 'layers.companies',
      on: getUser()?.role === 'company',
      make: () =>
        createGeoJSONTileLayer({
          layer: 'companies',
          mode: 'outline',
          minZoom: 8,
          style: () => ({ color: '#0f766e', weight: 2.5, dashArray: '6 4', opacity: 0.95 }),
          tooltip: (p) => p.name || '',
          onChange: (n) => (document.body.dataset.companyFeatures = String(n)),
          onError: (err) => layerError('layers.companies', err),
        }),
    },
  ];
  const layerOn = {};

  // Shown errors are kept so a language switch can say them again in the new language.
  let layerFailure = null; // {label, err}
  function layerError(label, err) {
    if (err instanceof api.ApiError && err.status === 401) return onUnauthorized();
    layerFailure = { label, err };
    renderLayerError();
  }
  function renderLayerError() {
    if (!layerFailure) return clearAlert(layerAlert);
    const { label, err } = layerFailure;
    showAlert(layerAlert, { message: t('layers.failed', { name: t(label), msg: errorText(err) }) });
  }
  let loadFailure = null; // the error of the last village load, while its alert shows
  function renderLoadError() {
    if (!loadFailure) return clearAlert(alertHost);
    const err = loadFailure;
    showAlert(alertHost, {
      title: t('map.loadFailed'),
      message: err instanceof api.ApiError ? err.userMessage() : String(err),
      actions: [h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => loadVillages() }, t('map.retry'))],
    });
  }

  function setOverlay(id, on) {
    layerOn[id] = on;
    if (!map) return;
    if (on && !overlays[id]) {
      overlays[id] = overlayDefs.find((d) => d.id === id).make().addTo(map);
    } else if (!on && overlays[id]) {
      overlays[id].remove();
      delete overlays[id];
    }
  }

  function renderLayerSwitches() {
    replaceChildren(
      layersHost,
      h('p', { class: 'legend-sub' }, t('layers.title')),
      overlayDefs.map((d) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', id: `layer-${d.id}`, checked: !!layerOn[d.id], onchange: (ev) => setOverlay(d.id, ev.target.checked) }),
          ` ${t(d.label)}`,
        ),
      ),
    );
  }

  // ---- Villages --------------------------------------------------------------------------
  async function loadVillages({ keepDelta = false } = {}) {
    abort?.abort();
    abort = new AbortController();
    const { signal } = abort;

    if (!keepDelta) {
      setPageState('loading');
      setVillageCount(null);
    }
    loadFailure = null;
    clearAlert(alertHost);
    loadingEl.hidden = false;
    countEl.hidden = true;

    let fc;
    try {
      fc = await api.villagesGeoJSON({ signal });
    } catch (err) {
      if (signal.aborted) return;
      loadingEl.hidden = true;
      if (err instanceof api.ApiError && err.status === 401) {
        onUnauthorized();
        return;
      }
      loadFailure = err;
      renderLoadError();
      setPageState('error');
      return;
    }
    if (signal.aborted || !map) return;

    const selectedBefore = villages?.selectedCode?.() ?? null;
    if (villages) villages.layer.remove();
    const data = fc && Array.isArray(fc.features) ? fc : { type: 'FeatureCollection', features: [] };
    meta = fc?.sinergi || {};
    rows = data.features.map((f) => f.properties || {}).filter((p) => p.code != null);
    choropleth.setData(rows);
    villages = createVillageLayer(map, data, {
      tooltip: villageLabel,
      onSelect,
      fill: (p) => choropleth.fill(p),
      mark,
      onHover: (code) => table?.hover(code),
      onClick: (p) => (picker ? picker(p) : false),
      fit: !keepDelta,
    });
    panel.setVillages(rows);
    table?.setRows(rows, { keepDelta });
    if (searchListFor) renderSearchOptions(); // already in use: keep it current
    if (keepDelta && selectedBefore) {
      lastSelectFromMap = false;
      villages.selectCode(selectedBefore);
    } else panel.show(null);
    for (const ov of Object.values(overlays)) ov.group.bringToFront?.();
    loadingEl.hidden = true;
    lastCount = villages.count;
    renderCount();
    renderNote();
    setVillageCount(villages.count);
    setPageState('ready');
  }

  function renderNote() {
    const hasScores = rows.some((p) => typeof p.m0_eb === 'number' || typeof p.m0 === 'number');
    const msg = !hasScores && rows.length ? t('map.noScores') : meta.stale ? t('map.stale') : '';
    noteEl.textContent = msg;
    noteEl.hidden = !msg;
  }

  function renderCount() {
    if (lastCount == null) return;
    const per = meta.period ? ` · ${meta.period}` : '';
    countEl.textContent = t('map.count', { n: formatNumber(lastCount) }) + per;
    countEl.hidden = false;
  }

  // ---- Role tabs --------------------------------------------------------------------------
  function buildTabs(role) {
    for (const p of [...tabPanels.children]) if (p !== villageTab) p.remove();
    roleTabs = [];
    planner = null;
    rolePanel = null;
    table = null;
    ctx.table = null;
    marks.length = 0;
    const villageDef = { id: 'village', label: () => t('tab.village'), panel: villageTab };
    if (role === 'planner') {
      const rankPanel = h('section', { class: 'tab-panel', id: 'tab-ranking', hidden: true });
      const tableHost = h('div', { id: 'ranking-host' });
      rankPanel.append(tableHost);
      planner = createPlannerPanels(ctx);
      table = createRankingTable(tableHost, {
        measure: () => choropleth.measure(),
        onHover: (code) => villages?.hoverCode(code),
        onSelect: (code) => {
          if (picker) {
            planner.toggle(code);
            return;
          }
          lastSelectFromMap = false;
          villages?.selectCode(code, { zoom: true });
        },
        onDetails: () => tabs.select('village', { focus: true }),
        inList: (code) => planner.inList(code),
        onKecamatan: (kec, codes) => villages?.zoomToCodes(codes),
      });
      ctx.table = table;
      const exp = h('div', { id: 'export-host' });
      rankPanel.append(exp);
      planner.exportHost = exp;
      replaceChildren(exp, planner.exportLinks({}));
      marks.push(planner.mark);
      roleTabs = [{ id: 'ranking', label: () => t('tab.ranking'), panel: rankPanel }, villageDef, ...planner.tabs];
    } else if (role === 'company') {
      rolePanel = createCompanyPanel(ctx);
      roleTabs = [...rolePanel.tabs, villageDef];
      if (rolePanel.mark) marks.push(rolePanel.mark);
    } else if (role === 'gis') {
      rolePanel = createGisPanel(ctx);
      roleTabs = [...rolePanel.tabs, villageDef];
      if (rolePanel.mark) marks.push(rolePanel.mark);
    } else if (role === 'officer') {
      rolePanel = createOfficerPanel(ctx);
      roleTabs = [...rolePanel.tabs, villageDef];
    } else {
      roleTabs = [villageDef];
    }
    for (const tb of roleTabs) if (tb.panel !== villageTab) tabPanels.append(tb.panel);
    tabs = createTabs(tabList, tabPanels, roleTabs, (id) => roleTabs.find((x) => x.id === id)?.onShow?.());
    tabList.hidden = roleTabs.length < 2;
    tabs.select(roleTabs[0].id);
  }

  /** Basemap and switched-on overlays, once per opened map (after the first village load). */
  let extrasFor = null;
  function startExtras() {
    if (!map || extrasFor === map) return;
    extrasFor = map;
    addBasemap(map, getConfig(), () => {
      basemapNote.hidden = false;
    });
    for (const d of overlayDefs) if (layerOn[d.id]) setOverlay(d.id, true);
  }

  return {
    open() {
      view.hidden = false;
      basemapNote.hidden = true;
      const role = getUser()?.role;
      view.dataset.role = role || '';
      if (!map) {
        // The basemap waits until the villages are drawn (see startExtras).
        map = createMap(mapEl, getConfig(), { deferBasemap: true });
        localizeControls(map, { zoomIn: t('map.zoomIn'), zoomOut: t('map.zoomOut') });
        resizeObs = new ResizeObserver(() => map?.invalidateSize({ pan: false }));
        resizeObs.observe(mapEl);
      }
      panel.clear();
      searchIn.value = '';
      searchMsg.hidden = true;
      buildTabs(role);
      for (const d of overlayDefs) {
        layerOn[d.id] = d.id === 'companies' ? role === 'company' : d.on;
      }
      renderLayerSwitches();
      layerFailure = null;
      clearAlert(layerAlert);
      // The village layer first: overlay tiles and basemap tiles requested now
      // would queue it behind them (six connections per host on HTTP/1.1) and
      // share a slow line with it; they would also be drawn for the default
      // view and again after fitting to the villages.
      const opened = map;
      return loadVillages()
        .finally(() => {
          // After the frame that shows the villages, not in the same task.
          requestAnimationFrame(() => setTimeout(() => map === opened && startExtras(), 0));
        })
        .then(() => rolePanel?.onData?.());
    },
    close() {
      abort?.abort();
      abort = null;
      planner?.close();
      rolePanel?.close?.();
      for (const id of Object.keys(overlays)) {
        overlays[id].remove();
        delete overlays[id];
      }
      resizeObs?.disconnect();
      resizeObs = null;
      if (map) destroyMap(map);
      map = null;
      villages = null;
      picker = null;
      lastCount = null;
      rows = [];
      searchListFor = null;
      replaceChildren(searchList);
      panel.clear();
      loadFailure = null;
      layerFailure = null;
      clearAlert(alertHost);
      clearAlert(layerAlert);
      loadingEl.hidden = true;
      countEl.hidden = true;
      setVillageCount(null);
      view.hidden = true;
    },
    onLangChange() {
      if (map) localizeControls(map, { zoomIn: t('map.zoomIn'), zoomOut: t('map.zoomOut') });
      panel.render();
      renderCount();
      renderNote();
      choropleth.render();
      table?.render();
      tabs?.render();
      renderLayerSwitches();
      if (loadFailure) renderLoadError();
      if (layerFailure) renderLayerError();
      // Built here once per sign-in (buildTabs): rebuild it in the new language.
      if (planner?.exportHost) replaceChildren(planner.exportHost, planner.exportLinks({}));
      planner?.render();
      rolePanel?.render?.();
      villages?.refreshTooltips();
    },
  };
}
