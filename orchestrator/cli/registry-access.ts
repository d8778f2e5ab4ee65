/**
 * How the registry commands reach a workspace. Changes go through the daemon (started on
 * demand) as the identity of `MLOPS_TOKEN` when it is set (a named token from `mlops tokens
 * create`), else the workspace token (`local`, admin). Reads use the daemon when it runs and
 * the store in this process otherwise, like `mlops runs`.
 */
import * as fs from 'node:fs';
import { MlopsError } from '../../protocol/errors';
import { DaemonClient } from '../api-client/client';
import { ensureDaemon, findDaemon } from '../daemon/launcher';
import { mlopsPaths } from '../daemon/paths';
import { readToken } from '../daemon/token';
import { ModelRegistry } from '../registry/registry';
import { RegistryClient, type RegistryReads } from '../registry/client';
import { verifyChain, type AuditAnchor } from '../registry/audit-chain';
import { registryFiles } from '../registry/sqlite-registry-store';
import { openRegistryStore, openStore, usesSharedStore } from '../store/open-store';
import { cliLaunchOptions } from './workspace-access';

/** The token the CLI presents: `MLOPS_TOKEN` (a named token) or the workspace's own. */
export function cliToken(workspaceToken: string): string {
  const named = process.env.MLOPS_TOKEN?.trim();
  return named ? named : workspaceToken;
}

export async function connectRegistry(workspace: string): Promise<RegistryClient> {
  const conn = await ensureDaemon(workspace, cliLaunchOptions());
  return new RegistryClient(new DaemonClient(conn.url, cliToken(conn.token)));
}

export interface RegistryReader {
  reads: RegistryReads;
  close(): Promise<void>;
}

export async function openRegistryReader(workspace: string): Promise<RegistryReader> {
  const daemon = await findDaemon(workspace);
  if (daemon) return { reads: new RegistryClient(new DaemonClient(daemon.url, cliToken(daemon.token))), close: async () => undefined };
  const paths = mlopsPaths(workspace);
  // Nothing recorded yet: answer as an empty registry instead of creating .mlops/ on a read.
  if (!fs.existsSync(paths.storeDb) && !usesSharedStore(paths.dir)) return { reads: emptyRegistry(paths.dir), close: async () => undefined };
  const runs = await openStore(paths);
  const store = await openRegistryStore(paths).catch(async (e) => {
    await runs.close();
    throw e;
  });
  return {
    reads: new ModelRegistry({ runs, store, workspace: paths.workspace }),
    close: async () => {
      await store.close();
      await runs.close();
    },
  };
}

function emptyRegistry(mlopsDir: string): RegistryReads {
  const none = async (): Promise<never> => {
    throw new MlopsError('NOT_FOUND', 'no registered models yet (register one with: mlops models register NAME --run RUN)');
  };
  return {
    listModels: async () => [],
    getModel: none,
    getVersion: none,
    checkGates: none,
    history: none,
    listRequests: async () => [],
    auditLog: async () => ({ entries: [], total: 0 }),
    // An anchored head without a store means the store file was removed: verification says so.
    verifyAudit: async () => {
      const files = registryFiles(mlopsDir);
      let anchor: AuditAnchor | undefined;
      try {
        anchor = JSON.parse(fs.readFileSync(files.auditHead, 'utf8')) as AuditAnchor;
      } catch {
        anchor = undefined;
      }
      return verifyChain([], readToken(files.auditKey), anchor);
    },
  };
}
