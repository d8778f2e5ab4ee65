/**
 * The drift report webview: a summary, a sortable column table (which test, why, score,
 * threshold, verdict) and one Chart.js bar chart per column with both distributions (shares
 * per bin or category). Charts are made when their figure scrolls into view, so a report with
 * hundreds of columns opens at once. Colours come from the VS Code theme.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { ColumnDrift, DriftFromView, DriftRenderedState, DriftReport, DriftToView } from '../../protocol/data';
import { Host } from './lib/host';
import { htmlEl, onThemeChange, readTheme, seriesColor } from './lib/theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

type SortKey = 'column' | 'kind' | 'test' | 'score' | 'drifted';
interface PageState {
  sortKey: SortKey;
  dir: 1 | -1;
}

const host = new Host<DriftToView, DriftFromView, PageState>(onMessage);
const page: PageState = host.state ?? { sortKey: 'drifted', dir: -1 };
const app = document.getElementById('app')!;
let report: DriftReport | undefined;
const charts = new Map<string, Chart<'bar'>>();
let observer: IntersectionObserver | undefined;

export function formatScore(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

function thresholdText(c: ColumnDrift): string {
  return `${c.scoreKind === 'p_value' ? (c.test === 'ks' ? 'p ≤' : 'p <') : '≥'} ${c.threshold}`;
}

function binLabels(c: ColumnDrift): string[] {
  const h = c.histogram;
  if (h.labels) return h.labels;
  const e = h.edges ?? [];
  return h.reference.map((_, i) => `${formatScore(e[i]!)}–${formatScore(e[i + 1]!)}`);
}

function sorted(columns: ColumnDrift[]): ColumnDrift[] {
  const key = (c: ColumnDrift): string | number => {
    switch (page.sortKey) {
      case 'column':
        return c.column;
      case 'kind':
        return c.kind;
      case 'test':
        return c.testLabel;
      case 'score':
        return c.score;
      case 'drifted':
        return c.drifted ? 1 : 0;
    }
  };
  return [...columns].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * page.dir || a.column.localeCompare(b.column);
  });
}

function summary(r: DriftReport): HTMLElement {
  const card = (value: string, label: string, cls = '') => htmlEl('div', { class: `card ${cls}` }, htmlEl('b', {}, value), htmlEl('span', {}, label));
  return htmlEl(
    'section',
    { class: 'summary', 'aria-label': 'Summary' },
    htmlEl('h2', {}, `Data drift ${r.datasetDrift ? 'detected' : 'not detected'}`),
    htmlEl('p', { class: 'note' }, `reference ${r.reference.path} (${r.reference.rows} rows) → current ${r.current.path} (${r.current.rows} rows)`),
    htmlEl(
      'div',
      { class: 'cards' },
      card(r.datasetDrift ? 'yes' : 'no', `data-set drift (share ≥ ${r.driftShare})`, r.datasetDrift ? 'drift' : 'ok'),
      card(`${r.drifted} of ${r.tested}`, 'columns drifted', r.drifted ? 'drift' : 'ok'),
      card(formatScore(r.share), 'drift share'),
      card(String(r.skipped.length), 'columns not tested'),
    ),
  );
}

function table(r: DriftReport): HTMLElement {
  const heads: [SortKey | undefined, string][] = [['column', 'Column'], ['kind', 'Type'], ['test', 'Test and why'], ['score', 'Score'], [undefined, 'Threshold'], ['drifted', 'Verdict']];
  const tr = htmlEl('tr');
  for (const [key, title] of heads) {
    const th = htmlEl('th', { scope: 'col' }, title);
    if (key) {
      th.classList.add('sortable');
      th.setAttribute('data-key', key);
      th.setAttribute('aria-sort', page.sortKey === key ? (page.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.tabIndex = 0;
      const sortBy = () => {
        page.dir = page.sortKey === key ? (-page.dir as 1 | -1) : key === 'score' || key === 'drifted' ? -1 : 1;
        page.sortKey = key;
        host.state = page;
        render();
      };
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', (e) => e.key === 'Enter' && sortBy());
    }
    tr.append(th);
  }
  const body = htmlEl('tbody');
  for (const c of sorted(r.columns)) {
    const row = htmlEl(
      'tr',
      { 'data-column': c.column, tabindex: '0' },
      htmlEl('td', {}, c.column),
      htmlEl('td', {}, c.kind),
      htmlEl('td', {}, c.testLabel + (c.method === 'asymptotic' ? ' (asymptotic)' : ''), htmlEl('div', { class: 'note' }, c.reason)),
      htmlEl('td', { class: 'num' }, formatScore(c.score)),
      htmlEl('td', { class: 'num' }, thresholdText(c)),
      htmlEl('td', { class: `verdict ${c.drifted ? 'drift' : 'ok'}` }, c.drifted ? 'drift' : 'no drift'),
    );
    const reveal = () => document.getElementById(figureId(c.column))?.scrollIntoView({ block: 'center' });
    row.addEventListener('click', reveal);
    row.addEventListener('keydown', (e) => e.key === 'Enter' && reveal());
    body.append(row);
  }
  return htmlEl('table', { class: 'drift-table' }, htmlEl('thead', {}, tr), body);
}

const figureId = (column: string) => `chart-${encodeURIComponent(column)}`;

function chartGrid(r: DriftReport): HTMLElement {
  const grid = htmlEl('div', { class: 'chart-grid' });
  observer?.disconnect();
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const name = (e.target as HTMLElement).dataset.column!;
      const c = r.columns.find((x) => x.column === name);
      if (c && !charts.has(name)) drawChart(e.target as HTMLElement, c);
      observer!.unobserve(e.target);
    }
  });
  for (const c of sorted(r.columns)) {
    const canvas = htmlEl('canvas', { role: 'img', 'aria-label': `${c.column}: reference and current distributions` });
    const fig = htmlEl(
      'figure',
      { class: `chart ${c.drifted ? 'drift' : ''}`, id: figureId(c.column), 'data-column': c.column },
      htmlEl('figcaption', {}, `${c.column} · ${c.testLabel} ${formatScore(c.score)} · ${c.drifted ? 'drift' : 'no drift'}`),
      htmlEl('div', { class: 'chart-box' }, canvas),
    );
    grid.append(fig);
    observer.observe(fig);
  }
  return grid;
}

function drawChart(fig: HTMLElement, c: ColumnDrift): void {
  const canvas = fig.querySelector('canvas')!;
  const theme = readTheme();
  const share = (xs: number[]) => {
    const t = xs.reduce((a, b) => a + b, 0) || 1;
    return xs.map((x) => x / t);
  };
  const chart = new Chart<'bar'>(canvas, {
    type: 'bar',
    data: {
      labels: binLabels(c),
      datasets: [
        { label: 'reference', data: share(c.histogram.reference), backgroundColor: seriesColor(0, theme.kind) },
        { label: 'current', data: share(c.histogram.current), backgroundColor: seriesColor(4, theme.kind) },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      color: theme.foreground,
      font: { family: theme.fontFamily, size: theme.fontSize },
      plugins: {
        legend: { labels: { color: theme.foreground } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${(Number(ctx.raw) * 100).toFixed(1)}% (${(ctx.datasetIndex ? c.histogram.current : c.histogram.reference)[ctx.dataIndex]})` } },
      },
      scales: {
        x: { ticks: { color: theme.muted, maxRotation: 50, autoSkip: true }, grid: { display: false } },
        y: { ticks: { color: theme.muted, callback: (v) => `${Math.round(Number(v) * 100)}%` }, grid: { color: theme.grid }, beginAtZero: true },
      },
    },
  });
  charts.set(c.column, chart);
}

function render(): void {
  if (!report) return;
  for (const ch of charts.values()) ch.destroy();
  charts.clear();
  const r = report;
  const parts: HTMLElement[] = [summary(r), table(r)];
  if (r.skipped.length) parts.push(htmlEl('p', { class: 'note' }, `Not tested: ${r.skipped.map((s) => `${s.column} (${s.reason})`).join('; ')}`));
  parts.push(htmlEl('h2', { class: 'section-header' }, 'Distributions (reference vs current, share of values)'), chartGrid(r));
  app.replaceChildren(...parts);
}

function state(): DriftRenderedState {
  return {
    columns: report ? sorted(report.columns).map((c) => c.column) : [],
    sortedBy: `${page.sortKey} ${page.dir > 0 ? 'asc' : 'desc'}`,
    charts: charts.size,
    summary: report ? `${report.drifted}/${report.tested} drifted, data-set drift ${report.datasetDrift}` : '',
    cspViolations: [...host.cspViolations],
  };
}

function onMessage(m: DriftToView): void {
  switch (m.type) {
    case 'report':
      report = m.report;
      render();
      break;
    case 'getState':
      host.post({ type: 'state', requestId: m.requestId, state: state() });
      break;
  }
}

onThemeChange(render);
host.post({ type: 'ready' });
