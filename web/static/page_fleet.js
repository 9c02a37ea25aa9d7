// SPDX-License-Identifier: MIT
// page_fleet.js - the fleet at a glance: counts at the top (all, active, inactive), a device list
// with search and paging (GET /api/tenant/deviceInfos), and a form to add one device
// (POST /api/device with its access token). Each listed device then gets its state and reason
// (server attributes lastActivityTime and inactivityTimeout), battery and signal (latest
// telemetry) and its pending downlinks (persistent RPCs still QUEUED) with a few requests per
// row, at most four at a time; a fleet summary in the list answer would save those requests.

import { ApiError, get, post } from './api.js';
import { field, fmtTs, h, limited, msg, needsApi, replace, row, table } from './dom.js';
import { BATTERY_KEYS, SIGNAL_KEYS, deviceState, pick, stateBadge } from './state.js';

const HEADERS = ['Name', 'Profile', 'State', 'Last uplink', 'Battery', 'Signal', 'Pending downlinks'];
const TEL = `${[...BATTERY_KEYS, ...SIGNAL_KEYS].join(',')}`;

async function counts(box) {
  const n = async (active) => (await get('/api/tenant/deviceInfos',
    { pageSize: 1, page: 0, active })).totalElements;
  const [all, on, off] = await Promise.all([n(undefined), n(true), n(false)]);
  replace(box,
    h('div', { class: 'count', id: 'count-all' }, h('b', {}, String(all)), 'devices'),
    h('div', { class: 'count count-active', id: 'count-active' }, h('b', {}, String(on)), 'active'),
    h('div', { class: 'count count-inactive', id: 'count-inactive' }, h('b', {}, String(off)),
      'inactive or never seen'));
}

// Fills the state, last uplink, battery, signal and queue cells of one row.
async function enrich(d, cells, rpcState) {
  const id = d.id.id;
  const base = `/api/plugins/telemetry/DEVICE/${id}`;
  const [attrs, latest] = await Promise.all([
    get(`${base}/values/attributes/SERVER_SCOPE`, { keys: 'lastActivityTime,inactivityTimeout' }),
    get(`${base}/values/timeseries`, { keys: TEL, useStrictDataTypes: true }),
  ]);
  const a = Object.fromEntries(attrs.map((x) => [x.key, x.value]));
  const st = deviceState(d.active, a);
  replace(cells.state, stateBadge(st), h('small', { class: 'why' }, st.why));
  replace(cells.last, a.lastActivityTime ? fmtTs(a.lastActivityTime) : 'never');
  replace(cells.battery, pick(latest, BATTERY_KEYS));
  replace(cells.signal, pick(latest, SIGNAL_KEYS));
  if (rpcState.isMissing) return;
  try {
    const q = await get(`/api/rpc/persistent/device/${id}`, { pageSize: 1, page: 0, rpcStatus: 'QUEUED' });
    replace(cells.queue, String(q.totalElements));
  } catch (e) {
    if (e instanceof ApiError && e.isMissingApi) rpcState.isMissing = true;
    replace(cells.queue, h('span', { title: 'needs API GET /api/rpc/persistent/device/{deviceId}' }, '—'));
  }
}

function deviceRow(d, tasks, rpcState) {
  const cells = {
    state: h('span', {}, h('span', { class: d.active ? 'badge state-active' : 'badge' }, d.active ? 'active' : '…')),
    last: '…', battery: '…', signal: '…', queue: '…',
  };
  for (const k of ['last', 'battery', 'signal', 'queue']) cells[k] = h('span', {}, cells[k]);
  const name = h('a', { href: `#/device/${encodeURIComponent(d.id.id)}`, class: 'dev-name' }, d.name);
  const tr = row(HEADERS, [
    [name, d.label ? h('small', { class: 'label' }, d.label) : null],
    d.deviceProfileName || d.type,
    cells.state, cells.last, cells.battery, cells.signal, cells.queue,
  ], { 'data-device': d.id.id });
  tasks.push(() => enrich(d, cells, rpcState).catch((e) => replace(cells.state, msg('err', e.message))));
  return tr;
}

