/**
 * Live Monitor page (bundled to dist/media/monitor.js): a deployment's header and versions
 * table, a running canary's progress, and three Chart.js line charts over the last 10 minutes
 * — latency (p99 solid, p50 dashed), throughput and error rate, one colour per version — fed
 * by the host with per-second samples. Answers `getState` with what it drew.
 */
import { Chart, Legend, LinearScale, LineController, LogarithmicScale, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { MonitorAction, MonitorChartKey, MonitorFromView, MonitorRenderedState, MonitorToView } from '../../protocol/deployment-monitor';
import { formatNumber } from '../../protocol/format';
import type { DeploymentSample, DeploymentStatus } from '../../protocol/serving';
import { Host } from './lib/host';
import { htmlEl, onThemeChange, readTheme, seriesColor, themeKind, type Theme } from './lib/theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

type Point = { x: number; y: number | null };
interface Line {
  version: number;
  label: string;
  /** Which figure of a sample the line draws. */
  pick: (s: DeploymentSample) => number | null;
  dashed?: boolean;
}

const WINDOW_MS = 10 * 60_000;
const CHARTS: { key: MonitorChartKey; title: string; unit: string }[] = [
  { key: 'latency', title: 'Latency', unit: 'ms' },
  { key: 'throughput', title: 'Throughput', unit: 'req/s' },
  { key: 'errors', title: 'Error rate', unit: '%' },
];

/** No requests in the window: no latency to draw (a gap, not a zero). */
const served = (s: DeploymentSample) => s.reqPerSec > 0 || s.p99Ms > 0;
/** A latency worth plotting (a log axis cannot place 0). */
const ms = (v: number) => (v > 0 ? v : null);

/** A shadow's figures count mirrored copies of client requests: its lines say so. */
const isMirrored = (version: number) => status?.versions.some((v) => v.version === version && v.role === 'shadow') ?? false;

/** The shadow versions of a status, as a key to notice a change. */
const shadowsOf = (d: DeploymentStatus | undefined) => (d?.versions ?? []).filter((v) => v.role === 'shadow').map((v) => v.version).join(',');

function linesFor(key: MonitorChartKey, version: number): Line[] {
  const name = `v${version}${isMirrored(version) ? ' mirrored' : ''}`;
  switch (key) {
    case 'latency':
      return [
        { version, label: `${name} p99`, pick: (s) => (served(s) ? ms(s.p99Ms) : null) },
        { version, label: `${name} p50`, pick: (s) => (served(s) ? ms(s.p50Ms) : null), dashed: true },
      ];
    case 'throughput':
      return [{ version, label: name, pick: (s) => s.reqPerSec }];
    case 'errors':
      return [{ version, label: name, pick: (s) => (served(s) ? s.errorRate * 100 : null) }];
  }
}

const app = document.getElementById('app')!;
/** Kept by VS Code with the panel, so a window reload reopens the monitor of the same deployment. */
const host = new Host<MonitorToView, MonitorFromView, { name: string }>(onMessage);
let status: DeploymentStatus | undefined;
/** Samples by version, oldest first. */
const samples = new Map<number, DeploymentSample[]>();
const charts = new Map<MonitorChartKey, { chart: Chart<'line', Point[]>; lines: Line[]; type: 'linear' | 'logarithmic' }>();

const statusLine = htmlEl('p', { class: 'status', role: 'status' });
const header = htmlEl('header', { class: 'monitor-header' });
const canaryLine = htmlEl('p', { class: 'canary' });
const table = htmlEl('table', { class: 'versions' });
const grid = htmlEl('div', { class: 'chart-grid' });
const history = htmlEl('section', { class: 'history', 'aria-label': 'Recent rollout events' });
let built = false;

function hhmmss(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function button(label: string, action: MonitorAction, primary = false): HTMLButtonElement {
  const b = htmlEl('button', { type: 'button', class: primary ? 'primary' : 'secondary', 'data-action': action }, label);
  b.addEventListener('click', () => host.post({ type: 'action', action }));
  return b;
}

function renderHeader(d: DeploymentStatus): void {
  const title = htmlEl('h1', {}, d.name, htmlEl('span', { class: `badge state-${d.state}` }, d.state));
  const facts = htmlEl('p', { class: 'facts' }, [`${d.model}`, `${d.strategy} rollout`, d.url ?? '', d.previousVersion !== undefined ? `rolls back to v${d.previousVersion}` : ''].filter(Boolean).join(' · '));
  const actions = htmlEl('div', { class: 'actions' });
  if (d.canary) actions.append(button('Promote canary', 'promote', true), button('Roll back canary', 'rollback'));
  else if (d.previousVersion !== undefined && d.state === 'serving') actions.append(button(`Roll back to v${d.previousVersion}`, 'rollback'));
  if (d.state === 'serving') actions.append(button('Send test request', 'sendTestRequest'));
  actions.append(button('History', 'showHistory'));
  header.replaceChildren(title, facts, actions);
  if (d.error) header.append(htmlEl('p', { class: 'status error' }, d.error));

  const c = d.canary;
  if (c) {
    const servedCount = d.versions.find((v) => v.version === c.version)?.stats?.totalRequests ?? 0;
    const goal = c.promoteAfterRequests !== undefined ? `${servedCount}/${c.promoteAfterRequests} requests` : `${servedCount} requests (promote by hand)`;
    const limits = [c.rollbackErrorRate !== undefined ? `errors > ${formatNumber(c.rollbackErrorRate * 100)} %` : '', c.rollbackP99Ms !== undefined ? `p99 > ${formatNumber(c.rollbackP99Ms)} ms` : ''].filter(Boolean);
    canaryLine.replaceChildren(htmlEl('strong', {}, `Canary v${c.version}`), htmlEl('span', {}, `${c.weight} % of traffic · ${goal}${limits.length ? ` · rolls back if ${limits.join(' or ')}` : ''}`));
    if (c.promoteAfterRequests) {
      const bar = htmlEl('progress', { max: String(c.promoteAfterRequests), value: String(Math.min(servedCount, c.promoteAfterRequests)), 'aria-label': 'canary progress' });
      canaryLine.append(bar);
    }
    canaryLine.hidden = false;
  } else {
    canaryLine.replaceChildren();
    canaryLine.hidden = true;
  }

  const head = htmlEl('tr', {}, ...['version', 'role', 'traffic', 'health', 'req/s', 'errors', 'p50', 'p99', 'requests'].map((h) => htmlEl('th', {}, h)));
  const rows = d.versions.map((v) => {
    const s = v.stats;
    const sw = htmlEl('span', { class: 'swatch' });
    sw.style.background = seriesColor(colorIndex(v.version));
    // A shadow's figures are of mirrored copies whose answers no client got: set apart (italic, a tooltip).
    const mirrored = v.role === 'shadow';
    return htmlEl(
      'tr',
      { 'data-version': String(v.version), ...(mirrored ? { class: 'mirrored', title: 'Shadow: its figures count mirrored copies of client requests; its answers go to the request log only.' } : {}) },
      htmlEl('td', {}, sw, `v${v.version}`),
      htmlEl('td', {}, v.role === 'ab' ? 'A/B' : v.role),
      htmlEl('td', { class: 'num' }, mirrored ? 'mirrored' : `${v.weight} %`),
      htmlEl('td', { class: `health-${v.health}` }, v.health),
      htmlEl('td', { class: 'num' }, s ? formatNumber(Number(s.reqPerSec.toFixed(1))) : '–'),
      htmlEl('td', { class: `num${s && s.errorRate > 0 ? ' bad' : ''}` }, s ? `${formatNumber(Number((s.errorRate * 100).toFixed(2)))} %` : '–'),
      htmlEl('td', { class: 'num' }, s?.requests ? `${s.p50Ms.toFixed(1)} ms` : '–'),
      htmlEl('td', { class: 'num' }, s?.requests ? `${s.p99Ms.toFixed(1)} ms` : '–'),
      htmlEl('td', { class: 'num' }, s ? String(s.totalRequests) : '–'),
    );
  });
  table.replaceChildren(htmlEl('thead', {}, head), htmlEl('tbody', {}, ...rows));
  const shadow = d.versions.find((v) => v.role === 'shadow');
  if (shadow) table.append(htmlEl('caption', { class: 'mirrored-note' }, `v${shadow.version} (shadow, in italics) gets a copy of every request: its figures are of mirrored requests, not client traffic.`));
  if (!d.versions.length) table.replaceChildren(htmlEl('caption', {}, `${d.name} is ${d.state}: no version is loaded.`));

  const recent = d.history.slice(0, 6);
  history.replaceChildren(htmlEl('h2', {}, 'Recent rollout events'));
  if (!recent.length) history.append(htmlEl('p', { class: 'note' }, 'None yet.'));
  else
    history.append(
      htmlEl(
        'ul',
        {},
        ...recent.map((e) =>
          htmlEl('li', { class: `event ${e.action}` }, htmlEl('span', { class: 'when' }, hhmmss(e.at)), ` ${e.action}${e.target !== undefined ? ` v${e.target}` : ''}${e.version !== undefined && e.version !== e.target ? ` · stable v${e.version}` : ''} by ${e.actor}${e.reason ? ` — ${e.reason}` : ''}`),
        ),
      ),
    );
}

/** A colour per version that stays put as versions come and go. */
function colorIndex(version: number): number {
  return Math.max(0, version - 1);
}

/**
 * Latency on a log axis once the values span a decade: p50 of an in-process model is a fraction
 * of a millisecond while a busy machine's p99 is tens, and a linear axis would flatten p50 to 0.
 */
function yType(key: MonitorChartKey, lines: Line[]): 'linear' | 'logarithmic' {
  if (key !== 'latency') return 'linear';
  let lo = Infinity;
  let hi = 0;
  for (const line of lines) {
    for (const s of samples.get(line.version) ?? []) {
      const y = line.pick(s);
      if (y === null) continue;
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
    }
  }
  return hi > 0 && hi / lo >= 10 ? 'logarithmic' : 'linear';
}

function options(theme: Theme, unit: string, type: 'linear' | 'logarithmic'): NonNullable<ConstructorParameters<typeof Chart<'line', Point[]>>[1]['options']> {
  const font = { family: theme.fontFamily, size: theme.fontSize - 1 };
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    color: theme.foreground,
    font,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: { type: 'linear', grid: { color: theme.grid }, border: { color: theme.grid }, ticks: { color: theme.muted, font, maxTicksLimit: 6, callback: (v) => hhmmss(Number(v)) } },
      y: { type, beginAtZero: type === 'linear', grid: { color: theme.grid }, border: { color: theme.grid }, ticks: { color: theme.muted, font, callback: (v) => formatNumber(Number(v)) }, title: { display: true, text: type === 'logarithmic' ? `${unit} (log)` : unit, color: theme.muted, font } },
    },
    plugins: {
      // A line with nothing drawn in the window (a version that took no requests) has no legend entry either.
      legend: { position: 'bottom', labels: { color: theme.foreground, font, boxWidth: 14, boxHeight: 2, filter: (item, data) => (data.datasets[item.datasetIndex ?? -1]?.data ?? []).some((p) => typeof (p as Point | null)?.y === 'number') } },
      tooltip: {
        backgroundColor: theme.background,
        titleColor: theme.foreground,
        bodyColor: theme.foreground,
        borderColor: theme.grid,
        borderWidth: 1,
        titleFont: font,
        bodyFont: font,
        callbacks: { title: (items) => (items[0] ? hhmmss(items[0].parsed.x ?? 0) : ''), label: (item) => `${item.dataset.label}: ${formatNumber(Number((item.parsed.y ?? 0).toFixed(2)))} ${unit}` },
      },
    },
  };
}

