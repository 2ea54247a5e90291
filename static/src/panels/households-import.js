// GIS staff tab "Rumah tangga": upload a household register (CSV or GeoJSON
// points) as a background job (POST /api/v1/households/import?async=true), follow
// its progress (GET /api/v1/jobs/{id}: phase, rows, rows/s), cancel it (DELETE;
// the import is one transaction, so nothing of it is loaded), then read the
// result: loaded / rejected with the first reasons and the reject report as CSV.

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, formatNumber, t } from '../i18n.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { busy, errorText } from '../components/ui.js';

extend({
  id: {
    'tab.hhImport': 'Impor rumah tangga',
    'hi.title': 'Impor register rumah tangga',
    'hi.file': 'Berkas register (CSV atau GeoJSON titik)',
    'hi.register': 'Register',
    'hi.period': 'Periode (YYYY, YYYY-MM, YYYY-S1, YYYY-Q1)',
    'hi.strict': 'Ketat: tolak seluruh berkas bila ada baris ditolak',
    'hi.start': 'Mulai impor',
    'hi.starting': 'Mengunggah…',
    'hi.cancel': 'Batalkan impor',
    'hi.cancelling': 'Membatalkan…',
    'hi.noFile': 'Pilih berkas dan isi periode terlebih dahulu.',
    'hi.progress': 'Kemajuan impor',
    'hi.reading': 'membaca berkas',
    'hi.counts': '{rows} baris · {rate} baris/detik · {elapsed} detik',
    'hi.bytes': '{read} dari {total} KB terbaca',
    'hi.done': 'Impor selesai: {inserted} baru, {updated} diperbarui, {unchanged} tetap; {rejected} baris ditolak.',
    'hi.assigned': '{assigned} rumah tangga ditempatkan ke desa, {unassigned} di luar desa, {noloc} tanpa lokasi.',
    'hi.failed': 'Impor gagal ({status}): {detail}',
    'hi.cancelled': 'Impor dibatalkan; tidak ada data yang dimuat.',
    'hi.rejects': 'Baris ditolak pertama',
    'hi.rejectRow': 'baris {row}',
    'hi.download': 'Unduh laporan penolakan (CSV, {n} baris)',
    'hi.lost': 'Pekerjaan impor tidak ditemukan lagi (server dimulai ulang?). Periksa data sebelum mengulang.',
    'hi.note': 'Nama dan NIK tidak pernah tampil di laporan; hanya nomor baris, id, dan alasan.',
  },
  en: {
    'tab.hhImport': 'Household import',
    'hi.title': 'Import a household register',
    'hi.file': 'Register file (CSV or GeoJSON points)',
    'hi.register': 'Register',
    'hi.period': 'Period (YYYY, YYYY-MM, YYYY-S1, YYYY-Q1)',
    'hi.strict': 'Strict: refuse the whole file when any row is rejected',
    'hi.start': 'Start the import',
    'hi.starting': 'Uploading…',
    'hi.cancel': 'Cancel the import',
    'hi.cancelling': 'Cancelling…',
    'hi.noFile': 'Choose a file and fill in the period first.',
    'hi.progress': 'Import progress',
    'hi.reading': 'reading the file',
    'hi.counts': '{rows} rows · {rate} rows/s · {elapsed} s',
    'hi.bytes': '{read} of {total} KB read',
    'hi.done': 'Import finished: {inserted} new, {updated} updated, {unchanged} unchanged; {rejected} rows rejected.',
    'hi.assigned': '{assigned} households assigned to villages, {unassigned} outside villages, {noloc} without a location.',
    'hi.failed': 'Import failed ({status}): {detail}',
    'hi.cancelled': 'Import cancelled; nothing was loaded.',
    'hi.rejects': 'First rejected rows',
    'hi.rejectRow': 'row {row}',
    'hi.download': 'Download the reject report (CSV, {n} rows)',
    'hi.lost': 'The import job is gone (server restarted?). Check the data before repeating it.',
    'hi.note': 'Names and identity numbers never appear in the report; only row numbers, ids and reasons.',
  },
});

