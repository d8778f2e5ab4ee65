import * as vscode from 'vscode';
import { ManifestParser } from '../../../orchestrator/manifest';
import type { PipelineState } from './pipeline-state';
import { formatAgo, formatDuration, formatMetric, keyMetric } from './format';

/**
 * On top of mlops.yaml: ▶ Run pipeline · Dry run. On each step: ▶ Run to here · the plan
 * (cached / will run: deps changed) · the last result (✓ accuracy 0.99 · 14 s ago).
 */
export class ManifestCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly parser = new ManifestParser();
  private readonly sub: vscode.Disposable;

  constructor(private readonly state: PipelineState) {
    this.sub = state.onDidChange(() => this.changed.fire());
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const { plan, last: lastByStep } = await this.state.get();
    const parsed = this.parser.parseSync(doc.getText());
    const lenses: vscode.CodeLens[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    lenses.push(new vscode.CodeLens(top, { title: '$(play) Run pipeline', command: 'mlops.runPipeline' }));
    lenses.push(new vscode.CodeLens(top, { title: 'Dry run', command: 'mlops.dryRun' }));
    const steps = ((parsed.value as { steps?: Record<string, unknown> } | null)?.steps ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(steps)) {
      const span = parsed.keySpan(['steps', name]);
      const range = new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end));
      lenses.push(new vscode.CodeLens(range, { title: '$(play) Run to here', command: 'mlops.runStep', arguments: [name] }));
      const p = plan.get(name);
      if (p) lenses.push(new vscode.CodeLens(range, { title: p.action === 'skip' ? 'cached' : p.action === 'restore' ? 'will restore from cache' : `will run: ${p.reason}`, command: 'mlops.dryRun' }));
      const last = lastByStep.get(name);
      if (last) {
        const mark = last.status === 'succeeded' || last.status === 'skipped' ? '✓' : last.status === 'failed' ? '✗' : '•';
        const km = keyMetric(last.latestMetrics);
        const text = [`${mark} ${last.status === 'skipped' ? 'cached' : last.status}`, km ? `${km[0]} ${formatMetric(km[1])}` : '', last.status !== 'skipped' ? formatDuration(last.durationMs) : '', formatAgo(last.endedAt ?? last.startedAt)].filter(Boolean).join(' · ');
        lenses.push(new vscode.CodeLens(range, { title: text, command: 'mlops.showRunLogs', arguments: [last.parentId ?? last.id] }));
      }
    }
    return lenses;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
