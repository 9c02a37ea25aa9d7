// SPDX-License-Identifier: MIT
// page_profiles.js - device profiles (specs/rest-api.md section 5): the list, and the editor for
// one profile: name and description; transport COAP or DEFAULT; CoAP device type Default (JSON
// or Protobuf, with the four .proto editors pre-filled with ThingsBoard's defaults and protoc's
// errors shown at their line) or Efento (its settings); power saving with only the fields the
// chosen mode uses, in ThingsBoard's names with a unit; provisioning strategy, key and secret;
// the expected uplink interval (nbgate's profileData.configuration.expectedUplinkInterval).
// The editor keeps the loaded object and overwrites only what it shows, so members it does not
// know survive a save; `version` goes back as loaded (a stale one gets 409).

import { ApiError, del, get, post } from './api.js';
import { confirmButton, field, h, msg, needsApi, replace, row, section, table } from './dom.js';
import { SCHEMAS } from './proto_defaults.js';

const UNITS = [['ms', 1], ['s', 1000], ['min', 60000], ['h', 3600000]];
// ThingsBoard's field names, minimums (ms) and defaults per power mode.
const POWER_FIELDS = {
  PSM: [['psmActivityTimer', 'PSM activity timer', 1280, 10000]],
  DRX: [],
  E_DRX: [['edrxCycle', 'eDRX cycle', 5120, 81000],
    ['pagingTransmissionWindow', 'Paging transmission window', 1280, 10000]],
};
const EFENTO = [
  ['cloudTokenCoapOption', 'Cloud token CoAP option', 65000, '1…64999: token in that option; 65000: in the payload'],
  ['payloadSignatureCoapOption', 'Payload signature CoAP option', 65000, 'registered, not verified yet'],
  ['modemIdentificationCoapOption', 'Modem identification CoAP option', 65000, 'registered, ignored'],
  ['clockSyncThresholdS', 'Clock sync threshold (s)', 60, '0: time in every answer; negative: never'],
  ['requestRetryS', 'Request retry (s)', 3600, 'least time between automatic info/config requests'],
  ['downlinkExpiryS', 'Downlink expiry (s)', 2678400, 'a queued setting not sent by then expires'],
  ['confirmTimeoutS', 'Confirm timeout (s)', 3600, 'a sent setting not confirmed by then times out'],
];

function missingOr(e, what, endpoint) {
  return e instanceof ApiError && e.isMissingApi ? needsApi(what, endpoint) : msg('err', e.message);
}

export async function profilesPage(main) {
  const box = h('div', { id: 'profile-list' });
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Device profiles'),
    h('a', { href: '#/profile/new', class: 'btn btn-primary', id: 'new-profile' }, 'New profile')));
  main.appendChild(box);
  const heads = ['Name', 'Transport', 'Device type', 'Power saving', 'Provisioning', ''];
  try {
    const d = await get('/api/deviceProfiles', { pageSize: 100, page: 0, sortProperty: 'name', sortOrder: 'ASC' });
    replace(box, table(heads, d.data.map((p) => {
      const tc = p.profileData?.transportConfiguration || {};
      const ct = tc.coapDeviceTypeConfiguration || {};
      const payload = ct.transportPayloadTypeConfiguration?.transportPayloadType;
      return row(heads, [h('a', { href: `#/profile/${p.id.id}` }, p.name), p.transportType,
        p.transportType === 'COAP' ? `${ct.coapDeviceType || 'DEFAULT'}${payload ? ` · ${payload}` : ''}` : 'JSON',
        tc.clientSettings?.powerMode || '—', p.provisionType || 'DISABLED',
        p.default ? h('span', { class: 'badge' }, 'default') : null], { 'data-profile': p.name });
    })));
  } catch (e) {
    replace(box, missingOr(e, 'The profile list', 'GET /api/deviceProfiles'));
  }
}

function bestUnit(ms) {
  for (let i = UNITS.length - 1; i > 0; i--) {
    if (ms % UNITS[i][1] === 0) return UNITS[i];
  }
  return UNITS[0];
}

