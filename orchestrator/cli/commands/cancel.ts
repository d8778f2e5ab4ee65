import { EXIT, MlopsError } from '../../../protocol/errors';
import { DaemonClient } from '../../api-client/client';
import { shortId, statusLabel } from '../format';
import type { Output } from '../output';
import { openReader, resolveRunId, workspaceOf } from '../workspace-access';

/**
 * `mlops cancel RUN`: asks the daemon to cancel a pipeline run (its steps' process groups
 * are killed) and waits until the run has ended. A step run id cancels its pipeline run.
 * Exit 1 when the run is not active.
 */
export async function cancelCommand(io: Output, cwd: string, ref: string, opts: { json?: boolean; timeout?: string }): Promise<number> {
  const reader = await openReader(workspaceOf(cwd));
  try {
    let run = await reader.getRun(await resolveRunId(reader, ref));
    if (run.parentId && run.kind === 'step') run = await reader.getRun(run.parentId);
    const notActive = (status: string) => {
      if (opts.json) io.json({ runId: run.id, cancelled: false, status });
      else io.out(`run ${shortId(run.id)} is not active (${status}); nothing to cancel`);
      return EXIT.CHECK_FAILED;
    };
    if (!reader.daemon) return notActive(run.status === 'running' || run.status === 'queued' ? `${run.status}, but no orchestrator daemon is running` : statusLabel(run));
    const client = new DaemonClient(reader.daemon.url, reader.daemon.token);
    const { cancelled } = await client.cancel(run.id);
    if (!cancelled) return notActive(statusLabel(await client.getRun(run.id)));
    const timeoutMs = opts.timeout === undefined ? 30_000 : Number(opts.timeout) * 1000;
    const deadline = Date.now() + timeoutMs;
    let status = run.status;
    while ((status === 'running' || status === 'queued') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await client.getRun(run.id)).status;
    }
    if (status === 'running' || status === 'queued') throw new MlopsError('UNAVAILABLE', `run ${shortId(run.id)} is still ${status} ${Math.round(timeoutMs / 1000)} s after its cancellation; see .mlops/daemon.log`);
    if (opts.json) io.json({ runId: run.id, cancelled: true, status });
    else io.out(`run ${shortId(run.id)} ${status}`);
    return EXIT.OK;
  } finally {
    await reader.close();
  }
}
