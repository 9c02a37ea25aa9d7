// SPDX-License-Identifier: MIT
// page_onboard.js - getting sensors onto the gateway:
//   CSV import   paste or pick a file; columns are mapped from the header (NAME, TYPE,
//                ACCESS_TOKEN, attributes, ...); a dry run shows per row whether it creates or
//                updates a device or fails, and why (names looked up on the gateway); the import
//                itself is ThingsBoard's POST /api/device/bulk_import, whose per-line errors are
//                shown as the gateway reports them
//   pending      devices that knocked with unknown credentials (Efento tokens, CoAP access tokens,
//                DTLS client certificates), approved into a profile of their kind (Efento or
//                Default) with a name, forgotten, or blocked; blocked ones listed apart
// All cells and names are shown as text.

import { ApiError, del, get, post } from './api.js';
import { field, fmtAgo, fmtTs, h, limited, msg, needsApi, replace, row, section, table } from './dom.js';
import { COLUMN_TYPES, KEYED, guessColumn, parseCsv } from './csv.js';

const MAX_LOOKUPS = 500;

function missingOr(e, what, endpoint) {
  return e instanceof ApiError && e.isMissingApi ? needsApi(what, endpoint) : msg('err', e.message);
}

function mappingEditor(headers, box) {
  const cols = headers.map((hd) => {
    const g = guessColumn(hd);
    const type = h('select', { 'aria-label': `Type of column ${hd}` },
      COLUMN_TYPES.map((t) => h('option', { value: t, selected: t === g.type }, t)));
    const key = h('input', { value: g.key || hd.trim(), 'aria-label': `Key of column ${hd}` });
    const sync = () => { key.hidden = !KEYED.has(type.value); };
    type.addEventListener('change', sync);
    sync();
    return { hd, type, key };
  });
  replace(box, h('div', { class: 'mapping' }, cols.map((c, i) => h('div', { class: 'map-col' },
    h('span', { class: 'map-head' }, `${i + 1}. ${c.hd || '(empty)'}`), c.type, c.key))));
  return () => cols.map((c) => (KEYED.has(c.type.value) ? { type: c.type.value, key: c.key.value.trim() }
    : { type: c.type.value }));
}

// Checks each record locally and against the gateway's device names; returns result rows.
async function dryRun(records, columns, hasHeader) {
  const nameAt = columns.findIndex((c) => c.type === 'NAME');
  const tokAt = columns.findIndex((c) => c.type === 'ACCESS_TOKEN');
  const seenName = new Map();
  const seenTok = new Map();
  const results = [];
  const tasks = [];
  records.forEach((r, i) => {
    const line = i + 1;
    if (hasHeader && i === 0) return;
    const name = nameAt >= 0 ? (r[nameAt] || '').trim() : '';
    const res = { line, name, verdict: 'create', why: '' };
    results.push(res);
    if (r.length > columns.length) {
      Object.assign(res, { verdict: 'error', why: `${r.length} cells for ${columns.length} columns` });
    } else if (!name) {
      Object.assign(res, { verdict: 'error', why: 'Device name should be specified!' });
    } else if (seenName.has(name)) {
      Object.assign(res, { verdict: 'error', why: `the name is also on line ${seenName.get(name)}` });
    } else if (tokAt >= 0 && r[tokAt] && seenTok.has(r[tokAt])) {
      Object.assign(res, { verdict: 'error', why: `the token is also on line ${seenTok.get(r[tokAt])}` });
    } else if (tasks.length < MAX_LOOKUPS) {
      tasks.push(async () => {
        try {
          await get('/api/tenant/devices', { deviceName: name });
          Object.assign(res, { verdict: 'update', why: 'a device with this name exists' });
        } catch (e) {
          if (e.status !== 404) Object.assign(res, { verdict: 'error', why: e.message });
        }
      });
    } else {
      res.why = 'not looked up (too many rows)';
    }
    if (name && !seenName.has(name)) seenName.set(name, line);
    if (tokAt >= 0 && r[tokAt] && !seenTok.has(r[tokAt])) seenTok.set(r[tokAt], line);
  });
  await limited(tasks, 4);
  return results;
}

