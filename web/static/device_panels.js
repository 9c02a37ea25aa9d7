// SPDX-License-Identifier: MIT
// device_panels.js - the device page's lower panels:
//   credentials   the access token (copy, regenerate, set), or an X.509 certificate pasted as
//                 PEM and shown (subject, issuer, validity, SHA-256) before it is saved
//   connect       the gateway's real ports (GET /api/nbgate/connectivity) and ready-to-run
//                 coap-client commands: coap:// with the token, coaps:// on the DTLS port when
//                 DTLS is on (-R for token devices, -c/-j for X.509 ones); for Efento profiles
//                 the settings to enter in Efento's app
//   rpc           the RPC form
//   efento        the Efento settings form; settings that can cut the sensor off from the
//                 gateway (specs/efento.md 8.4) ask for confirmation in a dialog first
//   queue         the device's whole downlink queue, every kind (RPC, shared-attribute update,
//                 Efento settings) with state, expiry, tries and cancel while QUEUED; for Efento
//                 devices when the next confirmable uplink (which carries settings) is expected
//   events        the device's event log

import { ApiError, del, get, post, randomToken } from './api.js';
import {
  confirmButton, confirmDialog, field, fmtAgo, fmtTs, fmtValue, h, msg, needsApi, replace, row, section,
  shq, table,
} from './dom.js';
import { certInfo } from './x509.js';

// States still waiting for an outcome (the entry can still expire).
const OPEN = new Set(['QUEUED', 'SENT', 'DELIVERED', 'TIMEOUT']);
const KINDS = { RPC: 'RPC', ATTRIBUTES: 'Shared attributes', EFENTO_CONFIG: 'Efento settings' };
// Efento settings that can cut the sensor off from the gateway (specs/efento.md 8.4, table 6.6).
const CUT_OFF = new Set(['dataServerIp', 'dataServerPort', 'dataEndpoint', 'configurationEndpoint',
  'deviceInfoEndpoint', 'timeEndpoint', 'cloudToken', 'cloudTokenConfig', 'cloudTokenCoapOption', 'apn',
  'apnUsername', 'apnPassword', 'plmnSelection', 'modemBandsMask']);
const ACK_ALWAYS = 4294967295; // ackInterval: every uplink is confirmable

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

function efentoSettings(host, port, token, profile, endpoints) {
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
    h('p', { class: 'hint' }, 'The gateway accepts the endpoints ', h('code', {}, endpoints.join(', ')),
      ' (the bare ones are Efento\'s factory names).'));
}

function plainCommands(base, t) {
  const u = (path) => shq(`${base}/api/v1/${t}/${path}`);
  return [
    cmdBlock('Send telemetry', `coap-client-notls -m post -t json -e '{"temperature":21.5}' ${u('telemetry')}`),
    cmdBlock('Report client attributes',
      `coap-client-notls -m post -t json -e '{"firmwareVersion":"1.0.0"}' ${u('attributes')}`),
    cmdBlock('Read shared attributes', `coap-client-notls -m get ${u('attributes')}`),
    cmdBlock('Wait for shared-attribute updates (5 min)', `coap-client-notls -m get -s 300 ${u('attributes')}`),
    cmdBlock('Wait for RPC requests (5 min)', `coap-client-notls -m get -s 300 ${u('rpc')}`),
  ];
}

// coaps:// commands: a token device proves nothing but checks the server (-R); an X.509 device
// authenticates with its own certificate and key (-c, -j) and has no token in the path.
function dtlsCommands(sbase, t) {
  const id = t ? '-R ca-root.pem' : '-c cert.pem -j key.pem -R ca-root.pem';
  const u = (path) => shq(t ? `${sbase}/api/v1/${t}/${path}` : `${sbase}/api/v1/${path}`);
  const who = t ? '' : ' with the device certificate';
  return [
    h('h3', {}, 'Over DTLS (coaps://)'),
    cmdBlock('Get the server certificate',
      `curl -k -o ca-root.pem ${shq(`${location.origin}/api/device-connectivity/coaps/certificate/download`)}\n` +
      'openssl x509 -in ca-root.pem -noout -fingerprint -sha256   # compare with the SHA-256 above'),
    cmdBlock(`Send telemetry over DTLS${who}`,
      `coap-client-openssl -m post -t json -e '{"temperature":21.5}' ${id} ${u('telemetry')}`),
    cmdBlock(`Wait for RPC requests over DTLS${who} (5 min)`, `coap-client-openssl -m get -s 300 ${id} ${u('rpc')}`),
  ];
}

