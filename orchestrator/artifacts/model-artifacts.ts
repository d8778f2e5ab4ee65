/**
 * Registered models' artifacts between the local cache and the configured artifact store.
 * With the default (local disk) both are the same and nothing moves. With a remote store, a
 * version's artifact is uploaded when it is registered, and fetched into the local cache when
 * something here needs it (a deployment, a download) and the cache lacks it: a teammate's
 * daemon or CI can serve a model trained on another machine.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { Artifact } from '../../protocol/types';
import type { ObjectCache } from '../pipelines/cache';
import type { ArtifactStore } from './artifact-store';

export class ModelArtifacts {
  constructor(
    private readonly cache: ObjectCache,
    /** undefined: artifacts stay on the local disk only. */
    readonly remote: ArtifactStore | undefined,
  ) {}

  /** Uploads a registered artifact from the local cache to the remote store (once per content). */
  async publish(a: Artifact): Promise<void> {
    if (!this.remote) return;
    if (!this.cache.has(a.hash)) throw new MlopsError('CONFLICT', `${a.path} (sha256 ${a.hash.slice(0, 12)}) is not in the local cache, so it cannot be uploaded to ${this.remote.label}`);
    await this.remote.put(a.hash, this.cache.objectPath(a.hash), a.size);
  }

  /**
   * Makes sure the artifact is in the local cache, downloading it from the remote store if
   * needed. Returns where it came from.
   */
  async ensureLocal(a: Artifact): Promise<'cache' | 'downloaded'> {
    if (this.cache.has(a.hash)) return 'cache';
    if (!this.remote) {
      throw new MlopsError('NOT_FOUND', `${a.path} (sha256 ${a.hash.slice(0, 12)}) is not in the local cache and no artifact store is configured (MLOPS_ARTIFACTS_URL) to fetch it from`);
    }
    const tmp = join(this.cache.dir, `download-${randomBytes(6).toString('hex')}`);
    try {
      await this.remote.get(a.hash, tmp);
      await this.cache.save(tmp, { kind: 'file', hash: a.hash, size: a.size });
    } finally {
      await rm(tmp, { force: true });
    }
    return 'downloaded';
  }
}
