/**
 * One pipeline run at a time writes a workspace's outs. Inside one runner an in-memory check
 * is enough; `.mlops/run.lock` extends it across processes (a CLI running in-process next to
 * the daemon, two daemons started by accident). A lock whose process is gone is stale (a
 * crash) and is taken over.
 *
 * The lock also lists the process groups of the steps running right now. Steps run detached
 * (their own group, so a cancel reaches grandchildren), which also means they outlive an
 * orchestrator killed with SIGKILL; whoever takes over a stale lock ends them, so a crash
 * leaves no orphaned step behind. Each group is recorded with its kernel start time, so a
 * pid recycled since the crash is never signalled.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import { signalGroup } from './process-group';

export interface StepGroup {
  pgid: number;
  /** Field 22 of /proc/<pid>/stat (absent where /proc is not available). */
  start?: string;
}

export interface LockInfo {
  pid: number;
  /** Absent while the run is being created. */
  runId?: string;
  startedAt: number;
  groups?: StepGroup[];
}

/** The refusal every second start gets: names the run and says how to follow or stop it. */
export function conflictError(info: { runId?: string; startedAt: number; pid?: number }): MlopsError {
  const ago = Math.max(0, Math.round((Date.now() - info.startedAt) / 1000));
  if (!info.runId) {
    return new MlopsError('CONFLICT', `a pipeline run is already starting in this workspace (process ${info.pid ?? 'unknown'}, ${ago}s ago); try again when it has started`, { pid: info.pid });
  }
  return new MlopsError(
    'CONFLICT',
    `a pipeline run is already active in this workspace: ${info.runId} (started ${ago}s ago); follow it with \`mlops logs ${info.runId} --follow\` or stop it with \`mlops cancel ${info.runId}\``,
    { runId: info.runId, startedAt: info.startedAt },
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When the process started, in clock ticks since boot; undefined without /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A lock this young that cannot be read is being written, not garbage. */
const FRESH_MS = 2000;

function youngerThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < ms;
  } catch {
    return false;
  }
}

function lockFile(root: string): string {
  return join(root, '.mlops', 'run.lock');
}

function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof info?.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the step groups of a dead holder whose leaders are provably the ones recorded. */
function killOrphans(groups: readonly StepGroup[] = []): number {
  let killed = 0;
  for (const g of groups) {
    const now = processStart(g.pgid);
    if (g.start === undefined || now === undefined || now !== g.start) continue;
    signalGroup(g.pgid, 'SIGKILL');
    killed++;
  }
  return killed;
}

/**
 * Clears the lock of an orchestrator that died mid-run, ending its orphaned steps. The daemon
 * calls this at start-up (next to `Store.markInterrupted`); `RunLock.acquire` does it too.
 * Returns the dead run's lock, or undefined when there was none (or its holder is alive).
 */
export function recoverStaleRun(root: string): (LockInfo & { orphansKilled: number }) | undefined {
  const file = lockFile(root);
  const held = readLock(file);
  if (held && alive(held.pid)) return undefined;
  if (!held && youngerThan(file, FRESH_MS)) return undefined; // being written right now
  let orphansKilled = 0;
  if (held) orphansKilled = killOrphans(held.groups);
  rmSync(file, { force: true });
  return held ? { ...held, orphansKilled } : undefined;
}

export class RunLock {
  private constructor(
    private readonly file: string,
    private info: LockInfo,
  ) {}

  /** Takes the workspace lock or throws CONFLICT naming the run that holds it. */
  static acquire(root: string): RunLock {
    mkdirSync(join(root, '.mlops'), { recursive: true });
    const file = lockFile(root);
    const info: LockInfo = { pid: process.pid, startedAt: Date.now() };
    for (let tries = 0; tries < 3; tries++) {
      try {
        const fd = openSync(file, 'wx');
        try {
          writeFileSync(fd, JSON.stringify(info));
        } finally {
          closeSync(fd);
        }
        return new RunLock(file, info);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = readLock(file);
      if (held && alive(held.pid)) throw conflictError(held);
      // Unreadable and fresh: its creator is between `open` and `write`.
      if (!held && youngerThan(file, FRESH_MS)) throw conflictError({ startedAt: Date.now() });
      // Stale (its process died) or old garbage: take it over.
      recoverStaleRun(root);
    }
    throw new MlopsError('CONFLICT', `could not take ${file}: another process keeps recreating it`);
  }

  /** Names the run once it exists, so a refused second start can point at it. */
  setRun(runId: string, startedAt: number): void {
    this.info = { ...this.info, runId, startedAt };
    this.save();
  }

  /** A step process group started (true) or ended (false). */
  trackGroup(pgid: number, running: boolean): void {
    const groups = (this.info.groups ?? []).filter((g) => g.pgid !== pgid);
    if (running) groups.push({ pgid, start: processStart(pgid) });
    this.info = { ...this.info, groups };
    this.save();
  }

  release(): void {
    const held = readLock(this.file);
    if (!held || held.pid !== this.info.pid || held.runId !== this.info.runId) return; // not ours any more
    rmSync(this.file, { force: true });
  }

  private save(): void {
    try {
      // Atomic replace: a reader never sees a half-written lock (which would look like garbage).
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.info));
      renameSync(tmp, this.file);
    } catch {
      // Losing the orphan list only matters after a crash; never fail a run for it.
    }
  }
}