function importCard() {
  const text = h('textarea', { rows: 6, class: 'mono', id: 'csv-text', spellcheck: 'false',
    placeholder: 'name,type,token,site\nCold room 2,Efento NB-IoT,tok-01,Hall A' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'csv-file' });
  const delim = h('select', { id: 'csv-delim' }, [[',', 'comma'], [';', 'semicolon'], ['|', 'bar'], ['\t', 'tab']]
    .map(([v, t]) => h('option', { value: v }, t)));
  const header = h('input', { type: 'checkbox', checked: true, id: 'csv-header' });
  const update = h('input', { type: 'checkbox', checked: true, id: 'csv-update' });
  const mapBox = h('div', { id: 'csv-mapping' });
  const out = h('div', { class: 'out', id: 'csv-out' });
  const dry = h('button', { type: 'button', class: 'btn', id: 'csv-dry' }, 'Dry run');
  const go = h('button', { type: 'button', class: 'btn btn-primary', id: 'csv-import', disabled: true }, 'Import');
  let mapping = null;
  let parsed = null;
  let parsedFrom = '';
  const source = () => `${delim.value}|${header.checked}|${text.value}`;
  const reparse = () => {
    parsedFrom = source();
    parsed = parseCsv(text.value, delim.value);
    go.disabled = true;
    if (parsed.error) {
      replace(mapBox, msg('err', parsed.error));
      mapping = null;
      return;
    }
    const first = parsed.records[0] || [];
    mapping = first.length ? mappingEditor(header.checked ? first : first.map((_, i) => `column ${i + 1}`), mapBox) : null;
    if (!mapping) replace(mapBox);
  };
  file.addEventListener('change', async () => {
    if (file.files[0]) text.value = await file.files[0].text();
    reparse();
  });
  for (const el of [text, delim, header]) el.addEventListener('change', reparse);
  text.addEventListener('input', () => { go.disabled = true; });
  const heads = ['Line', 'Name', 'Result', 'Why'];
  dry.addEventListener('click', async () => {
    if (parsedFrom !== source()) reparse();
    if (!mapping) {
      replace(out, msg('err', 'Nothing to import.'));
      return;
    }
    const cols = mapping();
    if (!cols.some((c) => c.type === 'NAME')) {
      replace(out, msg('err', 'One column must be NAME.'));
      return;
    }
    replace(out, msg('info', 'Checking…'));
    const res = await dryRun(parsed.records, cols, header.checked);
    const n = (v) => res.filter((r) => r.verdict === v).length;
    replace(out, msg(n('error') ? 'err' : 'ok', `Dry run: ${n('create')} to create, ${n('update')} to update, ${n('error')} with errors.`),
      table(heads, res.map((r) => row(heads, [String(r.line), r.name,
        h('span', { class: `badge verdict-${r.verdict}` }, r.verdict), r.why], { 'data-line': r.line }))));
    go.disabled = false;
  });
  go.addEventListener('click', async () => {
    go.disabled = true;
    const body = { file: text.value, mapping: { columns: mapping(), delimiter: delim.value,
      header: header.checked, update: update.checked } };
    try {
      const r = await post('/api/device/bulk_import', body);
      replace(out, msg(r.errors ? 'err' : 'ok', `Imported: ${r.created} created, ${r.updated} updated, ${r.errors} errors.`),
        r.errorsList && r.errorsList.length ? h('ul', { class: 'errors' }, r.errorsList.map((e) => h('li', {}, e))) : null);
    } catch (e) {
      replace(out, missingOr(e, 'The CSV import', 'POST /api/device/bulk_import'));
    }
  });
  return section('Import devices from CSV',
    h('div', { class: 'form' }, field('CSV text', text), field('or a file', file),
      h('div', { class: 'form-row' }, field('Delimiter', delim), field('First line is a header', header),
        field('Update attributes of existing devices', update)),
      h('h3', {}, 'Columns'), mapBox, h('div', { class: 'actions' }, dry, go)), out);
}

// The CoAP device type of a profile: only an EFENTO profile serves an Efento sensor, only a
// DEFAULT one a device with an access token or a certificate (specs/rest-api.md 9.3).
function coapType(profile) {
  const t = profile.profileData && profile.profileData.transportConfiguration;
  const c = t && t.coapDeviceTypeConfiguration;
  return (c && c.coapDeviceType) || 'DEFAULT';
}

function fitting(p, profiles) {
  const want = p.source === 'EFENTO' ? 'EFENTO' : 'DEFAULT';
  return profiles.filter((x) => coapType(x) === want).sort((x, y) => Number(!!y.default) - Number(!!x.default));
}

