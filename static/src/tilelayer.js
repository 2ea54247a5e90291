// A small GeoJSON tile layer on /tiles/{layer}/{z}/{x}/{y}.geojson.
//
// L.GridLayer decides which tiles the view needs; each tile's FeatureCollection
// is fetched and its features are merged into ONE Leaflet layer per feature id,
// so a polygon cut across four tiles is one object for hover, click and the
// tooltip. Tiles come clipped (with a buffer), so:
//   mode 'outline': per id, the rings' segments from every tile, minus the
//     artificial clip edges (axis-aligned segments on a tile's outer bbox), drawn
//     as one MultiLineString — no seams along tile borders;
//   mode 'first':   per id, the first copy seen (small features such as grid
//     cells, which tiles repeat in their buffers).
// Pieces are reference-counted by tile: when Leaflet unloads a tile, its pieces
// go, and a feature disappears when no loaded tile holds it.

import * as L from 'leaflet';
import * as api from './api.js';

const EPS = 1e-9;

/** Segments of ring lists that are not on the bbox edge (clip artefacts). */
function keptSegments(rings, bbox) {
  const [minx, miny, maxx, maxy] = bbox;
  const onEdge = (a, b) =>
    (Math.abs(a[0] - b[0]) < EPS && (Math.abs(a[0] - minx) < EPS || Math.abs(a[0] - maxx) < EPS)) ||
    (Math.abs(a[1] - b[1]) < EPS && (Math.abs(a[1] - miny) < EPS || Math.abs(a[1] - maxy) < EPS));
  const lines = [];
  for (const ring of rings) {
    let cur = [];
    for (let i = 1; i < ring.length; i++) {
      const a = ring[i - 1];
      const b = ring[i];
      if (onEdge(a, b)) {
        if (cur.length > 1) lines.push(cur);
        cur = [];
        continue;
      }
      if (!cur.length) cur.push(a);
      cur.push(b);
    }
    if (cur.length > 1) lines.push(cur);
  }
  return lines;
}

function ringsOf(geom) {
  if (!geom) return [];
  if (geom.type === 'Polygon') return geom.coordinates;
  if (geom.type === 'MultiPolygon') return geom.coordinates.flat();
  if (geom.type === 'LineString') return [geom.coordinates];
  if (geom.type === 'MultiLineString') return geom.coordinates;
  return [];
}

function bboxOf(features) {
  let minx = Infinity;
  let miny = Infinity;
  let maxx = -Infinity;
  let maxy = -Infinity;
  for (const f of features) {
    for (const ring of ringsOf(f.geometry)) {
      for (const [x, y] of ring) {
        if (x < minx) minx = x;
        if (x > maxx) maxx = x;
        if (y < miny) miny = y;
        if (y > maxy) maxy = y;
      }
    }
  }
  return [minx, miny, maxx, maxy];
}

/**
 * @param {object} o
 * @param {string} o.layer tile layer name (kecamatan, need, companies, …)
 * @param {'outline'|'first'} o.mode
 * @param {(props: object) => object} o.style path options per feature
 * @param {(props: object) => string} [o.tooltip]
 * @param {number} [o.minZoom]
 * @param {(n: number) => void} [o.onChange] called with the number of distinct features drawn
 * @param {(err: Error) => void} [o.onError]
 */
export function createGeoJSONTileLayer({ layer, mode, style, tooltip, minZoom = 8, maxNativeZoom = 16, onChange, onError, pane }) {
  const group = L.featureGroup();
  /** id → {props, pieces: Map<tileKey, piece>, lyr} */
  const features = new Map();
  const aborts = new Map();

  function redraw(id) {
    const f = features.get(id);
    if (!f) return;
    if (f.lyr) group.removeLayer(f.lyr);
    f.lyr = null;
    if (f.pieces.size === 0) {
      features.delete(id);
      return;
    }
    let geom;
    if (mode === 'outline') {
      geom = { type: 'MultiLineString', coordinates: [...f.pieces.values()].flat() };
    } else {
      geom = f.pieces.values().next().value;
    }
    const lyr = L.geoJSON({ type: 'Feature', id, properties: f.props, geometry: geom }, { style: () => style(f.props), pane });
    if (tooltip) lyr.bindTooltip(() => tooltip(f.props), { sticky: true, className: 'village-tooltip' });
    f.lyr = lyr;
    group.addLayer(lyr);
    lyr.eachLayer((l) => {
      const el = l.getElement?.();
      if (el) {
        el.setAttribute('tabindex', '-1');
        el.dataset.featureId = String(id);
      }
    });
  }

  const Grid = L.GridLayer.extend({
    createTile(coords, done) {
      const el = document.createElement('div');
      const key = `${coords.z}/${coords.x}/${coords.y}`;
      const ctrl = new AbortController();
      aborts.set(key, ctrl);
      api
        .tile(layer, coords.z, coords.x, coords.y, { signal: ctrl.signal })
        .then((fc) => {
          aborts.delete(key);
          const feats = (fc && fc.features) || [];
          const bbox = bboxOf(feats);
          const touched = new Set();
          for (const ft of feats) {
            const id = ft.id ?? ft.properties?.code ?? ft.properties?.id;
            if (id == null) continue;
            let f = features.get(id);
            if (!f) {
              f = { props: ft.properties || {}, pieces: new Map(), lyr: null };
              features.set(id, f);
            }
            if (mode === 'outline') {
              f.pieces.set(key, keptSegments(ringsOf(ft.geometry), bbox));
            } else if (f.pieces.size === 0 || !f.pieces.has(key)) {
              f.pieces.set(key, ft.geometry);
            }
            touched.add(id);
          }
          for (const id of touched) {
            // 'first' keeps the copy already drawn.
            if (mode === 'outline' || !features.get(id).lyr) redraw(id);
          }
          el.dataset.tileKey = key;
          onChange?.(features.size);
          done(null, el);
        })
        .catch((err) => {
          aborts.delete(key);
          if (ctrl.signal.aborted) return;
          onError?.(err);
          done(err, el);
        });
      return el;
    },
  });

  const grid = new Grid({ minZoom, maxNativeZoom, tileSize: 256, updateWhenIdle: true, keepBuffer: 1 });
  grid.on('tileunload', (e) => {
    const key = `${e.coords.z}/${e.coords.x}/${e.coords.y}`;
    aborts.get(key)?.abort();
    aborts.delete(key);
    for (const [id, f] of [...features]) {
      if (f.pieces.delete(key)) redraw(id);
    }
    onChange?.(features.size);
  });

  return {
    grid,
    group,
    addTo(map) {
      group.addTo(map);
      grid.addTo(map);
      return this;
    },
    remove() {
      grid.remove();
      group.remove();
      for (const c of aborts.values()) c.abort();
      aborts.clear();
      features.clear();
      group.clearLayers();
      onChange?.(0);
    },
    /** Distinct features currently drawn. */
    count: () => features.size,
    restyle() {
      for (const f of features.values()) f.lyr?.setStyle(style(f.props));
    },
  };
}
