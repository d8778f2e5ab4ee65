import { EXIT } from '../../../protocol/errors';
import type { RunDetail } from '../../../protocol/types';
import { formatDuration, formatMetrics, formatNumber, formatTime, shortId, statusLabel, table } from '../format';
import type { Output } from '../output';
import { openReader, resolveRunId, workspaceOf } from '../workspace-access';

/** `mlops show RUN`: everything about one run (a unique id prefix is enough). */
export async function showCommand(io: Output, cwd: string, ref: string, opts: { json?: boolean }): Promise<number> {
  const reader = await openReader(workspaceOf(cwd));
  try {
    const run = await reader.getRun(await resolveRunId(reader, ref));
    if (opts.json) io.json(run);
    else printRun(io, run);
    return EXIT.OK;
  } finally {
    await reader.close();
  }
}

function printRun(io: Output, r: RunDetail): void {
  const field = (name: string, value: string) => io.out(`${(name + ':').padEnd(12)}${value}`);
  field('run', r.id);
  field('name', `${r.name} (${r.kind}${r.parentId ? ` of ${shortId(r.parentId)}` : ''})`);
  field('experiment', r.experiment);
  field('status', `${statusLabel(r)}${r.message ? ` - ${r.message}` : ''}`);
  field('started', formatTime(r.startedAt));
  field('duration', r.endedAt ? formatDuration(r.durationMs) : `running for ${formatDuration(Date.now() - r.startedAt)}`);
  if (r.gitCommit) field('git', `${r.gitCommit.slice(0, 12)}${r.gitDirty ? ' (dirty)' : ''}`);
  section(io, 'params', Object.entries(r.params).sort().map(([k, v]) => [k, v]));
  section(io, 'metrics', Object.entries(r.latestMetrics).sort().map(([k, v]) => [k, formatNumber(v)]));
  if (r.children.length) {
    io.out('steps:');
    const rows = r.children.map((c) => [c.name, statusLabel(c), formatDuration(c.durationMs), formatMetrics(c.latestMetrics, 4)]);
    for (const line of table(['STEP', 'STATUS', 'DURATION', 'METRICS'], rows)) io.out(`  ${line}`);
  }
  if (r.artifacts.length) {
    io.out('artifacts:');
    for (const line of table(['PATH', 'SIZE', 'SHA256'], r.artifacts.map((a) => [a.path, String(a.size), a.hash.slice(0, 12)]))) io.out(`  ${line}`);
  }
  section(io, 'datasets', Object.entries(r.datasetHashes).sort().map(([k, v]) => [k, v.slice(0, 12)]));
  section(io, 'tags', Object.entries(r.tags).sort().map(([k, v]) => [k, v]));
}

function section(io: Output, title: string, rows: string[][]): void {
  if (rows.length === 0) return;
  io.out(`${title}:`);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) io.out(`  ${k!.padEnd(width)}  ${v}`);
}
