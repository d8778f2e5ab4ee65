/**
 * Sweep page (bundled to dist/media/sweep.js): the objective over trials (best so far as a
 * line, pruned trials hollow), every trial's objective by step, parallel coordinates of the
 * swept params against the objective, param importance, and the trials table. Plain SVG and
 * DOM; answers `getState` with what it drew.
 */
import { formatDuration, formatNumber, shortId } from '../../protocol/format';
import type { SweepFromView, SweepRenderedState, SweepStatus, SweepToView, TrialCurve, TrialSummary } from '../../protocol/sweep';
import type { CompareRun } from '../../protocol/webview';
import { Host } from './lib/host';
import { axisTicks, buildParallel } from './lib/parallel';
import { cssVar, htmlEl, onThemeChange, readTheme, svgEl, themeKind } from './lib/theme';

const app = document.getElementById('app')!;
const host = new Host<SweepToView, SweepFromView, { runId?: string }>(onMessage);
let status: SweepStatus | undefined;
let curves: TrialCurve[] = [];
const drawn = { objectivePoints: 0, prunedPoints: 0, bestSoFar: undefined as number | undefined, parallel: { axes: [] as string[], lines: 0 }, importance: [] as string[], rows: 0 };

const H = 230;
const PAD = { top: 16, right: 24, bottom: 34, left: 64 };

/** A value scale for a chart: linear, or log when the values are positive and span a decade (one diverging trial must not flatten the rest). */
function scale(values: number[], height: number): { y: (v: number) => number; ticks: number[]; log: boolean } {
  const finite = values.filter(Number.isFinite);
  let min = finite.length ? Math.min(...finite) : 0;
  let max = finite.length ? Math.max(...finite) : 1;
  const log = min > 0 && max / min >= 10;
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const f = (v: number) => (log ? Math.log10(v) : v);
  const lo = f(min);
  const hi = f(max);
  const span = hi - lo || 1;
  const top = PAD.top;
  const bottom = height - PAD.bottom;
  const y = (v: number) => bottom - ((f(v) - lo) / span) * (bottom - top);
  const ticks = [0, 0.5, 1].map((k) => (log ? 10 ** (lo + k * span) : lo + k * span));
  return { y, ticks, log };
}

function trialTitle(s: SweepStatus, t: TrialSummary): string {
  const params = Object.entries(t.params).map(([k, v]) => `${k} = ${Number.isFinite(Number(v)) ? formatNumber(Number(v)) : v}`);
  const why = t.state === 'pruned' && t.prune ? `pruned at step ${t.prune.step} (${t.prune.rule === 'median' ? 'median' : 'cut-off'} ${formatNumber(t.prune.threshold)})` : t.state;
  return [`trial-${t.number} · ${shortId(t.runId)} · ${why}`, `${s.objective.metric} = ${formatNumber(t.value)}`, ...params].join('\n');
}

function chartFrame(width: number, label: string): SVGSVGElement {
  return svgEl('svg', { width, height: H, viewBox: `0 0 ${width} ${H}`, role: 'img', 'aria-label': label, class: 'sweep-chart' });
}

