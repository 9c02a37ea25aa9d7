// SPDX-License-Identifier: MIT
// device_panels.js - the device page's lower panels:
//   credentials   the access token (copy, regenerate, set), or an X.509 certificate pasted as
//                 PEM and shown (subject, issuer, validity, SHA-256) before it is saved
//   connect       ready-to-run coap-client commands for this device's token, and for Efento
//                 profiles the settings to enter in Efento's app
//   rpc           the RPC form and the device's persistent RPCs (the downlink queue) with states
//   efento        the Efento settings queue (settings ride on the answer to the next CON uplink)
//   events        the device's event log
// Parts whose API nbgate does not serve yet show a "needs API" placeholder naming the endpoint.

import { ApiError, del, get, post, randomToken } from './api.js';
import {
  confirmButton, field, fmtAgo, fmtTs, fmtValue, h, msg, needsApi, replace, row, section, shq, table,
} from './dom.js';
import { certInfo } from './x509.js';

const RPC_OPEN = new Set(['QUEUED', 'SENT', 'DELIVERED', 'TIMEOUT']);

function missingOr(e, what, endpoint) {
  return e instanceof ApiError && e.isMissingApi ? needsApi(what, endpoint) : msg('err', e.message);
}

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard permission (or not a secure context): select the text for Ctrl+C
    input.focus();
    input.select();
    return false;
  }
}

function certPanel(dev, out, onSaved) {
  const pem = h('textarea', { rows: 6, class: 'mono', id: 'x509-pem', spellcheck: 'false',
    placeholder: '-----BEGIN CERTIFICATE-----' });
  const info = h('div', { class: 'out', id: 'x509-info' });
  const show = h('button', { type: 'button', class: 'btn' }, 'Show certificate');
  const save = h('button', { type: 'button', class: 'btn btn-primary' }, 'Use this certificate');
  show.addEventListener('click', async () => {
    try {
      const c = await certInfo(pem.value);
      const now = Date.now();
      const valid = now >= c.notBefore && now <= c.notAfter;
      replace(info, h('dl', { class: 'kv' },
        h('dt', {}, 'Subject'), h('dd', {}, c.subject),
        h('dt', {}, 'Issuer'), h('dd', {}, c.issuer),
        h('dt', {}, 'Valid'), h('dd', { class: valid ? '' : 'bad' },
          `${fmtTs(c.notBefore)} to ${fmtTs(c.notAfter)}${valid ? '' : ' (not valid now)'}`),
        h('dt', {}, 'SHA-256'), h('dd', { class: 'mono wrap' }, c.sha256 || 'not available here')));
    } catch (e) {
      replace(info, msg('err', `Not a certificate: ${e.message}`));
    }
  });
  save.addEventListener('click', async () => {
    try {
      await post('/api/device/credentials', { deviceId: { entityType: 'DEVICE', id: dev.id.id },
        credentialsType: 'X509_CERTIFICATE', credentialsValue: pem.value });
      replace(out, msg('ok', 'Certificate saved; the device now authenticates with it over DTLS.'));
      onSaved();
    } catch (e) {
      replace(out, msg('err', e.message));
    }
  });
  return h('details', { class: 'sub-card' }, h('summary', {}, 'Use an X.509 certificate instead'),
    pem, h('div', { class: 'actions' }, show, save), info);
}

