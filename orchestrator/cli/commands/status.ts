import { EXIT } from '../../../protocol/errors';
import type { RunSummary } from '../../../protocol/types';
import { formatDuration, formatTime, shortId, statusLabel } from '../format';
import type { Output } from '../output';
import { openReader, workspaceOf } from '../workspace-access';

/** `mlops status`: the daemon, the active run and the last run of the workspace. Reads only; starts nothing. */
export async function statusCommand(io: Output, cwd: string, opts: { json?: boolean }): Promise<number> {
  const workspace = workspaceOf(cwd);
  const reader = await openReader(workspace);
  try {
    const d = reader.daemon;
    const activeId = d?.activeRuns[0];
    const active = activeId ? await reader.getRun(activeId) : undefined;
    const [last] = (await reader.runs({ parentId: 'none', limit: 1 })).runs;
    if (opts.json) {
      io.json({
        workspace,
        daemon: d ? { running: true, pid: d.pid, port: d.port, url: d.url, startedAt: d.startedAt, version: d.version, node: d.node } : { running: false },
        activeRun: active ?? null,
        lastRun: last ?? null,
      });
      return EXIT.OK;
    }
    io.out(`workspace:   ${workspace}`);
    io.out(d ? `daemon:      running (pid ${d.pid}, ${d.url}, node ${d.node}, up ${formatDuration(Date.now() - d.startedAt)})` : 'daemon:      not running (mlops run starts it)');
    io.out(`active run:  ${active ? describe(active) : 'none'}`);
    io.out(`last run:    ${last ? describe(last) : 'none'}`);
    return EXIT.OK;
  } finally {
    await reader.close();
  }
}

function describe(r: RunSummary): string {
  const when = r.endedAt ? `${formatTime(r.startedAt)}, ${formatDuration(r.durationMs)}` : `since ${formatTime(r.startedAt)}`;
  return `${shortId(r.id)} ${r.name} ${statusLabel(r)} (${when})`;
}
