/** Plain-text rendering of registry objects for the `mlops models` commands. */
import type { AliasEvent, GateReport, ModelVersion, ModelVersionDetail, PromotionRequest, RegisteredModel } from '../../../protocol/registry';
import { gateTable } from '../../registry/gates';
import { formatTensor } from '../../registry/onnx-signature';
import { formatMetrics, formatNumber, formatTime, shortId, table } from '../format';
import type { Output } from '../output';

export function printModels(io: Output, models: RegisteredModel[]): void {
  if (models.length === 0) {
    io.out('no registered models yet (register one with: mlops models register NAME --run RUN)');
    return;
  }
  const rows = models.map((m) => [
    m.name,
    String(m.versionCount),
    m.latestVersion === undefined ? '-' : `v${m.latestVersion}`,
    aliasList(m.aliases) || '-',
    m.pendingRequests ? String(m.pendingRequests) : '-',
    formatTime(m.updatedAt),
  ]);
  for (const l of table(['MODEL', 'VERSIONS', 'LATEST', 'ALIASES', 'PENDING', 'UPDATED'], rows)) io.out(l);
}

export function printVersions(io: Output, versions: ModelVersion[]): void {
  if (versions.length === 0) {
    io.out('no versions');
    return;
  }
  const rows = versions.map((v) => [`v${v.version}`, v.aliases.map((a) => `@${a}`).join(' ') || '-', shortId(v.runId), formatTime(v.createdAt), v.createdBy, formatMetrics(v.metrics, 3)]);
  for (const l of table(['VERSION', 'ALIASES', 'RUN', 'REGISTERED', 'BY', 'METRICS'], rows)) io.out(l);
}

export function printModel(io: Output, m: RegisteredModel, versions: ModelVersion[]): void {
  io.out(`model:      ${m.name}`);
  if (m.description) io.out(`about:      ${m.description}`);
  io.out(`aliases:    ${aliasList(m.aliases) || '(none)'}`);
  const prot = Object.entries(m.protectedAliases);
  if (prot.length) io.out(`protected:  ${prot.map(([a, n]) => `@${a} (${n} approval${n === 1 ? '' : 's'})`).join(', ')}`);
  if (m.pendingRequests) io.out(`pending:    ${m.pendingRequests} promotion request${m.pendingRequests === 1 ? '' : 's'} (mlops models requests ${m.name})`);
  io.out('versions:');
  printVersions({ ...io, out: (l) => io.out(`  ${l}`) }, versions);
}

export function printVersion(io: Output, v: ModelVersionDetail): void {
  const field = (name: string, value: string) => io.out(`${(name + ':').padEnd(12)}${value}`);
  field('model', `${v.model} v${v.version}${v.aliases.length ? `  ${v.aliases.map((a) => `@${a}`).join(' ')}` : ''}`);
  field('ref', `models:/${v.model}/${v.version}`);
  if (v.description) field('about', v.description);
  field('registered', `${formatTime(v.createdAt)} by ${v.createdBy}`);
  field('source run', `${v.runId}${v.lineage.pipelineRunId ? ` (step ${v.lineage.runName} of ${shortId(v.lineage.pipelineRunId)})` : ` (${v.lineage.runName})`}`);
  field('artifact', `${v.artifact.path}  sha256 ${v.artifact.hash.slice(0, 12)}  ${v.artifact.size} bytes`);
  if (v.lineage.gitCommit) field('git', `${v.lineage.gitCommit.slice(0, 12)}${v.lineage.gitDirty ? ' (dirty)' : ''}`);
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length) {
    io.out('metrics:');
    for (const [k, val] of metrics) io.out(`  ${k.padEnd(Math.max(...metrics.map(([x]) => x.length)))}  ${formatNumber(val)}`);
  }
  if (v.signature) {
    io.out('signature:');
    for (const t of v.signature.inputs) io.out(`  in   ${formatTensor(t)}`);
    for (const t of v.signature.outputs) io.out(`  out  ${formatTensor(t)}`);
  }
  const ds = Object.entries(v.lineage.datasets);
  io.out('lineage:');
  for (const [name, hash] of ds) io.out(`  dataset ${name} sha256 ${hash.slice(0, 12)}`);
  io.out(`  → run ${shortId(v.runId)} → ${v.artifact.path} → ${v.model} v${v.version}`);
  const tags = Object.entries(v.tags);
  if (tags.length) field('tags', tags.map(([k, val]) => `${k}=${val}`).join(' '));
  if (v.requests.length) {
    io.out('requests:');
    for (const l of requestRows(v.requests)) io.out(`  ${l}`);
  }
}

export function printGates(io: Output, r: GateReport): void {
  if (r.checks.length === 0) io.out(`${r.model} has no gates in mlops.yaml`);
  else {
    io.out(`gates for ${r.model} v${r.version} → @${r.alias}: ${r.passed ? 'PASS' : 'FAIL'}`);
    for (const l of gateTable(r)) io.out(`  ${l}`);
  }
  if (r.approvalsRequired) io.out(`@${r.alias} also needs ${r.approvalsRequired} approval${r.approvalsRequired === 1 ? '' : 's'} (mlops models request ${r.model}@${r.alias} ${r.version})`);
}

export function printHistory(io: Output, events: AliasEvent[]): void {
  if (events.length === 0) {
    io.out('no alias moves yet');
    return;
  }
  const rows = events.map((e) => [
    formatTime(e.at),
    `@${e.alias}`,
    e.action + (e.requestId !== undefined ? ` (#${e.requestId})` : ''),
    e.previous === undefined ? '-' : `v${e.previous}`,
    e.version === undefined ? '(unset)' : `v${e.version}`,
    e.actor,
  ]);
  for (const l of table(['WHEN', 'ALIAS', 'ACTION', 'FROM', 'TO', 'BY'], rows)) io.out(l);
}

export function requestRows(requests: PromotionRequest[]): string[] {
  const rows = requests.map((r) => [
    `#${r.id}`,
    `${r.model}@${r.alias}`,
    `v${r.version}`,
    r.status,
    `${r.approvals.length}/${r.required}${r.approvals.length ? ` (${r.approvals.map((a) => a.actor).join(', ')})` : ''}`,
    r.requestedBy,
    formatTime(r.requestedAt),
    r.rejection ? `rejected by ${r.rejection.actor}${r.rejection.comment ? `: ${r.rejection.comment}` : ''}` : (r.comment ?? ''),
  ]);
  return table(['ID', 'ALIAS', 'VERSION', 'STATUS', 'APPROVALS', 'BY', 'WHEN', 'NOTE'], rows);
}

function aliasList(aliases: Record<string, number>): string {
  return Object.entries(aliases).map(([a, v]) => `@${a}=v${v}`).join(' ');
}
