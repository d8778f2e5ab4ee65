/**
 * Serving and rollout as the daemon, the model server process, the CLI (`--json`) and the
 * extension see them. Plain data; no behaviour.
 *
 * Processes: the daemon runs one model server process per deployment (a child with an IPC
 * channel). The model server holds every loaded version's session in-process and does the
 * traffic split, shadow mirroring, canary retries, metrics, request log and canary policy
 * itself, so the hot path has no proxy hop. The daemon owns desired state (persisted under
 * `.mlops/deployments/<name>/state.json`), audit entries and events; it sends the model server
 * a whole `ServingConfig` and the server converges to it (new versions are loaded and ready
 * before traffic moves; removed versions are unloaded after their in-flight requests finish).
 */
import type { ModelSignature } from './registry';

/** How a version answers: ONNX Runtime in-process, or a long-lived JSON-lines process. */
export type ServingFlavor = 'onnx' | 'command';

/** What a version does in the current rollout. */
export type VersionRole = 'stable' | 'canary' | 'ab' | 'shadow';

export type RolloutStrategy = 'direct' | 'canary' | 'ab' | 'shadow';

/** Canary promotion and rollback thresholds (manifest `rollout.canary`). */
export interface CanaryPolicy {
  /** Percent of traffic (1–99) the canary gets. */
  weight: number;
  /** Promote once every given threshold is reached (both absent: never automatically). */
  promoteAfterRequests?: number;
  promoteAfterMinutes?: number;
  /** Roll back the moment either is exceeded (evaluated over the canary's own requests). */
  rollbackErrorRate?: number;
  rollbackP99Ms?: number;
  /** Fewest canary requests before error rate / p99 are judged (avoids 1 of 1 = 100 %). Default 20. */
  minRequests?: number;
}

/** One version as the model server must hold it. */
export interface ServedVersion {
  model: string;
  version: number;
  role: VersionRole;
  /** Percent of primary traffic (0–100); the weights of non-shadow versions sum to 100. Shadow: 0. */
  weight: number;
  flavor: ServingFlavor;
  /** Absolute path of the model file (ONNX) or folder; for `command`, exported as MLOPS_MODEL_PATH. */
  artifactPath: string;
  /** For `command`: shell command line, run in `cwd`. */
  command?: string;
  /** Working directory of a `command` process (the workspace). */
  cwd?: string;
  signature?: ModelSignature;
}

/** The whole desired state of one model server; the server applies it atomically. */
export interface ServingConfig {
  /** Increases with every change; echoed back in `applied`. */
  configId: number;
  deployment: string;
  versions: ServedVersion[];
  /** Present while a canary is running. */
  canary?: CanaryPolicy & { version: number; startedAt: number };
  /** Request header whose value pins a client to one version (canary and A/B). */
  sticky?: string;
  /** ONNX Runtime intra-op threads; absent: the runtime's default. */
  threads?: number;
}

/** Start-up parameters of a model server process (JSON in argv or env; never secrets in argv). */
export interface ModelServerOptions {
  deployment: string;
  /** 127.0.0.1 port; 0 for a free one. */
  port: number;
  /** `token`: every endpoint but /v2/health/* requires `Authorization: Bearer <token>`. */
  auth: 'token' | 'none';
  /** Folder for the request log and state (`.mlops/deployments/<name>`). */
  dir: string;
  /** Largest request body accepted, bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Request log rotation: bytes per file and files kept. Defaults 16 MiB × 4. */
  logFileBytes?: number;
  logFiles?: number;
}

/** Live figures of one version over the last `windowMs` (default 60 s). */
export interface VersionStats {
  requests: number;
  errors: number;
  /** errors / requests over the window; 0 without requests. */
  errorRate: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Since the version was loaded. */
  totalRequests: number;
  totalErrors: number;
  /** Requests that failed on the canary and were answered by the stable version instead. */
  retried: number;
}

export type VersionHealth = 'loading' | 'ready' | 'failed' | 'restarting';

/** Messages the daemon sends the model server over IPC. */
export type ServerCommand =
  | { type: 'configure'; config: ServingConfig }
  /** Stop accepting, finish in-flight requests, exit 0. */
  | { type: 'shutdown' };

/** Messages the model server sends the daemon over IPC. */
export type ServerMessage =
  | { type: 'listening'; port: number }
  | { type: 'applied'; configId: number }
  /** A config could not be applied (e.g. a model failed to load); the previous one stays in force. */
  | { type: 'apply-failed'; configId: number; message: string }
  /** Once a second: figures per version. */
  | { type: 'stats'; at: number; versions: Record<number, VersionStats & { health: VersionHealth }> }
  /**
   * The server already moved traffic (rollback: canary weight 0 at once; promote: canary takes
   * 100 %) and tells the daemon, which records it, audits it and sends the matching config.
   */
  | { type: 'canary-decision'; decision: 'promote' | 'rollback'; version: number; reason: string; stats: VersionStats }
  | { type: 'version-restarted'; version: number; reason: string };

