// Sinergi TJSLP web front-end entry point.
//
// Flow: GET /api/v1/boot (config + signed-in user; started by the inline
//   script in index.html before this bundle arrives, like the village layer):
//   user null → sign-in view; a user → map view; a failed request → error view.
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
  bootError = null;
  user = null;
  setUser(null);
  renderUser();
  mapView.close();
  bootView.hidden = true;
  setPageState('login');
  loginView.open(opts);
}

function sessionExpired() {
  showLogin({ notice: 'session.expired' });
}

function enterApp(u) {
  bootError = null;
  user = u;
  setUser(u);
  renderUser();
  loginView.close();
  bootView.hidden = true;
  mapView.open();
}

// The start-up error on screen, kept so a language switch can re-render it.
let bootError = null;

function showBootError(err) {
  bootError = err;
  bootView.hidden = false;
  byId('boot-spinner').hidden = true;
  setPageState('error');
  renderBootError();
}

function renderBootError() {
  const err = bootError;
  if (!err) return;
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
  renderBootError();
  loginView.onLangChange();
  mapView.onLangChange();
});

// ---- Boot ------------------------------------------------------------------

async function boot() {
  applyI18n(document);
  renderLangSwitch();
  setPageState('loading');
  clearAlert(bootAlert);

  let b;
  try {
    b = await api.boot();
  } catch (err) {
    api.dropPrefetch('villages');
    showBootError(err);
    return;
  }
  // The map works without a basemap: a missing/odd config is just {}.
  config = b?.config && typeof b.config === 'object' ? b.config : {};
  renderRegency();
  if (b?.user) {
    enterApp(b.user);
  } else {
    api.dropPrefetch('villages'); // the prefetch was refused (401); sign-in fetches anew
    showLogin();
  }
}

boot();
