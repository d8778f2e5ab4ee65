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

/** The manifest's `rollout.ab.weights` by version number (aliases resolved on `model`); keys that resolve to nothing are left out. */
export function manifestSplit(spec: Deployment | undefined, model: RegisteredModel): Map<number, number> {
  const out = new Map<number, number>();
  for (const [key, weight] of Object.entries(spec?.rollout?.ab?.weights ?? {})) {
    const version = /^v?\d+$/.test(key) ? Number(key.replace(/^v/, '')) : model.aliases[key];
    if (version !== undefined) out.set(version, weight);
  }
  return out;
}

/** Two or more registered versions, newest first, `preselected` ticked. */
export async function pickVersions(versions: ModelVersion[], opts: { title: string; exclude?: number[]; preselected: number[] }): Promise<number[] | undefined> {
  const usable = versions.filter((v) => !opts.exclude?.includes(v.version));
  if (usable.length < 2) {
    void vscode.window.showInformationMessage(`MLOps: an A/B split needs two registered versions that take no other role; register another from a run first (MLOps: Register Model from Run…).`);
    return undefined;
  }
  const items = usable.map((v) => {
    const km = keyMetric(v.metrics);
    return {
      label: `v${v.version}`,
      description: [v.aliases.map((a) => `@${a}`).join(' '), km ? `${km[0]} ${formatMetric(km[1])}` : ''].filter(Boolean).join(' · '),
      detail: `run ${v.runId.slice(0, 8)} · registered ${new Date(v.createdAt).toLocaleString()}`,
      picked: opts.preselected.includes(v.version),
      version: v.version,
    };
  });
  for (;;) {
    const picks = await vscode.window.showQuickPick(items, { title: opts.title, canPickMany: true, placeHolder: 'Tick two or more versions to split traffic between' });
    if (!picks) return undefined;
    if (picks.length >= 2) return picks.map((p) => p.version).sort((a, b) => a - b);
    void vscode.window.showWarningMessage('MLOps: tick at least two versions for an A/B split.');
    for (const it of items) it.picked = picks.some((p) => p.version === it.version);
  }
}

/** `50/50`-style relative weights for `versions` (in order); each whole and ≥ 0, at least two above 0. */
export function parseSplitWeights(text: string, count: number): number[] | string {
  const parts = text.split('/').map((s) => s.trim());
  if (parts.length !== count) return `give ${count} weights separated by /, one per version`;
  if (!parts.every((p) => /^\d+(\.\d+)?$/.test(p))) return 'each weight is a number of 0 or more, e.g. 50/50 or 80/20';
  const weights = parts.map(Number);
  if (weights.filter((w) => w > 0).length < 2) return 'at least two versions need a weight above 0';
  return weights;
}

export async function askSplitWeights(versions: number[], prefill: number[], from: string): Promise<Record<string, number> | undefined> {
  const text = await vscode.window.showInputBox({
    title: `A/B split of ${versions.map((v) => `v${v}`).join(' / ')}: relative weights`,
    prompt: `One weight per version, separated by / (${from}); they are normalised to whole percents.`,
    value: prefill.join('/'),
    validateInput: (s) => {
      const r = parseSplitWeights(s, versions.length);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (text === undefined) return undefined;
  const weights = parseSplitWeights(text, versions.length) as number[];
  return Object.fromEntries(versions.map((v, i) => [String(v), weights[i]!]));
}

/** Equal whole weights for `n` versions: 50/50, 34/33/33. */
export function evenWeights(n: number): number[] {
  const base = Math.floor(100 / n);
  return Array.from({ length: n }, (_, i) => base + (i < 100 - base * n ? 1 : 0));
}