/** One rollout decision or operator action, newest first in `DeploymentStatus.history`. */
export interface DeploymentEvent {
  at: number;
  action: 'deploy' | 'canary' | 'promote' | 'rollback' | 'auto-promote' | 'auto-rollback' | 'undeploy' | 'ab' | 'shadow';
  /** Version that now serves as stable after the action. */
  version?: number;
  /** Version the action was about (the canary, the shadow). */
  target?: number;
  actor: string;
  reason?: string;
}

/** A deployment as `GET /api/deployments` returns it. */
export interface DeploymentStatus {
  name: string;
  model: string;
  /** `stopped` when it is declared in the manifest but not running. */
  state: 'starting' | 'serving' | 'stopped' | 'failed';
  /** http://127.0.0.1:PORT while serving. */
  url?: string;
  port?: number;
  auth: 'token' | 'none';
  pid?: number;
  strategy: RolloutStrategy;
  versions: (Pick<ServedVersion, 'version' | 'role' | 'weight' | 'flavor'> & { health: VersionHealth; stats?: VersionStats })[];
  canary?: ServingConfig['canary'];
  /** What `mlops rollback` would go back to: the previous stable version. */
  previousVersion?: number;
  /** Why it is `failed`, when it is. */
  error?: string;
  history: DeploymentEvent[];
}

/** One point of the live monitor's time series (one per second per version). */
export interface DeploymentSample {
  at: number;
  version: number;
  reqPerSec: number;
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * One line of the request log (`.mlops/deployments/<name>/requests/*.jsonl`, rotated by size,
 * bounded in count). Monitoring (drift on live traffic, feedback joins) reads these.
 */
export interface RequestLogEntry {
  /** Request id: the client's `X-Request-Id` or a generated one, returned in `X-Request-Id`. */
  id: string;
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  version: number;
  /** `shadow` lines are mirrored requests whose answers were not returned; `retry` answered after a canary failure. */
  role: VersionRole | 'retry';
  /** HTTP status the request got (for shadow: would have got). */
  status: number;
  latencyMs: number;
  /** Input feature names, in row order (from the signature's feature_names, or the records' keys). */
  columns?: string[];
  /** Input rows (at most 100 per line; `rowsTruncated` says how many more there were). */
  rows?: (number | string | boolean | null)[][];
  rowsTruncated?: number;
  /** One prediction per row: a class label, a number, or the JSON a command model returned. */
  predictions?: unknown[];
  error?: string;
}

/**
 * One line of the feedback log (`.mlops/deployments/<name>/feedback/feedback-<n>.jsonl`), written
 * by `POST /v2/models/{name}/feedback`: the true labels of an earlier request, joined with the
 * request log by `id`. Both accepted body shapes (`{id, labels}` and `{feedback: [{id, label}]}`)
 * are stored this way.
 */
export interface FeedbackEntry {
  /** The request's id (its `RequestLogEntry.id`). */
  id: string;
  /** When the feedback arrived, ms since the epoch. */
  at: number;
  /** True labels in the request's row order (one element for a single-row request). */
  labels: unknown[];
}

/** The daemon's serving endpoints (merged into DaemonApi). */
export interface ServingApi {
  /** Every manifest deployment, running or not, plus running ones no longer in the manifest. */
  'GET /api/deployments': { req: void; res: { deployments: DeploymentStatus[] } };
  'GET /api/deployments/get': { req: { name: string }; res: DeploymentStatus };
  /** Live monitor series since `since` (ms), up to the last 10 minutes. */
  'GET /api/deployments/samples': { req: { name: string; since?: number }; res: { samples: DeploymentSample[] } };
  /**
   * Starts the deployment (or, when running, switches it to `version` directly). `version`
   * absent: the version the manifest's model reference resolves to. Resolves once ready.
   */
  'POST /api/deployments/deploy': { req: { name: string; version?: number }; res: DeploymentStatus };
  /** Starts a canary of `version` with the manifest's policy (`weight` overrides its weight). */
  'POST /api/deployments/canary': { req: { name: string; version: number; weight?: number }; res: DeploymentStatus };
  /** Promotes the running canary now. */
  'POST /api/deployments/promote': { req: { name: string }; res: DeploymentStatus };
  /** Drops a running canary; otherwise goes back to the previous stable version. */
  'POST /api/deployments/rollback': { req: { name: string }; res: DeploymentStatus };
  'POST /api/deployments/undeploy': { req: { name: string }; res: DeploymentStatus };
  /**
   * Splits traffic between versions (A/B): `weights` by version number (`"3"`) or alias of the
   * deployed model, relative (normalised to whole percents summing to 100). Rollback ends it.
   */
  'POST /api/deployments/split': { req: { name: string; weights: Record<string, number> }; res: DeploymentStatus };
  /** Mirrors every request to `version` (or the version `alias` points at); `stop: true` ends it. */
  'POST /api/deployments/shadow': { req: { name: string; version?: number; alias?: string; stop?: boolean }; res: DeploymentStatus };
}

/** Events the daemon publishes about deployments (part of DaemonEvent). */
export type ServingEvent =
  | { type: 'deployments-changed' }
  | { type: 'deployment-decision'; deployment: string; decision: 'promote' | 'rollback'; version: number; reason: string };

/** Header carrying the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';