function yAxis(svg: SVGSVGElement, sc: ReturnType<typeof scale>, width: number, title: string): void {
  const g = svgEl('g', { class: 'axis' });
  g.append(svgEl('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }));
  g.append(svgEl('line', { x1: PAD.left, x2: width - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }));
  for (const t of sc.ticks) {
    const y = sc.y(t);
    g.append(svgEl('line', { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y, class: 'grid' }));
    g.append(svgEl('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick-label' }, formatNumber(t)));
  }
  g.append(svgEl('text', { x: 12, y: PAD.top + (H - PAD.top - PAD.bottom) / 2, transform: `rotate(-90 12 ${PAD.top + (H - PAD.top - PAD.bottom) / 2})`, 'text-anchor': 'middle', class: 'axis-title' }, `${title}${sc.log ? ' (log)' : ''}`));
  svg.append(g);
}

function xTicks(svg: SVGSVGElement, x: (v: number) => number, max: number, title: string, width: number): void {
  const g = svgEl('g', { class: 'axis' });
  const every = Math.max(1, Math.ceil(max / 10));
  for (let v = 0; v <= max; v += every) {
    g.append(svgEl('text', { x: x(v), y: H - PAD.bottom + 16, 'text-anchor': 'middle', class: 'tick-label' }, String(v)));
  }
  g.append(svgEl('text', { x: PAD.left + (width - PAD.left - PAD.right) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-title' }, title));
  svg.append(g);
}

/** Objective per trial (by number); the best-so-far line over complete trials. */
function objectiveChart(s: SweepStatus, width: number): HTMLElement {
  const trials = s.trials.filter((t) => (t.state === 'complete' || t.state === 'pruned') && t.value !== undefined && Number.isFinite(t.value));
  const section = htmlEl('section', { class: 'objective', 'aria-label': 'Objective over trials' }, htmlEl('h2', {}, `${s.objective.metric} over trials (${s.objective.goal})`));
  drawn.objectivePoints = 0;
  drawn.prunedPoints = 0;
  drawn.bestSoFar = undefined;
  if (trials.length === 0) {
    section.append(htmlEl('p', { class: 'note' }, 'No trial has reported the objective yet.'));
    return section;
  }
  const maxN = Math.max(...s.trials.map((t) => t.number), 1);
  const sc = scale(trials.map((t) => t.value!), H);
  const x = (n: number) => PAD.left + (n / maxN) * (width - PAD.left - PAD.right);
  const svg = chartFrame(width, `${s.objective.metric} of ${trials.length} trials`);
  yAxis(svg, sc, width, s.objective.metric);
  xTicks(svg, x, maxN, 'trial', width);
  // Best so far: a step line through the complete trials in order.
  let best: number | undefined;
  let d = '';
  for (const t of [...s.trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== 'complete' || t.value === undefined || !Number.isFinite(t.value)) continue;
    const better = best === undefined || (s.objective.goal === 'minimize' ? t.value < best : t.value > best);
    if (better) {
      d += best === undefined ? `M${x(t.number).toFixed(1)},${sc.y(t.value).toFixed(1)}` : ` H${x(t.number).toFixed(1)} V${sc.y(t.value).toFixed(1)}`;
      best = t.value;
    }
  }
  if (best !== undefined) {
    d += ` H${x(maxN).toFixed(1)}`;
    svg.append(svgEl('path', { d, class: 'best-line', fill: 'none', stroke: cssVar('--vscode-charts-green', '#89d185'), 'stroke-width': 2 }));
    drawn.bestSoFar = best;
  }
  const colour = cssVar('--vscode-charts-blue', '#3794ff');
  for (const t of trials) {
    const pruned = t.state === 'pruned';
    const c = svgEl('circle', {
      cx: x(t.number), cy: sc.y(t.value!), r: t.best ? 6 : 4,
      class: `pt ${t.state}${t.best ? ' best' : ''}`, 'data-run': t.runId, tabindex: 0,
      fill: pruned ? 'none' : colour, stroke: pruned ? cssVar('--vscode-descriptionForeground', '#888') : colour, 'stroke-width': 1.5,
    });
    c.append(svgEl('title', {}, trialTitle(s, t)));
    const open = () => host.post({ type: 'openTrial', runId: t.runId });
    c.addEventListener('click', open);
    c.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    svg.append(c);
    drawn.objectivePoints++;
    if (pruned) drawn.prunedPoints++;
  }
  section.append(svg, htmlEl('p', { class: 'note' }, `● complete  ○ pruned (value when stopped)  — best so far${s.best ? `: trial-${s.best.number}, ${formatNumber(s.best.value)}` : ''}`));
  return section;
}

/** Each trial's objective by step: pruned curves stop where the pruner stopped them. */
function curvesChart(s: SweepStatus, list: TrialCurve[], width: number): HTMLElement {
  const section = htmlEl('section', { class: 'curves', 'aria-label': 'Objective by step' }, htmlEl('h2', {}, `${s.objective.metric} by step`));
  const withPoints = list.filter((c) => c.points.length > 0);
  if (withPoints.length === 0) return section;
  const maxX = Math.max(...withPoints.flatMap((c) => c.points.map((p) => p.x)), 1);
  const sc = scale(withPoints.flatMap((c) => c.points.map((p) => p.y)), H);
  const x = (v: number) => PAD.left + (v / maxX) * (width - PAD.left - PAD.right);
  const svg = chartFrame(width, `${s.objective.metric} by step for ${withPoints.length} trials`);
  yAxis(svg, sc, width, s.objective.metric);
  xTicks(svg, x, maxX, 'step', width);
  const byNumber = new Map(s.trials.map((t) => [t.number, t]));
  const theme = readTheme();
  for (const c of withPoints) {
    const t = byNumber.get(c.number);
    const d = c.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.x).toFixed(1)},${sc.y(p.y).toFixed(1)}`).join(' ');
    const cls = `curve ${t?.state ?? ''}${t?.best ? ' best' : ''}`;
    const stroke = t?.best ? cssVar('--vscode-charts-green', '#89d185') : t?.state === 'pruned' ? cssVar('--vscode-descriptionForeground', '#888') : cssVar('--vscode-charts-blue', '#3794ff');
    const path = svgEl('path', { d, class: cls, fill: 'none', stroke, 'stroke-width': t?.best ? theme.lineWidth + 1 : 1.2, ...(t?.state === 'pruned' ? { 'stroke-dasharray': '4 3' } : {}) });
    if (t) path.append(svgEl('title', {}, trialTitle(s, t)));
    svg.append(path);
  }
  section.append(svg);
  return section;
}

/** Params → objective, one line per complete or pruned trial (pruned ones dashed and muted). */
function parallelChart(s: SweepStatus, width: number): HTMLElement {
  const section = htmlEl('section', { class: 'parallel', 'aria-label': 'Params against the objective' }, htmlEl('h2', {}, 'Params → objective'));
  const trials = s.trials.filter((t) => (t.state === 'complete' || t.state === 'pruned') && t.value !== undefined && Number.isFinite(t.value));
  const runs: CompareRun[] = trials.map((t) => ({ id: t.runId, name: `trial-${t.number}`, status: t.status, startedAt: t.startedAt, params: t.params, metrics: { [s.objective.metric]: t.value! } }));
  const model = buildParallel(runs, s.objective.metric);
  // Param axes in the space's order, the objective last.
  const keys = Object.keys(s.space);
  const rank = (i: number) => (model.axes[i]!.role === 'objective' ? Infinity : keys.indexOf(model.axes[i]!.key));
  const order = model.axes.map((_, i) => i).sort((a, b) => rank(a) - rank(b));
  const axes = order.map((i) => model.axes[i]!);
  drawn.parallel = { axes: axes.map((a) => a.key), lines: 0 };
  if (runs.length === 0 || axes.length === 0) {
    section.append(htmlEl('p', { class: 'note' }, 'Lines appear as trials report the objective.'));
    return section;
  }
  const height = 250;
  const top = 40;
  const bottom = 16;
  const left = 70;
  const right = 70;
  const w = Math.max(width, left + right + 110 * Math.max(1, axes.length - 1));
  const svg = svgEl('svg', { width: w, height, viewBox: `0 0 ${w} ${height}`, role: 'img', 'aria-label': `Parallel coordinates of ${axes.map((a) => a.key).join(', ')}` });
  const xAt = (i: number) => (axes.length === 1 ? w / 2 : left + (i * (w - left - right)) / (axes.length - 1));
  const yAt = (p: number) => top + (1 - p) * (height - top - bottom);
  const lines = svgEl('g', { class: 'lines' });
  model.lines.forEach((line, ri) => {
    const t = trials[ri]!;
    const positions = order.map((k) => line.positions[k]);
    let d = '';
    let pen = false;
    positions.forEach((p, ai) => {
      if (p === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${xAt(ai).toFixed(1)},${yAt(p).toFixed(1)} `;
      pen = true;
    });
    const stroke = t.best ? cssVar('--vscode-charts-green', '#89d185') : t.state === 'pruned' ? cssVar('--vscode-descriptionForeground', '#888') : cssVar('--vscode-charts-blue', '#3794ff');
    const path = svgEl('path', { class: `line ${t.state}${t.best ? ' best' : ''}`, d: d.trim() || 'M0,0', stroke, 'stroke-width': t.best ? 4 : 1.5, fill: 'none', 'data-run': t.runId, ...(t.state === 'pruned' ? { 'stroke-dasharray': '4 3' } : {}) });
    path.append(svgEl('title', {}, trialTitle(s, t)));
    path.addEventListener('click', () => host.post({ type: 'openTrial', runId: t.runId }));
    lines.append(path);
    drawn.parallel.lines++;
  });
  svg.append(lines);
  axes.forEach((axis, i) => {
    const x = xAt(i);
    const g = svgEl('g', { class: `axis axis-${axis.role}`, 'data-key': axis.key });
    g.append(svgEl('line', { x1: x, x2: x, y1: top, y2: height - bottom }));
    g.append(svgEl('text', { x, y: top - 22, 'text-anchor': 'middle', class: 'axis-label' }, axis.role === 'objective' ? `${axis.key} ${s.objective.goal === 'minimize' ? '↓' : '↑'}` : axis.key));
    if (axis.kind === 'number' && axis.log) g.append(svgEl('text', { x, y: top - 8, 'text-anchor': 'middle', class: 'axis-note' }, 'log scale'));
    for (const t of axisTicks(axis, formatNumber)) {
      const y = yAt(t.at);
      const side = i === 0 ? -1 : 1;
      g.append(svgEl('line', { x1: x, x2: x + 4 * side, y1: y, y2: y, class: 'tick' }));
      g.append(svgEl('text', { x: x + 7 * side, y: y + 4, 'text-anchor': side < 0 ? 'end' : 'start', class: 'tick-label' }, t.label));
    }
    svg.append(g);
  });
  section.append(htmlEl('div', { class: 'parallel-box' }, svg));
  return section;
}

