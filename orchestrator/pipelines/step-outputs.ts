/**
 * A step's outs around its execution: deleted before it runs (so a stale file never passes
 * for a new one, and a step never writes through a hard link into the cache), then hashed,
 * saved in the content-addressed cache and returned as artifacts once it succeeded.
 */
import { rm } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Artifact } from '../../protocol/types';
import type { ObjectCache } from './cache';
import type { FileHasher } from './hash-files';
import type { OutSpec } from './step-spec';

/** Why an out path must not be deleted or cached (the manifest folder itself, outside it, `.mlops/`), or undefined. */
export function unsafeOut(root: string, out: OutSpec): string | undefined {
  const abs = resolve(root, out.path);
  const rel = relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || resolve(rel) === rel) return `out "${out.path}" is not inside the manifest folder`;
  if (rel === '.mlops' || rel.startsWith(`.mlops${sep}`)) return `out "${out.path}" is inside .mlops/, which belongs to the orchestrator`;
  return undefined;
}

export async function removeOuts(root: string, outs: readonly OutSpec[]): Promise<void> {
  for (const o of outs) if (!o.persist && !unsafeOut(root, o)) await rm(resolve(root, o.path), { recursive: true, force: true });
}

/** Hashes and caches the outs of a step that succeeded; throws when a declared out is missing. */
export async function saveOuts(outs: readonly OutSpec[], hasher: FileHasher, cache: ObjectCache): Promise<Artifact[]> {
  if (outs.length === 0) return [];
  const digests = await hasher.digest(outs.map((o) => o.path));
  const missing = outs.filter((o) => !digests.get(o.path)).map((o) => o.path);
  if (missing.length) throw new Error(`the step succeeded but did not produce ${missing.length === 1 ? 'its out' : 'these outs'}: ${missing.join(', ')}`);
  const artifacts: Artifact[] = [];
  for (const o of outs) {
    const d = digests.get(o.path)!;
    // A persisted out is updated in place by the next run: copy it, a hard link would let that write reach the cache.
    if (o.cache) await cache.save(o.path, d, { copy: o.persist });
    await hasher.remember(o.path, d);
    artifacts.push({ path: o.path, hash: d.hash, size: d.size });
  }
  return artifacts;
}