const REGISTERS = ['eppgbm', 'p3ke', 'disnaker', 'survey', 'demo'];
const POLL_MS = 500;

/** @param {object} ctx shared map-view context (see map-view.js) */
export function createHouseholdsImportPanel(ctx) {
  const panel = h('section', { class: 'tab-panel', id: 'tab-hhimport', hidden: true });
  const alertHost = h('div', { hidden: true, id: 'hi-alert' });
  const fileIn = h('input', { type: 'file', id: 'hi-file', accept: '.csv,.txt,.geojson,.json' });
  const regSel = h('select', { id: 'hi-register' }, REGISTERS.map((r) => h('option', { value: r }, r)));
  const periodIn = h('input', { type: 'text', id: 'hi-period', required: true, maxlength: '7', value: String(new Date().getFullYear()), pattern: '\\d{4}(-(0[1-9]|1[0-2]|S[12]|Q[1-4]))?' });
  const strictIn = h('input', { type: 'checkbox', id: 'hi-strict' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'hi-start', onclick: (ev) => start(ev.currentTarget) });
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'hi-cancel', hidden: true, onclick: (ev) => cancel(ev.currentTarget) });
  const bar = h('progress', { id: 'hi-bar', max: '100', 'aria-labelledby': 'hi-progress-label' });
  const progressEl = h('div', { id: 'hi-progress', class: 'job-progress', hidden: true });
  const resultEl = h('div', { id: 'hi-result', 'aria-live': 'polite' });
  let job = null; // last job view
  let timer = null;

  async function start(btn) {
    clearAlert(alertHost);
    const f = fileIn.files[0];
    const period = periodIn.value.trim();
    if (!f || !period) {
      showAlert(alertHost, { message: t('hi.noFile') });
      return;
    }
    const fd = new FormData();
    fd.append('file', f, f.name);
    fd.append('register', regSel.value);
    fd.append('period', period);
    fd.append('strict', String(strictIn.checked));
    replaceChildren(resultEl);
    await busy(
      btn,
      t('hi.starting'),
      async () => {
        job = await api.request('/households/import', { method: 'POST', form: fd, query: { async: 'true' }, timeoutMs: 600000 });
        document.body.dataset.importJob = 'running';
        render();
        poll();
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
  }

  function poll() {
    clearTimeout(timer);
    if (!job || job.state !== 'running') return;
    timer = setTimeout(async () => {
      try {
        job = await api.request(`/jobs/${encodeURIComponent(job.id)}`);
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 401) return ctx.onUnauthorized();
        if (err instanceof api.ApiError && err.status === 404) {
          job = null;
          render();
          showAlert(alertHost, { message: t('hi.lost') });
          return;
        }
        // A network hiccup: keep asking.
      }
      render();
      poll();
    }, POLL_MS);
  }

  async function cancel(btn) {
    if (!job) return;
    await busy(
      btn,
      t('hi.cancelling'),
      async () => {
        job = await api.request(`/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
        render();
        poll();
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
  }

  function renderProgress() {
    const running = job?.state === 'running';
    progressEl.hidden = !running;
    cancelBtn.hidden = !running;
    startBtn.disabled = running;
    if (!running) return;
    const reading = !job.phase || /reading rows/.test(job.phase);
    // While the file is read the bytes give a true fraction; the later phases
    // (set-based SQL) have no count to show, so the bar becomes indeterminate.
    if (reading && job.bytes_total > 0) {
      bar.value = Math.round((100 * job.bytes_read) / job.bytes_total);
      bar.textContent = `${bar.value}%`;
    } else {
      bar.removeAttribute('value');
      bar.textContent = '';
    }
    replaceChildren(
      progressEl,
      h('p', { class: 'sub-h', id: 'hi-progress-label' }, t('hi.progress')),
      bar,
      h('p', { class: 'legend-note', id: 'hi-phase', role: 'status' }, job.phase || t('hi.reading')),
      h(
        'p',
        { class: 'legend-note', id: 'hi-counts' },
        t('hi.counts', { rows: formatNumber(job.rows || 0), rate: formatNumber(Math.round(job.rows_per_second || 0)), elapsed: formatNumber(Math.round(job.elapsed_seconds || 0)) }),
        job.bytes_total ? ` · ${t('hi.bytes', { read: formatNumber(Math.round(job.bytes_read / 1024)), total: formatNumber(Math.round(job.bytes_total / 1024)) })}` : '',
      ),
    );
  }

  function renderResult() {
    if (!job || job.state === 'running') return;
    document.body.dataset.importJob = job.state;
    const r = job.result;
    const rejects = r?.rejects || [];
    replaceChildren(
      resultEl,
      job.state === 'done'
        ? [
            h('p', { class: 'ok-line', id: 'hi-done', role: 'status' }, t('hi.done', { inserted: formatNumber(r.inserted), updated: formatNumber(r.updated), unchanged: formatNumber(r.unchanged), rejected: formatNumber(r.rejected) })),
            h('p', { class: 'legend-note' }, t('hi.assigned', { assigned: formatNumber(r.assigned), unassigned: formatNumber(r.unassigned), noloc: formatNumber(r.no_location) })),
          ]
        : job.state === 'cancelled'
          ? h('p', { class: 'bad-line', id: 'hi-cancelled', role: 'status' }, t('hi.cancelled'))
          : h('p', { class: 'bad-line', id: 'hi-failed', role: 'alert' }, t('hi.failed', { status: job.status, detail: job.detail })),
      rejects.length
        ? [
            h('h4', { class: 'sub-h', dataset: { i18n: 'hi.rejects' } }, t('hi.rejects')),
            h('ul', { class: 'plain-list findings', id: 'hi-rejects' }, rejects.map((x) => h('li', null, h('strong', null, t('hi.rejectRow', { row: x.row })), x.id ? ` (${x.id})` : '', ` — ${x.reason}`))),
          ]
        : null,
      job.rejects_url
        ? h('p', null, h('a', { class: 'btn btn-secondary btn-sm', id: 'hi-rejects-csv', href: job.rejects_url, download: '' }, t('hi.download', { n: formatNumber(job.rejects_total) })))
        : null,
      h('p', { class: 'legend-note', dataset: { i18n: 'hi.note' } }, t('hi.note')),
    );
  }

  function render() {
    startBtn.textContent = t('hi.start');
    cancelBtn.textContent = t('hi.cancel');
    renderProgress();
    renderResult();
  }

  replaceChildren(
    panel,
    h('h3', { class: 'panel-h', id: 'hi-title' }),
    h('div', { class: 'field field-sm' }, h('label', { for: 'hi-file', id: 'hi-file-label' }), fileIn),
    h('div', { class: 'form-row' }, h('div', { class: 'field field-sm grow' }, h('label', { for: 'hi-register', id: 'hi-register-label' }), regSel), h('div', { class: 'field field-sm grow' }, h('label', { for: 'hi-period', id: 'hi-period-label' }), periodIn)),
    h('label', { class: 'check' }, strictIn, h('span', { id: 'hi-strict-label' })),
    h('div', { class: 'btn-row' }, startBtn, cancelBtn),
    alertHost,
    progressEl,
    resultEl,
  );
  function renderLabels() {
    for (const [id, key] of [['hi-title', 'hi.title'], ['hi-file-label', 'hi.file'], ['hi-register-label', 'hi.register'], ['hi-period-label', 'hi.period'], ['hi-strict-label', 'hi.strict']]) {
      panel.querySelector(`#${id}`).textContent = (id === 'hi-strict-label' ? ' ' : '') + t(key);
    }
    render();
  }
  regSel.value = 'survey';
  renderLabels();

  return {
    tab: { id: 'hhimport', label: () => t('tab.hhImport'), panel },
    render: renderLabels,
    close() {
      clearTimeout(timer);
      timer = null;
    },
  };
}
