/**
 * Step processes must not outlive a daemon that was killed under them. The runner starts
 * each step in its own process group (pid = pgid) and announces it in `step-started`; the
 * daemon writes "<pgid> <identity> <step>" lines to `.mlops/runs/<runId>/pids` before
 * anything else can happen, and drops them when the step ends. A daemon starting up reaps
 * every group still listed: those belong to a predecessor that died without cleaning up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineEvent } from '../../protocol/pipeline';
import { isRunId, runPidsFile, type MlopsPaths } from './paths';
import { groupMembers, processIdentity, sameProcess, signalGroup } from './proc';

interface Entry {
  pgid: number;
  identity: string;
  step: string;
}

/** Keeps the pids files in step with the runner's events. */
export class StepPidRecorder {
  private readonly live = new Map<string, Map<string, Entry>>();

  constructor(private readonly paths: MlopsPaths) {}

  onEvent(e: PipelineEvent): void {
    if (!isRunId(e.runId)) return;
    if (e.type === 'step-started' && e.pid !== undefined) {
      let steps = this.live.get(e.runId);
      if (!steps) this.live.set(e.runId, (steps = new Map()));
      steps.set(e.stepRunId, { pgid: e.pid, identity: processIdentity(e.pid), step: e.step });
      this.write(e.runId);
    } else if (e.type === 'step-finished') {
      if (this.live.get(e.runId)?.delete(e.stepRunId)) this.write(e.runId);
    } else if (e.type === 'run-finished') {
      this.live.delete(e.runId);
      fs.rmSync(runPidsFile(this.paths, e.runId), { force: true });
    }
  }

  private write(runId: string): void {
    const file = runPidsFile(this.paths, runId);
    const entries = [...(this.live.get(runId)?.values() ?? [])];
    if (entries.length === 0) {
      fs.rmSync(file, { force: true });
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, entries.map((x) => `${x.pgid} ${x.identity || '-'} ${x.step}\n`).join(''));
    fs.renameSync(tmp, file);
  }
}

export interface ReapedGroup {
  runId: string;
  step: string;
  pgid: number;
}

/**
 * Kills the process groups a dead daemon left behind (SIGTERM, then SIGKILL after `graceMs`)
 * and removes the pids files. Call before serving: a reaped step's run is being marked
 * interrupted at the same time. A recorded leader that is alive but is a different process
 * (pid reused) is left alone.
 */
export async function reapOrphanedSteps(paths: MlopsPaths, graceMs = 2000): Promise<ReapedGroup[]> {
  let runIds: string[];
  try {
    runIds = fs.readdirSync(paths.runs).filter(isRunId);
  } catch {
    return [];
  }
  const reaped: ReapedGroup[] = [];
  for (const runId of runIds) {
    const file = runPidsFile(paths, runId);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^(\d+) (\S+) (.*)$/.exec(line);
      if (!m) continue;
      const pgid = Number(m[1]);
      const identity = m[2] === '-' ? '' : m[2]!;
      if (groupMembers(pgid).length === 0) continue;
      // The leader may be gone while its children live on; if it is alive it must be ours.
      if (groupMembers(pgid).includes(pgid) && !sameProcess(pgid, identity)) continue;
      if (signalGroup(pgid, 'SIGTERM')) reaped.push({ runId, step: m[3]!, pgid });
    }
    fs.rmSync(file, { force: true });
  }
  const deadline = Date.now() + graceMs;
  while (reaped.some((r) => groupMembers(r.pgid).length > 0) && Date.now() < deadline) await delay(50);
  for (const r of reaped) if (groupMembers(r.pgid).length > 0) signalGroup(r.pgid, 'SIGKILL');
  return reaped;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
