/**
 * One daemon per workspace: `.mlops/daemon.lock` is created with O_EXCL and holds
 * "<pid> <identity>". A lock whose process is gone (a crashed or kill -9'ed daemon) is stale
 * and replaced; a live holder makes the newcomer give up with CONFLICT.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { MlopsError } from '../../protocol/errors';
import { processIdentity, sameProcess } from './proc';

export interface DaemonLock {
  readonly file: string;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): void;
}

interface Holder {
  pid: number;
  identity: string;
}

/** How long an empty lock file (a creator between open and write) counts as held. */
const EMPTY_LOCK_GRACE_MS = 5000;

export function acquireLock(file: string, pid = process.pid): DaemonLock {
  const content = `${pid} ${processIdentity(pid)}\n`;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      try {
        fs.writeSync(fd, content);
      } finally {
        fs.closeSync(fd);
      }
      return ownLock(file, content);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readLock(file);
    if (seen === undefined) continue; // vanished between open and read: try again
    const holder = parseHolder(seen);
    if (holder && sameProcess(holder.pid, holder.identity)) {
      throw new MlopsError('CONFLICT', `another orchestrator daemon (pid ${holder.pid}) already serves this workspace`, { pid: holder.pid });
    }
    if (!holder && Date.now() - mtimeMs(file) < EMPTY_LOCK_GRACE_MS) {
      sleepSync(20); // being written right now
      continue;
    }
    replaceStale(file, seen);
  }
  throw new MlopsError('CONFLICT', `could not take ${file}: other processes keep replacing it`);
}

/** The pid in the lock file if its process is alive. */
export function lockHolder(file: string): number | undefined {
  const text = readLock(file);
  const holder = text === undefined ? undefined : parseHolder(text);
  return holder && sameProcess(holder.pid, holder.identity) ? holder.pid : undefined;
}

function ownLock(file: string, content: string): DaemonLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      if (readLock(file) === content) fs.rmSync(file, { force: true });
    },
  };
}

/**
 * Moves a stale lock aside. rename() is atomic, so of several starters that judged the same
 * lock stale only one moves it; if what we moved is not what we judged (another starter
 * replaced the stale lock with its own in between), we put theirs back.
 */
function replaceStale(file: string, seen: string): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    if (readLock(aside) !== seen) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // A third starter took the lock meanwhile; the holder we displaced will fail its
        // own release check and its daemon.json still names it: the launcher sorts it out.
      }
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function readLock(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function parseHolder(text: string): Holder | undefined {
  const m = /^(\d+)(?: (\S*))?\s*$/.exec(text);
  return m ? { pid: Number(m[1]), identity: m[2] ?? '' } : undefined;
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
