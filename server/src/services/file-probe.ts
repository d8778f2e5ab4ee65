import * as fs from 'node:fs';

/**
 * File-system answers for links, completion and validation, cached for a short while: a big
 * manifest names thousands of paths and every keystroke re-asks about them.
 */
export class FileProbe {
  private readonly stats = new Map<string, { at: number; stat: fs.Stats | undefined }>();
  private readonly dirs = new Map<string, { at: number; entries: { name: string; dir: boolean }[] }>();

  constructor(
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  stat(abs: string): fs.Stats | undefined {
    const t = this.now();
    const hit = this.stats.get(abs);
    if (hit && t - hit.at < this.ttlMs) return hit.stat;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(abs, { throwIfNoEntry: false });
    } catch {
      stat = undefined;
    }
    if (this.stats.size > 50_000) this.stats.clear();
    this.stats.set(abs, { at: t, stat });
    return stat;
  }

  exists(abs: string): boolean {
    return this.stat(abs) !== undefined;
  }

  /** Directory entries (names and whether each is a folder); empty when unreadable. */
  list(abs: string): { name: string; dir: boolean }[] {
    const t = this.now();
    const hit = this.dirs.get(abs);
    if (hit && t - hit.at < this.ttlMs) return hit.entries;
    let entries: { name: string; dir: boolean }[] = [];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true }).slice(0, 2000).map((d) => ({ name: d.name, dir: d.isDirectory() || (d.isSymbolicLink() && !!this.stat(`${abs}/${d.name}`)?.isDirectory()) }));
    } catch {
      entries = [];
    }
    if (this.dirs.size > 1000) this.dirs.clear();
    this.dirs.set(abs, { at: t, entries });
    return entries;
  }

  /** Forget what is known (files changed on disk). */
  clear(): void {
    this.stats.clear();
    this.dirs.clear();
  }
}
