// The `mlops` CLI run in-process for tests: its output captured line by line, and the
// workspace daemon a test started stopped afterwards (by pid, never by name).
import { main } from '../../orchestrator/cli/main';
import type { Output } from '../../orchestrator/cli/output';
import { findDaemon, stopDaemon } from '../../orchestrator/daemon/launcher';
import { isAlive } from '../../orchestrator/daemon/proc';

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
  /** What `--json` printed, as plain data (a JSON round trip, like a pipe would give). */
  json: unknown[];
}

export async function runCli(args: string[], cwd: string): Promise<CliResult> {
  const io = { out: [] as string[], err: [] as string[], json: [] as unknown[] };
  const output: Output = { out: (l) => io.out.push(l), err: (l) => io.err.push(l), json: (v) => io.json.push(JSON.parse(JSON.stringify(v))) };
  const code = await main(args, output, cwd);
  return { code, ...io };
}

/** Stops the workspace's daemon if one runs; one that does not stop in 5 s is killed. */
export async function stopWorkspaceDaemon(ws: string): Promise<void> {
  const d = await findDaemon(ws);
  await stopDaemon(ws, { timeoutMs: 5000 }).catch(() => undefined);
  if (d && isAlive(d.pid)) process.kill(d.pid, 'SIGKILL');
}

/**
 * Remembers the environment variables `names` as they are now, for tests that point the
 * in-process CLI elsewhere (MLOPS_HOME, MLOPS_TOKEN); the returned function puts each back,
 * or removes it when it was not set.
 */
export function saveEnv(...names: string[]): () => void {
  const saved = names.map((name) => [name, process.env[name]] as const);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