// A duration input with a unit select; get() answers ms.
function duration(name, ms) {
  const [u, f] = bestUnit(ms);
  const num = h('input', { type: 'number', min: 0, value: ms / f, name, 'aria-label': name });
  const unit = h('select', { 'aria-label': `${name} unit` }, UNITS.map(([n]) => h('option', { value: n, selected: n === u }, n)));
  return { node: h('div', { class: 'form-row' }, num, unit),
    get: () => Math.round(Number(num.value) * UNITS.find(([n]) => n === unit.value)[1]) };
}

function powerSection(cs) {
  const mode = h('select', { id: 'power-mode', name: 'powerMode' },
    ['PSM', 'DRX', 'E_DRX'].map((m) => h('option', { value: m, selected: m === (cs.powerMode || 'DRX') }, m)));
  const box = h('div', { id: 'power-fields' });
  let inputs = {};
  const render = () => {
    inputs = {};
    replace(box, POWER_FIELDS[mode.value].map(([k, label, min, def]) => {
      inputs[k] = duration(k, Number(cs[k]) || def);
      return field(label, inputs[k].node, `at least ${min} ms`);
    }), mode.value === 'DRX' ? h('p', { class: 'hint' }, 'DRX: reachable while it holds an observation; no timers.') : null);
  };
  mode.addEventListener('change', render);
  render();
  return {
    node: h('fieldset', {}, h('legend', {}, 'Power saving'), field('Power mode', mode), box),
    get: () => {
      const out = { powerMode: mode.value, psmActivityTimer: null, edrxCycle: null, pagingTransmissionWindow: null };
      for (const [k, inp] of Object.entries(inputs)) out[k] = inp.get();
      return out;
    },
  };
}

// A .proto editor: a line-number gutter beside a textarea; mark(line, text) shows an error.
function protoEditor(member, label, value) {
  const ta = h('textarea', { class: 'mono code', rows: 14, spellcheck: 'false', wrap: 'off', 'data-schema': member,
    'aria-label': `${label} schema` });
  ta.value = value;
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const err = h('div', { class: 'out' });
  let bad = 0;
  const lines = () => {
    const n = Math.min(ta.value.split('\n').length, 5000);
    replace(gutter, Array.from({ length: n }, (_, i) => h('div', { class: i + 1 === bad ? 'bad-line' : '' }, String(i + 1))));
    gutter.scrollTop = ta.scrollTop;
  };
  ta.addEventListener('input', () => { bad = 0; replace(err); lines(); });
  ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });
  lines();
  return {
    member,
    node: h('div', { class: 'proto' }, h('h4', {}, label), h('div', { class: 'editor' }, gutter, ta), err),
    get: () => ta.value,
    mark(line, text) {
      bad = line;
      lines();
      replace(err, msg('err', line ? `Line ${line}: ${text}` : text));
      if (line) {
        const starts = ta.value.split('\n').slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
        ta.focus();
        ta.setSelectionRange(starts, starts + (ta.value.split('\n')[line - 1] || '').length);
      }
    },
    clear() { bad = 0; replace(err); lines(); },
  };
}

