/**
 * Where a model server finds a version's model: a copy of the registered artifact taken out
 * of the content-addressed cache into `.mlops/deployments/<name>/versions/<hash>/<file>`.
 * A copy (a reflink where the filesystem can), not the cache object itself, keeps the file
 * name (a `command` model may care about `.pkl` or `.onnx`) and works for folders too; the
 * hash in the path makes it immutable, so it is restored once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { ModelVersion } from '../../protocol/registry';
import { workspaceArtifacts } from '../artifacts';
import { ObjectCache } from '../pipelines/cache';

export async function materialiseArtifact(workspace: string, deploymentDir: string, v: ModelVersion): Promise<string> {
  const cache = new ObjectCache(workspace);
  if (!cache.has(v.artifact.hash)) {
    // In team mode the version may have been registered elsewhere: fetch it from the shared
    // artifact store (MLOPS_ARTIFACTS_URL); without one, ensureLocal says so.
    try {
      await workspaceArtifacts({ dir: path.join(workspace, '.mlops'), workspace }).ensureLocal(v.artifact);
    } catch (err) {
      throw new MlopsError('CONFLICT', `${v.model} v${v.version}: its artifact ${v.artifact.path} (sha256 ${v.artifact.hash.slice(0, 12)}) is not in the cache (.mlops/cache): ${(err as Error).message}; register the model again from a run`);
    }
  }
  const target = path.join(deploymentDir, 'versions', v.artifact.hash.slice(0, 16), path.basename(v.artifact.path));
  if (fs.existsSync(target)) return target;
  await cache.restore({ ...v.artifact, path: path.relative(workspace, target) });
  return target;
}
