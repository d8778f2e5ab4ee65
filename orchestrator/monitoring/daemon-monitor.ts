/**
 * The daemon's wiring of the monitor: alerts go to the SSE bus (VS Code), webhooks and the
 * audit log (as the `monitor` identity); the manifest is re-read on each use (validated once
 * per text); the monitor stops when the daemon does.
 */
import type { DaemonEvent } from '../../protocol/api';
import type { Caller } from '../../protocol/registry';
import type { Logger } from '../daemon/log';
import type { MlopsPaths } from '../daemon/paths';
import { loadManifest } from '../pipelines/load';
import type { ModelRegistry } from '../registry';
import { MonitorService, type DeploymentsPort } from './monitor-service';

/** The actor of alert entries in the audit log. */
export const MONITOR_ACTOR: Caller = { name: 'monitor', role: 'admin' };

export interface DaemonMonitorDeps {
  paths: MlopsPaths;
  registry: ModelRegistry;
  deployments(): DeploymentsPort | undefined;
  events: { publish(e: DaemonEvent): void; subscribe(l: (e: DaemonEvent) => void): () => void };
  log: Logger;
}

export function startDaemonMonitor(d: DaemonMonitorDeps): MonitorService {
  const service = new MonitorService({
    workspace: d.paths.workspace,
    manifest: () => loadManifest(d.paths.workspace).manifest,
    deployments: d.deployments,
    registeredMetrics: async (model, version) => (await d.registry.getVersion(`${model}/${version}`)).metrics,
    sinks: {
      publish: (e) => d.events.publish(e),
      audit: (action, target, detail) => d.registry.recordAudit(MONITOR_ACTOR, action, target, undefined, detail),
      env: (name) => process.env[name],
      log: { info: (m) => d.log.info(`monitor: ${m}`), warn: (m) => d.log.warn(`monitor: ${m}`), error: (m, err) => d.log.error(`monitor: ${m}`, err) },
    },
  });
  service.start();
  const off = d.events.subscribe((e) => {
    if (e.type !== 'daemon-stopping') return;
    off();
    void service.stop();
  });
  return service;
}
