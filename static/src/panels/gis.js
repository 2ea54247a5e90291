// GIS staff panel: upload a boundary file (check first with dry_run), read the
// validation report, store it as a draft, see the diff against the active set
// coloured on the map (added / removed / changed / split), activate it, or roll
// back by re-activating an older set.

import * as L from 'leaflet';
import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, formatNumber, t } from '../i18n.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { busy, errorText, loadingLine, num } from '../components/ui.js';
import { createHouseholdsImportPanel } from './households-import.js';

extend({
  id: {
    'tab.boundaries': 'Batas wilayah',
    'bd.title': 'Unggah batas wilayah',
    'bd.file': 'Berkas (GeoJSON, Shapefile .zip, GeoPackage, KML)',
    'bd.level': 'Tingkat',
    'bd.desa': 'Desa/kelurahan',
    'bd.kecamatan': 'Kecamatan',
    'bd.check': 'Periksa berkas',
    'bd.checking': 'Memeriksa…',
    'bd.upload': 'Simpan sebagai draf & bandingkan',
    'bd.uploading': 'Menyimpan draf…',
    'bd.noFile': 'Pilih berkas terlebih dahulu.',
    'bd.rejected': 'Berkas ditolak',
    'bd.report': 'Laporan validasi',
    'bd.reportOk': 'Berkas lolos pemeriksaan: {loaded} dari {features} fitur dapat dimuat.',
    'bd.reportBad': 'Berkas bermasalah: {errors} galat, {rejected} fitur ditolak.',
    'bd.features': 'Fitur',
    'bd.loaded': 'Dapat dimuat',
    'bd.rejectedN': 'Ditolak',
    'bd.errors': 'Galat',
    'bd.warnings': 'Peringatan',
    'bd.overlaps': 'Tumpang tindih',
    'bd.gaps': 'Celah',
    'bd.crs': 'Sistem koordinat',
    'bd.findings': 'Temuan',
    'bd.diffing': 'Membandingkan dengan set aktif… (menghitung rumah tangga yang berpindah; bisa lebih dari satu menit)',
    'bd.diff': 'Perbedaan dengan set aktif #{from}',
    'bd.added': 'Ditambah',
    'bd.removed': 'Dihapus',
    'bd.changed': 'Berubah',
    'bd.split': 'Dipecah/digabung',
    'bd.renamed': 'Ganti nama',
    'bd.unchanged': 'Tetap',
    'bd.moving': 'Rumah tangga berpindah desa: {n}',
    'bd.activate': 'Aktifkan set #{id}',
    'bd.activating': 'Mengaktifkan…',
    'bd.activated': 'Set #{id} aktif. Peta diperbarui.',
    'bd.sets': 'Riwayat set batas',
    'bd.rollback': 'Aktifkan kembali #{id}',
    'bd.active': 'aktif',
    'bd.draft': 'draf',
    'bd.retired': 'lama',
    'bd.legendNew': 'Geometri baru (dari berkas)',
  },
  en: {
    'tab.boundaries': 'Boundaries',
    'bd.title': 'Upload boundaries',
    'bd.file': 'File (GeoJSON, zipped Shapefile, GeoPackage, KML)',
    'bd.level': 'Level',
    'bd.desa': 'Villages',
    'bd.kecamatan': 'Districts',
    'bd.check': 'Check the file',
    'bd.checking': 'Checking…',
    'bd.upload': 'Store as draft & compare',
    'bd.uploading': 'Storing the draft…',
    'bd.noFile': 'Choose a file first.',
    'bd.rejected': 'File rejected',
    'bd.report': 'Validation report',
    'bd.reportOk': 'The file passed: {loaded} of {features} features can be loaded.',
    'bd.reportBad': 'The file has problems: {errors} errors, {rejected} features rejected.',
    'bd.features': 'Features',
    'bd.loaded': 'Loadable',
    'bd.rejectedN': 'Rejected',
    'bd.errors': 'Errors',
    'bd.warnings': 'Warnings',
    'bd.overlaps': 'Overlaps',
    'bd.gaps': 'Gaps',
    'bd.crs': 'Coordinate system',
    'bd.findings': 'Findings',
    'bd.diffing': 'Comparing with the active set… (counting households that move; may take over a minute)',
    'bd.diff': 'Differences from active set #{from}',
    'bd.added': 'Added',
    'bd.removed': 'Removed',
    'bd.changed': 'Changed',
    'bd.split': 'Split/merged',
    'bd.renamed': 'Renamed',
    'bd.unchanged': 'Unchanged',
    'bd.moving': 'Households changing village: {n}',
    'bd.activate': 'Activate set #{id}',
    'bd.activating': 'Activating…',
    'bd.activated': 'Set #{id} is active. The map is updated.',
    'bd.sets': 'Boundary set history',
    'bd.rollback': 'Re-activate #{id}',
    'bd.active': 'active',
    'bd.draft': 'draft',
    'bd.retired': 'retired',
    'bd.legendNew': 'New geometry (from the file)',
  },
});

