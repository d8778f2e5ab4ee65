/**
 * One Chart.js line chart per metric key, one line per run. Chart.js is tree-shaken to what
 * a line chart needs; it draws on canvas, so colours come from the theme's CSS variables
 * (re-read on theme change) rather than from CSS.
 */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { CompareRun, RunSeries, SeriesPoint } from '../../../protocol/webview';
import { chartKeys } from '../lib/compare-table';
import { mergePoint } from '../lib/series';
import { formatNumber, shortId } from '../../../protocol/format';
import { htmlEl, readTheme, seriesColor, type Theme } from '../lib/theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** Legends past this many runs take more room than the chart; the table's swatches say which is which. */
const LEGEND_MAX_RUNS = 12;
/** Point markers only on short series; long ones are plain lines. */
const MARKERS_MAX_POINTS = 60;

interface Entry {
  key: string;
  chart: Chart<'line', SeriesPoint[]>;
  /** Run id of each dataset, by dataset index. */
  runIds: string[];
}

export function runLabel(r: CompareRun): string {
  return `${r.name} · ${shortId(r.id)}`;
}

export class ChartsView {
  private entries: Entry[] = [];
  readonly element = htmlEl('section', { class: 'charts', 'aria-label': 'Metric series' });

  /** Redraws every chart from the data (charts are destroyed and made again). */
  render(runs: CompareRun[], series: Record<string, RunSeries[]>): void {
    this.destroy();
    this.element.replaceChildren();
    const keys = chartKeys(series);
    const single = Object.keys(series).filter((k) => !keys.includes(k));
    this.element.append(htmlEl('h2', {}, 'Metric series'));
    if (!keys.length) {
      this.element.append(htmlEl('p', { class: 'note' }, 'No metric was logged at more than one step, so there is nothing to plot over steps; the table has the final values.'));
      return;
    }
    const grid = htmlEl('div', { class: 'chart-grid' });
    this.element.append(grid);
    const theme = readTheme();
    const colorIndex = new Map(runs.map((r, i) => [r.id, i]));
    const byId = new Map(runs.map((r) => [r.id, r]));
    for (const key of keys) {
      const canvas = htmlEl('canvas', { role: 'img', 'aria-label': `${key} over steps, one line per run` });
      const box = htmlEl('div', { class: 'chart-box' }, canvas);
      grid.append(htmlEl('figure', { class: 'chart', 'data-key': key }, htmlEl('figcaption', {}, key), box));
      const list = series[key].filter((s) => byId.has(s.runId));
      const datasets = list.map((s) => this.dataset(byId.get(s.runId)!, s.points, colorIndex.get(s.runId)!, theme));
      const chart = new Chart<'line', SeriesPoint[]>(canvas, { type: 'line', data: { datasets }, options: this.options(theme, runs.length) });
      this.entries.push({ key, chart, runIds: list.map((s) => s.runId) });
    }
    if (single.length) this.element.append(htmlEl('p', { class: 'note' }, `Logged once per run (see the table): ${single.sort().join(', ')}.`));
  }

  private dataset(run: CompareRun, points: SeriesPoint[], i: number, theme: Theme): ChartDataset<'line', SeriesPoint[]> {
    const color = seriesColor(i, theme.kind);
    return {
      label: runLabel(run),
      data: points.slice(),
      borderColor: color,
      backgroundColor: color,
      borderWidth: theme.lineWidth,
      pointRadius: points.length <= MARKERS_MAX_POINTS ? 2 : 0,
      pointHoverRadius: 4,
      tension: 0,
      spanGaps: false,
    };
  }

  private options(theme: Theme, runCount: number): NonNullable<ConstructorParameters<typeof Chart<'line', SeriesPoint[]>>[1]['options']> {
    const font = { family: theme.fontFamily, size: theme.fontSize - 1 };
    const axis = (title: string | undefined) => ({
      type: 'linear' as const,
      grid: { color: theme.grid },
      border: { color: theme.grid },
      ticks: { color: theme.muted, font, callback: (v: string | number) => formatNumber(Number(v)) },
      title: { display: !!title, text: title ?? '', color: theme.muted, font },
    });
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      color: theme.foreground,
      font,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: { x: axis('step'), y: axis(undefined) },
      plugins: {
        legend: { display: runCount <= LEGEND_MAX_RUNS, position: 'bottom', labels: { color: theme.foreground, font, boxWidth: 14, boxHeight: 2 } },
        tooltip: {
          backgroundColor: theme.background,
          titleColor: theme.foreground,
          bodyColor: theme.foreground,
          borderColor: theme.grid,
          borderWidth: 1,
          titleFont: font,
          bodyFont: font,
          callbacks: { title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''), label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y)}` },
        },
      },
    };
  }

  /**
   * Adds live points to a run's line; false when there is no such chart or line yet (the
   * caller redraws). A point at a step already drawn replaces it (the host's reload may overlap).
   */
  append(runId: string, key: string, points: SeriesPoint[]): boolean {
    const entry = this.entries.find((e) => e.key === key);
    const di = entry?.runIds.indexOf(runId) ?? -1;
    if (!entry || di < 0) return false;
    const data = entry.chart.data.datasets[di].data;
    for (const p of points) mergePoint(data, p);
    entry.chart.update('none');
    return true;
  }

  /** Re-reads the theme's colours into every chart (VS Code switched themes). */
  retheme(runs: CompareRun[]): void {
    const theme = readTheme();
    const colorIndex = new Map(runs.map((r, i) => [r.id, i]));
    for (const e of this.entries) {
      e.chart.options = this.options(theme, runs.length);
      e.chart.data.datasets.forEach((d, i) => {
        const color = seriesColor(colorIndex.get(e.runIds[i]) ?? i, theme.kind);
        d.borderColor = color;
        d.backgroundColor = color;
        d.borderWidth = theme.lineWidth;
      });
      e.chart.update('none');
    }
  }

  /** What is drawn, read from the Chart.js instances themselves. */
  state(): { key: string; series: { label: string; runId: string; points: number }[] }[] {
    return this.entries.map((e) => ({
      key: e.key,
      series: e.chart.data.datasets.map((d, i) => ({ label: String(d.label ?? ''), runId: e.runIds[i], points: d.data.length })),
    }));
  }

  destroy(): void {
    for (const e of this.entries) e.chart.destroy();
    this.entries = [];
  }
}