function deviceTypeSection(ct) {
  const type = h('select', { id: 'coap-type', name: 'coapDeviceType' },
    [['DEFAULT', 'Default'], ['EFENTO', 'Efento NB-IoT']].map(([v, t]) => h('option', { value: v, selected: v === (ct.coapDeviceType || 'DEFAULT') }, t)));
  const pt = ct.transportPayloadTypeConfiguration || {};
  const payload = h('select', { id: 'payload-type' },
    ['JSON', 'PROTOBUF'].map((v) => h('option', { value: v, selected: v === (pt.transportPayloadType || 'JSON') }, v)));
  const editors = SCHEMAS.map(([m, label, def]) => protoEditor(m, label, pt[m] || def));
  const protoBox = h('div', { class: 'protos', id: 'proto-editors' }, editors.map((e) => e.node));
  const efInputs = EFENTO.map(([k, label, def, hint]) => [k, h('input', { type: 'number', name: k, value: ct[k] ?? def })]);
  const auto = h('input', { type: 'checkbox', name: 'autoAccept', checked: Boolean(ct.autoAccept) });
  const efBox = h('div', { id: 'efento-fields', class: 'grid-fields' },
    efInputs.map(([k, inp], i) => field(EFENTO[i][1], inp, EFENTO[i][3])),
    field('Accept unknown sensors into this profile', auto));
  const defBox = h('div', {}, field('Payload', payload), protoBox);
  const render = () => {
    efBox.hidden = type.value !== 'EFENTO';
    defBox.hidden = type.value === 'EFENTO';
    protoBox.hidden = payload.value !== 'PROTOBUF';
  };
  type.addEventListener('change', render);
  payload.addEventListener('change', render);
  render();
  return {
    editors,
    node: h('fieldset', {}, h('legend', {}, 'CoAP device type'), field('Device type', type), defBox, efBox),
    get: () => {
      if (type.value === 'EFENTO') {
        const o = { ...ct, coapDeviceType: 'EFENTO', autoAccept: auto.checked };
        delete o.transportPayloadTypeConfiguration;
        for (const [k, inp] of efInputs) o[k] = Number(inp.value);
        return o;
      }
      const tp = payload.value === 'JSON' ? { transportPayloadType: 'JSON' } : {
        ...pt, transportPayloadType: 'PROTOBUF',
        ...Object.fromEntries(editors.map((e) => [e.member, e.get()])),
        enableCompatibilityWithJsonPayloadFormat: Boolean(pt.enableCompatibilityWithJsonPayloadFormat),
        useJsonPayloadFormatForDefaultDownlinkTopics: Boolean(pt.useJsonPayloadFormatForDefaultDownlinkTopics),
      };
      return { coapDeviceType: 'DEFAULT', transportPayloadTypeConfiguration: tp };
    },
  };
}

function provisionSection(p) {
  const pc = p.profileData?.provisionConfiguration || {};
  const type = h('select', { id: 'provision-type' }, ['DISABLED', 'ALLOW_CREATE_NEW_DEVICES', 'CHECK_PRE_PROVISIONED_DEVICES']
    .map((v) => h('option', { value: v, selected: v === (p.provisionType || 'DISABLED') }, v)));
  const key = h('input', { value: p.provisionDeviceKey || '', id: 'provision-key', spellcheck: 'false' });
  const secret = h('input', { value: pc.provisionDeviceSecret || '', id: 'provision-secret', spellcheck: 'false' });
  const fields = h('div', { class: 'form-row' }, field('Provision key', key), field('Provision secret', secret));
  const render = () => { fields.hidden = type.value === 'DISABLED'; };
  type.addEventListener('change', render);
  render();
  return {
    node: h('fieldset', {}, h('legend', {}, 'Provisioning'), field('Strategy', type), fields),
    get: () => ({ provisionType: type.value, key: type.value === 'DISABLED' ? null : key.value.trim(),
      secret: type.value === 'DISABLED' ? null : secret.value.trim() }),
  };
}

// Shows a save error at the .proto editor and line protoc named ("<member>: file.proto:L:C: ...").
function showSaveError(e, dt, out) {
  for (const ed of dt.editors) ed.clear();
  const m = /(device\w+ProtoSchema)\b:?\s*(.*)$/s.exec(e.message || '');
  const ed = m && dt.editors.find((x) => x.member === m[1]);
  if (ed) {
    const at = /:(\d+):(\d+):\s*(.*)$/s.exec(m[2]);
    ed.mark(at ? Number(at[1]) : 0, at ? at[3] : m[2]);
    replace(out, msg('err', `protoc refused the ${ed.member} schema; see the editor.`));
    return;
  }
  replace(out, missingOr(e, 'Saving a device profile', 'POST /api/deviceProfile'));
}

// "Expected uplink interval (minutes)": empty = unknown (null); saved as ms in
// profileData.configuration.expectedUplinkInterval (the gateway allows up to 31 days).
function expectedSection(cfg) {
  const ms = Number(cfg.expectedUplinkInterval) || 0;
  const input = h('input', { type: 'number', id: 'expected-uplink', name: 'expectedUplinkInterval', min: 1,
    max: 44640, step: 'any', value: ms ? String(ms / 60000) : '', placeholder: 'unknown' });
  return {
    node: field('Expected uplink interval (minutes)', input,
      'How often this profile\'s devices send, e.g. 15. The fleet view shows when the next uplink is due. ' +
      'Empty: unknown (an Efento sensor then uses the transmission interval it reports). At most 31 days.'),
    get: () => (input.value.trim() === '' ? null : Math.round(Number(input.value) * 60000)),
  };
}

