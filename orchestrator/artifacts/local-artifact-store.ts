/** The local disk as an ArtifactStore: the workspace's content-addressed cache itself. */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MlopsError } from '../../protocol/errors';
import type { ObjectCache } from '../pipelines/cache';
import type { ArtifactStore } from './artifact-store';

export class LocalArtifactStore implements ArtifactStore {
  readonly label: string;

  constructor(private readonly cache: ObjectCache) {
    this.label = cache.dir;
  }

  async has(hash: string): Promise<boolean> {
    return this.cache.has(hash);
  }

  async put(hash: string, file: string, size: number): Promise<void> {
    if (!this.cache.has(hash)) await this.cache.save(file, { kind: 'file', hash, size });
  }

  async get(hash: string, dest: string): Promise<void> {
    if (!this.cache.has(hash)) throw new MlopsError('NOT_FOUND', `artifact sha256 ${hash.slice(0, 12)} is not in ${this.label}`);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(this.cache.objectPath(hash), dest);
  }
}
