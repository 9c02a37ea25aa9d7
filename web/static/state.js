// SPDX-License-Identifier: MIT
// state.js - a device's state as the operator sees it, with the reason, from ThingsBoard's rule
// (specs/rest-api.md 4.1): active while now < lastActivityTime + inactivity timeout.
// fleetState() reads an item of GET /api/nbgate/fleet (the fleet list, and the device page with
// deviceId), which carries everything: the effective inactivity timeout and expected uplink
// interval with where each comes from, and the next uplink expected.

import { fmtAgo, fmtDuration, fmtTs, h } from './dom.js';

const SOURCES = { DEVICE: 'device', PROFILE: 'profile', GATEWAY: 'gateway default' };

// "14:05" today, else "2026-01-05 14:05".
export function fmtWhen(ms, now = Date.now()) {
  const full = fmtTs(ms);
  return full.slice(0, 10) === fmtTs(now).slice(0, 10) ? full.slice(11, 16) : full.slice(0, 16);
}

// d: a fleet item. Returns {key, label, why, detail}: why is the short reason under the badge,
// detail the settings behind it (a tooltip).
export function fleetState(d, now = Date.now()) {
  const tmo = `inactivity timeout ${fmtDuration(d.inactivityTimeout)} (${SOURCES[d.inactivityTimeoutSource] || '?'})`;
  const every = d.expectedUplinkInterval
    ? `expected every ${fmtDuration(d.expectedUplinkInterval)} (${SOURCES[d.expectedUplinkIntervalSource] || '?'})`
    : 'no expected uplink interval';
  const detail = `${tmo}; ${every}`;
  if (d.state === 'NEVER_SEEN' || !d.lastActivityTime) {
    return { key: 'never', label: 'never seen', why: 'no message yet', detail };
  }
  const last = `last uplink ${fmtAgo(d.lastActivityTime, now)}`;
  const next = d.nextUplinkExpectedTime;
  if (d.state === 'ACTIVE') {
    let why = `${last}; active until ${fmtWhen(d.lastActivityTime + d.inactivityTimeout, now)}`;
    if (next && next >= now) why = `${last}; next expected by ${fmtWhen(next, now)}`;
    else if (next) why = `${last}; overdue since ${fmtWhen(next, now)}`;
    return { key: 'active', label: 'active', why, detail };
  }
  const since = next && next < d.lastActivityTime + d.inactivityTimeout ? next : d.lastActivityTime + d.inactivityTimeout;
  return { key: 'inactive', label: 'inactive', why: `${last}; overdue since ${fmtWhen(since, now)}`, detail };
}

export function stateBadge(st) {
  return h('span', { class: `badge state-${st.key}`, title: st.detail || st.why }, st.label);
}

// A battery or signal reading of the fleet answer ({key, value, ts} or null) as text.
export function fmtReading(r) {
  if (!r) return '—';
  if (r.key === 'battery' && typeof r.value === 'boolean') return r.value ? 'ok' : 'low';
  if (r.key === 'battery_voltage') return `${r.value} V`;
  return typeof r.value === 'object' ? JSON.stringify(r.value) : String(r.value);
}
