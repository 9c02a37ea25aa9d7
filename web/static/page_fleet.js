// SPDX-License-Identifier: MIT
// page_fleet.js - the fleet at a glance, from one request per view (GET /api/nbgate/fleet): counts
// at the top (devices, active, inactive, never seen, pending downlinks), a device list with each
// device's profile, state and why (last uplink, next one expected or overdue since when),
// battery, signal and unfinished downlinks, with search, a state filter, sorting and paging; and
// a form to add one device (POST /api/device with its access token). Every device-supplied
// string goes in as text through h().

import { get, post } from './api.js';
import { field, fmtAgo, fmtDuration, fmtTs, h, msg, replace, row, table } from './dom.js';
import { fleetState, fmtReading, stateBadge } from './state.js';

const HEADERS = ['Name', 'Profile', 'State', 'Last uplink', 'Battery', 'Signal', 'Pending downlinks'];
const STATES = [['', 'All states'], ['ACTIVE', 'Active'], ['INACTIVE', 'Inactive'], ['NEVER_SEEN', 'Never seen']];
const SORTS = [['name', 'Sort by name'], ['state', 'Sort by state'], ['lastActivityTime', 'Sort by last uplink']];

function count(id, cls, n, label, title) {
  return h('div', { class: `count ${cls}`, id, title }, h('b', {}, String(n)), label);
}

function counts(box, s, defaultTimeout) {
  replace(box,
    count('count-all', '', s.total, 'devices',
      `inactive after ${fmtDuration(defaultTimeout)} without a message unless the device or its profile says otherwise`),
    count('count-active', 'count-active', s.active, 'active'),
    count('count-inactive', 'count-inactive', s.inactive, 'inactive'),
    count('count-never', 'count-never', s.neverSeen, 'never seen'),
    count('count-pending', 'count-pending', s.pendingDownlinks, 'pending downlinks',
      `${s.devicesWithPendingDownlinks} device(s) with downlinks waiting`));
}

function reading(r, kind) {
  if (!r) return h('span', { class: 'muted', 'data-reading': kind }, '—');
  return h('span', { 'data-reading': kind, title: `${r.key} at ${fmtTs(r.ts)}` }, fmtReading(r),
    h('small', { class: 'why' }, r.key));
}

function deviceRow(d, now) {
  const st = fleetState(d, now);
  const name = h('a', { href: `#/device/${encodeURIComponent(d.id.id)}`, class: 'dev-name' }, d.name);
  return row(HEADERS, [
    [name, d.label ? h('small', { class: 'label' }, d.label) : null],
    d.deviceProfileName,
    h('span', { class: 'state-cell' }, stateBadge(st), h('small', { class: 'why' }, st.why)),
    d.lastActivityTime ? h('span', { title: fmtTs(d.lastActivityTime) }, fmtAgo(d.lastActivityTime, now)) : 'never',
    reading(d.battery, 'battery'),
    reading(d.signal, 'signal'),
    h('span', { class: d.pendingDownlinks ? 'badge rpc-queued' : 'muted', 'data-pending': d.pendingDownlinks },
      String(d.pendingDownlinks)),
  ], { 'data-device': d.id.id, 'data-state': d.state });
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
  const state = { page: 0, pageSize: 20, search: '', state: '', sort: 'name' };
  const countBox = h('div', { class: 'counts', id: 'counts' });
  const listBox = h('div', { id: 'device-list' });
  const pager = h('div', { class: 'pager' });
  const search = h('input', { type: 'search', placeholder: 'Search name, label, profile',
    id: 'fleet-search', 'aria-label': 'Search devices' });
  const stateSel = h('select', { id: 'fleet-state', 'aria-label': 'Device state' },
    STATES.map(([v, t]) => h('option', { value: v }, t)));
  const sortSel = h('select', { id: 'fleet-sort', 'aria-label': 'Sort devices' },
    SORTS.map(([v, t]) => h('option', { value: v }, t)));
  const size = h('select', { id: 'fleet-size', 'aria-label': 'Devices per page' },
    [10, 20, 50, 100].map((n) => h('option', { value: n, selected: n === state.pageSize }, `${n} per page`)));
  let timer = 0;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    let d;
    try {
      d = await get('/api/nbgate/fleet', {
        pageSize: state.pageSize, page: state.page, textSearch: state.search || undefined,
        state: state.state || undefined, sortProperty: state.sort,
        sortOrder: state.sort === 'lastActivityTime' ? 'DESC' : 'ASC',
      });
    } catch (e) {
      if (ctx.isCurrent() && mine === seq) replace(listBox, msg('err', e.message));
      return;
    }
    if (!ctx.isCurrent() || mine !== seq) return;
    const now = Date.now();
    counts(countBox, d.summary, d.defaultInactivityTimeout);
    const filtered = state.search || state.state;
    replace(listBox, d.data.length === 0
      ? msg('info', filtered ? 'No device matches.' : 'No devices yet: add one below or import a CSV.')
      : table(HEADERS, d.data.map((x) => deviceRow(x, now)), 'grid fleet'));
    const prev = h('button', { type: 'button', class: 'btn', disabled: state.page === 0 }, '‹ Previous');
    const next = h('button', { type: 'button', class: 'btn', disabled: !d.hasNext }, 'Next ›');
    prev.addEventListener('click', () => { state.page--; load(); });
    next.addEventListener('click', () => { state.page++; load(); });
    replace(pager, prev, h('span', { id: 'page-info' },
      `Page ${d.totalPages ? state.page + 1 : 0} of ${d.totalPages} · ${d.totalElements} devices`), next);
  }

  const again = (fn) => () => { fn(); state.page = 0; load(); };
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(again(() => { state.search = search.value.trim(); }), 250);
  });
  stateSel.addEventListener('change', again(() => { state.state = stateSel.value; }));
  sortSel.addEventListener('change', again(() => { state.sort = sortSel.value; }));
  size.addEventListener('change', again(() => { state.pageSize = Number(size.value); }));
  const refreshBtn = h('button', { type: 'button', class: 'btn', id: 'fleet-refresh' }, 'Refresh');
  refreshBtn.addEventListener('click', load);

  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Fleet'), refreshBtn));
  main.append(countBox, h('div', { class: 'toolbar' }, search, stateSel, sortSel, size), listBox, pager,
    h('details', { class: 'card', id: 'add-device-card' }, h('summary', {}, 'Add a device'),
      addDeviceForm((d) => { location.hash = `#/device/${d.id.id}`; })));
  await load();
  return () => clearTimeout(timer);
}