function importanceBars(s: SweepStatus): HTMLElement {
  const section = htmlEl('section', { class: 'importance', 'aria-label': 'Param importance' }, htmlEl('h2', {}, 'Param importance'));
  drawn.importance = s.importance.map((i) => i.param);
  if (s.importance.length === 0) {
    section.append(htmlEl('p', { class: 'note' }, 'Shown once 3 trials have completed.'));
    return section;
  }
  const list = htmlEl('div', { class: 'bars' });
  for (const i of s.importance) {
    const bar = htmlEl('span', { class: 'bar' });
    bar.style.width = `${(i.score * 100).toFixed(1)}%`;
    list.append(htmlEl('div', { class: 'bar-row', 'data-param': i.param }, htmlEl('span', { class: 'bar-label' }, i.param), htmlEl('span', { class: 'bar-track' }, bar), htmlEl('span', { class: 'bar-value' }, `${(i.score * 100).toFixed(0)}%`)));
  }
  section.append(
    list,
    htmlEl('p', { class: 'note' }, `For each param alone: the share of the variance of ${s.objective.metric} across the ${s.counts.complete} complete trials that its value explains (correlation ratio η², values grouped into up to 5 quantile bins), normalised to 100%. Main effects only; few trials make it rough.`),
  );
  return section;
}

