/**
 * Content hashes of deps and outs, cached by (path, size, mtime, ctime, inode) in the store so
 * a no-op re-run only stats files. ctime and inode catch what mtime alone misses: `touch -d`
 * restoring an old mtime after an edit still bumps ctime, and an editor's save-by-rename
 * changes the inode.
 *
 * Racy edits (a write landing in the same timestamp tick as our read, as git calls them) could
 * keep all four fields equal; entries for files changed within RACY_WINDOW_MS of hashing are
 * not stored, so such files are hashed again next time ("a hash when in doubt").
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { FileHashEntry, Store } from '../store/store';

/** Read size: large enough that syscalls vanish next to hashing, small enough to stay cheap. */
export const CHUNK = 4 * 1024 * 1024;
const RACY_WINDOW_MS = 100;
/** Files hashed at once: overlaps disk reads with hashing across files. */
const HASH_CONCURRENCY = 4;
/** Stats per slice before yielding, so a huge tree does not stall the daemon's event loop. */
const STAT_SLICE = 2000;
/** Paths per store lookup. */
const LOOKUP_SLICE = 5000;

export interface FileDigest {
  /** Relative to the digested folder (or the file's own path for a file), forward slashes. */
  path: string;
  hash: string;
  size: number;
}

export interface PathDigest {
  kind: 'file' | 'dir';
  /** File: sha256 of the content. Folder: sha256 of its manifest (see `dirManifest`). */
  hash: string;
  /** Total bytes. */
  size: number;
  /** Folder: its files, sorted by path. */
  files?: FileDigest[];
}

/** What the hasher did, for tests and the bench: a no-op re-run must show bytesRead 0. */
export interface HashStats {
  statted: number;
  fromCache: number;
  hashed: number;
  bytesRead: number;
}

/**
 * A folder's canonical listing, one `hash size "path"` line per file sorted by path; the
 * folder hash is its sha256 and the cache stores it as the folder's object.
 */
