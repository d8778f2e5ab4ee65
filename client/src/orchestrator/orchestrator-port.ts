import type * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { RunPlan, RunRequest } from '../../../protocol/pipeline';
import type { Experiment, RunDetail, RunSummary } from '../../../protocol/types';

/** The part of the orchestrator the views read: a port, so trees can be tested and wired to any client. */
export interface RunsSource {
  listExperiments(): Promise<Experiment[]>;
  listRuns(query: { experiment?: string; parentId?: string; limit: number; offset: number; kind?: string; status?: string; param?: string; orderBy?: string; desc?: boolean }): Promise<{ runs: RunSummary[]; total: number }>;
  getRun(id: string): Promise<RunDetail>;
  /** What a run would do now (run / skip / restore and why), without running anything. */
  plan(req: RunRequest): Promise<RunPlan>;
  /** Pushed by the daemon (server-sent events); no polling. */
  readonly onEvent: vscode.Event<DaemonEvent>;
  /** Fires when the daemon connects or goes away. */
  readonly onDidChangeState: vscode.Event<void>;
  readonly connected: boolean;
}
