import * as vscode from 'vscode';
import type { PlannedStep } from '../../../protocol/pipeline';
import type { RunSummary } from '../../../protocol/types';
import { ManifestParser } from '../../../orchestrator/manifest';
import type { OrchestratorConnection } from '../orchestrator/connection';
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
  private state: { plan: Map<string, PlannedStep>; last: Map<string, RunSummary>; pipeline?: RunSummary } = { plan: new Map(), last: new Map() };

  constructor(private readonly conn: OrchestratorConnection) {
    this.sub = vscode.Disposable.from(
      conn.onEvent((e) => (e.type === 'run-finished' || e.type === 'step-finished') && void this.reload()),
      conn.onDidChangeState(() => void this.reload()),
      vscode.workspace.onDidSaveTextDocument(() => void this.reload()),
    );
  }

  async reload(): Promise<void> {
    if (!this.conn.connected) {
      this.state = { plan: new Map(), last: new Map() };
    } else {
      try {
        const plan = new Map((await this.conn.plan({})).steps.map((s) => [s.step, s]));
        const { runs } = await this.conn.listRuns({ parentId: 'none', kind: 'pipeline', limit: 1, offset: 0 });
        const detail = runs[0] ? await this.conn.getRun(runs[0].id) : undefined;
        this.state = { plan, last: new Map((detail?.children ?? []).map((c) => [c.name, c])), pipeline: detail };
      } catch {
        this.state = { plan: new Map(), last: new Map() };
      }
    }
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
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
      const p = this.state.plan.get(name);
      if (p) lenses.push(new vscode.CodeLens(range, { title: p.action === 'skip' ? 'cached' : p.action === 'restore' ? 'will restore from cache' : `will run: ${p.reason}`, command: 'mlops.dryRun' }));
      const last = this.state.last.get(name);
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
