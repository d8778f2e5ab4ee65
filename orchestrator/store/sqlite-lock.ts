/**
 * One queue per SQLite file per process. The run store and the registry open their own
 * connections to `.mlops/store.db`; a registry transaction is async (it awaits each call on
 * its tx), so without this queue a run-store write could start while a registry transaction
 * holds the file's write lock, and its BEGIN IMMEDIATE would block the only thread on
 * busy_timeout while the holder cannot finish. Queued here, it waits without blocking.
 * Other processes (the CLI beside the daemon) still meet SQLite's own lock and busy_timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';

export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  private readonly holder = new AsyncLocalStorage<true>();

  /** Runs `fn` after every earlier caller is done. A call made from inside `fn` runs at once (it already holds the lock). */
  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.holder.getStore()) return fn();
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await this.holder.run(true, fn);
    } finally {
      release();
    }
  }
}

const locks = new Map<string, AsyncMutex>();

/** The process-wide queue of one database file. */
export function sqliteFileLock(file: string): AsyncMutex {
  const key = resolve(file);
  let lock = locks.get(key);
  if (!lock) locks.set(key, (lock = new AsyncMutex()));
  return lock;
}
