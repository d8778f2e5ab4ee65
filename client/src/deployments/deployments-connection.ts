import type * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { Deployment } from '../../../protocol/manifest';
import type { DeploymentSample, DeploymentStatus } from '../../../protocol/serving';
import type { DaemonClient } from '../../../orchestrator/api-client';
import { mlopsPaths } from '../../../orchestrator/daemon/paths';
import { readToken } from '../../../orchestrator/daemon/token';
import { loadManifest } from '../../../orchestrator/pipelines/load';
import { ConnectionView } from '../orchestrator/connection-view';

/** What the Deployments view reads (a port, so the tree does not depend on the daemon client). */
export interface DeploymentsSource {
  readonly connected: boolean;
  readonly onEvent: vscode.Event<DaemonEvent>;
  readonly onDidChangeState: vscode.Event<void>;
  list(): Promise<DeploymentStatus[]>;
}

/**
 * Serving through the extension's daemon connection. Reads never start the daemon: while it is
 * down, the manifest's deployments are listed as `stopped` (nothing can be serving then,
 * since the daemon owns the model servers). Actions go through `client()`, which starts it
 * (callers check Workspace Trust first).
 */
export class DeploymentsConnection extends ConnectionView implements DeploymentsSource {
  client(): Promise<DaemonClient> {
    return this.conn.start();
  }

  async list(): Promise<DeploymentStatus[]> {
    if (!this.conn.connected) return asStopped(this.declared());
    return (await (await this.client()).call('GET /api/deployments', undefined)).deployments;
  }

  async get(name: string): Promise<DeploymentStatus> {
    return (await this.client()).call('GET /api/deployments/get', { name });
  }

  async samples(name: string, since?: number): Promise<DeploymentSample[]> {
    return (await (await this.client()).call('GET /api/deployments/samples', { name, ...(since === undefined ? {} : { since }) })).samples;
  }

  /** The workspace token: model servers with `auth: token` accept it like the daemon does. */
  token(): string | undefined {
    return readToken(mlopsPaths(this.workspace).token);
  }

  /** The manifest's `deployments:` entries (empty when there is no valid manifest). */
  declared(): Record<string, Deployment> {
    try {
      return loadManifest(this.workspace).manifest.deployments ?? {};
    } catch {
      return {};
    }
  }
}

/** The manifest's deployments as `stopped` statuses (what the daemon would list for them). */
function asStopped(declared: Record<string, Deployment>): DeploymentStatus[] {
  return Object.entries(declared).map(([name, d]) => ({
    name,
    model: d.model.replace(/^models:\//, '').replace(/[@/].*$/, ''),
    state: 'stopped',
    auth: d.auth ?? 'token',
    strategy: d.rollout?.strategy ?? (d.rollout?.canary ? 'canary' : d.rollout?.ab ? 'ab' : d.rollout?.shadow ? 'shadow' : 'direct'),
    versions: [],
    history: [],
  }));
}
