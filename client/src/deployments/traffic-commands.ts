/**
 * Traffic commands beyond canaries: Split Traffic (A/B) and Mirror to Shadow / Stop Shadow.
 * Like the others they take a tree node, an argument object (tests: `{name, weights}`,
 * `{name, version}`) or nothing (the palette, which then asks).
 */
import * as vscode from 'vscode';
import type { DeploymentStatus } from '../../../protocol/serving';
import type { CommandKit, DeploymentArg } from './deployment-commands';
import { askSplitWeights, evenWeights, manifestSplit, parseModelRef, pickVersion, pickVersions } from './deployment-picks';
import type { DeploymentsConnection } from './deployments-connection';
import type { MonitorPanel } from './monitor-panel';

/** `weights`: relative, by version number or alias (as `POST /api/deployments/split` takes them). */
export type SplitArgs = { name: string; weights?: Record<string, number> };
export type ShadowArgs = { name: string; version?: number; alias?: string };

/** The argument object of a command (not a tree node, not a bare name), for its optional fields. */
function argObject<T extends object>(arg: unknown): Partial<T> | undefined {
  return typeof arg === 'object' && arg !== null && !('kind' in arg) && !(arg instanceof vscode.Uri) ? (arg as Partial<T>) : undefined;
}

const serving = (d: DeploymentStatus) => d.state === 'serving' || d.state === 'starting';
const shadowOf = (d: DeploymentStatus) => d.versions.find((v) => v.role === 'shadow')?.version;

export function registerTrafficCommands(kit: CommandKit, source: DeploymentsConnection, openMonitor: (name: string) => Promise<MonitorPanel | undefined>): void {
  const { command, target, registry, withProgress, afterChange } = kit;
  const offerMonitor = (name: string) => (b: string | undefined) => b && void openMonitor(name);

  command('mlops.splitTraffic', 'Splitting traffic', async (arg?: DeploymentArg | SplitArgs): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Split the traffic of which deployment?', serving, 'no deployment is serving; deploy one first (MLOps: Deploy Model…).');
    if (!d) return undefined;
    let weights = argObject<SplitArgs>(arg)?.weights;
    if (!weights) {
      const { model, versions } = await (await registry()).getModel(d.model);
      const declared = manifestSplit(source.declared()[d.name], model);
      const current = d.versions.filter((v) => v.role !== 'shadow').map((v) => v.version);
      // Ticked: the manifest's arms, else what serves now plus the newest other version.
      const newest = versions.map((v) => v.version).filter((v) => !current.includes(v) && v !== shadowOf(d)).sort((a, b) => b - a)[0];
      const preselected = declared.size >= 2 ? [...declared.keys()] : [...current, ...(current.length < 2 && newest !== undefined ? [newest] : [])];
      const picked = await pickVersions(versions, { title: `MLOps: Split the traffic of ${d.name} between which versions of ${d.model}?`, exclude: [shadowOf(d)].filter((v): v is number => v !== undefined), preselected });
      if (!picked) return undefined;
      const fromManifest = picked.every((v) => declared.has(v));
      weights = await askSplitWeights(picked, fromManifest ? picked.map((v) => declared.get(v)!) : evenWeights(picked.length), fromManifest ? 'prefilled from rollout.ab.weights in mlops.yaml' : 'prefilled with an even split');
      if (!weights) return undefined;
    }
    const res = await withProgress(`splitting the traffic of ${d.name}…`, async () => (await source.client()).call('POST /api/deployments/split', { name: d.name, weights: weights! }));
    afterChange();
    const arms = res.versions.filter((v) => v.role === 'ab').map((v) => `v${v.version} ${v.weight} %`);
    void vscode.window.showInformationMessage(`MLOps: ${res.name}: A/B split ${arms.join(' / ')}. Roll Back ends it.`, 'Open Live Monitor').then(offerMonitor(res.name));
    return res;
  });

  command('mlops.startShadow', 'Mirroring traffic to a shadow', async (arg?: DeploymentArg | ShadowArgs): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Mirror the traffic of which deployment?', serving, 'no deployment is serving; deploy one first (MLOps: Deploy Model…).');
    if (!d) return undefined;
    const given = argObject<ShadowArgs>(arg);
    let shadow: { version: number } | { alias: string } | undefined = given?.version !== undefined ? { version: given.version } : given?.alias ? { alias: given.alias } : undefined;
    if (!shadow) {
      const { model, versions } = await (await registry()).getModel(d.model);
      // Suggested: the model `rollout.shadow` names in mlops.yaml, resolved now.
      const ref = source.declared()[d.name]?.rollout?.shadow?.model;
      const parsed = ref ? parseModelRef(ref) : undefined;
      const suggested = parsed?.model === d.model ? (parsed.version ?? model.aliases[parsed.alias!]) : undefined;
      const version = await pickVersion(versions, {
        title: `MLOps: Mirror every request of ${d.name} to which version of ${d.model}? (its answers are logged, never returned)`,
        exclude: d.versions.filter((v) => v.role !== 'shadow').map((v) => v.version),
        suggested,
        why: `rollout.shadow in mlops.yaml`,
      });
      if (version === undefined) return undefined;
      shadow = { version };
    }
    const res = await withProgress(`mirroring ${d.name} to ${'version' in shadow ? `v${shadow.version}` : `@${shadow.alias}`}…`, async () => (await source.client()).call('POST /api/deployments/shadow', { name: d.name, ...shadow! }));
    afterChange();
    void vscode.window.showInformationMessage(`MLOps: ${res.name} mirrors every request to v${shadowOf(res) ?? '?'}; its answers go to the request log only.`, 'Open Live Monitor').then(offerMonitor(res.name));
    return res;
  });

  command('mlops.stopShadow', 'Stopping a shadow', async (arg?: DeploymentArg): Promise<DeploymentStatus | undefined> => {
    const d = await target(arg, 'MLOps: Stop the shadow of which deployment?', (x) => shadowOf(x) !== undefined, 'no deployment mirrors its traffic to a shadow.');
    if (!d) return undefined;
    const res = await withProgress(`stopping the shadow of ${d.name}…`, async () => (await source.client()).call('POST /api/deployments/shadow', { name: d.name, stop: true }));
    afterChange();
    void vscode.window.showInformationMessage(`MLOps: ${res.name} no longer mirrors requests${shadowOf(d) !== undefined ? ` to v${shadowOf(d)}` : ''}.`);
    return res;
  });
}