function trialsTable(s: SweepStatus): HTMLElement {
  const keys = Object.keys(s.space);
  const head = htmlEl('tr', {}, ...['trial', 'state', s.objective.metric, 'steps', ...keys, 'duration'].map((h) => htmlEl('th', {}, h)));
  const rows = [...s.trials].sort((a, b) => a.number - b.number).filter((t) => t.state !== 'discarded');
  drawn.rows = rows.length;
  const body = rows.map((t) => {
    const why = t.state === 'pruned' && t.prune ? ` at ${t.prune.step}` : '';
    const tr = htmlEl(
      'tr',
      { class: `state-${t.state}${t.best ? ' best' : ''}`, 'data-run': t.runId, title: t.message ?? '' },
      htmlEl('td', {}, `trial-${t.number}`),
      htmlEl('td', {}, `${t.state}${why}${t.best ? ' ★' : ''}`),
      htmlEl('td', { class: 'num' }, t.value === undefined ? '—' : formatNumber(t.value)),
      htmlEl('td', { class: 'num' }, t.lastStep === undefined ? '—' : String(t.lastStep)),
      ...keys.map((k) => htmlEl('td', { class: 'num' }, t.params[k] === undefined ? '—' : Number.isFinite(Number(t.params[k])) ? formatNumber(Number(t.params[k])) : t.params[k]!)),
      htmlEl('td', { class: 'num' }, formatDuration(t.durationMs)),
    );
    tr.addEventListener('dblclick', () => host.post({ type: 'openTrial', runId: t.runId }));
    return tr;
  });
  return htmlEl('section', { class: 'trials', 'aria-label': 'Trials' }, htmlEl('h2', {}, 'Trials'), htmlEl('div', { class: 'table-scroll' }, htmlEl('table', { class: 'compare-table' }, htmlEl('thead', {}, head), htmlEl('tbody', {}, ...body))));
}