// Returns {node, token, onChange(fn)}: the token is what the connect panel shows.
export async function credentialsPanel(dev) {
  const box = h('div', { id: 'credentials' });
  const out = h('div', { class: 'out' });
  const state = { token: null, listeners: [] };
  const setToken = (t) => {
    state.token = t;
    for (const fn of state.listeners) fn(t);
  };
  async function render() {
    const c = await get(`/api/device/${dev.id.id}/credentials`);
    if (c.credentialsType !== 'ACCESS_TOKEN') {
      setToken(null);
      replace(box, h('p', {}, `Type ${c.credentialsType}`),
        h('p', { class: 'mono wrap' }, `SHA-256 ${c.credentialsId}`), certPanel(dev, out, render));
      return;
    }
    setToken(c.credentialsId);
    const tok = h('input', { value: c.credentialsId, readOnly: true, class: 'mono', id: 'token',
      'aria-label': 'Access token' });
    const copy = h('button', { type: 'button', class: 'btn', id: 'token-copy' }, 'Copy');
    copy.addEventListener('click', async () => {
      replace(out, msg('ok', (await copyText(c.credentialsId, tok)) ? 'Copied.' : 'Selected: press Ctrl+C.'));
    });
    const save = async (t) => {
      try {
        await post('/api/device/credentials', { deviceId: { entityType: 'DEVICE', id: dev.id.id },
          credentialsType: 'ACCESS_TOKEN', credentialsId: t });
        replace(out, msg('ok', 'New token saved; the old one no longer works.'));
        await render();
      } catch (e) {
        replace(out, msg('err', e.message));
      }
    };
    const regen = confirmButton('Regenerate', 'Click again: the old token stops working',
      () => save(randomToken()), 'btn btn-danger');
    const custom = h('input', { class: 'mono', placeholder: 'your own token', 'aria-label': 'New token',
      spellcheck: 'false' });
    const set = h('button', { type: 'button', class: 'btn' }, 'Set');
    set.addEventListener('click', () => custom.value.trim() && save(custom.value.trim()));
    replace(box, field('Access token', h('div', { class: 'form-row' }, tok, copy, regen)),
      field('Or set a token', h('div', { class: 'form-row' }, custom, set)),
      certPanel(dev, out, render));
  }
  try {
    await render();
  } catch (e) {
    replace(box, msg('err', e.message));
  }
  return {
    node: section('Credentials', box, out),
    get token() { return state.token; },
    onChange: (fn) => state.listeners.push(fn),
  };
}

function cmdBlock(title, text) {
  return h('div', { class: 'cmd-block' }, h('h4', {}, title),
    h('pre', { class: 'cmd', 'data-cmd': title }, text));
}

function efentoSettings(host, port, token, profile) {
  const opt = profile?.profileData?.transportConfiguration?.coapDeviceTypeConfiguration?.cloudTokenCoapOption;
  const inOption = opt && opt !== 65000;
  const rows = [
    ['Server address', host], ['Server port', String(port)], ['Protocol', 'CoAP (UDP, no DTLS)'],
    ['Data endpoint', 'efento/m'], ['Configuration endpoint', 'efento/c'],
    ['Device info endpoint', 'efento/i'], ['Time endpoint', 'efento/t'],
    ['Cloud token', token || '(set an access token first)'], ['Cloud token source', 'user token'],
    ['Token sent in', inOption ? `CoAP option ${opt}` : 'the payload'],
  ];
  return h('div', { id: 'efento-app' },
    h('h3', {}, 'Settings in Efento\'s app'),
    h('dl', { class: 'kv' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)])),
    h('p', { class: 'hint' }, 'The bare endpoints m, c, i, t (Efento\'s factory names) work too.'));
}

export function connectPanel(dev, cred, profile, isEfento, isProfileMissing) {
  const host = h('input', { value: location.hostname, id: 'connect-host', 'aria-label': 'Gateway address' });
  const port = h('input', { value: '5683', id: 'connect-port', inputmode: 'numeric', 'aria-label': 'CoAP port' });
  const cmds = h('div', { id: 'connect-cmds' });
  function render() {
    const t = cred.token;
    if (!t) {
      replace(cmds, msg('info', 'This device uses a certificate: use coap-client-openssl with -c and -j.'));
      return;
    }
    const base = `coap://${host.value.trim()}:${port.value.trim()}`;
    const u = (path) => shq(`${base}/api/v1/${t}/${path}`);
    if (isEfento) {
      replace(cmds, efentoSettings(host.value.trim(), port.value.trim(), t, profile),
        cmdBlock('Check that the sensor can reach the gateway (its time endpoint)',
          `coap-client-notls -m get ${shq(`${base}/efento/t`)} | od -An -tu1`));
      return;
    }
    replace(cmds,
      cmdBlock('Send telemetry', `coap-client-notls -m post -t json -e '{"temperature":21.5}' ${u('telemetry')}`),
      cmdBlock('Report client attributes',
        `coap-client-notls -m post -t json -e '{"firmwareVersion":"1.0.0"}' ${u('attributes')}`),
      cmdBlock('Read shared attributes', `coap-client-notls -m get ${u('attributes')}`),
      cmdBlock('Wait for shared-attribute updates (5 min)', `coap-client-notls -m get -s 300 ${u('attributes')}`),
      cmdBlock('Wait for RPC requests (5 min)', `coap-client-notls -m get -s 300 ${u('rpc')}`),
      isProfileMissing ? needsApi('Showing Efento app settings for Efento profiles',
        'GET /api/deviceProfile/{deviceProfileId}') : null);
  }
  host.addEventListener('input', render);
  port.addEventListener('input', render);
  cred.onChange(render);
  render();
  return section('Connect this device',
    h('p', { class: 'hint' }, 'Commands for Debian\'s libcoap3-bin. The CoAP port is the gateway\'s ',
      h('code', {}, 'coap_bind_port'), ' (5683 unless changed).'),
    h('div', { class: 'form-row' }, field('Gateway address', host), field('CoAP port', port)), cmds);
}

