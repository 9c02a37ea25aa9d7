// SPDX-License-Identifier: MIT
// page_device.js - one device: its state and why, latest telemetry (value, type, time) with a
// 24 h SVG chart per numeric key, attributes by scope (server and shared editable; a shared
// write queues a downlink), and the panels of device_panels.js (credentials, connect, the RPC or
// Efento settings form, the whole downlink queue, event log). While the page is open it re-reads
// the state, the latest values and the queue every POLL_MS; charts are redrawn when new data came.
// Queuing anything (RPC, shared attribute, Efento settings) re-reads the queue at once.

import { ApiError, del, get, post } from './api.js';
import {
  confirmButton, fmtAgo, fmtTs, fmtValue, h, msg, needsApi, replace, row, section, table, typeOf,
} from './dom.js';
import { lineChart } from './chart.js';
import { fleetState, stateBadge } from './state.js';
import {
  connectPanel, credentialsPanel, efentoPanel, eventsPanel, queuePanel, rpcPanel,
} from './device_panels.js';

const POLL_MS = 4000;
const DAY_MS = 24 * 3600 * 1000;
const MAX_CHARTS = 12;
const SCOPES = [
  ['CLIENT_SCOPE', 'Client attributes', 'Reported by the device; read-only here.'],
  ['SERVER_SCOPE', 'Server attributes', 'Kept on the gateway; inactivityTimeout (ms) sets when the device counts as inactive.'],
  ['SHARED_SCOPE', 'Shared attributes', 'Sent to the device: a change is queued as a downlink.'],
];
const COMPUTED = new Set(['active', 'lastActivityTime']);

// Text typed into a value box: JSON when it parses (numbers, booleans, objects), else a string.
function parseValue(text) {
  const t = text.trim();
  try {
    const v = JSON.parse(t);
    if (v !== null) return v;
  } catch {
    // not JSON: a plain string
  }
  return text;
}

function telemetryTable(latest) {
  const heads = ['Key', 'Value', 'Type', 'Time'];
  const keys = Object.keys(latest).sort();
  if (keys.length === 0) return msg('info', 'No telemetry yet.');
  return table(heads, keys.map((k) => {
    const p = latest[k][0] || {};
    return row(heads, [h('code', {}, k), h('span', { class: 'value' }, fmtValue(p.value)), typeOf(p.value),
      fmtTs(p.ts)], { 'data-key': k });
  }), 'grid telemetry');
}

async function charts(base, latest, box) {
  const keys = Object.keys(latest).filter((k) => latest[k][0] && typeof latest[k][0].value === 'number')
    .sort().slice(0, MAX_CHARTS);
  if (keys.length === 0) {
    replace(box);
    return;
  }
  const end = Date.now() + 1;
  const start = end - DAY_MS;
  const hist = await get(`${base}/values/timeseries`, {
    keys: keys.join(','), startTs: start, endTs: end, limit: 2000, orderBy: 'DESC', useStrictDataTypes: true,
  });
  replace(box, keys.map((k) => h('figure', { class: 'chart-box', 'data-chart': k },
    h('figcaption', {}, k, h('small', {}, ' last 24 h')),
    lineChart((hist[k] || []).map((p) => ({ ts: p.ts, value: Number(p.value) })), start, end, k))));
}

// The gateway's computed and timing attributes read better as a time or a duration.
function attrText(a) {
  if (a.key === 'lastActivityTime' && typeof a.value === 'number') return `${fmtTs(a.value)} (${fmtAgo(a.value)})`;
  return fmtValue(a.value);
}

function attrRow(dev, scope, a, reload, heads, onShared) {
  const editable = scope !== 'CLIENT_SCOPE' && !COMPUTED.has(a.key);
  const base = `/api/plugins/telemetry/DEVICE/${dev.id.id}`;
  const out = h('span', { class: 'out' });
  let valueCell = h('span', { class: 'value' }, attrText(a));
  let actions = null;
  if (editable) {
    const input = h('input', { value: typeof a.value === 'string' ? a.value : JSON.stringify(a.value),
      'aria-label': `Value of ${a.key}`, class: 'attr-input' });
    const save = h('button', { type: 'button', class: 'btn btn-small' }, 'Save');
    save.addEventListener('click', async () => {
      try {
        await post(`${base}/attributes/${scope}`, { [a.key]: parseValue(input.value) });
        replace(out, msg('ok', scope === 'SHARED_SCOPE' ? 'Saved; queued to the device.' : 'Saved.'));
        reload();
        if (scope === 'SHARED_SCOPE') onShared();
      } catch (e) {
        replace(out, msg('err', e.message));
      }
    });
    const remove = confirmButton('Delete', 'Really delete?', async () => {
      try {
        await del(`${base}/${scope}`, { keys: a.key });
        reload();
        if (scope === 'SHARED_SCOPE') onShared();
      } catch (e) {
        replace(out, e instanceof ApiError && e.isMissingApi
          ? needsApi('Deleting attributes', `DELETE ${base.replace(dev.id.id, '{deviceId}')}/{scope}?keys=`)
          : msg('err', e.message));
      }
    }, 'btn btn-small btn-danger');
    valueCell = input;
    actions = [save, remove, out];
  }
  return row(heads, [h('code', {}, a.key), valueCell, typeOf(a.value), fmtTs(a.lastUpdateTs), actions],
    { 'data-attr': `${scope}:${a.key}` });
}