function dataset(line: Line, theme: Theme): ChartDataset<'line', Point[]> {
  const color = seriesColor(colorIndex(line.version), theme.kind);
  const points = (samples.get(line.version) ?? []).map((s) => ({ x: s.at, y: line.pick(s) }));
  return { label: line.label, data: points, borderColor: color, backgroundColor: color, borderWidth: theme.lineWidth, borderDash: line.dashed ? [5, 4] : [], pointRadius: 0, pointHoverRadius: 3, tension: 0, spanGaps: false };
}

/** (Re)builds every chart from the samples held (first data, a new version, a theme change). */
function buildCharts(): void {
  for (const c of charts.values()) c.chart.destroy();
  charts.clear();
  grid.replaceChildren();
  const theme = readTheme();
  const versions = [...samples.keys()].sort((a, b) => a - b);
  for (const spec of CHARTS) {
    const canvas = htmlEl('canvas', { role: 'img', 'aria-label': `${spec.title} per version, last 10 minutes` });
    grid.append(htmlEl('figure', { class: 'chart', 'data-key': spec.key }, htmlEl('figcaption', {}, `${spec.title} (${spec.unit})`), htmlEl('div', { class: 'chart-box' }, canvas)));
    const lines = versions.flatMap((v) => linesFor(spec.key, v));
    const type = yType(spec.key, lines);
    const chart = new Chart<'line', Point[]>(canvas, { type: 'line', data: { datasets: lines.map((l) => dataset(l, theme)) }, options: options(theme, spec.unit, type) });
    charts.set(spec.key, { chart, lines, type });
  }
  if (!versions.length) grid.append(htmlEl('p', { class: 'note empty' }, 'No samples yet: the charts fill in once the deployment serves (one point per second per version).'));
}

