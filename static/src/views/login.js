// Sign-in view: username/password form → POST /api/v1/login.

import * as api from '../api.js';
import { byId } from '../dom.js';
import { t } from '../i18n.js';
import { clearAlert, showAlert } from '../components/alert.js';

/**
 * @param {object} o
 * @param {(user: object) => void} o.onSignedIn
 */
export function createLoginView({ onSignedIn }) {
  const view = byId('login-view');
  const form = byId('login-form');
  const username = byId('login-username');
  const password = byId('login-password');
  const submit = byId('login-submit');
  const alertHost = byId('login-alert');
  let pending = false;

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (pending) return;
    if (!form.reportValidity()) return;
    clearAlert(alertHost);
    setPending(true);
    try {
      const user = await api.login(username.value.trim(), password.value);
      password.value = '';
      onSignedIn(user);
    } catch (err) {
      if (!(err instanceof api.ApiError)) throw err;
      showAlert(alertHost, {
        title: err.status === 401 ? t('login.failed') : t('error.title'),
        message: err.userMessage(),
      });
      password.select();
      password.focus();
    } finally {
      setPending(false);
    }
  });

  function setPending(on) {
    pending = on;
    submit.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    submit.textContent = t(on ? 'login.pending' : 'login.submit');
  }

  return {
    /** Show the form; notice (e.g. "session expired") is shown as info. */
    open({ notice } = {}) {
      view.hidden = false;
      password.value = '';
      if (notice) showAlert(alertHost, { message: notice, tone: 'info' });
      else clearAlert(alertHost);
      (username.value ? password : username).focus();
    },
    close() {
      view.hidden = true;
      clearAlert(alertHost);
    },
    onLangChange() {
      submit.textContent = t(pending ? 'login.pending' : 'login.submit');
    },
  };
}
