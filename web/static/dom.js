// SPDX-License-Identifier: MIT
// dom.js - how every page builds its DOM: h() and svg() make elements from plain values, text
// always goes in through textContent (text nodes), never through markup. Device names, attribute
// values, telemetry strings and error messages are attacker-controlled; this module is the only
// place that turns values into nodes, and it has no path that parses HTML. The server's
// Content-Security-Policy (Trusted Types, no inline script) makes any innerHTML a thrown error.
// Also: time and duration formatting, and small widgets shared by the pages.

const BOOL_PROPS = new Set(['disabled', 'checked', 'selected', 'hidden', 'required', 'readOnly',
  'multiple', 'open', 'autofocus']);

// Only in-page routes and same-origin absolute paths may become links.
function safeHref(v) {
  const s = String(v);
  return s.startsWith('#') || (s.startsWith('/') && !s.startsWith('//')) ? s : '#';
}

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

function setProp(el, k, v) {
  if (v === null || v === undefined || v === false && !BOOL_PROPS.has(k)) return;
  if (k === 'class') el.className = v;
  else if (k === 'text') el.textContent = String(v);
  else if (k === 'value') el.value = String(v);
  else if (k === 'href') el.setAttribute('href', safeHref(v));
  else if (k === 'dataset') Object.assign(el.dataset, v);
  else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
  else if (BOOL_PROPS.has(k)) el[k] = Boolean(v);
  else if (k === 'style' || k === 'srcdoc' || k.startsWith('on')) throw new Error(`h(): ${k} refused`);
  else el.setAttribute(k, String(v));
}

// h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child, [more]) -> element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) setProp(el, k, v);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// svg('path', {d: 'M0 0'}, children) -> SVG element; attributes only, text as text nodes.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k.startsWith('on') || k === 'href' || k === 'style') throw new Error(`svg(): ${k} refused`);
    el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local time "2026-01-05 14:03:07"; '—' for null.
export function fmtTs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
export function fmtDuration(ms) {
  let s = Math.round(Math.abs(Number(ms)) / 1000);
  if (s < 120) return `${s} s`;
  let m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  let hr = Math.floor(m / 60);
  m %= 60;
  if (hr < 48) return m ? `${hr} h ${m} min` : `${hr} h`;
  const d = Math.floor(hr / 24);
  hr %= 24;
  return hr ? `${d} d ${hr} h` : `${d} d`;
}

export function fmtAgo(ms, now = Date.now()) {
  if (!ms) return 'never';
  const dt = now - Number(ms);
  return dt >= 0 ? `${fmtDuration(dt)} ago` : `in ${fmtDuration(-dt)}`;
}

// A value as the page shows it: objects as compact JSON, everything as text.
export function fmtValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function typeOf(v) {
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return Number.isInteger(v) ? 'LONG' : 'DOUBLE';
  if (typeof v === 'string') return 'STRING';
  if (v === null || v === undefined) return '—';
  return 'JSON';
}

// A message line: kind is 'ok', 'err', 'info' or 'todo' (a feature waiting for an API).
export function msg(kind, text) {
  return h('p', { class: `msg msg-${kind}`, role: kind === 'err' ? 'alert' : 'status' }, text);
}

// The placeholder for a part of the page whose API nbgate does not serve yet.
export function needsApi(what, endpoint) {
  return h('div', { class: 'needs-api', 'data-needs-api': endpoint },
    h('strong', {}, 'Not available yet: '), `${what} needs API `, h('code', {}, endpoint), '.');
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}

// A button that asks for a second click before it runs fn (confirmDialog() is kept for changes
// that can cut a device off the gateway).
export function confirmButton(label, confirmLabel, fn, cls = 'btn btn-danger') {
  let armed = false;
  let timer = 0;
  const b = h('button', { type: 'button', class: cls }, label);
  b.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      b.textContent = confirmLabel;
      b.classList.add('armed');
      timer = setTimeout(() => {
        armed = false;
        b.textContent = label;
        b.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    b.textContent = label;
    b.classList.remove('armed');
    b.disabled = true;
    try {
      await fn();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

// A modal <dialog> (not window.confirm) asking to go ahead; resolves true only on okLabel.
// Escape or the cancel button resolve false. body is any node or text (rendered as text).
export function confirmDialog(title, body, okLabel, cancelLabel = 'Cancel') {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'btn btn-danger', 'data-confirm': 'ok' }, okLabel);
    const no = h('button', { type: 'button', class: 'btn', 'data-confirm': 'cancel' }, cancelLabel);
    const d = h('dialog', { class: 'confirm-dialog', 'aria-label': title },
      h('h2', {}, title), body, h('div', { class: 'actions' }, no, ok));
    const done = (v) => {
      d.close();
      d.remove();
      resolve(v);
    };
    ok.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    d.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      done(false);
    });
    document.body.appendChild(d);
    d.showModal();
    no.focus();
  });
}

// A labelled form field; input is any element. hint is optional help text.
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

// A table from header labels and rows of cells; each cell is a node, text or [text, props].
export function table(headers, rows, cls = 'grid') {
  return h('div', { class: 'table-wrap' },
    h('table', { class: cls },
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}

// A row whose cells carry their column's label for the phone layout (td::before).
export function row(headers, cells, props) {
  return h('tr', props || {}, cells.map((c, i) => h('td', { 'data-label': headers[i] }, c)));
}

// Runs tasks (functions returning promises) with at most n at a time.
export async function limited(tasks, n) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      try {
        await t();
      } catch {
        // each task shows its own failure
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

// Shell single-quoting for the ready-to-run commands.
export function shq(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}
