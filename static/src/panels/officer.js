// Officer panel: a village's household list (by name and address) after the
// officer states a purpose. The server checks the officer's area, the purpose
// and an hourly limit, and writes an audit row for every read (and refusal).

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { extend, t } from '../i18n.js';
import { clearAlert, showAlert } from '../components/alert.js';
import { busy, num } from '../components/ui.js';
import { getUser } from '../state.js';

extend({
  id: {
    'tab.households': 'Rumah tangga',
    'hh.title': 'Daftar rumah tangga desa',
    'hh.intro': 'Data pribadi. Setiap akses dicatat (siapa, kapan, desa, tujuan).',
    'hh.village': 'Desa (wilayah tugas Anda)',
    'hh.purpose': 'Tujuan akses (wajib)',
    'hh.purposePh': 'mis. verifikasi lapangan bantuan stunting',
    'hh.open': 'Tampilkan daftar',
    'hh.opening': 'Memuat…',
    'hh.needPurpose': 'Tuliskan tujuan akses terlebih dahulu (minimal 5 karakter).',
    'hh.count': '{n} rumah tangga di {village} — tujuan: “{purpose}”. Akses ini tercatat.',
    'hh.id': 'ID',
    'hh.head': 'Kepala keluarga',
    'hh.address': 'Alamat',
    'hh.members': 'Anggota',
    'hh.flags': 'Indikator',
    'hh.noArea': 'Akun ini belum diberi wilayah tugas.',
    'hh.flag.stunted': 'stunting',
    'hh.flag.poor': 'miskin ekstrem',
    'hh.flag.unemployed': 'penganggur',
    'hh.clear': 'Tutup daftar',
  },
  en: {
    'tab.households': 'Households',
    'hh.title': 'Village household list',
    'hh.intro': 'Personal data. Every access is logged (who, when, village, purpose).',
    'hh.village': 'Village (your assigned area)',
    'hh.purpose': 'Purpose of access (required)',
    'hh.purposePh': 'e.g. field verification of stunting aid',
    'hh.open': 'Show the list',
    'hh.opening': 'Loading…',
    'hh.needPurpose': 'State the purpose of access first (at least 5 characters).',
    'hh.count': '{n} households in {village} — purpose: “{purpose}”. This access is logged.',
    'hh.id': 'ID',
    'hh.head': 'Head of household',
    'hh.address': 'Address',
    'hh.members': 'Members',
    'hh.flags': 'Indicators',
    'hh.noArea': 'This account has no assigned area yet.',
    'hh.flag.stunted': 'stunting',
    'hh.flag.poor': 'extreme poverty',
    'hh.flag.unemployed': 'unemployed',
    'hh.clear': 'Close the list',
  },
});

export function createOfficerPanel(ctx) {
  const panel = h('section', { class: 'tab-panel', id: 'tab-households', hidden: true });
  const alertHost = h('div', { hidden: true, id: 'hh-alert' });
  const villageSel = h('select', { id: 'hh-village' });
  const purposeIn = h('input', { id: 'hh-purpose', type: 'text', required: true, minlength: '5', maxlength: '200' });
  const openBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'hh-open' });
  const listEl = h('div', { id: 'hh-list' });
  const form = h('form', { novalidate: true });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearAlert(alertHost);
    const purpose = purposeIn.value.trim();
    if (purpose.length < 5) {
      showAlert(alertHost, { message: t('hh.needPurpose') });
      purposeIn.focus();
      return;
    }
    const code = villageSel.value;
    replaceChildren(listEl);
    await busy(
      openBtn,
      t('hh.opening'),
      async () => {
        const r = await api.households(code, purpose);
        renderList(r);
        ctx.selectCode(code, { zoom: true, keepTab: true });
      },
      { alertHost, onUnauthorized: ctx.onUnauthorized },
    );
  });

  function renderList(r) {
    const name = ctx.props(r.village)?.name || r.village;
    const flags = (x) =>
      [x.stunted > 0 ? t('hh.flag.stunted') : '', x.extreme_poor ? t('hh.flag.poor') : '', x.unemployed_adults > 0 ? t('hh.flag.unemployed') : ''].filter(Boolean).join(', ');
    replaceChildren(
      listEl,
      h('p', { class: 'ok-line', role: 'status', id: 'hh-count' }, t('hh.count', { n: num(r.count), village: name, purpose: r.purpose })),
      h(
        'div',
        { class: 'table-scroll hh-scroll' },
        h(
          'table',
          { class: 'rank-table hh-table', id: 'hh-table' },
          h('thead', null, h('tr', null, ['hh.id', 'hh.head', 'hh.address', 'hh.members', 'hh.flags'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h(
            'tbody',
            null,
            (r.households || []).map((x) => h('tr', null, h('td', { class: 'mono' }, x.id), h('td', null, x.head_name || '—'), h('td', null, x.address || '—'), h('td', { class: 'num' }, num(x.members)), h('td', null, flags(x)))),
          ),
        ),
      ),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => replaceChildren(listEl) }, t('hh.clear')),
    );
  }

  function render() {
    const area = getUser()?.area || [];
    const v = villageSel.value;
    replaceChildren(
      villageSel,
      area.map((code) => h('option', { value: code }, `${ctx.props(code)?.name || code} (${code})`)),
    );
    if (v) villageSel.value = v;
    openBtn.textContent = t('hh.open');
    purposeIn.placeholder = t('hh.purposePh');
    replaceChildren(
      form,
      h('div', { class: 'field field-sm' }, h('label', { for: 'hh-village', dataset: { i18n: 'hh.village' } }, t('hh.village')), villageSel),
      h('div', { class: 'field field-sm' }, h('label', { for: 'hh-purpose', dataset: { i18n: 'hh.purpose' } }, t('hh.purpose')), purposeIn),
      h('div', { class: 'btn-row' }, openBtn),
    );
    replaceChildren(
      panel,
      h('h3', { class: 'panel-h', dataset: { i18n: 'hh.title' } }, t('hh.title')),
      h('p', { class: 'legend-note', dataset: { i18n: 'hh.intro' } }, t('hh.intro')),
      area.length ? form : h('p', { class: 'panel-empty' }, t('hh.noArea')),
      alertHost,
      listEl,
    );
  }
  render();

  return {
    tabs: [{ id: 'households', label: () => t('tab.households'), panel }],
    onData: render,
    render,
    close() {
      replaceChildren(listEl);
    },
  };
}
