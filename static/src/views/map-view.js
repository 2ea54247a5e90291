// Map view: Leaflet map + village layer + side panel + legend.

import * as api from '../api.js';
import { byId, h } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { createMap, createVillageLayer, destroyMap, fitTo, localizeControls } from '../map.js';
import { setPageState, setVillageCount } from '../state.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { createVillagePanel, villageLabel } from '../components/village-panel.js';

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

  let map = null;
  let villages = null; // village layer handle
  let abort = null;
  let resizeObs = null;
  let lastCount = null;

  const panel = createVillagePanel({
    select: byId('village-select'),
    details: byId('village-details'),
    onPick(code) {
      villages?.selectCode(code, { zoom: code != null });
    },
    onZoom(code) {
      villages?.zoomTo(code);
    },
  });

  function onSelect(props) {
    panel.show(props);
  }

  async function loadVillages() {
    abort?.abort();
    abort = new AbortController();
    const { signal } = abort;

    setPageState('loading');
    setVillageCount(null);
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
      const message = err instanceof api.ApiError ? err.userMessage() : String(err);
      showAlert(alertHost, {
        title: t('map.loadFailed'),
        message,
        actions: [h('button', { type: 'button', class: 'btn btn-secondary', onclick: loadVillages }, t('map.retry'))],
      });
      setPageState('error');
      return;
    }
    if (signal.aborted || !map) return;

    if (villages) villages.layer.remove();
    villages = createVillageLayer(map, fc && Array.isArray(fc.features) ? fc : { type: 'FeatureCollection', features: [] }, {
      tooltip: villageLabel,
      onSelect,
    });
    fitTo(map, villages.bounds);
    panel.setVillages(villages.layer.getLayers().map((l) => l.feature.properties || {}));
    panel.show(null);
    loadingEl.hidden = true;
    lastCount = villages.count;
    renderCount();
    setVillageCount(villages.count);
    setPageState('ready');
  }

  function renderCount() {
    if (lastCount == null) return;
    countEl.textContent = t('map.count', { n: formatNumber(lastCount) });
    countEl.hidden = false;
  }

  return {
    open() {
      view.hidden = false;
      basemapNote.hidden = true;
      if (!map) {
        map = createMap(mapEl, getConfig(), {
          onBasemapUnavailable: () => {
            basemapNote.hidden = false;
          },
        });
        localizeControls(map, { zoomIn: t('map.zoomIn'), zoomOut: t('map.zoomOut') });
        resizeObs = new ResizeObserver(() => map?.invalidateSize({ pan: false }));
        resizeObs.observe(mapEl);
      }
      panel.clear();
      return loadVillages();
    },
    close() {
      abort?.abort();
      abort = null;
      resizeObs?.disconnect();
      resizeObs = null;
      if (map) destroyMap(map);
      map = null;
      villages = null;
      lastCount = null;
      panel.clear();
      clearAlert(alertHost);
      loadingEl.hidden = true;
      countEl.hidden = true;
      setVillageCount(null);
      view.hidden = true;
    },
    onLangChange() {
      if (map) localizeControls(map, { zoomIn: t('map.zoomIn'), zoomOut: t('map.zoomOut') });
      panel.render();
      renderCount();
      villages?.refreshTooltips();
    },
  };
}
