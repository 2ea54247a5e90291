// Tiny DOM helpers. Text always goes through textContent (never innerHTML),
// so server data cannot inject markup.

/**
 * Create an element.
 *   h('button', {class: 'btn', type: 'button', onclick: fn}, 'Text', child)
 * Attributes starting with "on" are event listeners; `dataset` takes an object;
 * false/null/undefined attributes and children are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'class') {
        el.className = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace all children of el. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Shorthand for document.getElementById that throws when missing. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el;
}

/** Show or hide an element via the hidden attribute. */
export function show(el, visible = true) {
  el.hidden = !visible;
}