function attrAddForm(dev, scope, reload, onShared) {
  const key = h('input', { placeholder: 'key', 'aria-label': 'New attribute key', required: true });
  const val = h('input', { placeholder: 'value (JSON or text)', 'aria-label': 'New attribute value' });
  const out = h('span', { class: 'out' });
  const form = h('form', { class: 'form-row add-attr', 'data-add-attr': scope }, key, val,
    h('button', { type: 'submit', class: 'btn btn-small' }, 'Add'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post(`/api/plugins/telemetry/DEVICE/${dev.id.id}/attributes/${scope}`,
        { [key.value.trim()]: parseValue(val.value) });
      reload();
      if (scope === 'SHARED_SCOPE') onShared();
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  });
  return form;
}

// onShared() runs after a shared attribute is written or deleted (a downlink was queued).
async function attributes(dev, box, onShared) {
  const heads = ['Key', 'Value', 'Type', 'Updated', ''];
  const reload = () => attributes(dev, box, onShared).catch((e) => replace(box, msg('err', e.message)));
  const lists = await Promise.all(SCOPES.map(([s]) =>
    get(`/api/plugins/telemetry/DEVICE/${dev.id.id}/values/attributes/${s}`)));
  replace(box, SCOPES.map(([scope, title, hint], i) => h('div', { class: 'scope', 'data-scope': scope },
    h('h3', {}, title), h('p', { class: 'hint' }, hint),
    lists[i].length ? table(heads, lists[i].map((a) => attrRow(dev, scope, a, reload, heads, onShared)))
      : msg('info', 'None.'),
    scope === 'CLIENT_SCOPE' ? null : attrAddForm(dev, scope, reload, onShared))));
}

async function profileOf(dev) {
  try {
    return await get(`/api/deviceProfile/${dev.deviceProfileId.id}`);
  } catch {
    return null; // shown as a plain CoAP device; the profile page says why
  }
}

function head(dev, stateBox) {
  const remove = confirmButton('Delete device', 'Click again to delete', async () => {
    await del(`/api/device/${dev.id.id}`);
    location.hash = '#/';
  });
  return h('div', { class: 'page-head' },
    h('div', {}, h('p', { class: 'crumb' }, h('a', { href: '#/' }, 'Fleet'), ' / device'),
      h('h1', { id: 'device-name' }, dev.name),
      h('p', { class: 'sub' }, dev.label ? h('span', { id: 'device-label' }, dev.label) : null,
        h('span', { class: 'pill' }, `profile ${dev.deviceProfileName || dev.type}`))),
    h('div', { class: 'head-side' }, stateBox, remove));
}

export async function devicePage(main, [id], ctx) {
  const base = `/api/plugins/telemetry/DEVICE/${id}`;
  const dev = await get(`/api/device/info/${id}`);
  const profile = await profileOf(dev);
  const coapType = profile?.profileData?.transportConfiguration?.coapDeviceTypeConfiguration?.coapDeviceType;
  const isEfento = coapType === 'EFENTO';
  const stateBox = h('div', { class: 'state-box', id: 'device-state' });
  const telBox = h('div', { id: 'telemetry' });
  const chartBox = h('div', { class: 'charts', id: 'charts' });
  const attrBox = h('div', { id: 'attributes' });
  const queue = queuePanel(dev, isEfento);
  let lastSeenTs = -1;
  let timer = 0;
  let stopped = false;

  async function live() {
    const [fleet, latest] = await Promise.all([
      get('/api/nbgate/fleet', { deviceId: id, pageSize: 1, page: 0 }),
      get(`${base}/values/timeseries`, { useStrictDataTypes: true }),
    ]);
    if (stopped) return;
    if (fleet.data.length === 1) {
      const st = fleetState(fleet.data[0]);
      replace(stateBox, stateBadge(st), h('small', { class: 'why' }, st.why),
        h('small', { class: 'detail' }, st.detail));
    }
    replace(telBox, telemetryTable(latest));
    const newest = Math.max(-1, ...Object.values(latest).map((v) => (v[0] ? v[0].ts : -1)));
    if (newest !== lastSeenTs) {
      lastSeenTs = newest;
      await charts(base, latest, chartBox);
    }
    await queue.refresh();
  }

  async function poll() {
    try {
      await live();
    } catch (e) {
      if (!stopped) replace(stateBox, msg('err', e.message));
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  main.appendChild(head(dev, stateBox));
  main.appendChild(h('div', { class: 'cols' },
    section('Latest telemetry', telBox, chartBox),
    section('Attributes', attrBox)));
  const cred = await credentialsPanel(dev);
  main.appendChild(h('div', { class: 'cols' }, cred.node, connectPanel(dev, cred, profile, isEfento)));
  main.appendChild(isEfento ? efentoPanel(dev, queue.refreshNow) : rpcPanel(dev, queue.refreshNow));
  main.appendChild(queue.node);
  main.appendChild(eventsPanel(dev));
  attributes(dev, attrBox, queue.refreshNow).catch((e) => replace(attrBox, msg('err', e.message)));
  await poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
