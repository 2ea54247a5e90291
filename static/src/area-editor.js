// Operating-area editor (company panel), loaded on demand with import() so the
// map page does not pay for Geoman (~290 KB) on every load. Draw new polygons,
// drag vertices of existing ones, remove parts; the result is one GeoJSON
// MultiPolygon.

import './geoman-global.js';
import '@geoman-io/leaflet-geoman-free';
import * as L from 'leaflet';

let cssAdded = false;
function addCss() {
  if (cssAdded) return;
  cssAdded = true;
  // Emitted by build.mjs as its own entry so the main CSS stays small.
  document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href: 'geoman.css' }));
}

const STYLE = { color: '#b45309', weight: 3, fillColor: '#f59e0b', fillOpacity: 0.3 };

/**
 * Start editing an area on a map.
 * @param {L.Map} map
 * @param {object|null} area GeoJSON Polygon/MultiPolygon or null
 * @param {{onChange?: (parts: number) => void}} [opts]
 * @returns {{draw(): void, removeMode(on: boolean): void, geometry(): object|null, parts(): number, stop(): void}}
 */
export function startAreaEditor(map, area, { onChange } = {}) {
  addCss();
  // Geoman hangs PM on the global L (see geoman-global.js); esbuild resolves
  // properties of the imported namespace statically, so read it from there.
  const { PM } = globalThis.L;
  // Only the editor's own layers take part in Geoman (villages and tiles stay plain).
  PM.setOptIn(true);
  if (!map.pm) map.pm = new PM.Map(map);
  map.pm.setGlobalOptions({ snappable: false, allowSelfIntersection: false, pmIgnore: false });
  const group = L.featureGroup().addTo(map);
  const changed = () => onChange?.(group.getLayers().length);

  function addPolygon(lyr) {
    lyr.setStyle?.(STYLE);
    lyr.options.pmIgnore = false;
    if (!lyr.pm) PM.reInitLayer(lyr);
    group.addLayer(lyr);
    lyr.pm.enable({ allowSelfIntersection: false, draggable: false });
    lyr.on('pm:edit pm:markerdragend pm:vertexremoved', changed);
    const el = lyr.getElement?.();
    if (el) el.classList.add('company-edit');
  }

  const polys = !area ? [] : area.type === 'Polygon' ? [area.coordinates] : area.type === 'MultiPolygon' ? area.coordinates : [];
  for (const rings of polys) {
    addPolygon(L.polygon(rings.map((r) => r.map(([x, y]) => [y, x])), { pmIgnore: false }));
  }

  const onCreate = (e) => {
    addPolygon(e.layer);
    changed();
  };
  const onRemove = (e) => {
    group.removeLayer(e.layer);
    changed();
  };
  map.on('pm:create', onCreate);
  map.on('pm:remove', onRemove);
  let removing = false;
  const onClickRemove = (e) => {
    if (!removing) return;
    const lyr = e.propagatedFrom || e.layer;
    if (lyr) {
      lyr.pm.disable();
      group.removeLayer(lyr);
      map.removeLayer(lyr);
      changed();
    }
  };
  group.on('click', onClickRemove);

  return {
    draw() {
      map.pm.enableDraw('Polygon', { snappable: false, pathOptions: { ...STYLE, pmIgnore: false }, templineStyle: { color: STYLE.color }, hintlineStyle: { color: STYLE.color, dashArray: '5 5' } });
    },
    removeMode(on) {
      removing = on;
      map.getContainer().classList.toggle('is-removing', on);
    },
    parts: () => group.getLayers().length,
    /** The edited area as a GeoJSON MultiPolygon (null when empty). */
    geometry() {
      const coords = [];
      for (const lyr of group.getLayers()) {
        const g = lyr.toGeoJSON(6).geometry;
        if (g.type === 'Polygon') coords.push(g.coordinates);
        else if (g.type === 'MultiPolygon') coords.push(...g.coordinates);
      }
      return coords.length ? { type: 'MultiPolygon', coordinates: coords } : null;
    },
    stop() {
      map.pm.disableDraw();
      map.off('pm:create', onCreate);
      map.off('pm:remove', onRemove);
      group.eachLayer((l) => l.pm?.disable());
      group.clearLayers();
      group.remove();
      map.getContainer().classList.remove('is-removing');
    },
  };
}

const SELECT_STYLE = { color: '#6d28d9', weight: 2, fillColor: '#8b5cf6', fillOpacity: 0.15, dashArray: '6 4' };

/**
 * Draw one shape to select villages with (planner): a rectangle or a polygon.
 * Resolves with its GeoJSON geometry (a Polygon), or null when cancelled. The
 * shape is removed from the map once drawn: the selection lives in the list.
 * @param {L.Map} map
 * @param {'Rectangle'|'Polygon'} shape
 * @returns {{done: Promise<object|null>, cancel(): void}}
 */
export function drawSelection(map, shape) {
  addCss();
  const { PM } = globalThis.L;
  PM.setOptIn(true);
  if (!map.pm) map.pm = new PM.Map(map);
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const onCreate = (e) => {
    const g = e.layer.toGeoJSON(6).geometry;
    map.removeLayer(e.layer);
    end(g);
  };
  // Escape (or Geoman's own cancel) ends drawing without a shape.
  const onDrawEnd = () => setTimeout(() => end(null), 0);
  function end(g) {
    map.off('pm:create', onCreate);
    map.off('pm:drawend', onDrawEnd);
    map.pm.disableDraw();
    map.getContainer().classList.remove('is-drawing');
    finish?.(g);
    finish = null;
  }
  map.on('pm:create', onCreate);
  map.on('pm:drawend', onDrawEnd);
  map.getContainer().classList.add('is-drawing');
  map.pm.enableDraw(shape, {
    snappable: false,
    pathOptions: { ...SELECT_STYLE, pmIgnore: false },
    templineStyle: { color: SELECT_STYLE.color },
    hintlineStyle: { color: SELECT_STYLE.color, dashArray: '5 5' },
  });
  return { done, cancel: () => end(null) };
}
