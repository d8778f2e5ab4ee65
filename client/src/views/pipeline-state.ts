import * as vscode from 'vscode';
import type { PlannedStep } from '../../../protocol/pipeline';
import type { RunSummary } from '../../../protocol/types';
import type { RunsSource } from '../orchestrator/orchestrator-port';

export interface PipelineSnapshot {
  /** What the next run would do per step (run / skip / restore and why). */
  plan: Map<string, PlannedStep>;
  /** Each step's result in the latest pipeline run. */
  last: Map<string, RunSummary>;
}

const EMPTY: PipelineSnapshot = { plan: new Map(), last: new Map() };

/**
 * The plan and the latest run's step results, fetched once for every view that shows them
 * (Pipeline tree, CodeLens). Events mark it stale; the next reader fetches, and readers
 * arriving meanwhile share that one request. Saving any workspace file marks it stale too:
 * a changed dep changes the plan ("will run: deps changed").
 */
export class PipelineState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private snapshot: PipelineSnapshot | undefined;
  private inFlight: Promise<PipelineSnapshot> | undefined;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly source: RunsSource) {
    this.subs = [
      source.onEvent((e) => {
        if (e.type === 'run-started' || e.type === 'step-finished' || e.type === 'run-finished' || e.type === 'runs-changed') this.invalidate();
      }),
      source.onDidChangeState(() => this.invalidate()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (!d.uri.path.includes('/.mlops/')) this.invalidate();
      }),
    ];
  }

  /** Marks the state stale and tells the views (debounced, so a burst of events redraws once). */
  invalidate(): void {
    this.snapshot = undefined;
    this.generation++;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire();
    }, 200);
  }

  /** The current snapshot, fetched if stale. */
  get(): Promise<PipelineSnapshot> {
    if (this.snapshot) return Promise.resolve(this.snapshot);
    if (!this.source.connected) return Promise.resolve(EMPTY);
    this.inFlight ??= this.fetch().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetch(): Promise<PipelineSnapshot> {
    const generation = this.generation;
    let result = EMPTY;
    try {
      const { runs } = await this.source.listRuns({ parentId: 'none', kind: 'pipeline', limit: 1, offset: 0 });
      const last = runs[0] ? new Map((await this.source.getRun(runs[0].id)).children.map((c) => [c.name, c] as const)) : new Map<string, RunSummary>();
      const plan = new Map((await this.source.plan({})).steps.map((p) => [p.step, p] as const));
      result = { plan, last };
    } catch {
      // An invalid manifest has no plan; the language server already shows why.
    }
    // Keep it only if nothing happened while we were asking.
    if (generation === this.generation) this.snapshot = result;
    return result;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}
