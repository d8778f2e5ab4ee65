/** Quick picks of the deployment commands: which deployment, which registered version, what weight. */
import * as vscode from 'vscode';
import type { Deployment } from '../../../protocol/manifest';
import type { ModelVersion, RegisteredModel } from '../../../protocol/registry';
import type { DeploymentStatus } from '../../../protocol/serving';
import { formatMetric, keyMetric } from '../views/format';
import { stableVersion } from './deployment-format';

/** A deployment's model name and the alias or version its manifest reference names. */
export function parseModelRef(ref: string, alias = 'production'): { model: string; alias?: string; version?: number } {
  const m = /^(?:models:\/)?([^@/]+)(?:@(.+)|\/(\d+))?$/.exec(ref);
  if (!m) return { model: ref, alias };
  if (m[3]) return { model: m[1]!, version: Number(m[3]) };
  return { model: m[1]!, alias: m[2] ?? alias };
}

/** The version the manifest's reference resolves to now, if any. */
export function manifestVersion(spec: Deployment | undefined, model: RegisteredModel): { version?: number; why: string } {
  if (!spec) return { why: 'not in mlops.yaml' };
  const ref = parseModelRef(spec.model, spec.alias);
  if (ref.version !== undefined) return { version: ref.version, why: `mlops.yaml pins v${ref.version}` };
  const v = model.aliases[ref.alias!];
  return v !== undefined ? { version: v, why: `@${ref.alias} in mlops.yaml` } : { why: `@${ref.alias} is not set` };
}

export async function pickDeployment(list: DeploymentStatus[], title: string, filter: (d: DeploymentStatus) => boolean, none: string): Promise<DeploymentStatus | undefined> {
  const candidates = list.filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`MLOps: ${none}`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((d) => ({
      label: d.name,
      description: [d.model, d.state, d.url].filter(Boolean).join(' · '),
      detail: d.versions.length ? d.versions.map((v) => `v${v.version} ${v.role} ${v.weight} %`).join(', ') : undefined,
      d,
    })),
    { title },
  );
  return pick?.d;
}

/** Registered versions, newest first; the manifest's choice is marked and preselected. */
export async function pickVersion(
  versions: ModelVersion[],
  opts: { title: string; exclude?: number[]; suggested?: number; why?: string },
): Promise<number | undefined> {
  const usable = versions.filter((v) => !opts.exclude?.includes(v.version));
  if (usable.length === 0) {
    void vscode.window.showInformationMessage(`MLOps: no other registered version to use. Register one from a run first (MLOps: Register Model from Run…).`);
    return undefined;
  }
  const items = usable.map((v) => {
    const km = keyMetric(v.metrics);
    return {
      label: `v${v.version}`,
      description: [v.aliases.map((a) => `@${a}`).join(' '), km ? `${km[0]} ${formatMetric(km[1])}` : '', v.version === opts.suggested ? `← ${opts.why}` : ''].filter(Boolean).join(' · '),
      detail: `run ${v.runId.slice(0, 8)} · registered ${new Date(v.createdAt).toLocaleString()}`,
      version: v.version,
    };
  });
  const i = items.findIndex((x) => x.version === opts.suggested);
  if (i > 0) items.unshift(...items.splice(i, 1));
  return (await vscode.window.showQuickPick(items, { title: opts.title }))?.version;
}

export async function askWeight(defaultWeight: number, version: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `Canary v${version}: share of traffic`,
    prompt: 'Percent of requests (1–99) the canary gets',
    value: String(defaultWeight),
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 99 ? undefined : 'a whole number from 1 to 99'),
  });
  return text === undefined ? undefined : Number(text);
}

/** Versions a canary may not use: the stable one and a running canary. */
export function busyVersions(d: DeploymentStatus): number[] {
  return [stableVersion(d), d.canary?.version].filter((v): v is number => v !== undefined);
}
