// Internationalisation: Bahasa Indonesia first, English second.
//
// Static markup is translated through attributes:
//   data-i18n="key"                      -> textContent
//   data-i18n-attr="aria-label:key;placeholder:key2"  -> attributes
// Dynamic UI calls t(key, params) and re-renders on onLangChange().

const STORAGE_KEY = 'sinergi.lang';
export const LANGS = ['id', 'en'];
const DEFAULT_LANG = 'id';

const dict = {
  id: {
    'app.title': 'Sinergi TJSLP — Kabupaten Bekasi',
    'app.name': 'Sinergi TJSLP',
    'app.subtitle': 'Kabupaten Bekasi',
    'app.tagline': 'Pemetaan kebutuhan desa & penyaluran TJSL perusahaan',
    'app.skip': 'Lewati ke konten utama',
    'lang.group': 'Bahasa',
    'lang.id.title': 'Bahasa Indonesia',
    'lang.en.title': 'English',
    'user.signedInAs': 'Masuk sebagai',
    'user.signOut': 'Keluar',
    'role.planner': 'Perencana',
    'role.company': 'Perusahaan',
    'role.officer': 'Petugas',
    'role.gis': 'Analis GIS',
    'role.admin': 'Administrator',

    'login.heading': 'Masuk ke Sinergi',
    'login.intro': 'Gunakan akun yang diberikan oleh Bapperida Kabupaten Bekasi.',
    'login.username': 'Nama pengguna',
    'login.password': 'Kata sandi',
    'login.submit': 'Masuk',
    'login.pending': 'Memproses…',
    'login.failed': 'Gagal masuk.',
    'session.checking': 'Memeriksa sesi…',
    'session.expired': 'Sesi Anda telah berakhir. Silakan masuk kembali.',

    'map.label': 'Peta desa dan kelurahan',
    'map.loading': 'Memuat desa…',
    'map.loadFailed': 'Data desa tidak dapat dimuat.',
    'map.retry': 'Coba lagi',
    'map.count': '{n} desa/kelurahan',
    'map.noBasemap': 'Peta dasar tidak tersedia',
    'map.zoomIn': 'Perbesar',
    'map.zoomOut': 'Perkecil',

    'legend.title': 'Legenda',
    'legend.boundary': 'Batas desa/kelurahan',
    'legend.hover': 'Desa disorot',
    'legend.selected': 'Desa terpilih',
    'legend.more': 'Lapisan indikator (stunting, kemiskinan ekstrem, pengangguran) akan tampil di sini.',

    'panel.title': 'Informasi Desa',
    'panel.find': 'Cari desa/kelurahan',
    'panel.findPlaceholder': '— Pilih desa/kelurahan —',
    'panel.empty': 'Arahkan kursor ke peta untuk melihat nama desa, lalu klik untuk melihat rinciannya.',
    'panel.close': 'Tutup',
    'panel.zoomTo': 'Perbesar ke desa',

    'field.code': 'Kode desa',
    'field.name': 'Nama',
    'field.kind': 'Jenis',
    'field.kecamatan_name': 'Kecamatan',
    'field.kecamatan_code': 'Kode kecamatan',
    'field.area_km2': 'Luas',

    'kind.desa': 'Desa',
    'kind.kelurahan': 'Kelurahan',
    'kind.short.desa': 'Desa',
    'kind.short.kelurahan': 'Kel.',
    'tooltip.village': '{kind} {name} — Kec. {kecamatan} ({code})',
    'unit.km2': '{n} km²',

    'error.title': 'Terjadi kesalahan',
    'error.network': 'Tidak dapat menghubungi server. Periksa koneksi Anda.',
    'error.timeout': 'Server tidak merespons tepat waktu.',
    'error.http': 'Permintaan gagal (HTTP {status}).',
    'error.reload': 'Muat ulang',
  },
  en: {
    'app.title': 'Sinergi TJSLP — Kabupaten Bekasi',
    'app.name': 'Sinergi TJSLP',
    'app.subtitle': 'Bekasi Regency',
    'app.tagline': 'Village needs mapping & corporate CSR matching',
    'app.skip': 'Skip to main content',
    'lang.group': 'Language',
    'lang.id.title': 'Bahasa Indonesia',
    'lang.en.title': 'English',
    'user.signedInAs': 'Signed in as',
    'user.signOut': 'Sign out',
    'role.planner': 'Planner',
    'role.company': 'Company',
    'role.officer': 'Officer',
    'role.gis': 'GIS analyst',
    'role.admin': 'Administrator',

    'login.heading': 'Sign in to Sinergi',
    'login.intro': 'Use the account issued by the Bekasi Regency planning agency.',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.pending': 'Signing in…',
    'login.failed': 'Sign-in failed.',
    'session.checking': 'Checking session…',
    'session.expired': 'Your session has expired. Please sign in again.',

    'map.label': 'Map of villages',
    'map.loading': 'Loading villages…',
    'map.loadFailed': 'Village data could not be loaded.',
    'map.retry': 'Try again',
    'map.count': '{n} villages',
    'map.noBasemap': 'Basemap unavailable',
    'map.zoomIn': 'Zoom in',
    'map.zoomOut': 'Zoom out',

    'legend.title': 'Legend',
    'legend.boundary': 'Village boundary',
    'legend.hover': 'Highlighted village',
    'legend.selected': 'Selected village',
    'legend.more': 'Indicator layers (stunting, extreme poverty, unemployment) will appear here.',

    'panel.title': 'Village details',
    'panel.find': 'Find a village',
    'panel.findPlaceholder': '— Choose a village —',
    'panel.empty': 'Hover over the map to see village names, then click one to see its details.',
    'panel.close': 'Close',
    'panel.zoomTo': 'Zoom to village',

    'field.code': 'Village code',
    'field.name': 'Name',
    'field.kind': 'Type',
    'field.kecamatan_name': 'District (kecamatan)',
    'field.kecamatan_code': 'District code',
    'field.area_km2': 'Area',

    'kind.desa': 'Rural village (desa)',
    'kind.kelurahan': 'Urban village (kelurahan)',
    'kind.short.desa': 'Desa',
    'kind.short.kelurahan': 'Kel.',
    'tooltip.village': '{kind} {name} — {kecamatan} District ({code})',
    'unit.km2': '{n} km²',

    'error.title': 'Something went wrong',
    'error.network': 'Cannot reach the server. Check your connection.',
    'error.timeout': 'The server did not respond in time.',
    'error.http': 'Request failed (HTTP {status}).',
    'error.reload': 'Reload',
  },
};

