// Leaflet wrapper: map creation, optional basemap, and the village layer.
// Knows nothing about the API or the rest of the page; views wire it up.

import * as L from 'leaflet';
import iconUrl from 'leaflet/dist/images/marker-icon.png';
import iconRetinaUrl from 'leaflet/dist/images/marker-icon-2x.png';
import shadowUrl from 'leaflet/dist/images/marker-shadow.png';

// Default marker icons: Leaflet guesses their folder from its CSS, which fails
// with bundled/hashed file names, so point it at the emitted files directly.
// The imported URLs are relative to dist/, so resolve them against this script.
L.Icon.Default.imagePath = '';
L.Icon.Default.mergeOptions({
  iconUrl: new URL(iconUrl, import.meta.url).href,
  iconRetinaUrl: new URL(iconRetinaUrl, import.meta.url).href,
  shadowUrl: new URL(shadowUrl, import.meta.url).href,
});

/** Kabupaten Bekasi, used until the village layer tells us better. */
const DEFAULT_VIEW = { center: [-6.25, 107.13], zoom: 10 };

export const STYLES = {
  base: { color: '#52657a', weight: 1, opacity: 0.9, fillColor: '#c9d6e3', fillOpacity: 0.35 },
  hover: { color: '#c2410c', weight: 3, opacity: 1, fillColor: '#fdba74', fillOpacity: 0.45 },
  selected: { color: '#0b5cab', weight: 3, opacity: 1, fillColor: '#60a5fa', fillOpacity: 0.45 },
};

/**
 * Create a Leaflet map in el.
 * @param {HTMLElement} el
 * @param {{basemap_url?: string, basemap_attribution?: string}} cfg
 * @param {{onBasemapUnavailable?: () => void}} [hooks]
 */
export function createMap(el, cfg = {}, hooks = {}) {
  const map = L.map(el, {
    center: DEFAULT_VIEW.center,
    zoom: DEFAULT_VIEW.zoom,
    minZoom: 8,
    maxZoom: 18,
    zoomSnap: 0.25,
    keyboard: true,
    attributionControl: true,
  });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>');
  L.control.scale({ imperial: false, position: 'bottomright' }).addTo(map);

  if (cfg.basemap_url && !hooks.deferBasemap) {
    addBasemap(map, cfg, hooks.onBasemapUnavailable);
  }
  return map;
}

/**
 * Add the configured raster basemap, if any. Tile errors (offline, blocked
 * host) are swallowed: the map keeps working on its plain background.
 * onUnavailable fires once if tiles fail before any tile has loaded.
 * The map view calls this after the villages are drawn, so basemap tiles do
 * not compete with the village layer for a slow line.
 * @returns {L.TileLayer|null}
 */
export function addBasemap(map, cfg = {}, onUnavailable) {
  if (!cfg.basemap_url) return null;
  const url = cfg.basemap_url;
  const attribution = cfg.basemap_attribution || '';
  let loaded = false;
  let reported = false;
  const layer = L.tileLayer(url, {
    attribution,
    maxZoom: 19,
    crossOrigin: false,
    // Fewer requests while panning; helps on slow connections.
    updateWhenIdle: true,
    keepBuffer: 1,
  });
  layer.on('tileload', () => {
    loaded = true;
  });
  layer.on('tileerror', () => {
    if (!loaded && !reported) {
      reported = true;
      onUnavailable?.();
    }
  });
  layer.addTo(map);
  return layer;
}

/**
 * Village boundaries as an interactive GeoJSON layer.
 *
 * @param {L.Map} map
 * @param {object} geojson FeatureCollection
 * @param {object} opts
 * @param {(props: object) => Node|string} opts.tooltip content for the hover tooltip
 * @param {(props: object) => void} opts.onSelect called when a village is clicked/selected
 * @param {(props: object) => object} [opts.fill] base fill (choropleth) for a village: {fillColor, fillOpacity}
 * @param {(props: object) => object|null} [opts.mark] extra outline (priority list, diff…) or null
 * @param {(code: string|null) => void} [opts.onHover] hover entered (code) / left (null)
 * @param {(props: object) => boolean} [opts.onClick] return true to swallow a click (e.g. picking mode)
 * @param {boolean} [opts.fit] fit the map to the villages before drawing them
 *   (drawing first and then fitting would project and draw every polygon twice)
 */
