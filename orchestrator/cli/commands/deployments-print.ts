/** Plain-text rendering of deployments for `mlops deployments`, `mlops deploy` and friends. */
import type { DeploymentStatus } from '../../../protocol/serving';
import { formatTime, table } from '../format';
import type { Output } from '../output';

const HISTORY_SHOWN = 10;

/** One row per served version (one row for a stopped deployment). */
export function printDeployments(io: Output, list: DeploymentStatus[]): void {
  if (list.length === 0) {
    io.out('no deployments (declare one under deployments: in mlops.yaml)');
    return;
  }
  const rows: string[][] = [];
  for (const d of list) {
    const state = d.state === 'failed' ? 'FAILED' : d.state;
    if (d.versions.length === 0) {
      rows.push([d.name, state, d.url ?? '-', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    d.versions.forEach((v, i) => {
      const s = v.stats;
      rows.push([
        i === 0 ? d.name : '',
        i === 0 ? state : '',
        i === 0 ? (d.url ?? '-') : '',
        `v${v.version}`,
        v.role,
        v.role === 'shadow' ? 'mirror' : `${v.weight}%`,
        v.health,
        s ? s.reqPerSec.toFixed(1) : '-',
        s ? percent(s.errorRate) : '-',
        s && s.requests > 0 ? `${formatMs(s.p99Ms)}` : '-',
      ]);
    });
  }
  for (const l of table(['NAME', 'STATE', 'ENDPOINT', 'VERSION', 'ROLE', 'WEIGHT', 'HEALTH', 'REQ/S', 'ERRORS', 'P99'], rows)) io.out(l);
}

/** One deployment: what serves, the canary policy, why it failed, and its recent history. */
export function printDeployment(io: Output, d: DeploymentStatus): void {
  io.out(`${d.name}: ${d.state}${d.url ? ` at ${d.url}` : ''} (model ${d.model}, strategy ${d.strategy}, auth ${d.auth}${d.pid ? `, pid ${d.pid}` : ''})`);
  if (d.error) io.out(`error: ${d.error}`);
  if (d.canary) {
    const c = d.canary;
    const promote = [c.promoteAfterRequests !== undefined ? `${c.promoteAfterRequests} requests` : '', c.promoteAfterMinutes !== undefined ? `${c.promoteAfterMinutes} min` : ''].filter(Boolean).join(' and ');
    const back = [c.rollbackErrorRate !== undefined ? `error rate > ${percent(c.rollbackErrorRate)}` : '', c.rollbackP99Ms !== undefined ? `p99 > ${c.rollbackP99Ms} ms` : ''].filter(Boolean).join(' or ');
    io.out(`canary: v${c.version} at ${c.weight}% since ${formatTime(c.startedAt)}; promote after ${promote || 'an operator says so'}; roll back if ${back || 'an operator says so'}`);
  }
  const split = d.versions.filter((v) => v.role === 'ab');
  if (split.length) io.out(`A/B split: ${split.map((v) => `v${v.version} ${v.weight}%`).join(' + ')}; mlops rollback ${d.name} ends it`);
  const mirror = d.versions.find((v) => v.role === 'shadow');
  if (mirror) io.out(`shadow: v${mirror.version} gets a copy of every request (answers logged, not returned); mlops shadow ${d.name} --stop ends it`);
  if (d.previousVersion !== undefined) io.out(`rollback goes to: v${d.previousVersion}`);
  if (d.versions.length) {
    io.out('');
    printDeployments(io, [d]);
  }
  if (d.history.length) {
    io.out('');
    const rows = d.history.slice(0, HISTORY_SHOWN).map((e) => [
      formatTime(e.at),
      e.action,
      e.version !== undefined ? `v${e.version}` : '-',
      e.target !== undefined ? `v${e.target}` : '-',
      e.actor,
      e.reason ?? '',
    ]);
    for (const l of table(['TIME', 'ACTION', 'STABLE', 'TARGET', 'ACTOR', 'REASON'], rows)) io.out(l);
    if (d.history.length > HISTORY_SHOWN) io.out(`(${d.history.length - HISTORY_SHOWN} earlier events; --json shows all)`);
  }
}

/** `v1 (stable 90%) + v2 (canary 10%)`, `v1 (ab 50%) + v2 (ab 50%)`, `v1 (stable 100%) + v3 (shadow, mirrored)` */
export function servingLine(d: DeploymentStatus): string {
  if (d.versions.length === 0) return 'nothing';
  return d.versions.map((v) => `v${v.version} (${v.role === 'shadow' ? 'shadow, mirrored' : `${v.role} ${v.weight}%`})`).join(' + ');
}

function percent(x: number): string {
  const p = x * 100;
  return `${p === 0 ? '0' : p < 0.1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}
