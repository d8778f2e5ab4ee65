/**
 * Pipeline runs as the daemon, the CLI and the extension see them: what to run, the plan
 * (run / skip / restore and why), and the events a run emits while it goes.
 */
import type { RunStatus } from './types';

/** What `mlops run` (or the IDE) asks for. */
export interface RunRequest {
  /** Steps to run, with everything upstream of them; empty or absent = the whole pipeline. */
  steps?: string[];
  /** Param overrides, `k=v` from the command line; values are strings, typed by the manifest's defaults. */
  params?: Record<string, string>;
  /** Run every selected step even when its cached result is still valid. */
  force?: boolean;
  /** Experiment name; default: the manifest's `project`. */
  experiment?: string;
  /** Who asked (from the token); recorded as a tag. */
  actor?: string;
}

export type StepAction = 'run' | 'skip' | 'restore';

/** One line of a plan: `train  run  deps changed: data/x.csv`. */
export interface PlannedStep {
  step: string;
  action: StepAction;
  /** Why: `deps changed: data/x.csv`, `params changed: lr 0.1→0.05`, `cmd changed`, `outs missing`, `no previous run`, `forced`, `cached`, `outs restored from cache`. */
  reason: string;
  /** The command after interpolation (shell-quoted values). */
  cmd: string;
  /** Steps this one waits for. */
  needs: string[];
}

export interface RunPlan {
  steps: PlannedStep[];
}

/** Events of a run, in order; the daemon streams them to the CLI and the extension (SSE). */
export type PipelineEvent =
  | { type: 'run-started'; runId: string; plan: RunPlan; startedAt: number }
  | { type: 'step-started'; runId: string; stepRunId: string; step: string; attempt: number; pid?: number }
  | { type: 'step-output'; runId: string; step: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'metric'; runId: string; stepRunId: string; key: string; value: number; step: number }
  | { type: 'step-finished'; runId: string; stepRunId: string; step: string; status: RunStatus; exitCode?: number; durationMs: number; message?: string }
  | { type: 'run-finished'; runId: string; status: RunStatus; durationMs: number; message?: string };

/** Where step logs live, relative to the workspace: one file per step run (stdout and stderr interleaved). */
export function stepLogPath(runId: string, step: string): string {
  return `.mlops/runs/${runId}/logs/${step}.log`;
}
