/**
 * The drift report as one standalone HTML file: the report's JSON inlined, a small script
 * that draws the summary, a sortable column table and both distributions of every column as
 * SVG bars. No external request (the CSP forbids them: scripts and styles by hash only), no
 * library, so it opens instantly; 100 columns stay far below 1 MB because only binned counts
 * are stored, never rows.
 */
import { createHash } from 'node:crypto';
import type { DriftReport } from '../../protocol/data';

const STYLE = `
:root { color-scheme: light dark; --ref: #4c78a8; --cur: #f58518; --drift: #d62728; --ok: #2ca02c; --muted: #6b7280; --line: rgba(127,127,127,.25); }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 24px 32px; background: Canvas; color: CanvasText; }
h1 { font-size: 20px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 0 0 20px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.card.drift b { color: var(--drift); } .card.ok b { color: var(--ok); }
.legend { display: flex; gap: 16px; align-items: center; margin: 0 0 8px; color: var(--muted); }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.sw.ref { background: var(--ref); } .sw.cur { background: var(--cur); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { cursor: pointer; user-select: none; white-space: nowrap; position: sticky; top: 0; background: Canvas; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.col { cursor: pointer; } tr.col:hover { background: rgba(127,127,127,.08); }
.verdict { font-weight: 600; } .verdict.drift { color: var(--drift); } .verdict.ok { color: var(--ok); }
tr.detail td { background: rgba(127,127,127,.05); }
.why { color: var(--muted); font-size: 12px; }
svg { display: block; } svg .ref { fill: var(--ref); } svg .cur { fill: var(--cur); } svg text { fill: var(--muted); font-size: 10px; }
.detail-body { display: flex; gap: 32px; align-items: flex-start; flex-wrap: wrap; }
.stats { display: grid; grid-template-columns: repeat(3, max-content); gap: 2px 20px; font-size: 12px; font-variant-numeric: tabular-nums; }
.skipped { margin-top: 20px; color: var(--muted); }
`;

