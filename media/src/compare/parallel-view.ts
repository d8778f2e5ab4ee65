/**
 * Parallel coordinates in plain SVG: an axis per differing param, then the objective metric;
 * one polyline per run in the run's colour, the best run's line drawn thicker. The objective
 * is chosen from a drop-down and remembered in the page's state.
 */
import type { CompareRun } from '../../../protocol/webview';
import { bestColumns, metricDirection } from '../lib/compare-table';
import { formatNumber, shortId } from '../../../protocol/format';
import { axisTicks, buildParallel } from '../lib/parallel';
import { htmlEl, readTheme, seriesColor, svgEl } from '../lib/theme';

const HEIGHT = 260;
const PAD = { top: 40, bottom: 16, left: 70, right: 70 };
const MIN_AXIS_GAP = 110;

export class ParallelView {
  readonly element = htmlEl('section', { class: 'parallel', 'aria-label': 'Params against the objective' });
  private svg: SVGSVGElement | undefined;
  private runs: CompareRun[] = [];
  private objective: string | undefined;
  private lastWidth = 0;

  constructor(private readonly onObjective: (key: string) => void) {
    // Redraw to the new width; the SVG is laid out in pixels so text keeps its size.
    new ResizeObserver(() => {
      if (this.element.clientWidth !== this.lastWidth) this.draw();
    }).observe(this.element);
  }

  render(runs: CompareRun[], objective: string | undefined): void {
    this.runs = runs;
    this.objective = objective;
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort((a, b) => a.localeCompare(b));
    const select = htmlEl('select', { id: 'objective', 'aria-label': 'Objective metric' });
    for (const k of keys) {
      const o = htmlEl('option', { value: k }, k);
      o.selected = k === objective;
      select.append(o);
    }
    select.addEventListener('change', () => this.onObjective(select.value));
    const header = htmlEl('div', { class: 'section-header' }, htmlEl('h2', {}, 'Params → objective'), htmlEl('label', { for: 'objective' }, 'Objective '), select);
    const box = htmlEl('div', { class: 'parallel-box' });
    this.element.replaceChildren(header, box);
    this.draw();
  }

  private draw(): void {
    const box = this.element.querySelector('.parallel-box');
    if (!box) return;
    this.lastWidth = this.element.clientWidth;
    const model = buildParallel(this.runs, this.objective);
    const theme = readTheme();
    const width = Math.max(box.clientWidth || 600, PAD.left + PAD.right + MIN_AXIS_GAP * Math.max(1, model.axes.length - 1));
    const svg = svgEl('svg', { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `Parallel coordinates of ${model.axes.map((a) => a.key).join(', ')}` });
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const xAt = (i: number) => (model.axes.length === 1 ? width / 2 : PAD.left + (i * (width - PAD.left - PAD.right)) / (model.axes.length - 1));
    const yAt = (pos: number) => PAD.top + (1 - pos) * plotH;

    if (model.axes.length === 0) {
      box.replaceChildren(htmlEl('p', { class: 'note' }, 'No params or metrics to plot.'));
      return;
    }
    const obj = model.axes.find((a) => a.role === 'objective');
    const flat = obj?.kind === 'number' && obj.min === obj.max && this.runs.length > 1;
    // Lines first, so axes and labels sit on top.
    const objIndex = model.axes.findIndex((a) => a.role === 'objective');
    const dir = this.objective ? metricDirection(this.objective) : 'none';
    const best = objIndex >= 0 ? bestColumns(this.runs.map((r) => (this.objective ? r.metrics[this.objective] : undefined)), dir === 'none' ? 'max' : dir) : [];
    const lines = svgEl('g', { class: 'lines' });
    model.lines.forEach((line, ri) => {
      let d = '';
      let pen = false;
      line.positions.forEach((p, ai) => {
        if (p === undefined) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${xAt(ai).toFixed(1)},${yAt(p).toFixed(1)} `;
        pen = true;
      });
      const run = this.runs[ri];
      const path = svgEl('path', { class: `line${best.includes(ri) ? ' best' : ''}`, d: d.trim() || 'M0,0', stroke: seriesColor(ri, theme.kind), 'stroke-width': best.includes(ri) ? theme.lineWidth + 2 : theme.lineWidth, fill: 'none', 'data-run': run.id });
      path.append(svgEl('title', {}, `${run.name} · ${shortId(run.id)}\n${model.axes.map((a) => `${a.key} = ${a.role === 'objective' ? formatNumber(run.metrics[a.key]) : (run.params[a.key] ?? '—')}`).join('\n')}`));
      lines.append(path);
    });
    svg.append(lines);

    model.axes.forEach((axis, i) => {
      const x = xAt(i);
      const g = svgEl('g', { class: `axis axis-${axis.role}`, 'data-key': axis.key });
      g.append(svgEl('line', { x1: x, x2: x, y1: PAD.top, y2: PAD.top + plotH }));
      const label = axis.role === 'objective' ? `${axis.key} ${metricDirection(axis.key) === 'min' ? '↓' : metricDirection(axis.key) === 'max' ? '↑' : ''}` : axis.key;
      g.append(svgEl('text', { x, y: PAD.top - 22, 'text-anchor': 'middle', class: 'axis-label' }, label));
      if (axis.kind === 'number' && axis.log) g.append(svgEl('text', { x, y: PAD.top - 8, 'text-anchor': 'middle', class: 'axis-note' }, 'log scale'));
      for (const t of axisTicks(axis, formatNumber)) {
        const y = yAt(t.at);
        // Labels left of the first axis, right of the others (lines arrive from the left).
        const side = i === 0 ? -1 : 1;
        g.append(svgEl('line', { x1: x, x2: x + 4 * side, y1: y, y2: y, class: 'tick' }));
        g.append(svgEl('text', { x: x + 7 * side, y: y + 4, 'text-anchor': side < 0 ? 'end' : 'start', class: 'tick-label' }, t.label));
      }
      svg.append(g);
    });
    this.svg = svg;
    box.replaceChildren(svg, ...(flat ? [htmlEl('p', { class: 'note' }, `${this.objective} is the same in every run: pick another objective to see how the params matter.`)] : []));
  }

  state(): { objective: string | undefined; axes: string[]; lines: number } {
    return {
      objective: this.objective,
      axes: Array.from(this.svg?.querySelectorAll<SVGGElement>('g.axis') ?? []).map((g) => g.dataset.key ?? ''),
      lines: this.svg?.querySelectorAll('path.line').length ?? 0,
    };
  }
}
