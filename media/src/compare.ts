/**
 * Compare Runs page (bundled to dist/media/compare.js): table, Chart.js line charts and
 * parallel coordinates of the runs the host sends; answers `getState` with what it drew.
 */
import type { CompareData, CompareFromView, CompareRenderedState, CompareToView } from '../../protocol/webview';
import { ChartsView } from './compare/charts-view';
import { ParallelView } from './compare/parallel-view';
import { TableView } from './compare/table-view';
import { defaultObjective } from './lib/compare-table';
import { Host } from './lib/host';
import { mergePoint } from './lib/series';
import { htmlEl, onThemeChange, themeKind } from './lib/theme';

/** Survives the panel being hidden (VS Code keeps it per panel). */
interface PageState {
  onlyDifferences: boolean;
  objective?: string;
  /** The compared runs: the host's panel serializer reopens them after a window reload. */
  runIds?: string[];
}

const app = document.getElementById('app')!;
let data: CompareData | undefined;
const host = new Host<CompareToView, CompareFromView, PageState>(onMessage);
const page: PageState = { onlyDifferences: true, ...host.state };

const status = htmlEl('p', { class: 'status', role: 'status' });
const table = new TableView((only) => {
  page.onlyDifferences = only;
  host.state = page;
  if (data) table.render(data.runs, only);
});
const charts = new ChartsView();
const parallel = new ParallelView((key) => {
  page.objective = key;
  host.state = page;
  if (data) parallel.render(data.runs, key);
});

function objectiveFor(d: CompareData): string | undefined {
  const keys = new Set(d.runs.flatMap((r) => Object.keys(r.metrics)));
  if (page.objective && keys.has(page.objective)) return page.objective;
  return d.objective && keys.has(d.objective) ? d.objective : defaultObjective(d.runs);
}

function renderAll(): void {
  if (!data) return;
  status.textContent = '';
  status.classList.remove('error');
  table.render(data.runs, page.onlyDifferences);
  charts.render(data.runs, data.series);
  parallel.render(data.runs, objectiveFor(data));
  if (!app.contains(table.element)) app.replaceChildren(status, htmlEl('div', { class: 'overview' }, table.element, parallel.element), charts.element);
}

function onMessage(m: CompareToView): void {
  switch (m.type) {
    case 'data':
      data = m.data;
      page.runIds = data.runs.map((r) => r.id);
      host.state = page;
      renderAll();
      break;
    case 'status':
      status.textContent = m.text;
      status.classList.toggle('error', !!m.error);
      if (!app.contains(status)) app.replaceChildren(status);
      break;
    case 'appendPoints': {
      if (!data) break;
      const byKey = new Map<string, { x: number; y: number }[]>();
      for (const p of m.points) byKey.set(p.key, [...(byKey.get(p.key) ?? []), { x: p.x, y: p.y }]);
      let redraw = false;
      for (const [key, points] of byKey) {
        const list = (data.series[key] ??= []);
        let s = list.find((x) => x.runId === m.runId);
        if (!s) list.push((s = { runId: m.runId, points: [] }));
        for (const p of points) mergePoint(s.points, p);
        const run = data.runs.find((r) => r.id === m.runId);
        if (run) run.metrics[key] = s.points[s.points.length - 1].y;
        // The chart holds its own copy of the points: append there too, or redraw if it is new.
        if (!charts.append(m.runId, key, points)) redraw = true;
      }
      table.render(data.runs, page.onlyDifferences);
      if (redraw) charts.render(data.runs, data.series);
      break;
    }
    case 'getState':
      host.post({ type: 'state', requestId: m.requestId, state: renderedState() });
      break;
  }
}

function renderedState(): CompareRenderedState {
  return {
    ...table.state(),
    onlyDifferences: page.onlyDifferences,
    charts: charts.state(),
    parallel: parallel.state(),
    theme: themeKind(),
    cspViolations: [...host.cspViolations],
  };
}

onThemeChange(() => {
  if (!data) return;
  charts.retheme(data.runs);
  table.render(data.runs, page.onlyDifferences);
  parallel.render(data.runs, objectiveFor(data));
});

host.post({ type: 'ready' });
