/**
 * The content-addressed output cache under `.mlops/cache/objects/ab/cdef…`. A file's object is
 * its bytes; a folder's object (`…/cdef….dir`) is its manifest (see `dirManifest`), with each
 * file stored as its own object, so folders that share files share storage.
 *
 * Saving copies the out into the cache (a reflink where the filesystem can, so it is instant
 * and shares blocks), as DVC does by default: the workspace file stays an ordinary writable
 * file, and editing it in place can never change a cached object. Hard links (free on any
 * filesystem, but they share the inode, so an in-place edit would write into the cache) are
 * opt-in with `{ link: true }`. Objects are read-only. Restoring always copies.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Artifact } from '../../protocol/types';
import { dirDigest, dirManifest, sha256File, type FileDigest, type PathDigest } from './hash-files';

const OBJECT_MODE = 0o444;

/** Default mode of a file we create, as a plain `open()` would give it under the process umask. */
function fileMode(): number {
  const mask = process.umask();
  return 0o666 & ~mask;
}

function tmpName(near: string): string {
  return `${near}.mlops-tmp-${randomBytes(6).toString('hex')}`;
}

export class ObjectCache {
  readonly dir: string;

  constructor(private readonly root: string) {
    this.dir = join(root, '.mlops', 'cache', 'objects');
  }

  objectPath(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash.slice(2));
  }

  private dirObjectPath(hash: string): string {
    return `${this.objectPath(hash)}.dir`;
  }

  /**
   * Saves an out that was just digested (file or folder). `copy` (the default) keeps the
   * workspace file independent of the object; `link: true` hard-links instead, never for outs
   * a later run updates in place (`persist: true`).
   */
  async save(relPath: string, digest: PathDigest, opts: { copy?: boolean; link?: boolean } = {}): Promise<void> {
    const abs = resolve(this.root, relPath);
    const copy = opts.copy === true || opts.link !== true;
    if (digest.kind === 'file') return this.saveFile(abs, digest.hash, copy);
    for (const f of digest.files ?? []) await this.saveFile(join(abs, f.path), f.hash, copy);
    const obj = this.dirObjectPath(digest.hash);
    if (existsSync(obj)) return;
    await mkdir(dirname(obj), { recursive: true });
    const tmp = tmpName(obj);
    await writeFile(tmp, dirManifest(digest.files ?? []), { mode: OBJECT_MODE });
    await rename(tmp, obj);
  }

  private async saveFile(abs: string, hash: string, copy: boolean): Promise<void> {
    const obj = this.objectPath(hash);
    if (existsSync(obj)) return;
    await mkdir(dirname(obj), { recursive: true });
    try {
      if (copy) throw Object.assign(new Error('copy requested'), { code: 'ECOPY' });
      await link(abs, obj);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      // Another filesystem (EXDEV), or one without hard links: copy, then publish atomically.
      const tmp = tmpName(obj);
      await copyFile(abs, tmp, constants.COPYFILE_FICLONE);
      await rename(tmp, obj);
    }
    await chmod(obj, OBJECT_MODE);
  }

  /** Whether an artifact (file or folder, all its files) can be restored. */
  has(hash: string): boolean {
    if (existsSync(this.objectPath(hash))) return true;
    const files = this.readDir(hash);
    return files !== undefined && files.every((f) => existsSync(this.objectPath(f.hash)));
  }

  /** A folder object's files, or undefined when `hash` is not a folder in the cache. */
  readDir(hash: string): FileDigest[] | undefined {
    let text: string;
    try {
      text = readFileSync(this.dirObjectPath(hash), 'utf8');
    } catch {
      return undefined;
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const a = line.indexOf(' ');
        const b = line.indexOf(' ', a + 1);
        return { hash: line.slice(0, a), size: Number(line.slice(a + 1, b)), path: JSON.parse(line.slice(b + 1)) as string };
      });
  }

  /**
   * The hash `sub` (a path inside the cached out `hash`) will have once the out is restored:
   * lets the planner know a downstream dep's content before the upstream out is back.
   */
  hashWithin(hash: string, sub: string): string | undefined {
    const files = this.readDir(hash);
    if (!files) return undefined;
    const exact = files.find((f) => f.path === sub);
    if (exact) return exact.hash;
    const inside = files.filter((f) => f.path.startsWith(`${sub}/`)).map((f) => ({ ...f, path: f.path.slice(sub.length + 1) }));
    return inside.length ? dirDigest(inside).hash : undefined;
  }

  /** Puts a cached out back at `relPath`, replacing whatever is there, by copying. */
  async restore(artifact: Artifact): Promise<void> {
    const dest = resolve(this.root, artifact.path);
    await mkdir(dirname(dest), { recursive: true });
    const obj = this.objectPath(artifact.hash);
    if (existsSync(obj)) {
      const tmp = tmpName(dest);
      await this.copyOut(obj, tmp, artifact.hash);
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
      return;
    }
    const files = this.readDir(artifact.hash);
    if (!files) throw new Error(`${artifact.path} (${artifact.hash.slice(0, 12)}) is not in the cache`);
    // Build the folder beside its destination, then swap it in: never a half-restored folder.
    const tmp = tmpName(dest);
    try {
      for (const f of files) {
        const target = join(tmp, f.path);
        await mkdir(dirname(target), { recursive: true });
        await this.copyOut(this.objectPath(f.hash), target, f.hash);
      }
      await mkdir(tmp, { recursive: true });
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private async copyOut(obj: string, target: string, hash: string): Promise<void> {
    // A hard-linked out edited in place (root ignores the read-only bit) changes its object
    // too: check before handing it out, and drop a corrupt object so the step runs instead.
    if ((await sha256File(obj)).hash !== hash) {
      await rm(obj, { force: true });
      throw new Error(`cache object ${hash.slice(0, 12)}… was modified after it was saved; it has been removed`);
    }
    // Reflink when the filesystem can (instant, still a separate file), else a plain copy.
    await copyFile(obj, target, constants.COPYFILE_FICLONE);
    await chmod(target, fileMode());
  }
}
