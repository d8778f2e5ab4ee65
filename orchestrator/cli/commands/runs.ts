import { EXIT, MlopsError } from '../../../protocol/errors';
import { formatDuration, formatMetrics, formatTime, shortId, statusLabel, table } from '../format';
import type { Output } from '../output';
import { openReader, workspaceOf } from '../workspace-access';

export interface RunsOptions {
  json?: boolean;
  limit?: string;
  experiment?: string;
  /** Include step runs and other nested runs, not only top-level ones. */
  all?: boolean;
}

/** `mlops runs`: newest runs first, as a table or JSON (`{runs, total}`). */
export async function runsCommand(io: Output, cwd: string, opts: RunsOptions): Promise<number> {
  const limit = opts.limit === undefined ? 20 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new MlopsError('BAD_REQUEST', `--limit must be an integer from 1 to 1000 (got ${opts.limit})`);
  const reader = await openReader(workspaceOf(cwd));
  try {
    const res = await reader.runs({ experiment: opts.experiment, parentId: opts.all ? undefined : 'none', limit });
    if (opts.json) {
      io.json(res);
      return EXIT.OK;
    }
    if (res.runs.length === 0) {
      io.out('no runs yet');
      return EXIT.OK;
    }
    const rows = res.runs.map((r) => [shortId(r.id), r.name, statusLabel(r), formatTime(r.startedAt), formatDuration(r.durationMs), formatMetrics(r.latestMetrics)]);
    for (const line of table(['ID', 'NAME', 'STATUS', 'STARTED', 'DURATION', 'METRICS'], rows)) io.out(line);
    if (res.total > res.runs.length) io.out(`(${res.runs.length} of ${res.total}; --limit N for more)`);
    return EXIT.OK;
  } finally {
    await reader.close();
  }
}
