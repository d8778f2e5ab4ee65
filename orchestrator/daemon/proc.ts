/**
 * Process facts the daemon needs to stay safe across crashes: is a pid alive, is it still
 * the same process (pids are reused), and which processes are left in a process group.
 * Linux answers through /proc; elsewhere we fall back to `kill(pid, 0)`, which cannot tell a
 * reused pid from the original (documented risk, and the reason identities are recorded).
 */
import * as fs from 'node:fs';

const HAS_PROC = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

interface ProcStat {
  state: string;
  pgrp: number;
  /** Clock ticks since boot: with the pid, identifies a process across pid reuse. */
  startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, pgrp: Number(fields[2]), startTime: fields[19]! };
}

/** A process is alive when it exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (HAS_PROC) {
    const st = procStat(pid);
    return st !== undefined && st.state !== 'Z' && st.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An opaque identity of a live process (its start time) or '' where the platform cannot
 * tell. Compare with `sameProcess` to avoid signalling a stranger that got a reused pid.
 */
export function processIdentity(pid: number): string {
  return HAS_PROC ? procStat(pid)?.startTime ?? '' : '';
}

/** True when `pid` is alive and, where identities are known, still the process recorded. */
export function sameProcess(pid: number, identity: string): boolean {
  if (!isAlive(pid)) return false;
  if (!identity || !HAS_PROC) return true;
  return processIdentity(pid) === identity;
}

/** Live (non-zombie) members of process group `pgid`. Without /proc: [pgid] if the group answers signal 0. */
export function groupMembers(pgid: number): number[] {
  if (!Number.isInteger(pgid) || pgid <= 1) return [];
  if (HAS_PROC) {
    const members: number[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = procStat(Number(name));
      if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') members.push(Number(name));
    }
    return members;
  }
  try {
    process.kill(-pgid, 0);
    return [pgid];
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? [pgid] : [];
  }
}

/** Sends `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false; // never -1 (everything) or -0 (our own group)
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
