/**
 * The params / final metrics table: one column per run, "only differences" on by default,
 * the best value of each metric highlighted (by the metric's direction: loss down, accuracy up).
 */
import type { CompareRun } from '../../../protocol/webview';
import { buildTable, metricDirection, type TableModel } from '../lib/compare-table';
import { formatDuration, formatNumber, formatTime, shortId } from '../../../protocol/format';
import { htmlEl, seriesColor } from '../lib/theme';

export class TableView {
  readonly element = htmlEl('section', { class: 'table-section', 'aria-label': 'Params and final metrics' });
  private model: TableModel | undefined;
  private runs: CompareRun[] = [];

  constructor(private readonly onToggle: (onlyDifferences: boolean) => void) {}

  render(runs: CompareRun[], onlyDifferences: boolean): void {
    this.runs = runs;
    const model = (this.model = buildTable(runs, onlyDifferences));
    const toggle = htmlEl('input', { type: 'checkbox', id: 'only-differences' });
    toggle.checked = onlyDifferences;
    toggle.addEventListener('change', () => this.onToggle(toggle.checked));
    const hidden = [model.hiddenParams && `${model.hiddenParams} param${model.hiddenParams === 1 ? '' : 's'}`, model.hiddenMetrics && `${model.hiddenMetrics} metric${model.hiddenMetrics === 1 ? '' : 's'}`].filter(Boolean).join(' and ');
    const header = htmlEl(
      'div',
      { class: 'section-header' },
      htmlEl('h2', {}, 'Params and final metrics'),
      htmlEl('label', { class: 'toggle', for: 'only-differences' }, toggle, ' Only differences'),
      htmlEl('span', { class: 'note' }, onlyDifferences && hidden ? `${hidden} hidden: the same in every run` : ''),
    );

    const table = htmlEl('table', { class: 'compare-table' });
    const head = htmlEl('thead');
    const runRow = htmlEl('tr', {}, htmlEl('th', { scope: 'col', class: 'row-key' }, 'Run'));
    runs.forEach((r, i) => {
      const swatch = htmlEl('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.backgroundColor = seriesColor(i);
      runRow.append(htmlEl('th', { scope: 'col', 'data-run': r.id, title: r.id }, swatch, htmlEl('span', { class: 'run-name' }, r.name), htmlEl('span', { class: 'run-id' }, shortId(r.id))));
    });
    head.append(runRow);
    head.append(this.infoRow('status', runs.map((r) => r.status), runs.map((r) => `status status-${r.status}`)));
    head.append(this.infoRow('started', runs.map((r) => formatTime(r.startedAt))));
    head.append(this.infoRow('duration', runs.map((r) => formatDuration(r.durationMs))));
    table.append(head);

    const body = htmlEl('tbody');
    body.append(this.groupRow('Params', runs.length, model.params.length === 0 ? (onlyDifferences ? 'every param is the same' : 'no params') : undefined));
    for (const row of model.params) {
      const tr = htmlEl('tr', { 'data-kind': 'param', 'data-key': row.key }, htmlEl('th', { scope: 'row', class: 'row-key' }, row.key));
      row.values.forEach((v, i) => tr.append(htmlEl('td', { 'data-run': runs[i].id, class: v === undefined ? 'missing' : '' }, v ?? '—')));
      body.append(tr);
    }
    body.append(this.groupRow('Final metrics', runs.length, model.metrics.length === 0 ? (onlyDifferences ? 'every metric is the same' : 'no metrics') : undefined));
    for (const row of model.metrics) {
      const dir = metricDirection(row.key);
      const key = htmlEl('th', { scope: 'row', class: 'row-key', title: dir === 'none' ? 'no better direction' : dir === 'max' ? 'higher is better' : 'lower is better' }, row.key, htmlEl('span', { class: 'direction', 'aria-hidden': 'true' }, dir === 'max' ? ' ↑' : dir === 'min' ? ' ↓' : ''));
      const tr = htmlEl('tr', { 'data-kind': 'metric', 'data-key': row.key }, key);
      row.values.forEach((v, i) => {
        const best = row.best.includes(i);
        const td = htmlEl('td', { 'data-run': runs[i].id, class: [v === undefined ? 'missing' : 'num', best ? 'best' : ''].filter(Boolean).join(' ') }, v === undefined ? '—' : formatNumber(v));
        if (best) td.setAttribute('aria-label', `${formatNumber(v)}, best`);
        tr.append(td);
      });
      body.append(tr);
    }
    table.append(body);
    this.element.replaceChildren(header, htmlEl('div', { class: 'table-scroll' }, table));
  }

  private infoRow(label: string, values: string[], classes: string[] = []): HTMLTableRowElement {
    const tr = htmlEl('tr', { class: 'info' }, htmlEl('th', { scope: 'row', class: 'row-key' }, label));
    values.forEach((v, i) => tr.append(htmlEl('td', classes[i] ? { class: classes[i] } : {}, v)));
    return tr;
  }

  private groupRow(label: string, runCount: number, empty: string | undefined): HTMLTableRowElement {
    return htmlEl('tr', { class: 'group' }, htmlEl('th', { scope: 'rowgroup', colspan: String(runCount + 1) }, label, empty ? htmlEl('span', { class: 'note' }, ` — ${empty}`) : ''));
  }

  /** What the table shows, read from its DOM. */
  state(): { columns: string[]; params: string[]; metrics: string[]; best: Record<string, string> } {
    const q = <T extends Element>(sel: string) => Array.from(this.element.querySelectorAll<T>(sel));
    const best: Record<string, string> = {};
    for (const td of q<HTMLElement>('tr[data-kind="metric"] td.best')) {
      const key = td.parentElement!.dataset.key!;
      best[key] ??= td.dataset.run!;
    }
    return {
      columns: q<HTMLElement>('thead th[data-run]').map((th) => th.dataset.run!),
      params: q<HTMLElement>('tr[data-kind="param"]').map((tr) => tr.dataset.key!),
      metrics: q<HTMLElement>('tr[data-kind="metric"]').map((tr) => tr.dataset.key!),
      best,
    };
  }

  get rows(): TableModel | undefined {
    return this.model;
  }

  get columns(): CompareRun[] {
    return this.runs;
  }
}