function addDeviceForm(onSaved) {
  const name = h('input', { name: 'name', required: true, maxlength: 255, id: 'add-name' });
  const label = h('input', { name: 'label', maxlength: 255, id: 'add-label' });
  const type = h('input', { name: 'type', id: 'add-type', list: 'profile-names', placeholder: 'default' });
  const token = h('input', { name: 'token', id: 'add-token', autocomplete: 'off', spellcheck: 'false' });
  const out = h('div', { class: 'out' });
  const list = h('datalist', { id: 'profile-names' });
  get('/api/deviceProfileInfos', { pageSize: 100, page: 0 })
    .then((d) => replace(list, d.data.map((p) => h('option', { value: p.name }))))
    .catch(() => {});
  const form = h('form', { class: 'form form-inline', id: 'add-device' },
    field('Name', name), field('Label', label),
    field('Profile', type, 'By name; a new name creates a profile with default settings.'),
    field('Access token', token, 'Empty: the gateway makes one (20 characters).'), list,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add device')),
    out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = { name: name.value.trim(), label: label.value.trim() || null };
      if (type.value.trim()) body.type = type.value.trim();
      const d = await post('/api/device', body, { accessToken: token.value.trim() || undefined });
      replace(out, msg('ok', 'Device added.'));
      onSaved(d);
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  });
  return form;
}

export async function fleetPage(main, params, ctx) {
  const state = { page: 0, pageSize: 20, search: '' };
  const countBox = h('div', { class: 'counts', id: 'counts' });
  const listBox = h('div', { id: 'device-list' });
  const pager = h('div', { class: 'pager' });
  const note = h('div', { class: 'out' });
  const search = h('input', { type: 'search', placeholder: 'Search name, label, profile',
    id: 'fleet-search', 'aria-label': 'Search devices' });
  const size = h('select', { id: 'fleet-size', 'aria-label': 'Devices per page' },
    [10, 20, 50, 100].map((n) => h('option', { value: n, selected: n === state.pageSize }, `${n} per page`)));
  const rpcState = { isMissing: false };
  let timer = 0;

  async function load() {
    const d = await get('/api/tenant/deviceInfos', {
      pageSize: state.pageSize, page: state.page, textSearch: state.search,
      sortProperty: 'name', sortOrder: 'ASC',
    });
    if (!ctx.isCurrent()) return;
    const tasks = [];
    replace(listBox, d.data.length === 0
      ? msg('info', state.search ? 'No device matches.' : 'No devices yet: add one below or import a CSV.')
      : table(HEADERS, d.data.map((x) => deviceRow(x, tasks, rpcState)), 'grid fleet'));
    const prev = h('button', { type: 'button', class: 'btn', disabled: state.page === 0 }, '‹ Previous');
    const next = h('button', { type: 'button', class: 'btn', disabled: !d.hasNext }, 'Next ›');
    prev.addEventListener('click', () => { state.page--; load(); });
    next.addEventListener('click', () => { state.page++; load(); });
    replace(pager, prev, h('span', { id: 'page-info' },
      `Page ${d.totalPages ? state.page + 1 : 0} of ${d.totalPages} · ${d.totalElements} devices`), next);
    await limited(tasks, 4);
    if (rpcState.isMissing && ctx.isCurrent()) {
      replace(note, needsApi('The pending-downlink count', 'GET /api/rpc/persistent/device/{deviceId}'));
    }
  }

  async function refresh() {
    try {
      await Promise.all([counts(countBox), load()]);
    } catch (e) {
      replace(listBox, msg('err', e.message));
    }
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.search = search.value.trim(); state.page = 0; refresh(); }, 250);
  });
  size.addEventListener('change', () => { state.pageSize = Number(size.value); state.page = 0; load(); });
  const refreshBtn = h('button', { type: 'button', class: 'btn', id: 'fleet-refresh' }, 'Refresh');
  refreshBtn.addEventListener('click', refresh);

  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Fleet'), refreshBtn));
  main.append(countBox, h('div', { class: 'toolbar' }, search, size), listBox, pager, note,
    h('details', { class: 'card', id: 'add-device-card' }, h('summary', {}, 'Add a device'),
      addDeviceForm((d) => { location.hash = `#/device/${d.id.id}`; })));
  await refresh();
  return () => clearTimeout(timer);
}
