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
  // What the alert says, as a function of the language, so a switch re-renders it.
  let alertFor = null;
  function renderAlert() {
    if (alertFor) showAlert(alertHost, alertFor());
    else clearAlert(alertHost);
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (pending) return;
    if (!form.reportValidity()) return;
    alertFor = null;
    renderAlert();
    setPending(true);
    try {
      const user = await api.login(username.value.trim(), password.value);
      password.value = '';
      onSignedIn(user);
    } catch (err) {
      if (!(err instanceof api.ApiError)) throw err;
      alertFor = () => ({
        title: err.status === 401 ? t('login.failed') : t('error.title'),
        message: err.userMessage(),
      });
      renderAlert();
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
    /** Show the form; notice (an i18n key, e.g. "session.expired") is shown as info. */
    open({ notice } = {}) {
      view.hidden = false;
      password.value = '';
      alertFor = notice ? () => ({ message: t(notice), tone: 'info' }) : null;
      renderAlert();
      (username.value ? password : username).focus();
    },
    close() {
      view.hidden = true;
      alertFor = null;
      clearAlert(alertHost);
    },
    onLangChange() {
      submit.textContent = t(pending ? 'login.pending' : 'login.submit');
      if (alertFor) renderAlert();
    },
  };
}