/**
 * Add translations (components register their own strings at import time).
 * @param {{id: Record<string,string>, en: Record<string,string>}} more
 */
export function extend(more) {
  for (const lang of LANGS) Object.assign(dict[lang], more[lang] || {});
}

let current = readStoredLang();
const listeners = new Set();

function readStoredLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch {
    /* storage unavailable (privacy mode): fall back to default */
  }
  return DEFAULT_LANG;
}

/** Current language code: "id" or "en". */
export function getLang() {
  return current;
}

/** BCP 47 locale for number/date formatting. */
export function locale() {
  return current === 'id' ? 'id-ID' : 'en-GB';
}

/**
 * Translate key, substituting {name} placeholders from params.
 * Falls back to Indonesian, then to the key itself.
 */
export function t(key, params) {
  let s = dict[current][key] ?? dict[DEFAULT_LANG][key] ?? key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return s;
}

/** Whether a translation exists for key (in any language). */
export function has(key) {
  return key in dict[current] || key in dict[DEFAULT_LANG];
}

// Intl.NumberFormat is costly to construct (a profile of the first draw at 4× CPU
// slowdown spent ~190 of 620 ms building formatters), so one is kept per locale and
// options.
const formatters = new Map();

/** Format a number in the current locale. */
export function formatNumber(n, opts) {
  const key = opts ? locale() + JSON.stringify(opts) : locale();
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), opts);
    formatters.set(key, f);
  }
  return f.format(n);
}

/** Switch language, persist it, re-translate static markup, notify listeners. */
export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* ignore */
  }
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

/** Register a callback run after every language change; returns an unsubscribe function. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Translate all data-i18n / data-i18n-attr elements under root. */
export function applyI18n(root = document) {
  if (root === document) {
    document.documentElement.lang = current;
    document.title = t('app.title');
  }
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}