export function connectPanel(dev, cred, profile, isEfento) {
  const host = h('input', { value: location.hostname, id: 'connect-host', 'aria-label': 'Gateway address' });
  const facts = h('div', { id: 'connect-facts' });
  const cmds = h('div', { id: 'connect-cmds' }, msg('info', 'Reading the gateway\'s ports…'));
  let conn = null;
  function render() {
    if (!conn) return;
    const hv = host.value.trim();
    const port = conn.coap.port;
    const dtls = conn.coaps && conn.coaps.enabled ? conn.coaps : null;
    replace(facts, h('dl', { class: 'kv' },
      h('dt', {}, 'CoAP port (UDP)'), h('dd', { class: 'mono', id: 'connect-port' }, String(port)),
      h('dt', {}, 'CoAP over DTLS'), h('dd', { class: 'mono', id: 'connect-dtls-port' },
        dtls ? `port ${dtls.port}` : 'off (coap_dtls_enabled)'),
      dtls && dtls.certificateSha256 ? [h('dt', {}, 'Server certificate SHA-256'),
        h('dd', { class: 'mono wrap' }, dtls.certificateSha256)] : null));
    const t = cred.token;
    const base = `coap://${hv}:${port}`;
    if (isEfento) {
      replace(cmds, efentoSettings(hv, port, t, profile, conn.efento.endpoints),
        cmdBlock('Check that the sensor can reach the gateway (its time endpoint)',
          `coap-client-notls -m get ${shq(`${base}/efento/t`)} | od -An -tu1`));
      return;
    }
    replace(cmds, t ? plainCommands(base, t) : null,
      dtls ? dtlsCommands(`coaps://${hv}:${dtls.port}`, t)
        : t ? null : msg('info', 'This device uses an X.509 certificate, which works only over DTLS, and ' +
          'CoAP over DTLS is off on this gateway (coap_dtls_enabled).'));
  }
  host.addEventListener('input', render);
  cred.onChange(render);
  get('/api/nbgate/connectivity').then((c) => {
    conn = c;
    render();
  }).catch((e) => replace(cmds, msg('err', `The gateway's ports cannot be read: ${e.message}`)));
  return section('Connect this device',
    h('p', { class: 'hint' }, 'Commands for Debian\'s libcoap3-bin, with the ports this gateway listens on.'),
    field('Gateway address (as the device reaches it)', host), facts, cmds);
}

function rpcForm(dev, out, onQueued) {
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
    } catch (e) {
      replace(out, msg('err', e.message));
    }
    await onQueued();
  });
  return form;
}

export function rpcPanel(dev, onQueued) {
  const out = h('div', { class: 'out', id: 'rpc-out' });
  const node = section('Send an RPC', rpcForm(dev, out, onQueued), out);
  node.id = 'rpc';
  return node;
}

// When the next confirmable uplink (the one that carries settings) is expected: the last CON
// measurement frame (from the event log's UPLINK entries) plus the sensor's reported ackInterval
// (specs/efento.md 8.4); the last uplink of any kind when no CON frame is in the recent log.
async function nextCon(dev) {
  const base = `/api/plugins/telemetry/DEVICE/${dev.id.id}/values/attributes`;
  const [srv, cli, ev] = await Promise.all([get(`${base}/SERVER_SCOPE`, { keys: 'lastActivityTime' }),
    get(`${base}/CLIENT_SCOPE`, { keys: 'ackInterval' }),
    get(`/api/nbgate/device/${dev.id.id}/events`, { type: 'UPLINK', pageSize: 100, page: 0 })]);
  const con = ev.data.find((e) => e.coapType === 'CON' && e.resource === 'efento/m');
  const last = con ? con.ts : srv.find((a) => a.key === 'lastActivityTime')?.value;
  const what = con ? 'last CON measurement frame' : 'last uplink';
  const ack = cli.find((a) => a.key === 'ackInterval')?.value;
  if (typeof last !== 'number' || last <= 0 || typeof ack !== 'number' || ack <= 0) {
    return 'unknown (needs the last uplink and the sensor\'s reported ackInterval)';
  }
  if (ack === ACK_ALWAYS) return 'with its next uplink (every uplink is confirmable)';
  const t = last + ack * 1000;
  return `${fmtTs(t)} (${t > Date.now() ? fmtAgo(t) : 'overdue'}): ${what} + ackInterval ${ack} s`;
}

function expiresCell(x) {
  if (!OPEN.has(x.state)) return fmtTs(x.expirationTime);
  const left = x.expirationTime - Date.now();
  // one node: the phone layout gives each cell's content one grid column
  return h('span', {}, fmtTs(x.expirationTime), ' ',
    h('small', { class: left > 0 ? 'hint' : 'bad' }, left > 0 ? `(${fmtAgo(x.expirationTime)})` : '(expired)'));
}

