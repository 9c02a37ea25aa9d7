// SPDX-License-Identifier: MIT
// chart.js - nbgate's own small SVG line chart for one numeric telemetry key over a time window
// (the device page draws the last 24 h). No library: a polyline in a viewBox that scales with
// its container, min/max labels on the value axis, start/end times on the time axis, a dot per
// sample when there are few. Gaps longer than a quarter of the window break the line.

import { svg, fmtTs } from './dom.js';

const W = 600;
const H = 160;
const PAD = { l: 56, r: 12, t: 12, b: 26 };

function niceNum(v) {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

function hhmm(ms) {
  return fmtTs(ms).slice(11, 16);
}

// points: [{ts, value}] with numeric values, any order. Returns an <svg> element.
export function lineChart(points, startTs, endTs, label) {
  const pts = points.filter((p) => Number.isFinite(p.value) && p.ts >= startTs && p.ts < endTs)
    .sort((a, b) => a.ts - b.ts);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${label}: ${pts.length} samples in the last 24 h`,
  });
  const x0 = PAD.l;
  const x1 = W - PAD.r;
  const y0 = H - PAD.b;
  const y1 = PAD.t;
  root.appendChild(svg('rect', { x: x0, y: y1, width: x1 - x0, height: y0 - y1, class: 'chart-bg' }));
  if (pts.length === 0) {
    root.appendChild(svg('text', { x: (x0 + x1) / 2, y: (y0 + y1) / 2, class: 'chart-empty',
      'text-anchor': 'middle' }, 'no samples in the last 24 h'));
    return root;
  }
  let lo = Math.min(...pts.map((p) => p.value));
  let hi = Math.max(...pts.map((p) => p.value));
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const sx = (ts) => x0 + ((ts - startTs) / (endTs - startTs)) * (x1 - x0);
  const sy = (v) => y0 - ((v - lo) / (hi - lo)) * (y0 - y1);
  const gap = (endTs - startTs) / 4;
  let d = '';
  let prev = null;
  for (const p of pts) {
    const cmd = prev === null || p.ts - prev.ts > gap ? 'M' : 'L';
    d += `${cmd}${sx(p.ts).toFixed(1)} ${sy(p.value).toFixed(1)} `;
    prev = p;
  }
  for (const v of [lo, hi]) {
    root.appendChild(svg('line', { x1: x0, x2: x1, y1: sy(v), y2: sy(v), class: 'chart-grid' }));
  }
  root.appendChild(svg('text', { x: x0 - 6, y: sy(hi) + 4, 'text-anchor': 'end', class: 'chart-label' },
    niceNum(hi)));
  root.appendChild(svg('text', { x: x0 - 6, y: sy(lo) + 4, 'text-anchor': 'end', class: 'chart-label' },
    niceNum(lo)));
  root.appendChild(svg('text', { x: x0, y: H - 8, class: 'chart-label' }, hhmm(startTs)));
  root.appendChild(svg('text', { x: x1, y: H - 8, 'text-anchor': 'end', class: 'chart-label' },
    hhmm(endTs)));
  root.appendChild(svg('path', { d: d.trim(), class: 'chart-line' }));
  if (pts.length <= 48) {
    for (const p of pts) {
      root.appendChild(svg('circle', { cx: sx(p.ts), cy: sy(p.value), r: 2.5, class: 'chart-dot' },
        svg('title', {}, `${fmtTs(p.ts)}: ${p.value}`)));
    }
  }
  return root;
}
