/**
 * How CLI commands reach a workspace. State changes always go through the daemon (started
 * on demand); reads use the daemon when one is running and otherwise open the store in
 * this process, so `mlops runs` in CI does not leave a daemon behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { RunDetail, RunSummary } from '../../protocol/types';
import { DaemonClient } from '../api-client/client';
import { ensureDaemon, findDaemon, type DaemonConnection, type LaunchOptions } from '../daemon/launcher';
import { readStepLog, type LogChunk } from '../daemon/logs';
import { isRunId, mlopsPaths } from '../daemon/paths';
import { openStore, usesSharedStore } from '../store/open-store';
import type { Store } from '../store/store';
import { findManifest } from '../workspace';

/** The workspace of `cwd`: the folder of the nearest mlops.yaml. */
export function workspaceOf(cwd: string): string {
  return path.dirname(findManifest(cwd));
}

/** Launch options for the CLI; MLOPS_DAEMON_NODE picks another Node for the daemon. */
export function cliLaunchOptions(): LaunchOptions {
  return process.env.MLOPS_DAEMON_NODE ? { nodePath: process.env.MLOPS_DAEMON_NODE } : {};
}

export async function connect(workspace: string): Promise<{ conn: DaemonConnection; client: DaemonClient }> {
  const conn = await ensureDaemon(workspace, cliLaunchOptions());
  return { conn, client: new DaemonClient(conn.url, conn.token) };
}

export interface RunsQuery {
  experiment?: string;
  parentId?: string;
  kind?: string;
  limit?: number;
  offset?: number;
}

/** Read access to runs, from the daemon or straight from the store. */
export interface RunsReader {
  /** The daemon serving the workspace, if one is running. */
  readonly daemon: DaemonConnection | undefined;
  runs(q: RunsQuery): Promise<{ runs: RunSummary[]; total: number }>;
  getRun(id: string): Promise<RunDetail>;
  logs(id: string, step: string, offset: number): Promise<LogChunk>;
  close(): Promise<void>;
}

export async function openReader(workspace: string): Promise<RunsReader> {
  const daemon = await findDaemon(workspace);
  if (daemon) {
    const client = new DaemonClient(daemon.url, daemon.token);
    return {
      daemon,
      runs: (q) => client.runs(q),
      getRun: (id) => client.getRun(id),
      logs: (id, step, offset) => client.logs(id, step, offset),
      close: async () => undefined,
    };
  }
  const paths = mlopsPaths(workspace);
  const store: Store | undefined = fs.existsSync(paths.storeDb) || usesSharedStore(paths.dir) ? await openStore(paths) : undefined;
  return {
    daemon: undefined,
    async runs(q) {
      if (!store) return { runs: [], total: 0 };
      const filter = {
        experiment: q.experiment,
        parentId: q.parentId === 'none' ? null : q.parentId,
        kind: q.kind as RunSummary['kind'] | undefined,
      };
      const [runs, total] = await Promise.all([store.listRuns({ ...filter, limit: q.limit, offset: q.offset }), store.countRuns(filter)]);
      return { runs, total };
    },
    async getRun(id) {
      const run = await store?.getRun(id);
      if (!run) throw new MlopsError('NOT_FOUND', `run ${id} not found`);
      return run;
    },
    async logs(id, step, offset) {
      if (!store) throw new MlopsError('NOT_FOUND', `run ${id} not found`);
      return readStepLog(store, paths, { id, step, offset });
    },
    close: async () => store?.close(),
  };
}

/** A full run id from a unique prefix (at least 4 hex characters), as git does. */
export async function resolveRunId(reader: Pick<RunsReader, 'runs'>, ref: string): Promise<string> {
  const prefix = ref.toLowerCase();
  if (isRunId(prefix)) return prefix;
  if (!/^[0-9a-f]{4,31}$/.test(prefix)) throw new MlopsError('BAD_REQUEST', `"${ref}" is not a run id (give at least 4 of its hex characters)`);
  const matches: RunSummary[] = [];
  const page = 1000;
  for (let offset = 0; ; offset += page) {
    const { runs } = await reader.runs({ limit: page, offset });
    matches.push(...runs.filter((r) => r.id.startsWith(prefix)));
    if (runs.length < page || matches.length > 1) break;
  }
  if (matches.length === 0) throw new MlopsError('NOT_FOUND', `no run id starts with ${prefix}`);
  if (matches.length > 1) {
    throw new MlopsError('BAD_REQUEST', `${prefix} is ambiguous: ${matches.slice(0, 5).map((r) => `${r.id.slice(0, 12)} (${r.name})`).join(', ')}${matches.length > 5 ? ', …' : ''}; give more characters`);
  }
  return matches[0]!.id;
}
