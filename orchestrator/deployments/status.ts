/**
 * What `mlops deployments` and the Deployments view show of one deployment: a pure function
 * of its desired state and, when the daemon holds one, its live record (process, applied
 * config, latest figures). Kept pure so the offline CLI listing and the daemon agree.
 */
import type { DeploymentStatus, VersionHealth } from '../../protocol/serving';
import { isRunning, type Live, type Phase } from './live';
import * as rollout from './rollout';
import type { DeploymentSpec } from './spec';
import type { DeploymentState } from './state';

export function deploymentStatus(name: string, spec: DeploymentSpec | undefined, state: DeploymentState, live: Live | undefined): DeploymentStatus {
  let phase: Phase = live?.phase ?? (state.desired === 'serving' && state.error ? 'failed' : 'stopped');
  if (phase === 'serving' && !(live && isRunning(live))) phase = 'starting';
  const running = phase === 'serving' || phase === 'starting';
  const flavor = live?.config?.versions[0]?.flavor ?? 'onnx';
  const latest = live?.samples.latest ?? {};
  const status: DeploymentStatus = {
    name,
    model: spec?.model ?? state.model,
    state: phase,
    auth: spec?.auth ?? 'token',
    // An operator's split is an A/B test whatever the manifest's strategy says.
    strategy: state.ab && running ? 'ab' : (spec?.strategy ?? 'direct'),
    versions: running
      ? rollout.servedVersions(state).map((v) => {
        const stats = latest[v.version];
        const health: VersionHealth = stats?.health ?? (phase === 'starting' ? 'loading' : 'ready');
        const { health: _h, ...figures } = stats ?? ({} as NonNullable<typeof stats>);
        return { ...v, flavor: live?.config?.versions.find((c) => c.version === v.version)?.flavor ?? flavor, health, ...(stats ? { stats: figures } : {}) };
      })
      : [],
    history: state.history,
  };
  if (running && live?.proc?.port) {
    status.port = live.proc.port;
    status.url = `http://127.0.0.1:${live.proc.port}`;
    if (live.proc.pid !== undefined) status.pid = live.proc.pid;
  }
  if (state.canary && running) status.canary = { ...state.canary };
  // Rollback ends a split by going back to the version that served alone before it.
  const back = state.ab && running ? state.stable : state.previous[0];
  if (back !== undefined) status.previousVersion = back;
  if (state.error && phase === 'failed') status.error = state.error;
  return status;
}
