// Error/notice boxes. Alerts are (re)created on every show so that screen
// readers announce them (role="alert" is an assertive live region).

import { h, replaceChildren } from '../dom.js';

/**
 * Render an alert into host (replacing its content) and unhide host.
 * @param {HTMLElement} host container element
 * @param {object} o
 * @param {string} [o.title]
 * @param {string} o.message
 * @param {'error'|'info'} [o.tone]
 * @param {Node[]} [o.actions] buttons etc. shown under the message
 */
export function showAlert(host, { title, message, tone = 'error', actions = [] }) {
  const box = h(
    'div',
    { class: `alert alert-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
    h('span', { class: 'alert-icon', 'aria-hidden': 'true' }, tone === 'error' ? '!' : 'i'),
    h(
      'div',
      { class: 'alert-body' },
      title ? h('p', { class: 'alert-title' }, title) : null,
      h('p', { class: 'alert-message' }, message),
      actions.length ? h('div', { class: 'alert-actions' }, actions) : null,
    ),
  );
  replaceChildren(host, box);
  host.hidden = false;
  return box;
}

/** Remove any alert from host and hide it. */
export function clearAlert(host) {
  host.replaceChildren();
  host.hidden = true;
}
