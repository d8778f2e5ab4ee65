/**
 * A trial's sandbox: a folder that looks like the workspace to the step (same relative
 * paths, so its command and deps work unchanged) but where the step's outs are its own.
 * Everything is a symbolic link into the workspace except the folders on the way to an out
 * (real folders, so the out is written inside the sandbox) and the outs themselves (absent;
 * a `persist: true` out starts as a copy of the workspace's). `.mlops/` is never linked.
 * Parallel trials therefore never write the same file, and the workspace is never written.
 */
import { cp, mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutSpec } from '../pipelines/step-spec';

/** Top-level entries of the workspace a sandbox leaves out. */
const NEVER_LINKED = new Set(['.mlops']);

export interface SandboxSpec {
  outs: readonly OutSpec[];
  /** The step's metrics file, written by the step like an out. */
  metrics?: string;
}

/** Creates (or re-creates) `dir` as a sandbox of `root` for a step with these outs. */
export async function makeSandbox(root: string, dir: string, spec: SandboxSpec): Promise<string> {
  const writable = [...spec.outs.map((o) => o.path), ...(spec.metrics ? [spec.metrics] : [])].filter((p) => p && !p.startsWith('/') && !p.startsWith('..'));
  const persist = new Set(spec.outs.filter((o) => o.persist).map((o) => o.path));
  const ancestors = new Set<string>();
  for (const w of writable) {
    const parts = w.split('/');
    for (let i = 1; i < parts.length; i++) ancestors.add(parts.slice(0, i).join('/'));
  }
  const skip = new Set(writable);
  await rm(dir, { recursive: true, force: true });

  const mirror = async (rel: string): Promise<void> => {
    const target = rel ? join(dir, rel) : dir;
    await mkdir(target, { recursive: true });
    let entries;
    try {
      entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    } catch {
      return; // a folder of an out that does not exist in the workspace yet
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && NEVER_LINKED.has(e.name)) continue;
      if (skip.has(r)) {
        if (persist.has(r)) await cp(join(root, r), join(dir, r), { recursive: true });
        continue;
      }
      if (ancestors.has(r) && (await isDir(join(root, r)))) await mirror(r);
      else await symlink(join(root, r), join(dir, r));
    }
  };
  await mirror('');
  // Folders of outs the workspace does not have yet.
  for (const a of ancestors) await mkdir(join(dir, a), { recursive: true });
  return dir;
}

/** A folder, or a link to one: either way the sandbox needs its own copy of the folder. */
async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