export function dirManifest(files: FileDigest[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.hash} ${f.size} ${JSON.stringify(f.path)}\n`)
    .join('');
}

export function dirDigest(files: FileDigest[]): PathDigest {
  const text = dirManifest(files);
  const sortedFiles = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { kind: 'dir', hash: sha256(text), size: files.reduce((n, f) => n + f.size, 0), files: sortedFiles };
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// Two buffers per concurrent hash (one being read while the other is hashed), reused.
const pool: Buffer[] = [];
function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafe(CHUNK);
}
function giveBuffer(b: Buffer): void {
  if (pool.length < 2 * HASH_CONCURRENCY) pool.push(b);
}

/** Streamed sha256: 4 MiB reads, the next read in flight while the current chunk is hashed. */
export async function sha256File(file: string): Promise<{ hash: string; bytes: number }> {
  const fh = await open(file, 'r');
  const bufs = [takeBuffer(), takeBuffer()];
  try {
    const hash = createHash('sha256');
    let pos = 0;
    let i = 0;
    let pending = fh.read(bufs[0]!, 0, CHUNK, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const cur = bufs[i]!;
      pos += bytesRead;
      i ^= 1;
      pending = fh.read(bufs[i]!, 0, CHUNK, pos);
      hash.update(cur.subarray(0, bytesRead));
    }
    return { hash: hash.digest('hex'), bytes: pos };
  } finally {
    bufs.forEach(giveBuffer);
    await fh.close();
  }
}

interface FileJob {
  /** Store key: relative to the hasher's root. */
  key: string;
  abs: string;
  st: Stats;
  hash?: string;
  /** Vanished before it could be read. */
  gone?: boolean;
}

function toKey(root: string, abs: string): string {
  const rel = relative(root, abs);
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function statOrUndefined(abs: string): Stats | undefined {
  try {
    return statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function yieldToLoop(): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
}

export class FileHasher {
  readonly stats: HashStats = { statted: 0, fromCache: 0, hashed: 0, bytesRead: 0 };

  constructor(
    /** Paths are relative to this folder (the manifest folder). */
    private readonly root: string,
    private readonly store: Pick<Store, 'getFileHashes' | 'putFileHashes'>,
  ) {}

  /** Digest of each path (file or folder, recursively); undefined when it does not exist. */
  async digest(paths: readonly string[]): Promise<Map<string, PathDigest | undefined>> {
    const result = new Map<string, PathDigest | undefined>();
    const files: FileJob[] = [];
    const byKey = new Map<string, FileJob>();
    const dirs = new Map<string, FileJob[]>();
    let n = 0;
    const add = (abs: string, st: Stats): FileJob => {
      const key = toKey(this.root, abs);
      let job = byKey.get(key);
      if (!job) {
        job = { key, abs, st };
        byKey.set(key, job);
        files.push(job);
      }
      return job;
    };
    for (const p of new Set(paths)) {
      if (++n % STAT_SLICE === 0) await yieldToLoop();
      const abs = resolve(this.root, p);
      const st = statOrUndefined(abs);
      this.stats.statted++;
      if (!st) result.set(p, undefined);
      else if (st.isDirectory()) dirs.set(p, this.walk(abs).map(({ abs: f, st: fst }) => add(f, fst)));
      else add(abs, st);
    }

    await this.resolveHashes(files);

    for (const p of new Set(paths)) {
      if (result.has(p)) continue;
      const members = dirs.get(p);
      if (members) {
        const root = resolve(this.root, p);
        result.set(p, dirDigest(members.filter((j) => !j.gone).map((j) => ({ path: toKey(root, j.abs), hash: j.hash!, size: j.st.size }))));
      } else {
        const job = byKey.get(toKey(this.root, resolve(this.root, p)))!;
        result.set(p, job.gone ? undefined : { kind: 'file', hash: job.hash!, size: job.st.size });
      }
    }
    return result;
  }

  /**
   * Records hashes we already know (an out we just hashed and saved, a file we just restored
   * from the cache), so the next plan only stats them. Linking into the cache changes ctime,
   * hence the fresh stat here.
   */
  async remember(relPath: string, digest: PathDigest): Promise<void> {
    const abs = resolve(this.root, relPath);
    const files = digest.kind === 'file' ? [{ abs, hash: digest.hash, size: digest.size }] : (digest.files ?? []).map((f) => ({ abs: join(abs, f.path), hash: f.hash, size: f.size }));
    const entries: FileHashEntry[] = [];
    for (const f of files) {
      const st = statOrUndefined(f.abs);
      if (st && st.size === f.size) entries.push({ path: toKey(this.root, f.abs), size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash: f.hash });
    }
    if (entries.length) await this.store.putFileHashes(entries);
  }

  /** Every file under a folder (symlinked files followed, symlinked folders not: no loops). */
  private walk(dir: string): { abs: string; st: Stats }[] {
    const out: { abs: string; st: Stats }[] = [];
    const stack = [dir];
    while (stack.length) {
      const d = stack.pop()!;
      for (const ent of readdirSync(d, { withFileTypes: true })) {
        const abs = join(d, ent.name);
        if (ent.isDirectory()) stack.push(abs);
        else {
          const st = statOrUndefined(abs);
          this.stats.statted++;
          if (st?.isFile()) out.push({ abs, st });
        }
      }
    }
    return out;
  }

  /** Fills `hash` of every job: from the cache when the stat matches, else by reading the file. */
  private async resolveHashes(jobs: FileJob[]): Promise<void> {
    const stale: FileJob[] = [];
    for (let i = 0; i < jobs.length; i += LOOKUP_SLICE) {
      const slice = jobs.slice(i, i + LOOKUP_SLICE);
      const known = await this.store.getFileHashes(slice.map((j) => j.key));
      for (const j of slice) {
        const e = known.get(j.key);
        if (e && e.size === j.st.size && e.mtimeMs === j.st.mtimeMs && e.ctimeMs === j.st.ctimeMs && e.ino === j.st.ino) {
          j.hash = e.hash;
          this.stats.fromCache++;
        } else stale.push(j);
      }
    }
    if (stale.length === 0) return;
    const fresh: FileHashEntry[] = [];
    let next = 0;
    const worker = async () => {
      while (next < stale.length) {
        const j = stale[next++]!;
        let read: { hash: string; bytes: number };
        try {
          read = await sha256File(j.abs);
        } catch (e) {
          // Deleted between our stat and our read: it is simply missing now.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          j.gone = true;
          continue;
        }
        const { hash, bytes } = read;
        this.stats.hashed++;
        this.stats.bytesRead += bytes;
        j.hash = hash;
        // Store only when the file did not change while we read it and is not racily new.
        const after = statOrUndefined(j.abs);
        const same = after && after.size === j.st.size && after.mtimeMs === j.st.mtimeMs && after.ctimeMs === j.st.ctimeMs && after.ino === j.st.ino;
        if (same && Date.now() - Math.max(after.mtimeMs, after.ctimeMs) > RACY_WINDOW_MS) {
          fresh.push({ path: j.key, size: after.size, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs, ino: after.ino, hash });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, stale.length) }, worker));
    if (fresh.length) await this.store.putFileHashes(fresh);
  }
}