export const DIFF_COLORS = { added: '#16a34a', removed: '#dc2626', changed: '#f59e0b', split: '#7c3aed', renamed: '#0ea5e9' };

export function createGisPanel(ctx) {
  const households = createHouseholdsImportPanel(ctx);
  const panel = h('section', { class: 'tab-panel', id: 'tab-boundaries', hidden: true });
  const alertHost = h('div', { hidden: true, id: 'bd-alert' });
  const fileIn = h('input', { type: 'file', id: 'bd-file', accept: '.geojson,.json,.zip,.shp,.shx,.dbf,.prj,.cpg,.gpkg,.kml', multiple: true });
  const levelSel = h('select', { id: 'bd-level' });
  const checkBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'bd-check', onclick: () => upload(true) });
  const uploadBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'bd-upload', disabled: true, onclick: () => upload(false) });
  const reportEl = h('div', { id: 'bd-report', 'aria-live': 'polite' });
  const diffEl = h('div', { id: 'bd-diff', 'aria-live': 'polite' });
  const setsEl = h('div', { id: 'bd-sets' });
  const newLayer = L.featureGroup();
  let status = new Map(); // code → diff class
  let checked = false;
  let localFc = null;

  fileIn.addEventListener('change', () => {
    checked = false;
    uploadBtn.disabled = true;
    replaceChildren(reportEl);
    replaceChildren(diffEl);
    clearAlert(alertHost);
    clearDiff();
  });

  function clearDiff() {
    status = new Map();
    newLayer.clearLayers();
    ctx.restyle();
  }

  function formData(dry) {
    const fd = new FormData();
    for (const f of fileIn.files) fd.append('file', f, f.name);
    fd.append('level', levelSel.value);
    fd.append('dry_run', String(dry));
    return fd;
  }

  async function upload(dry) {
    clearAlert(alertHost);
    if (!fileIn.files.length) {
      showAlert(alertHost, { message: t('bd.noFile') });
      return;
    }
    if (dry) {
      replaceChildren(reportEl);
      replaceChildren(diffEl);
      clearDiff();
    }
    const btn = dry ? checkBtn : uploadBtn;
    await busy(
      btn,
      t(dry ? 'bd.checking' : 'bd.uploading'),
      async () => {
        let r;
        try {
          r = await api.uploadBoundaries(formData(dry));
        } catch (err) {
          if (err instanceof api.ApiError && err.problem?.report) renderReport(err.problem.report, err.detail);
          checked = false;
          uploadBtn.disabled = true;
          throw err;
        }
        renderReport(r.report);
        if (dry) {
          checked = (r.report?.errors ?? 0) === 0;
          uploadBtn.disabled = !checked;
        } else {
          uploadBtn.disabled = true;
          await loadSets();
          await diff(r.id);
        }
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized, title: t('bd.rejected') },
    );
  }

  function renderReport(rep, detail) {
    if (!rep) return;
    const ok = (rep.errors ?? 0) === 0 && !detail;
    const topo = rep.topology || {};
    const findings = rep.findings || [];
    replaceChildren(
      reportEl,
      h('h4', { class: 'sub-h', dataset: { i18n: 'bd.report' } }, t('bd.report')),
      h('p', { class: ok ? 'ok-line' : 'bad-line', id: 'bd-verdict' }, ok ? t('bd.reportOk', { loaded: rep.loaded, features: rep.features }) : t('bd.reportBad', { errors: rep.errors ?? '?', rejected: rep.rejected ?? '?' })),
      h(
        'dl',
        { class: 'attr-list attr-compact' },
        [
          ['bd.features', rep.features],
          ['bd.loaded', rep.loaded],
          ['bd.rejectedN', rep.rejected],
          ['bd.errors', rep.errors],
          ['bd.warnings', rep.warnings],
          ['bd.overlaps', topo.overlap_count != null ? `${topo.overlap_count} (${num((topo.overlap_area_m2 || 0) / 1e6, 3)} km²)` : null],
          ['bd.gaps', topo.gap_count != null ? `${topo.gap_count} (${num((topo.gap_area_m2 || 0) / 1e6, 3)} km²)` : null],
          ['bd.crs', rep.source_crs],
        ]
          .filter(([, v]) => v !== undefined && v !== null)
          .map(([k, v]) => h('div', { class: 'attr-row' }, h('dt', null, t(k)), h('dd', null, String(v)))),
      ),
      findings.length
        ? [
            h('h4', { class: 'sub-h', dataset: { i18n: 'bd.findings' } }, t('bd.findings')),
            h(
              'ul',
              { class: 'plain-list findings', id: 'bd-findings' },
              findings.slice(0, 50).map((f) => h('li', { class: `finding-${f.severity || f.level || ''}` }, [f.severity || f.level, f.feature ?? f.code ?? f.index, f.message || f.reason || JSON.stringify(f)].filter((x) => x !== undefined && x !== null && x !== '').join(' · '))),
            ),
          ]
        : null,
    );
  }

  async function diff(id) {
    replaceChildren(diffEl, loadingLine(t('bd.diffing')));
    // Draw the new geometries from the file itself when it is GeoJSON (the diff
    // endpoint returns codes, not shapes).
    localFc = null;
    const f = [...fileIn.files].find((x) => /\.(geo)?json$/i.test(x.name));
    if (f) {
      try {
        localFc = JSON.parse(await f.text());
      } catch {
        localFc = null;
      }
    }
    let d;
    try {
      d = await api.boundaryDiff(id);
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(diffEl);
      showAlert(alertHost, { message: errorText(err) });
      return;
    }
    status = new Map();
    for (const x of d.changed || []) status.set(x.code, 'changed');
    for (const x of d.renamed || []) if (!status.has(x.code)) status.set(x.code, 'renamed');
    for (const x of d.removed || []) status.set(x.code, 'removed');
    for (const x of d.added || []) status.set(x.code, 'added');
    for (const s of [...(d.splits || []), ...(d.merges || [])]) for (const c of [...(s.from || []), ...(s.to || [])]) status.set(c, 'split');
    ctx.restyle();
    drawNew();
    const counts = { added: (d.added || []).length, removed: (d.removed || []).length, changed: (d.changed || []).length, split: (d.splits || []).length + (d.merges || []).length, renamed: (d.renamed || []).length };
    const activateBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'bd-activate' }, t('bd.activate', { id }));
    activateBtn.addEventListener('click', () => activate(activateBtn, id));
    const list = [...status].slice(0, 60);
    replaceChildren(
      diffEl,
      h('h4', { class: 'sub-h' }, t('bd.diff', { from: d.from })),
      h(
        'ul',
        { class: 'legend-list diff-legend', id: 'diff-counts' },
        ['added', 'removed', 'changed', 'split', 'renamed'].map((k) => h('li', { dataset: { kind: k, n: String(counts[k]) } }, h('span', { class: 'swatch', style: `background:${DIFF_COLORS[k]}` }), `${t(`bd.${k}`)}: ${counts[k]}`)),
        h('li', null, h('span', { class: 'swatch swatch-base' }), `${t('bd.unchanged')}: ${d.unchanged}`),
        localFc ? h('li', null, h('span', { class: 'swatch swatch-new' }), t('bd.legendNew')) : null,
      ),
      d.moves_computed ? h('p', { class: 'legend-note' }, t('bd.moving', { n: formatNumber(d.households_moving || 0) })) : null,
      list.length
        ? h(
            'ul',
            { class: 'plain-list', id: 'diff-list' },
            list.map(([code, kind]) => h('li', { dataset: { code, kind } }, h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => ctx.selectCode(code, { zoom: true, keepTab: true }) }, `${ctx.props(code)?.name || code} (${code})`), ` — ${t(`bd.${kind}`)}`)),
          )
        : null,
      h('div', { class: 'btn-row' }, activateBtn),
    );
    document.body.dataset.diff = 'ready';
  }

  function drawNew() {
    newLayer.clearLayers();
    if (!localFc?.features) return;
    for (const f of localFc.features) {
      const code = f.properties?.code;
      const kind = status.get(code);
      if (!kind || kind === 'removed') continue;
      L.geoJSON(f, { style: { color: DIFF_COLORS[kind], weight: 3, dashArray: '6 4', fill: false }, interactive: false }).addTo(newLayer);
    }
    const map = ctx.map();
    if (map) {
      newLayer.addTo(map);
      if (newLayer.getLayers().length) map.flyToBounds(newLayer.getBounds(), { padding: [60, 60], maxZoom: 13, duration: 0.6 });
    }
  }

  async function activate(btn, id) {
    clearAlert(alertHost);
    await busy(
      btn,
      t('bd.activating'),
      async () => {
        await api.activateBoundaries(id);
        clearDiff();
        await ctx.reload();
        await loadSets();
        replaceChildren(diffEl, h('p', { class: 'ok-line', role: 'status', id: 'bd-activated' }, t('bd.activated', { id })));
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
  }

  async function loadSets() {
    try {
      const r = await api.boundarySets();
      const sets = (r.sets || []).filter((s) => s.level === levelSel.value);
      replaceChildren(
        setsEl,
        h('h4', { class: 'sub-h', dataset: { i18n: 'bd.sets' } }, t('bd.sets')),
        h(
          'ul',
          { class: 'plain-list', id: 'bd-set-list' },
          sets.map((s) =>
            h(
              'li',
              { dataset: { set: String(s.id), status: s.status } },
              h('strong', null, `#${s.id}`),
              ` ${s.source_file} · ${s.feature_count} · `,
              h('span', { class: `status status-${s.status}` }, t(`bd.${s.status}`) || s.status),
              s.status !== 'active'
                ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', dataset: { rollback: String(s.id) }, onclick: (ev) => activate(ev.currentTarget, s.id) }, t('bd.rollback', { id: s.id }))
                : null,
            ),
          ),
        ),
      );
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
      replaceChildren(setsEl, h('p', { class: 'alert alert-error', role: 'alert' }, errorText(err)));
    }
  }

  function render() {
    checkBtn.textContent = t('bd.check');
    uploadBtn.textContent = t('bd.upload');
    const v = levelSel.value || 'desa';
    replaceChildren(levelSel, h('option', { value: 'desa' }, t('bd.desa')), h('option', { value: 'kecamatan' }, t('bd.kecamatan')));
    levelSel.value = v;
    replaceChildren(
      panel,
      h('h3', { class: 'panel-h', dataset: { i18n: 'bd.title' } }, t('bd.title')),
      h('div', { class: 'field field-sm' }, h('label', { for: 'bd-file', dataset: { i18n: 'bd.file' } }, t('bd.file')), fileIn),
      h('div', { class: 'field field-sm' }, h('label', { for: 'bd-level', dataset: { i18n: 'bd.level' } }, t('bd.level')), levelSel),
      h('div', { class: 'btn-row' }, checkBtn, uploadBtn),
      alertHost,
      reportEl,
      diffEl,
      setsEl,
    );
  }
  levelSel.addEventListener('change', loadSets);
  render();

  return {
    tabs: [{ id: 'boundaries', label: () => t('tab.boundaries'), panel }, households.tab],
    mark: (p) => {
      const k = status.get(p.code);
      return k ? { color: DIFF_COLORS[k], weight: 3.5, opacity: 1, fillColor: DIFF_COLORS[k], fillOpacity: 0.45 } : null;
    },
    onData: () => loadSets(),
    render() {
      render();
      households.render();
    },
    close() {
      households.close();
      newLayer.clearLayers();
      newLayer.remove();
      delete document.body.dataset.diff;
    },
  };
}