function addSamples(list: DeploymentSample[], reset: boolean): void {
  if (reset) samples.clear();
  let newVersion = false;
  for (const s of list) {
    let arr = samples.get(s.version);
    if (!arr) {
      samples.set(s.version, (arr = []));
      newVersion = true;
    }
    const last = arr[arr.length - 1];
    if (last && s.at <= last.at) continue; // the host's fetches may overlap
    arr.push(s);
  }
  const latest = Math.max(0, ...[...samples.values()].map((a) => a[a.length - 1]?.at ?? 0));
  let goneVersion = false;
  for (const [version, arr] of samples) {
    let drop = 0;
    while (drop < arr.length && arr[drop]!.at < latest - WINDOW_MS) drop++;
    if (drop) arr.splice(0, drop);
    // A version unloaded (a rolled-back canary, an ended split) leaves the charts and their legends once its last sample scrolls out.
    if (arr.length === 0) {
      samples.delete(version);
      goneVersion = true;
    }
  }
  if (reset || newVersion || goneVersion || charts.size === 0) {
    buildCharts();
    return;
  }
  const theme = readTheme();
  for (const [key, entry] of charts) {
    entry.lines.forEach((line, i) => {
      entry.chart.data.datasets[i]!.data = (samples.get(line.version) ?? []).map((s) => ({ x: s.at, y: line.pick(s) }));
    });
    const type = yType(key, entry.lines);
    if (type !== entry.type) {
      entry.type = type;
      entry.chart.options = options(theme, CHARTS.find((c) => c.key === key)!.unit, type);
    }
    entry.chart.update('none');
  }
}

