// Small shared UI pieces: tabs, busy buttons, status lines, number formats.

import * as api from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { showAlert } from './alert.js';

/** The message of an error, for people. */
export function errorText(err) {
  return err instanceof api.ApiError ? err.userMessage() : String(err?.message || err);
}

/**
 * Run fn while btn is disabled and shows busyLabel; errors go to alertHost (an
 * alert with the server's detail) and are returned (null on success).
 * A 401 calls onUnauthorized.
 */
export async function busy(btn, busyLabel, fn, { alertHost, onUnauthorized, title } = {}) {
  const label = btn?.textContent;
  if (btn) {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    if (busyLabel) btn.textContent = busyLabel;
  }
  try {
    await fn();
    return null;
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401 && onUnauthorized) {
      onUnauthorized();
      return err;
    }
    if (alertHost) showAlert(alertHost, { title: title || t('error.title'), message: errorText(err) });
    else console.error(err); // eslint-disable-line no-console
    return err;
  } finally {
    if (btn) {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      if (busyLabel) btn.textContent = label;
    }
  }
}

/** A "loading…" line with a spinner (role=status). */
export function loadingLine(text) {
  return h('div', { class: 'spinner-row loading-line', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, text));
}

/** Format a number or "—"; counts may come as "<5" strings (disclosure control). */
export function num(v, digits = 0) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? formatNumber(n, { maximumFractionDigits: digits }) : v;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return formatNumber(v, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function rupiah(v) {
  if (typeof v !== 'number') return '—';
  return formatNumber(v, { style: 'currency', currency: 'IDR', maximumFractionDigits: 0 });
}

/**
 * Accessible tabs (WAI-ARIA tabs pattern, roving tabindex, arrow keys).
 * @param {HTMLElement} list the role=tablist element
 * @param {HTMLElement} panels container of the panels
 * @param {{id: string, label: () => string, panel: HTMLElement}[]} tabs
 * @param {(id: string) => void} [onChange]
 */
export function createTabs(list, panels, tabs, onChange) {
  let current = null;
  const buttons = new Map();
  function render() {
    replaceChildren(
      list,
      tabs.map((tb) => {
        const b = h(
          'button',
          {
            type: 'button',
            role: 'tab',
            id: `tab-btn-${tb.id}`,
            'aria-controls': tb.panel.id,
            'aria-selected': String(tb.id === current),
            tabindex: tb.id === current ? '0' : '-1',
            dataset: { tab: tb.id },
            onclick: () => select(tb.id, { focus: true }),
            onkeydown: (ev) => {
              const i = tabs.findIndex((x) => x.id === tb.id);
              let j = null;
              if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
              if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
              if (ev.key === 'Home') j = 0;
              if (ev.key === 'End') j = tabs.length - 1;
              if (j !== null) {
                ev.preventDefault();
                select(tabs[j].id, { focus: true });
              }
            },
          },
          tb.label(),
        );
        buttons.set(tb.id, b);
        return b;
      }),
    );
  }
  function select(id, { focus = false } = {}) {
    if (!tabs.some((x) => x.id === id)) return;
    const changed = id !== current;
    current = id;
    for (const tb of tabs) {
      tb.panel.hidden = tb.id !== id;
      tb.panel.setAttribute('role', 'tabpanel');
      tb.panel.setAttribute('aria-labelledby', `tab-btn-${tb.id}`);
    }
    for (const p of panels.children) if (!tabs.some((x) => x.panel === p)) p.hidden = true;
    render();
    if (focus) buttons.get(id)?.focus();
    if (changed) onChange?.(id);
  }
  return { select, render, current: () => current };
}

/**
 * The controls of an operating-area editor (area-editor.js's startAreaEditor): a
 * hint, the part count, and draw / remove-part / save / cancel buttons, with ids
 * `${prefix}-parts`, `${prefix}-draw`, `${prefix}-remove`, `${prefix}-save`,
 * `${prefix}-cancel`. Used by the company's own panel and the planner's.
 */
export function areaEditControls(editor, prefix, { onSave, onCancel }) {
  const rm = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: `${prefix}-remove`, 'aria-pressed': 'false' }, t('co.removePart'));
  rm.addEventListener('click', () => {
    const on = rm.getAttribute('aria-pressed') !== 'true';
    rm.setAttribute('aria-pressed', String(on));
    editor.removeMode(on);
  });
  return [
    h('p', { class: 'legend-note' }, t('co.editHint')),
    h('p', { class: 'legend-note', id: `${prefix}-parts`, role: 'status' }, t('co.parts', { n: editor.parts() })),
    h(
      'div',
      { class: 'btn-row' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: `${prefix}-draw`, onclick: () => editor.draw() }, t('co.draw')),
      rm,
      h('button', { type: 'button', class: 'btn btn-primary btn-sm', id: `${prefix}-save`, onclick: (ev) => onSave(ev.currentTarget) }, t('co.saveArea')),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: `${prefix}-cancel`, onclick: onCancel }, t('co.cancel')),
    ),
  ];
}