function rpcForm(dev, out, refresh) {
  const method = h('input', { required: true, id: 'rpc-method', placeholder: 'setInterval' });
  const params = h('textarea', { rows: 2, class: 'mono', id: 'rpc-params', spellcheck: 'false' }, '{}');
  const kind = h('select', { id: 'rpc-kind' }, h('option', { value: 'twoway' }, 'two-way (answer expected)'),
    h('option', { value: 'oneway' }, 'one-way'));
  const persistent = h('input', { type: 'checkbox', checked: true, id: 'rpc-persistent' });
  const expires = h('input', { type: 'number', min: 1, value: 1440, id: 'rpc-expires' });
  const retries = h('input', { type: 'number', min: 0, max: 5, value: 2, id: 'rpc-retries' });
  const form = h('form', { class: 'form', id: 'rpc-form' },
    h('div', { class: 'form-row' }, field('Method', method), field('Kind', kind)),
    field('Params (JSON)', params, 'With the default Protobuf schema, params must be a string.'),
    h('div', { class: 'form-row' },
      field('Queue until the device wakes up', persistent),
      field('Expires after (minutes)', expires), field('Retries', retries)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send RPC')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let p;
    try {
      p = params.value.trim() ? JSON.parse(params.value) : null;
    } catch (e) {
      replace(out, msg('err', `Params are not JSON: ${e.message}`));
      return;
    }
    const body = { method: method.value.trim(), params: p, persistent: persistent.checked,
      expirationTime: Date.now() + Number(expires.value) * 60000, retries: Number(retries.value) };
    replace(out, msg('info', persistent.checked ? 'Queuing…' : 'Waiting for the device…'));
    try {
      const r = await post(`/api/rpc/${kind.value}/${dev.id.id}`, body);
      replace(out, msg('ok', r && r.rpcId ? `Queued as ${r.rpcId}.` : `Answer: ${fmtValue(r)}`));
      await refresh();
    } catch (e) {
      replace(out, missingOr(e, 'Sending an RPC', 'POST /api/rpc/{oneway|twoway}/{deviceId}'));
    }
  });
  return form;
}

export function rpcPanel(dev) {
  const out = h('div', { class: 'out', id: 'rpc-out' });
  const list = h('div', { id: 'rpc-list' });
  const heads = ['Created', 'Method', 'Params', 'State', 'Expires', 'Response', ''];
  async function refresh() {
    let d;
    try {
      d = await get(`/api/rpc/persistent/device/${dev.id.id}`,
        { pageSize: 20, page: 0, sortProperty: 'createdTime', sortOrder: 'DESC' });
    } catch (e) {
      replace(list, missingOr(e, 'The downlink queue (persistent RPCs)',
        'GET /api/rpc/persistent/device/{deviceId}'));
      return;
    }
    replace(list, d.data.length === 0 ? msg('info', 'No queued or past RPCs.') : table(heads, d.data.map((r) => {
      const body = r.request && r.request.body ? r.request.body : {};
      const cancel = RPC_OPEN.has(r.status) ? confirmButton('Cancel', 'Really cancel?', async () => {
        try {
          await del(`/api/rpc/persistent/${r.id.id}`);
          await refresh();
        } catch (e) {
          replace(out, msg('err', e.message));
        }
      }, 'btn btn-small btn-danger') : null;
      return row(heads, [fmtTs(r.createdTime), h('code', {}, body.method || ''), fmtValue(body.params),
        h('span', { class: `badge rpc-${String(r.status).toLowerCase()}`, 'data-rpc-status': r.status }, r.status),
        `${fmtTs(r.expirationTime)} (${fmtAgo(r.expirationTime)})`, fmtValue(r.response), cancel],
      { 'data-rpc': r.id.id });
    }), 'grid rpc'));
  }
  const node = section('RPC and downlink queue', rpcForm(dev, out, refresh), out, h('h3', {}, 'Queue'), list,
    needsApi('Listing queued shared-attribute downlinks', 'GET /api/nbgate/device/{deviceId}/downlinks'));
  node.id = 'rpc';
  return { node, refresh };
}