// The device's whole downlink queue. Returns {node, refresh}; refresh() re-reads it (the page
// polls it), keeping the table as it is when nothing changed or a cancel waits for its 2nd click.
export function queuePanel(dev, isEfento) {
  const out = h('div', { class: 'out', id: 'dl-out' });
  const list = h('div', { id: 'dl-list' });
  const next = h('p', { class: 'hint', id: 'next-con' });
  const path = `/api/nbgate/device/${dev.id.id}/downlinks`;
  const heads = ['Kind', 'What', 'State', 'Created', 'Expires', 'Sent', 'Retries', 'Response', ''];
  let shown = null;
  async function refresh(force = false) {
    let d;
    try {
      d = await get(path, { pageSize: 50, page: 0 });
    } catch (e) {
      replace(list, msg('err', e.message));
      shown = null;
      return;
    }
    const text = JSON.stringify(d);
    if (!force && (text === shown || list.querySelector('.armed'))) return;
    shown = text;
    const cancel = (x) => confirmButton('Cancel', 'Really cancel?', async () => {
      try {
        await del(`${path}/${x.id}`);
        replace(out, msg('ok', 'Cancelled: it will not be sent.'));
      } catch (e) {
        replace(out, msg('err', e.message));
      }
      await refresh(true);
    }, 'btn btn-small btn-danger');
    replace(list, d.data.length === 0 ? msg('info', 'Nothing queued or sent yet.') : table(heads, d.data.map((x) => row(heads, [
      KINDS[x.kind] || x.kind, h('code', { class: 'wrap' }, x.summary),
      h('span', { class: `badge rpc-${String(x.state).toLowerCase()}`, 'data-dl-state': x.state }, x.state),
      fmtTs(x.createdTime), expiresCell(x), fmtTs(x.sentTime), `${x.retries} of ${x.maxRetries}`,
      fmtValue(x.response), x.state === 'QUEUED' ? cancel(x) : null,
    ], { 'data-dl': x.id, 'data-dl-kind': x.kind })), 'grid downlinks'),
    d.totalElements > d.data.length ? msg('info', `The newest ${d.data.length} of ${d.totalElements} entries.`) : null);
    if (isEfento && d.data.some((x) => x.state === 'QUEUED')) {
      const when = await nextCon(dev).catch(() => 'unknown');
      replace(next, 'Queued settings go out with the next confirmable uplink, expected: ', h('strong', {}, when));
    } else {
      replace(next);
    }
  }
  const node = section('Downlink queue',
    h('p', { class: 'hint' }, isEfento
      ? 'Settings ride on the answer to the sensor\'s next confirmable (CON) uplink.'
      : 'RPCs and shared-attribute updates wait here until the device listens (observes) and is reachable.'),
    next, out, list);
  node.id = 'downlinks';
  return { node, refresh: () => refresh(false), refreshNow: () => refresh(true) };
}

export function efentoPanel(dev, onQueued) {
  const out = h('div', { class: 'out', id: 'efento-out' });
  const settings = h('textarea', { rows: 3, class: 'mono', id: 'efento-settings', spellcheck: 'false' },
    '{"measurementPeriodBase": 60, "transmissionInterval": 900}');
  const path = `/api/nbgate/device/${dev.id.id}/efentoConfig`;
  const form = h('form', { class: 'form', id: 'efento-form' },
    field('Settings (JSON, attribute names of the Efento configuration)', settings),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Queue settings')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let s;
    try {
      s = JSON.parse(settings.value);
    } catch (e) {
      replace(out, msg('err', `Not JSON: ${e.message}`));
      return;
    }
    const risky = s && typeof s === 'object' ? Object.keys(s).filter((k) => CUT_OFF.has(k)) : [];
    if (risky.length > 0 && !await confirmDialog('These settings can cut the sensor off',
      h('div', {}, h('p', {}, 'A wrong value makes the sensor send to another server, endpoint, token or ' +
        'network, and then it can no longer reach this gateway: only Efento\'s app on site can fix that.'),
      h('ul', { id: 'cut-off-keys' }, risky.map((k) => h('li', {}, h('code', {}, k), ' = ', fmtValue(s[k]))))),
      'Queue them anyway')) {
      replace(out, msg('info', 'Nothing queued.'));
      return;
    }
    try {
      await post(path, { settings: s, expirationTime: null });
      replace(out, msg('ok', 'Queued: sent in the answer to the sensor\'s next confirmable uplink.'));
    } catch (e) {
      replace(out, msg('err', e.message));
    }
    await onQueued();
  });
  const node = section('Efento settings',
    h('p', { class: 'hint' }, 'Efento sensors take no RPC: settings ride on the answer to their next CON uplink. ',
      'Settings that can cut the sensor off (server, endpoints, token, APN, operator, bands) ask first.'),
    form, out);
  node.id = 'efento-queue';
  return node;
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
