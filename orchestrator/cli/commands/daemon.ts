import { EXIT } from '../../../protocol/errors';
import { daemonProcessMain } from '../../daemon/daemon-main';
import { findDaemon, stopDaemon, ensureDaemon, type DaemonConnection } from '../../daemon/launcher';
import { formatDuration } from '../format';
import type { Output } from '../output';
import { cliLaunchOptions, workspaceOf } from '../workspace-access';

function describe(d: DaemonConnection): string {
  return `pid ${d.pid}, ${d.url}, node ${d.node}, version ${d.version}, up ${formatDuration(Date.now() - d.startedAt)}${d.activeRuns.length ? `, active run ${d.activeRuns[0]}` : ''}`;
}

function infoJson(d: DaemonConnection): object {
  const { token: _token, ...rest } = d;
  return { running: true, ...rest };
}

/** `mlops daemon start`: starts the workspace's daemon unless one is running. */
export async function daemonStartCommand(io: Output, cwd: string, opts: { json?: boolean }): Promise<number> {
  const workspace = workspaceOf(cwd);
  const before = await findDaemon(workspace);
  const d = before ?? (await ensureDaemon(workspace, cliLaunchOptions()));
  if (opts.json) io.json({ ...infoJson(d), started: !before });
  else io.out(`${before ? 'already running' : 'started'}: ${describe(d)}`);
  return EXIT.OK;
}

/** `mlops daemon stop`: stops it (cancelling an active run) and waits until the process is gone. */
export async function daemonStopCommand(io: Output, cwd: string, opts: { json?: boolean }): Promise<number> {
  const stopped = await stopDaemon(workspaceOf(cwd));
  if (opts.json) io.json({ stopped: Boolean(stopped), pid: stopped?.pid ?? null });
  else io.out(stopped ? `stopped (pid ${stopped.pid})` : 'not running');
  return EXIT.OK;
}

/** `mlops daemon status`: exit 0 when running, 3 when not (as `systemctl status` does). */
export async function daemonStatusCommand(io: Output, cwd: string, opts: { json?: boolean }): Promise<number> {
  const d = await findDaemon(workspaceOf(cwd));
  if (opts.json) io.json(d ? infoJson(d) : { running: false });
  else io.out(d ? `running: ${describe(d)}` : 'not running');
  return d ? EXIT.OK : EXIT.INFRA;
}

/** `mlops daemon run <workspace>` (hidden): the daemon process itself; never returns on success. */
export function daemonRunCommand(workspace: string, opts: { port?: string }): Promise<number> {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return daemonProcessMain(workspace, {
    port: num(opts.port),
    // Tuning knobs for tests and power users; the launcher passes the environment through.
    heartbeatMs: num(process.env.MLOPS_DAEMON_HEARTBEAT_MS),
    maxParallel: num(process.env.MLOPS_MAX_PARALLEL),
  });
}
