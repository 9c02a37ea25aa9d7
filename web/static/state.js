// SPDX-License-Identifier: MIT
// state.js - a device's state as the operator sees it, with the reason, from ThingsBoard's rule
// (specs/rest-api.md 4.1): active while now < lastActivityTime + inactivity timeout. The API
// gives `active` in DeviceInfo and, as server attributes, `lastActivityTime` and the device's own
// `inactivityTimeout` (ms) when set; the gateway-wide default is not exposed, so it is named
// rather than computed. Also: the battery and signal keys of Efento and common CoAP devices.

import { fmtAgo, fmtDuration, fmtTs, h } from './dom.js';

// attrs: {lastActivityTime, inactivityTimeout} (either may be missing); active: boolean.
export function deviceState(active, attrs, now = Date.now()) {
  const last = Number(attrs.lastActivityTime) || 0;
  const tmo = Number(attrs.inactivityTimeout) || 0;
  if (!last) {
    return { key: 'never', label: 'never seen', why: 'no message from this device yet' };
  }
  const timeout = tmo ? `inactivity timeout ${fmtDuration(tmo)}` : 'the gateway\'s default inactivity timeout';
  if (active) {
    const by = tmo ? `; next uplink expected by ${fmtTs(last + tmo)}` : '';
    return { key: 'active', label: 'active', why: `last uplink ${fmtAgo(last, now)}${by} (${timeout})` };
  }
  const since = tmo ? `; overdue since ${fmtTs(last + tmo)}` : '';
  return { key: 'inactive', label: 'inactive', why: `last uplink ${fmtAgo(last, now)}${since} (${timeout})` };
}

export function stateBadge(st) {
  return h('span', { class: `badge state-${st.key}`, title: st.why }, st.label);
}

export const BATTERY_KEYS = ['battery', 'battery_level', 'battery_voltage', 'batteryLevel'];
export const SIGNAL_KEYS = ['signal', 'signal_strength', 'rssi', 'rsrp', 'RSRP', 'RSSI'];

// The first of keys present in a latest-values answer (strict types), as text.
export function pick(latest, keys) {
  for (const k of keys) {
    const v = latest[k] && latest[k][0] ? latest[k][0].value : null;
    if (v !== null && v !== undefined) {
      if (k === 'battery' && typeof v === 'boolean') return v ? 'ok' : 'low';
      if (k === 'battery_voltage') return `${v} V`;
      return String(v);
    }
  }
  return '—';
}