function header(s: SweepStatus): HTMLElement {
  const c = s.counts;
  const finished = c.complete + c.pruned + c.failed;
  const best = s.best ? `best trial-${s.best.number}: ${s.objective.metric} ${formatNumber(s.best.value)} (${Object.entries(s.best.params).map(([k, v]) => `${k} ${Number.isFinite(Number(v)) ? formatNumber(Number(v)) : v}`).join(', ')})` : 'no complete trial yet';
  return htmlEl(
    'header',
    { class: 'sweep-header' },
    htmlEl('h1', {}, `Sweep ${s.name}`, htmlEl('span', { class: `badge status-${s.status}` }, s.status)),
    htmlEl('p', { class: 'summary' }, `${s.method} on step ${s.step} · ${finished}/${s.budget} trials (${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed${c.running ? `, ${c.running} running` : ''}) · ${s.parallel} at a time${s.prune ? ` · ${s.prune}` : ''} · seed ${s.seed} · run ${shortId(s.runId)}`),
    htmlEl('p', { class: 'best' }, best),
  );
}

function render(): void {
  if (!status) return;
  const width = Math.max(420, Math.min(app.clientWidth || 800, 1200));
  const half = width >= 1000 ? Math.floor((width - 32) / 2) : width;
  app.replaceChildren(
    header(status),
    htmlEl('div', { class: 'grid' }, objectiveChart(status, half), curvesChart(status, curves, half)),
    htmlEl('div', { class: 'grid' }, parallelChart(status, half), importanceBars(status)),
    trialsTable(status),
  );
}

function onMessage(m: SweepToView): void {
  switch (m.type) {
    case 'data':
      status = m.status;
      curves = m.curves;
      host.state = { runId: status.runId };
      render();
      break;
    case 'status':
      app.replaceChildren(htmlEl('p', { class: `status${m.error ? ' error' : ''}`, role: 'status' }, m.text));
      break;
    case 'getState':
      host.post({ type: 'state', requestId: m.requestId, state: renderedState() });
      break;
  }
}

function renderedState(): SweepRenderedState {
  return { runId: status?.runId ?? '', status: status?.status ?? '', ...drawn, parallel: { ...drawn.parallel }, importance: [...drawn.importance], theme: themeKind(), cspViolations: [...host.cspViolations] };
}

let lastWidth = 0;
new ResizeObserver(() => {
  if (Math.abs(app.clientWidth - lastWidth) > 8) {
    lastWidth = app.clientWidth;
    render();
  }
}).observe(app);
onThemeChange(render);
host.post({ type: 'ready' });
