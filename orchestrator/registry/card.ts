/**
 * The model card: markdown generated at registration from what the registry knows (source
 * run, metrics, params, signature, lineage, gates), with sections left for people to fill in.
 * It is stored with the version and can be replaced (`mlops models card NAME/3 --file x.md`).
 */
import type { Gate } from '../../protocol/manifest';
import type { ModelVersion } from '../../protocol/registry';
import { formatTensor } from './onnx-signature';

export interface CardContext {
  gates?: readonly Gate[];
  approvals?: Record<string, number>;
}

export function generateCard(v: ModelVersion, ctx: CardContext = {}): string {
  const L = v.lineage;
  const out: string[] = [`# ${v.model} v${v.version}`, ''];
  if (v.description) out.push(v.description, '');
  out.push(
    '| | |',
    '| --- | --- |',
    `| Registered | ${iso(v.createdAt)} by \`${v.createdBy}\` |`,
    `| Source run | \`${v.runId}\` (${L.runName}, experiment ${L.experiment})${L.pipelineRunId ? ` of pipeline run \`${L.pipelineRunId}\`` : ''} |`,
    ...(L.step ? [`| Produced by step | ${L.step} |`] : []),
    `| Artifact | \`${v.artifact.path}\` (${v.artifact.size} bytes, sha256 \`${v.artifact.hash}\`) |`,
    ...(L.gitCommit ? [`| Git commit | \`${L.gitCommit}\`${L.gitDirty ? ' (uncommitted changes)' : ''} |`] : []),
    ...(L.manifestHash ? [`| mlops.yaml | sha256 \`${L.manifestHash.slice(0, 16)}…\` |`] : []),
    '',
  );
  const tags = Object.entries(v.tags);
  if (tags.length) out.push(`Tags: ${tags.map(([k, val]) => `\`${k}=${val}\``).join(', ')}`, '');

  out.push('## Metrics', '');
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length) out.push('| metric | value |', '| --- | --- |', ...metrics.map(([k, val]) => `| ${k} | ${num(val)} |`), '');
  else out.push('_The source run logged no metrics._', '');

  const params = Object.entries(L.params).sort(([a], [b]) => a.localeCompare(b));
  if (params.length) out.push('## Parameters', '', '| param | value |', '| --- | --- |', ...params.map(([k, val]) => `| ${k} | ${val} |`), '');

  out.push('## Signature', '');
  if (v.signature) {
    const rows = (title: string, ts: typeof v.signature.inputs) => [`${title}:`, '', '| name | type | shape |', '| --- | --- | --- |', ...ts.map((t) => `| ${t.name} | ${t.type} | ${t.shape ? `[${t.shape.join(', ')}]` : '?'} |`), ''];
    out.push(...rows('Inputs', v.signature.inputs), ...rows('Outputs', v.signature.outputs));
    const opsets = v.signature.opsets ? Object.entries(v.signature.opsets).map(([d, n]) => `${d} ${n}`).join(', ') : undefined;
    for (const [k, val] of Object.entries(v.signature.metadata ?? {})) out.push(`- ${k}: \`${val.length > 200 ? `${val.slice(0, 200)}…` : val}\``);
    if (v.signature.metadata && Object.keys(v.signature.metadata).length) out.push('');
    if (v.signature.irVersion !== undefined || opsets) out.push(`ONNX IR ${v.signature.irVersion ?? '?'}${opsets ? `, opsets ${opsets}` : ''}${v.signature.producer ? `, produced by ${v.signature.producer}` : ''}.`, '');
  } else {
    out.push('_No signature: the artifact is not an ONNX model the registry could read._', '');
  }

  out.push('## Lineage', '', '```');
  const datasets = Object.entries(L.datasets).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, hash] of datasets) out.push(`dataset ${name} (sha256 ${hash.slice(0, 12)})`);
  if (L.pipelineRunId) out.push(`${datasets.length ? '  → ' : ''}pipeline run ${L.pipelineRunId.slice(0, 8)}`);
  out.push(`${datasets.length || L.pipelineRunId ? '  → ' : ''}run ${v.runId.slice(0, 8)} (${L.runName})`);
  out.push(`  → ${v.artifact.path} (sha256 ${v.artifact.hash.slice(0, 12)})`);
  out.push(`  → ${v.model} v${v.version}`, '```', '');

  if (ctx.gates?.length || (ctx.approvals && Object.keys(ctx.approvals).length)) {
    out.push('## Promotion rules (from mlops.yaml at registration)', '');
    for (const g of ctx.gates ?? []) out.push(`- gate: ${gateText(g)}`);
    for (const [alias, n] of Object.entries(ctx.approvals ?? {})) out.push(`- @${alias} needs ${n} approval${n === 1 ? '' : 's'} from someone other than the requester`);
    out.push('');
  }

  out.push(
    '## Intended use',
    '',
    '_Who should use this model, for what, and what it must not be used for._',
    '',
    '## Limitations and risks',
    '',
    '_Known failure modes, data it was not trained on, fairness considerations._',
    '',
  );
  return out.join('\n');
}

export function gateText(g: Gate): string {
  const parts: string[] = [];
  if (g.min !== undefined) parts.push(`${g.metric} >= ${g.min}`);
  if (g.max !== undefined) parts.push(`${g.metric} <= ${g.max}`);
  if (g.relative_to !== undefined) parts.push(`${g.metric} >= @${g.relative_to}'s${g.tolerance ? ` - ${g.tolerance}` : ''}`);
  return parts.length ? parts.join(' and ') : `${g.metric} is logged`;
}

/** One-line signature for listings: `input float32 [N, 9] → probabilities float32 [N, 3], label int64 [N]`. */
export function signatureLine(v: Pick<ModelVersion, 'signature'>): string {
  if (!v.signature) return '-';
  return `${v.signature.inputs.map(formatTensor).join(', ')} → ${v.signature.outputs.map(formatTensor).join(', ')}`;
}

function iso(t: number): string {
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
