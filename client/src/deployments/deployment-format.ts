/** Text for deployments as the tree, the notifications and the quick picks show them. Pure. */
import { formatNumber } from '../../../protocol/format';
import type { DeploymentStatus, VersionStats } from '../../../protocol/serving';

export type ServedVersionStatus = DeploymentStatus['versions'][number];

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** Error rate as a percentage: `0 %`, `0.5 %`, `31 %`. */
export function formatErrorRate(rate: number): string {
  const p = rate * 100;
  return `${p < 10 ? Number(p.toFixed(1)) : Math.round(p)} %`;
}

export function formatRate(reqPerSec: number): string {
  return `${reqPerSec === 0 ? '0' : reqPerSec < 10 ? reqPerSec.toFixed(1) : Math.round(reqPerSec)} req/s`;
}

/** `v3 stable` … the label of a version in the tree and in pickers. */
export function versionLabel(v: ServedVersionStatus): string {
  return `v${v.version}`;
}

/** How a role reads in the tree and the pickers. */
export function roleText(role: ServedVersionStatus['role']): string {
  return role === 'ab' ? 'A/B' : role;
}

/** `stable · 90 % · ready · 12 req/s · 0 % errors · p99 4.1 ms`, `A/B · 50 % · …`, `shadow · mirrored · …` */
export function versionDescription(v: ServedVersionStatus): string {
  const parts = [roleText(v.role), v.role === 'shadow' ? 'mirrored' : `${v.weight} %`, v.health];
  if (v.stats) parts.push(...statsParts(v.stats));
  return parts.join(' · ');
}

export function statsParts(s: VersionStats): string[] {
  return [formatRate(s.reqPerSec), `${formatErrorRate(s.errorRate)} errors`, s.requests ? `p99 ${formatMs(s.p99Ms)}` : 'p99 –'];
}

/** The running canary's progress, or undefined when none runs. */
export function canaryProgress(d: DeploymentStatus, now = Date.now()): { label: string; description: string; tooltip: string } | undefined {
  const c = d.canary;
  if (!c) return undefined;
  const served = d.versions.find((v) => v.version === c.version)?.stats?.totalRequests ?? 0;
  const goals: string[] = [];
  if (c.promoteAfterRequests !== undefined) goals.push(`${served}/${c.promoteAfterRequests} requests`);
  else goals.push(`${served} requests`);
  const minutes = (now - c.startedAt) / 60_000;
  if (c.promoteAfterMinutes !== undefined) goals.push(`${formatNumber(Number(minutes.toFixed(1)))}/${formatNumber(c.promoteAfterMinutes)} min`);
  const limits = [c.rollbackErrorRate !== undefined ? `errors > ${formatErrorRate(c.rollbackErrorRate)}` : '', c.rollbackP99Ms !== undefined ? `p99 > ${formatMs(c.rollbackP99Ms)}` : ''].filter(Boolean);
  const auto = c.promoteAfterRequests === undefined && c.promoteAfterMinutes === undefined;
  return {
    label: `canary v${c.version}: ${goals.join(' · ')}`,
    description: `${c.weight} % of traffic${auto ? ' · promote by hand' : ''}${limits.length ? ` · rolls back if ${limits.join(' or ')}` : ''}`,
    tooltip: `Canary v${c.version} started ${new Date(c.startedAt).toLocaleString()} with ${c.weight} % of traffic.\n` +
      (auto ? 'It is promoted only by hand (MLOps: Promote Canary).\n' : `It is promoted once it has served ${[c.promoteAfterRequests !== undefined ? `${c.promoteAfterRequests} requests` : '', c.promoteAfterMinutes !== undefined ? `for ${c.promoteAfterMinutes} min` : ''].filter(Boolean).join(' and ')}.\n`) +
      (limits.length ? `It is rolled back as soon as ${limits.join(' or ')} (judged after ${c.minRequests ?? 20} requests).` : 'No rollback limits are set.'),
  };
}

/** `penguins-api: canary v3 rolled back — error rate 0.31 > 0.02` */
export function decisionMessage(e: { deployment: string; decision: 'promote' | 'rollback'; version: number; reason: string }): string {
  return `${e.deployment}: canary v${e.version} ${e.decision === 'rollback' ? 'rolled back' : 'promoted'}${e.reason ? ` — ${e.reason}` : ''}`;
}

/** The stable version now serving; during an A/B split, the arm with the most traffic. */
export function stableVersion(d: DeploymentStatus): number | undefined {
  const stable = d.versions.find((v) => v.role === 'stable');
  if (stable) return stable.version;
  const arms = d.versions.filter((v) => v.role === 'ab').sort((a, b) => b.weight - a.weight || a.version - b.version);
  return arms[0]?.version;
}

/** Health of the whole endpoint, for its icon. */
export function endpointHealth(d: DeploymentStatus): 'ok' | 'busy' | 'degraded' | 'failed' | 'stopped' {
  if (d.state === 'stopped') return 'stopped';
  if (d.state === 'failed') return 'failed';
  if (d.state === 'starting' || d.versions.some((v) => v.health === 'loading' || v.health === 'restarting')) return 'busy';
  if (d.versions.some((v) => v.health === 'failed')) return 'degraded';
  const served = d.versions.filter((v) => v.role !== 'shadow' && v.stats && v.stats.requests > 0);
  if (served.some((v) => v.stats!.errorRate > 0.05)) return 'degraded';
  return 'ok';
}
