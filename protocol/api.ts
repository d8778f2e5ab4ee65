/**
 * The orchestrator daemon's HTTP API, typed once for the daemon, the CLI and the extension.
 * Every request carries `Authorization: Bearer <token>` (the token is in `.mlops/token`,
 * mode 0600); without it the daemon answers 401. Errors come back as `{ error: { code,
 * message } }` with the status of `protocol/errors.ts`.
 */
import type { PipelineEvent, RunPlan, RunRequest } from './pipeline';
import type { Experiment, RunDetail, RunSummary } from './types';
import type { RegistryApi } from './registry';
import type { ServingApi, ServingEvent } from './serving';
import type { AlertEvent, MonitorApi } from './monitoring';
import type { SweepApi } from './sweep';

/** `.mlops/daemon.json`: how clients find the running daemon. */
export interface DaemonInfo {
  pid: number;
  port: number;
  /** Absolute workspace folder the daemon serves. */
  workspace: string;
  startedAt: number;
  version: string;
  /** The Node that runs the daemon (`process.version`), for diagnostics. */
  node: string;
}

/** Each endpoint: method, path, request body (or query), response body. */
export interface DaemonApi extends RegistryApi, SweepApi, ServingApi, MonitorApi {
  'GET /api/health': { req: void; res: DaemonInfo & { activeRuns: string[] } };
  'POST /api/pipeline/plan': { req: RunRequest; res: RunPlan };
  /** 409 CONFLICT when a pipeline run is already active in the workspace (the message names it). */
  'POST /api/pipeline/run': { req: RunRequest; res: { runId: string; plan: RunPlan } };
  'POST /api/pipeline/cancel': { req: { runId: string }; res: { cancelled: boolean } };
  /** Log text of one step of a run from a byte offset; `done` once the step has ended. */
  'GET /api/runs/logs': { req: { id: string; step: string; offset?: number }; res: { text: string; offset: number; done: boolean } };
  'GET /api/runs': { req: { experiment?: string; parentId?: string; status?: string; kind?: string; /** KEY:VALUE: runs whose param has that value */ param?: string; limit?: number; offset?: number; /** startedAt | metrics.KEY */ orderBy?: string; desc?: boolean }; res: { runs: RunSummary[]; total: number } };
  'GET /api/runs/get': { req: { id: string }; res: RunDetail };
  'GET /api/experiments': { req: void; res: { experiments: Experiment[] } };
  'POST /api/daemon/stop': { req: void; res: { stopping: true } };
}

/** Server-sent events at `GET /api/events`: one `data:` line of JSON per event. */
export type DaemonEvent = PipelineEvent | { type: 'runs-changed' } | { type: 'daemon-stopping' } | { type: 'models-changed' } | ServingEvent | AlertEvent;

export const EVENTS_PATH = '/api/events';