function collect(p, f) {
  const prov = f.prov.get();
  const tc = f.transport.value === 'COAP'
    ? { ...(p.profileData?.transportConfiguration?.type === 'COAP' ? p.profileData.transportConfiguration : {}),
      type: 'COAP', coapDeviceTypeConfiguration: f.dt.get(), clientSettings: f.power.get() }
    : { type: 'DEFAULT' };
  return {
    ...p, name: f.name.value.trim(), description: f.desc.value.trim() || null, type: 'DEFAULT',
    transportType: f.transport.value, provisionType: prov.provisionType, provisionDeviceKey: prov.key,
    profileData: { ...(p.profileData || {}),
      configuration: { ...(p.profileData?.configuration || {}), type: 'DEFAULT', expectedUplinkInterval: f.expected.get() },
      transportConfiguration: tc,
      provisionConfiguration: { type: prov.provisionType, provisionDeviceSecret: prov.secret }, alarms: null },
  };
}

export async function profilePage(main, [which]) {
  let p = { name: '', transportType: 'COAP', provisionType: 'DISABLED', profileData: {} };
  const out = h('div', { class: 'out', id: 'profile-out' });
  if (which !== 'new') {
    try {
      p = await get(`/api/deviceProfile/${which}`);
    } catch (e) {
      main.appendChild(missingOr(e, 'Reading a device profile', 'GET /api/deviceProfile/{id}'));
      return;
    }
  }
  const tc = p.profileData?.transportConfiguration || {};
  const f = {
    name: h('input', { value: p.name, required: true, id: 'profile-name', maxlength: 255 }),
    desc: h('input', { value: p.description || '', id: 'profile-desc' }),
    transport: h('select', { id: 'transport-type' }, [['COAP', 'CoAP'], ['DEFAULT', 'Default (JSON over CoAP)']]
      .map(([v, t]) => h('option', { value: v, selected: v === p.transportType }, t))),
    dt: deviceTypeSection(tc.coapDeviceTypeConfiguration || {}),
    power: powerSection(tc.clientSettings || {}),
    prov: provisionSection(p),
    expected: expectedSection(p.profileData?.configuration || {}),
  };
  const coapBox = h('div', {}, f.dt.node, f.power.node);
  const showCoap = () => { coapBox.hidden = f.transport.value !== 'COAP'; };
  f.transport.addEventListener('change', showCoap);
  showCoap();
  const form = h('form', { class: 'form', id: 'profile-form' },
    h('div', { class: 'form-row' }, field('Name', f.name), field('Description', f.desc)),
    field('Transport', f.transport), f.expected.node, coapBox, f.prov.node,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'profile-save' }, 'Save profile')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(out, msg('info', 'Saving (Protobuf schemas are compiled with protoc)…'));
    try {
      const saved = await post('/api/deviceProfile', collect(p, f));
      replace(out, msg('ok', `Saved ${saved.name}.`));
      if (which === 'new') location.hash = `#/profile/${saved.id.id}`;
      else p = saved;
    } catch (e) {
      showSaveError(e, f.dt, out);
    }
  });
  const extra = which === 'new' ? null : h('div', { class: 'actions' },
    p.default ? h('span', { class: 'badge' }, 'default profile') : h('button', {
      type: 'button', class: 'btn', onclick: async () => {
        try {
          p = await post(`/api/deviceProfile/${which}/default`);
          replace(out, msg('ok', 'This is now the default profile.'));
        } catch (e) {
          replace(out, msg('err', e.message));
        }
      },
    }, 'Make default'),
    confirmButton('Delete profile', 'Click again to delete', async () => {
      try {
        await del(`/api/deviceProfile/${which}`);
        location.hash = '#/profiles';
      } catch (e) {
        replace(out, msg('err', e.message));
      }
    }));
  main.append(h('div', { class: 'page-head' }, h('div', {},
    h('p', { class: 'crumb' }, h('a', { href: '#/profiles' }, 'Profiles'), ' / profile'),
    h('h1', {}, which === 'new' ? 'New profile' : p.name)), extra), out, section('Profile', form));
}
