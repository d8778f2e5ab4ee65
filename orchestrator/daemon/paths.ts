/**
 * The per-workspace `.mlops/` folder as the daemon, the launcher and the CLI see it.
 * One place names every file so no caller joins paths by hand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MLOPS_DIR = '.mlops';

export interface MlopsPaths {
  /** Absolute workspace folder (the folder of mlops.yaml). */
  workspace: string;
  /** `<workspace>/.mlops`, also the store's folder. */
  dir: string;
  /** How clients find the running daemon (DaemonInfo), written atomically after listen. */
  daemonJson: string;
  /** Bearer token, 64 hex chars, mode 0600. */
  token: string;
  /** SQLite store (WAL: also store.db-wal, store.db-shm). */
  storeDb: string;
  /** Per-run folders: logs, recorded step process groups. */
  runs: string;
  /** Daemon log; the launcher also points the daemon's stdout/stderr here. */
  daemonLog: string;
  /** Exclusive lock of the one daemon per workspace: "<pid> <start-time>". */
  lock: string;
  /** Per-deployment folders: state.json, the model server log, the request log. */
  deployments: string;
}

/**
 * The layout for `workspace`, canonicalised (symlinks resolved) so the CLI started from a
 * symlinked folder and the extension agree on one daemon, whose daemon.json names the same path.
 */
export function mlopsPaths(workspace: string): MlopsPaths {
  const ws = canonical(workspace);
  const dir = path.join(ws, MLOPS_DIR);
  return {
    workspace: ws,
    dir,
    daemonJson: path.join(dir, 'daemon.json'),
    token: path.join(dir, 'token'),
    storeDb: path.join(dir, 'store.db'),
    runs: path.join(dir, 'runs'),
    daemonLog: path.join(dir, 'daemon.log'),
    lock: path.join(dir, 'daemon.lock'),
    deployments: path.join(dir, 'deployments'),
  };
}

function canonical(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    return abs; // not created yet
  }
}

/** `.mlops/runs/<runId>`; the caller validates `runId` (see `isRunId`). */
export function runDir(paths: MlopsPaths, runId: string): string {
  return path.join(paths.runs, runId);
}

/** Step process groups a daemon started for a run, so the next daemon can reap orphans. */
export function runPidsFile(paths: MlopsPaths, runId: string): string {
  return path.join(runDir(paths, runId), 'pids');
}

const RUN_ID = /^[0-9a-f]{32}$/;

/** Run ids are 32 lowercase hex chars; anything else never reaches a file path. */
export function isRunId(id: string): boolean {
  return RUN_ID.test(id);
}

/** True when `target` is `root` itself or lies inside it (after resolving `..`). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(target));
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

const DEPLOYMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** `.mlops/deployments/<name>`; names outside the manifest's name pattern never reach a path. */
export function deploymentDir(paths: MlopsPaths, name: string): string {
  if (!DEPLOYMENT_NAME.test(name)) throw new Error(`invalid deployment name: ${JSON.stringify(name)}`);
  return path.join(paths.deployments, name);
}