function approveForm(p, profiles, reload, out) {
  const fit = fitting(p, profiles);
  const name = h('input', { value: p.serialNumber ? `Efento ${p.serialNumber}` : '', 'aria-label': 'Device name',
    placeholder: p.source === 'EFENTO' ? 'device name' : 'device name (required)', 'data-name': '' });
  const prof = h('select', { 'aria-label': 'Profile', 'data-profile': '' },
    fit.map((x) => h('option', { value: x.id.id }, x.name)));
  const approve = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-approve': '',
    disabled: fit.length === 0, title: fit.length ? '' : `No ${p.source === 'EFENTO' ? 'Efento' : 'Default'} profile to approve into` },
  'Approve');
  approve.addEventListener('click', async () => {
    try {
      await post(`/api/nbgate/pendingDevices/${p.id}/approve`, { name: name.value.trim() || undefined,
        deviceProfileId: prof.value ? { entityType: 'DEVICE_PROFILE', id: prof.value } : undefined });
      replace(out, msg('ok', 'Approved: the device is created with its credential.'));
      reload();
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  });
  const reject = (block) => async () => {
    try {
      await post(`/api/nbgate/pendingDevices/${p.id}/reject`, { block });
      replace(out, msg('ok', block ? 'Blocked: its attempts are answered 4.01 and no longer recorded.' : 'Forgotten.'));
      reload();
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  };
  return h('div', { class: 'form-row' }, name, prof, approve,
    h('button', { type: 'button', class: 'btn btn-small', onclick: reject(false) }, 'Forget'),
    h('button', { type: 'button', class: 'btn btn-small btn-danger', onclick: reject(true), 'data-block': '' }, 'Block'));
}

function unblockForm(p, reload, out) {
  const btn = h('button', { type: 'button', class: 'btn btn-small', 'data-delete': '' }, 'Delete (unblock)');
  btn.addEventListener('click', async () => {
    try {
      await del(`/api/nbgate/pendingDevices/${p.id}`);
      replace(out, msg('ok', 'Deleted: its next attempt makes it pending again.'));
      reload();
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  });
  return btn;
}

// What a device sent as its credential: a token, or a certificate's fingerprint (PEM on hover).
function credential(p) {
  if (p.source === 'X509') {
    return h('code', { title: p.certificate || '', 'data-credential': '' }, `SHA-256 ${p.credentialsId}`);
  }
  return h('code', { 'data-credential': '' }, p.credentialsId || '(empty token)');
}

function pendingCard() {
  const box = h('div', { id: 'pending' });
  const out = h('div', { class: 'out', id: 'pending-out' });
  const blocked = h('input', { type: 'checkbox', id: 'pending-blocked' });
  const heads = ['Source', 'Credential', 'Serial', 'Last message', 'Last seen', 'Attempts', 'Action'];
  const load = async () => {
    const isBlocked = blocked.checked;
    try {
      const [d, profiles] = await Promise.all([
        get('/api/nbgate/pendingDevices', { pageSize: 50, page: 0, sortProperty: 'lastSeenTs', sortOrder: 'DESC',
          blocked: isBlocked }),
        get('/api/deviceProfiles', { pageSize: 100, page: 0 }).then((x) => x.data).catch(() => []),
      ]);
      const empty = isBlocked ? 'Nothing is blocked.' : 'No unknown devices have knocked.';
      replace(box, d.data.length === 0 ? msg('info', empty) : table(heads, d.data.map((p) => row(heads, [
        h('span', { 'data-source': '' }, p.source), credential(p), p.serialNumber || '—', p.lastMessage || '—',
        h('span', { title: fmtTs(p.lastSeenTs) }, `${fmtAgo(p.lastSeenTs)} from ${p.lastRemoteAddress || '?'}`),
        String(p.attempts), isBlocked ? unblockForm(p, load, out) : approveForm(p, profiles, load, out)],
      { 'data-pending': p.id }))));
    } catch (e) {
      replace(box, missingOr(e, 'Pending devices', 'GET /api/nbgate/pendingDevices'));
    }
  };
  load();
  const btn = h('button', { type: 'button', class: 'btn btn-small', id: 'pending-refresh' }, 'Refresh');
  btn.addEventListener('click', load);
  blocked.addEventListener('change', load);
  return section('Pending devices', h('p', { class: 'hint' },
    'Devices that talked to the gateway with credentials nobody registered (an access token, a DTLS client ',
    'certificate or an Efento cloud token), answered 4.01. Approve one into a profile of its kind (Efento ',
    'profiles for Efento sensors, Default profiles for tokens and certificates), or block it.'),
  h('div', { class: 'form-row' }, btn, field('Show blocked', blocked)), out, box);
}

export async function onboardingPage(main) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Onboarding')), importCard(), pendingCard());
}
