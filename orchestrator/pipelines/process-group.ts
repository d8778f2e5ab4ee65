/**
 * Signals to a step's whole process group. Steps run detached (their own group, pgid = pid of
 * the shell), so one `kill(-pgid)` reaches the shell, what it started, and what those started:
 * nothing is orphaned by a cancel, a timeout or a step that leaves children behind.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    // EPERM: the group exists but is not ours to signal (cannot happen for our own children).
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Waits until no process of the group remains. Orphaned grandchildren are reaped by init,
 * which may take a moment; until then they still count as group members (zombies).
 */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (let delay = 5; groupAlive(pgid); delay = Math.min(delay * 2, 100)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
  return true;
}