export function createVillageLayer(map, geojson, { tooltip, onSelect, fill, mark, onHover, onClick, fit = false }) {
  const byCode = new Map();
  let selected = null;
  let hovered = null;

  function baseStyle(p) {
    const base = { ...STYLES.base, ...(fill ? fill(p) : {}) };
    const m = mark ? mark(p) : null;
    if (m) Object.assign(base, m);
    return base;
  }

  function styleOf(lyr) {
    const base = baseStyle(lyr.feature.properties || {});
    if (lyr === selected) return { ...base, ...pick(STYLES.selected, ['color', 'weight', 'opacity']), fillOpacity: Math.max(base.fillOpacity, 0.55) };
    if (lyr === hovered) return { ...base, ...pick(STYLES.hover, ['color', 'weight', 'opacity']) };
    return base;
  }

  const layer = L.geoJSON(geojson, {
    // Nothing is hovered or selected yet: the base style with fill and mark.
    style: (feature) => ({ ...baseStyle(feature.properties || {}), className: 'sinergi-village' }),
    onEachFeature(feature, lyr) {
      const p = feature.properties || {};
      if (p.code != null) byCode.set(String(p.code), lyr);
    },
  });
  // One tooltip and one set of listeners on the group instead of one per
  // village: child events reach the group with e.layer set, and the tooltip
  // asks for the content of whichever village it opens on.
  layer.bindTooltip((lyr) => {
    const c = tooltip(lyr.feature?.properties || {});
    return typeof c === 'string' ? textNode(c) : c;
  }, { sticky: true, direction: 'top', offset: [0, -8], opacity: 1, className: 'village-tooltip' });
  layer.on({
    mouseover(e) {
      setHover(e.layer);
      onHover?.(e.layer.feature?.properties?.code ?? null);
    },
    mouseout(e) {
      if (hovered === e.layer) setHover(null);
      onHover?.(null);
    },
    click(e) {
      if (onClick && onClick(e.layer.feature?.properties || {})) return;
      select(e.layer);
    },
  });
  const count = layer.getLayers().length;
  const bounds = count ? layer.getBounds() : null;
  if (fit) fitTo(map, bounds);
  layer.addTo(map);

  // Chromium puts SVG elements with focus listeners (Leaflet adds them for
  // tooltips) into the Tab order: ~180 stops before the side panel. Keyboard
  // users pick villages with the panel's list and the ranking table instead.
  layer.eachLayer((lyr) => {
    const el = lyr.getElement?.();
    if (!el) return;
    el.setAttribute('tabindex', '-1');
    if (lyr.feature?.properties?.code != null) el.dataset.code = String(lyr.feature.properties.code);
  });

  function setHover(lyr) {
    const prev = hovered;
    hovered = lyr;
    if (prev && prev !== lyr) prev.setStyle(styleOf(prev));
    if (lyr) {
      lyr.setStyle(styleOf(lyr));
      lyr.bringToFront();
      if (selected && selected !== lyr) selected.bringToFront();
    }
  }

  function select(lyr, { zoom = false } = {}) {
    const prev = selected;
    selected = lyr;
    if (prev && prev !== lyr) prev.setStyle(styleOf(prev));
    if (lyr) {
      lyr.setStyle(styleOf(lyr));
      lyr.bringToFront();
      if (zoom) map.flyToBounds(lyr.getBounds(), { maxZoom: 14, padding: [24, 24], duration: 0.6 });
    }
    onSelect(lyr ? lyr.feature.properties || {} : null);
  }

  return {
    layer,
    count,
    bounds,
    /** Select a village by code (optionally zooming to it); null clears. */
    selectCode(code, opts) {
      select(code == null ? null : byCode.get(String(code)) || null, opts);
    },
    selectedCode: () => selected?.feature?.properties?.code ?? null,
    /** Highlight a village as if hovered (from the ranking table); null clears. */
    hoverCode(code) {
      setHover(code == null ? null : byCode.get(String(code)) || null);
    },
    zoomTo(code) {
      const lyr = byCode.get(String(code));
      if (lyr) map.flyToBounds(lyr.getBounds(), { maxZoom: 14, padding: [24, 24], duration: 0.6 });
    },
    /** Zoom to a set of codes (a kecamatan). */
    zoomToCodes(codes) {
      let b = null;
      for (const c of codes) {
        const lyr = byCode.get(String(c));
        if (!lyr) continue;
        b = b ? b.extend(lyr.getBounds()) : L.latLngBounds(lyr.getBounds().getSouthWest(), lyr.getBounds().getNorthEast());
      }
      if (b) map.flyToBounds(b, { padding: [24, 24], duration: 0.6 });
    },
    centerOf(code) {
      const lyr = byCode.get(String(code));
      return lyr ? lyr.getBounds().getCenter() : null;
    },
    props: (code) => byCode.get(String(code))?.feature?.properties || null,
    /** Re-apply fill/mark styles (choropleth or marks changed). */
    restyle() {
      layer.eachLayer((l) => l.setStyle(styleOf(l)));
    },
    /** Re-render the open tooltip (e.g. after a language change). */
    refreshTooltips() {
      if (layer.isTooltipOpen()) layer.getTooltip().update?.();
    },
  };
}

function pick(o, keys) {
  const out = {};
  for (const k of keys) out[k] = o[k];
  return out;
}

/** Set the zoom buttons' titles / accessible names (Leaflet's are English only). */
export function localizeControls(map, { zoomIn, zoomOut }) {
  const c = map.getContainer();
  for (const [sel, label] of [['.leaflet-control-zoom-in', zoomIn], ['.leaflet-control-zoom-out', zoomOut]]) {
    const a = c.querySelector(sel);
    if (a) {
      a.title = label;
      a.setAttribute('aria-label', label);
    }
  }
}

/**
 * Fit the map to bounds with a little padding. Not animated by default, so
 * the view is settled when this returns (callers then report "ready").
 */
export function fitTo(map, bounds, { animate = false } = {}) {
  if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], animate });
}

/**
 * Remove a map safely. Leaflet 1.9's zoom animation ends in a 250 ms timer
 * that it does not cancel on remove(); if the map is removed mid-animation
 * (e.g. sign-out right after "zoom to village") that timer throws
 * "Cannot read properties of undefined (reading '_leaflet_pos')". Clearing
 * the animation flag makes the timer a no-op.
 */
export function destroyMap(map) {
  map.stop();
  map._animatingZoom = false; // eslint-disable-line no-underscore-dangle
  map.off();
  map.remove();
}

function textNode(s) {
  const span = document.createElement('span');
  span.textContent = s;
  return span;
}