function mount(): void {
  if (built) return;
  built = true;
  app.replaceChildren(statusLine, header, canaryLine, htmlEl('div', { class: 'table-scroll' }, table), grid, history);
}

function onMessage(m: MonitorToView): void {
  switch (m.type) {
    case 'deployment': {
      const mirroredBefore = shadowsOf(status);
      status = m.status;
      // The charts' legends name a shadow's lines as mirrored: redraw them when the shadow changes.
      if (charts.size && shadowsOf(status) !== mirroredBefore) buildCharts();
      host.state = { name: m.status.name };
      mount();
      statusLine.textContent = '';
      statusLine.classList.remove('error');
      renderHeader(m.status);
      break;
    }
    case 'samples':
      mount();
      addSamples(m.samples, !!m.reset);
      break;
    case 'status':
      statusLine.textContent = m.text;
      statusLine.classList.toggle('error', !!m.error);
      if (!built) app.replaceChildren(statusLine);
      break;
    case 'getState':
      host.post({ type: 'state', requestId: m.requestId, state: renderedState() });
      break;
  }
}

function renderedState(): MonitorRenderedState {
  return {
    deployment: status?.name ?? '',
    state: header.querySelector('.badge')?.textContent ?? '',
    charts: [...charts].map(([key, { chart, lines }]) => ({
      key,
      series: chart.data.datasets.map((d, i) => ({ label: String(d.label ?? ''), version: lines[i]!.version, points: d.data.filter((p) => p.y !== null).length })),
    })),
    versions: Array.from(table.querySelectorAll('tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).slice(0, 4).map((td) => td.textContent).join(' ')),
    ...(canaryLine.hidden || !canaryLine.textContent ? {} : { canary: canaryLine.textContent }),
    theme: themeKind(),
    cspViolations: host.cspViolations,
  };
}

onThemeChange(() => {
  if (charts.size) buildCharts();
});
host.post({ type: 'ready' });