/** Runs in the page: reads the inlined report and draws everything (no framework, plain DOM). */
const SCRIPT = `
(() => {
  const R = JSON.parse(document.getElementById('report').textContent);
  const $ = (t, a = {}, ...k) => { const e = document.createElement(t); for (const [n, v] of Object.entries(a)) e.setAttribute(n, v); e.append(...k); return e; };
  const S = (t, a = {}) => { const e = document.createElementNS('http://www.w3.org/2000/svg', t); for (const [n, v] of Object.entries(a)) e.setAttribute(n, v); return e; };
  const fmt = (x) => x === undefined || x === null ? '-' : !isFinite(x) ? String(x) : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(4)));
  const app = document.getElementById('app');
  app.append($('h1', {}, 'Data drift: ' + (R.datasetDrift ? 'detected' : 'not detected')),
    $('p', { class: 'sub' }, 'reference ' + R.reference.path + ' (' + R.reference.rows + ' rows) → current ' + R.current.path + ' (' + R.current.rows + ' rows) · ' + R.generatedAt));
  const card = (label, value, cls = '') => $('div', { class: 'card ' + cls }, $('b', {}, value), label);
  app.append($('div', { class: 'cards' },
    card('data-set drift (share ≥ ' + R.driftShare + ')', R.datasetDrift ? 'yes' : 'no', R.datasetDrift ? 'drift' : 'ok'),
    card('columns drifted', R.drifted + ' of ' + R.tested, R.drifted ? 'drift' : 'ok'),
    card('drift share', fmt(R.share)),
    card('columns skipped', String(R.skipped.length))));
  app.append($('div', { class: 'legend' }, $('span', {}, $('span', { class: 'sw ref' }), 'reference'), $('span', {}, $('span', { class: 'sw cur' }), 'current'), $('span', {}, 'click a row for details; click a header to sort')));

  function chart(h, w, ht, axis) {
    const n = h.reference.length, tr = h.reference.reduce((a, b) => a + b, 0) || 1, tc = h.current.reduce((a, b) => a + b, 0) || 1;
    const pr = h.reference.map((c) => c / tr), pc = h.current.map((c) => c / tc);
    const max = Math.max(...pr, ...pc) || 1, pad = axis ? (h.labels ? 64 : 16) : 0, bw = w / n;
    const svg = S('svg', { width: w, height: ht + pad, viewBox: '0 0 ' + w + ' ' + (ht + pad), overflow: 'visible', role: 'img', 'aria-label': 'reference and current distributions' });
    for (let i = 0; i < n; i++) {
      const x = i * bw, hr = pr[i] / max * ht, hc = pc[i] / max * ht;
      const a = S('rect', { class: 'ref', x: x + bw * 0.08, y: ht - hr, width: bw * 0.42, height: hr }); a.append(S('title')); a.firstChild.textContent = 'reference ' + (h.labels ? h.labels[i] : fmt(h.edges[i]) + '–' + fmt(h.edges[i + 1])) + ': ' + h.reference[i];
      const b = S('rect', { class: 'cur', x: x + bw * 0.5, y: ht - hc, width: bw * 0.42, height: hc }); b.append(S('title')); b.firstChild.textContent = 'current ' + (h.labels ? h.labels[i] : fmt(h.edges[i]) + '–' + fmt(h.edges[i + 1])) + ': ' + h.current[i];
      svg.append(a, b);
    }
    if (axis) {
      const label = (x, t, anchor) => { const e = S('text', { x, y: ht + 12, 'text-anchor': anchor }); e.textContent = t; svg.append(e); };
      if (h.edges) { label(0, fmt(h.edges[0]), 'start'); label(w, fmt(h.edges[h.edges.length - 1]), 'end'); }
      else h.labels.forEach((l, i) => { const e = S('text', { x: 0, y: 0, 'text-anchor': 'end', transform: 'translate(' + (i * bw + bw / 2) + ',' + (ht + 10) + ') rotate(-40)' }); e.textContent = l.length > 14 ? l.slice(0, 13) + '…' : l; svg.append(e); });
    }
    return svg;
  }

  const cols = [
    ['column', 'Column', (c) => c.column],
    ['kind', 'Type', (c) => c.kind],
    ['test', 'Test', (c) => c.testLabel],
    ['score', 'Score', (c) => c.score],
    ['threshold', 'Threshold', (c) => c.threshold],
    ['drifted', 'Verdict', (c) => c.drifted ? 1 : 0],
  ];
  const table = $('table'), thead = $('thead'), tbody = $('tbody'), tr0 = $('tr');
  let sortKey = 'drifted', dir = -1;
  for (const [key, title] of cols) { const th = $('th', { 'data-key': key, scope: 'col' }, title); th.onclick = () => { dir = sortKey === key ? -dir : (key === 'column' || key === 'kind' || key === 'test' ? 1 : -1); sortKey = key; draw(); }; tr0.append(th); }
  tr0.append($('th', {}, 'Distributions'));
  thead.append(tr0); table.append(thead, tbody); app.append(table);
  const open = new Set();
  function draw() {
    for (const th of tr0.querySelectorAll('th[data-key]')) th.setAttribute('aria-sort', th.dataset.key === sortKey ? (dir > 0 ? 'ascending' : 'descending') : 'none');
    const get = cols.find((c) => c[0] === sortKey)[2];
    const rows = [...R.columns].sort((a, b) => { const x = get(a), y = get(b); const r = x < y ? -1 : x > y ? 1 : 0; return r * dir || a.column.localeCompare(b.column); });
    tbody.replaceChildren();
    for (const c of rows) {
      const tr = $('tr', { class: 'col', 'data-column': c.column, tabindex: '0' },
        $('td', {}, c.column), $('td', {}, c.kind), $('td', {}, c.testLabel, $('div', { class: 'why' }, c.reason)),
        $('td', { class: 'num' }, fmt(c.score)), $('td', { class: 'num' }, (c.scoreKind === 'p_value' ? (c.test === 'ks' ? 'p ≤ ' : 'p < ') : '≥ ') + c.threshold),
        $('td', { class: 'verdict ' + (c.drifted ? 'drift' : 'ok') }, c.drifted ? 'drift' : 'no drift'), $('td', {}, chart(c.histogram, 160, 36, false)));
      tr.onclick = tr.onkeydown = (e) => { if (e.type === 'keydown' && e.key !== 'Enter') return; open.has(c.column) ? open.delete(c.column) : open.add(c.column); draw(); };
      tbody.append(tr);
      if (open.has(c.column)) {
        const st = $('div', { class: 'stats' }, $('b', {}, ''), $('b', {}, 'reference'), $('b', {}, 'current'));
        for (const k of ['count', 'missing', 'unique', 'mean', 'std', 'min', 'max']) if (c.reference[k] !== undefined) st.append($('span', {}, k), $('span', {}, fmt(c.reference[k])), $('span', {}, fmt(c.current[k])));
        const extra = [c.statistic !== undefined ? 'statistic ' + fmt(c.statistic) : '', c.method ? c.method + ' p-value' : ''].filter(Boolean).join(' · ');
        tbody.append($('tr', { class: 'detail' }, $('td', { colspan: '7' }, $('div', { class: 'detail-body' }, $('div', {}, chart(c.histogram, 560, 140, true), $('div', { class: 'why' }, extra)), st))));
      }
    }
  }
  draw();
  if (R.skipped.length) app.append($('div', { class: 'skipped' }, 'Not tested: ' + R.skipped.map((s) => s.column + ' (' + s.reason + ')').join('; ')));
  document.body.dataset.ready = 'true';
})();
`;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element (no `</script>`, no line separators). */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function driftHtml(report: DriftReport): string {
  const csp = ["default-src 'none'", `script-src 'sha256-${sha256(SCRIPT)}'`, `style-src 'sha256-${sha256(STYLE)}'`, 'img-src data:'].join('; ');
  const title = `Data drift: ${report.drifted}/${report.tested} columns drifted`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main id="app"></main>
<script type="application/json" id="report">${inlineJson(report)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