export function efentoPanel(dev) {
  const out = h('div', { class: 'out', id: 'efento-out' });
  const list = h('div', { id: 'efento-list' });
  const settings = h('textarea', { rows: 3, class: 'mono', id: 'efento-settings', spellcheck: 'false' },
    '{"measurementPeriodBase": 60, "transmissionInterval": 900}');
  const path = `/api/nbgate/device/${dev.id.id}/efentoConfig`;
  const heads = ['Created', 'Settings', 'State', 'Sent', 'Expires', 'Error', ''];
  async function refresh() {
    let d;
    try {
      d = await get(path, { pageSize: 20, page: 0 });
    } catch (e) {
      replace(list, missingOr(e, 'The Efento settings queue', 'GET /api/nbgate/device/{deviceId}/efentoConfig'));
      return;
    }
    replace(list, d.data.length === 0 ? msg('info', 'Nothing queued.') : table(heads, d.data.map((x) => row(heads, [
      fmtTs(x.createdTime), h('code', {}, JSON.stringify(x.settings)),
      h('span', { class: `badge rpc-${String(x.state).toLowerCase()}` }, x.state), fmtTs(x.sentTs),
      fmtTs(x.expirationTime), fmtValue(x.error || x.configurationErrors),
      x.state === 'QUEUED' ? confirmButton('Cancel', 'Really cancel?', async () => {
        await del(`${path}/${x.id}`).catch((e) => replace(out, msg('err', e.message)));
        await refresh();
      }, 'btn btn-small btn-danger') : null]))));
  }
  const form = h('form', { class: 'form', id: 'efento-form' },
    field('Settings (JSON, attribute names of the Efento configuration)', settings),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Queue settings')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post(path, { settings: JSON.parse(settings.value), expirationTime: null });
      replace(out, msg('ok', 'Queued: sent in the answer to the sensor\'s next confirmable uplink.'));
      await refresh();
    } catch (e) {
      replace(out, e instanceof SyntaxError ? msg('err', `Not JSON: ${e.message}`)
        : missingOr(e, 'Queuing Efento settings', 'POST /api/nbgate/device/{deviceId}/efentoConfig'));
    }
  });
  const node = section('Efento settings queue',
    h('p', { class: 'hint' }, 'Efento sensors take no RPC: settings ride on the answer to their next CON uplink.'),
    form, out, list);
  node.id = 'efento-queue';
  return { node, refresh };
}

export function eventsPanel(dev) {
  const box = h('div', { id: 'events' });
  const heads = ['Time', 'Type', 'Resource', 'Code', 'Summary'];
  const load = async () => {
    try {
      const d = await get(`/api/nbgate/device/${dev.id.id}/events`, { pageSize: 50, page: 0 });
      replace(box, d.data.length === 0 ? msg('info', 'No events.') : table(heads, d.data.map((e) => row(heads, [
        fmtTs(e.ts), e.type, h('code', {}, e.resource || ''), e.responseCode || '',
        e.error ? h('span', { class: 'bad' }, e.error) : e.summary || '']))));
    } catch (e) {
      replace(box, missingOr(e, 'The event log', 'GET /api/nbgate/device/{deviceId}/events'));
    }
  };
  const btn = h('button', { type: 'button', class: 'btn btn-small' }, 'Refresh');
  btn.addEventListener('click', load);
  load();
  const node = section('Event log', btn, box);
  node.id = 'event-log';
  return node;
}
