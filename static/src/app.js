// Sinergi TJSLP web front-end entry point.
//
// Flow: GET /api/v1/config (no auth) and GET /api/v1/me in parallel;
//   401 from /me → sign-in view; 200 → map view; anything else → error view.
// Views live in src/views/, reusable widgets in src/components/.

import 'leaflet/dist/leaflet.css';
import './app.css';

import * as api from './api.js';
import { byId, h } from './dom.js';
import { applyI18n, getLang, has, onLangChange, setLang, t } from './i18n.js';
import { setPageState, setUser } from './state.js';
import { clearAlert, showAlert } from './components/alert.js';
import { createLoginView } from './views/login.js';
import { createMapView } from './views/map-view.js';

let config = {};

const bootView = byId('boot-view');
const bootAlert = byId('boot-alert');
const userBox = byId('user-box');
const userName = byId('user-name');
const userRole = byId('user-role');
const userAvatar = byId('user-avatar');
const logoutBtn = byId('logout-btn');
const regencyEl = byId('regency-name');

let user = null;

const loginView = createLoginView({ onSignedIn: enterApp });
const mapView = createMapView({ getConfig: () => config, onUnauthorized: sessionExpired });

// ---- Header ----------------------------------------------------------------

function renderLangSwitch() {
  for (const btn of document.querySelectorAll('[data-lang]')) {
    btn.setAttribute('aria-pressed', String(btn.dataset.lang === getLang()));
  }
}

for (const btn of document.querySelectorAll('[data-lang]')) {
  btn.addEventListener('click', () => setLang(btn.dataset.lang));
}

function renderUser() {
  if (!user) {
    userBox.hidden = true;
    return;
  }
  userName.textContent = user.name || '';
  userRole.textContent = user.role && has(`role.${user.role}`) ? t(`role.${user.role}`) : user.role || '';
  userRole.dataset.role = user.role || '';
  userAvatar.textContent = initials(user.name || '?');
  userBox.hidden = false;
}

function initials(name) {
  const parts = name.split(/[\s._-]+/).filter(Boolean);
  return ((parts[0]?.[0] || '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

function renderRegency() {
  // The regency name is data (a proper noun), shown as the server gives it.
  regencyEl.textContent = config.regency_name || t('app.subtitle');
}

logoutBtn.addEventListener('click', async () => {
  logoutBtn.disabled = true;
  try {
    await api.logout();
  } catch {
    // Already signed out / server unreachable: show the form anyway.
  } finally {
    logoutBtn.disabled = false;
  }
  showLogin();
});

// ---- Views -----------------------------------------------------------------

function showLogin(opts) {
  user = null;
  setUser(null);
  renderUser();
  mapView.close();
  bootView.hidden = true;
  setPageState('login');
  loginView.open(opts);
}

function sessionExpired() {
  showLogin({ notice: t('session.expired') });
}

function enterApp(u) {
  user = u;
  setUser(u);
  renderUser();
  loginView.close();
  bootView.hidden = true;
  mapView.open();
}

function showBootError(err) {
  bootView.hidden = false;
  byId('boot-spinner').hidden = true;
  setPageState('error');
  showAlert(bootAlert, {
    title: t('error.title'),
    message: err instanceof api.ApiError ? err.userMessage() : String(err),
    actions: [h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => location.reload() }, t('error.reload'))],
  });
}

onLangChange(() => {
  renderLangSwitch();
  renderUser();
  renderRegency();
  loginView.onLangChange();
  mapView.onLangChange();
});

// ---- Boot ------------------------------------------------------------------

async function boot() {
  applyI18n(document);
  renderLangSwitch();
  setPageState('loading');
  clearAlert(bootAlert);

  const cfgP = api
    .config()
    .then((c) => (c && typeof c === 'object' ? c : {}))
    .catch(() => ({})); // the map works without a basemap
  let me;
  try {
    me = await api.me();
  } catch (err) {
    config = await cfgP;
    renderRegency();
    if (err instanceof api.ApiError && err.status === 401) showLogin();
    else showBootError(err);
    return;
  }
  config = await cfgP;
  renderRegency();
  enterApp(me);
}

boot();
