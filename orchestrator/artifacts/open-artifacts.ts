/**
 * Which artifact store a workspace uses. One setting, a URL: `MLOPS_ARTIFACTS_URL`, else
 * `artifactsUrl` in `.mlops/config.json`; unset (or `file:`) keeps artifacts on the local disk
 * (the content-addressed cache), `s3://BUCKET/PREFIX[?endpoint=…]` puts them in S3 or an
 * S3-compatible server (see s3-artifact-store.ts for credentials).
 */
import { MlopsError } from '../../protocol/errors';
import { ObjectCache } from '../pipelines/cache';
import { readConfig } from '../store/open-store';
import type { ArtifactStore } from './artifact-store';
import { ModelArtifacts } from './model-artifacts';
import { parseS3Url, S3ArtifactStore } from './s3-artifact-store';

export const ARTIFACTS_URL_ENV = 'MLOPS_ARTIFACTS_URL';

export function configuredArtifactsUrl(mlopsDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env[ARTIFACTS_URL_ENV]?.trim() || readConfig(mlopsDir).artifactsUrl;
  return url === undefined || url === '' || url === 'file:' ? undefined : url;
}

/** The remote store named by `url`, or undefined for the local disk. */
export function openArtifactStore(url: string | undefined): ArtifactStore | undefined {
  if (url === undefined) return undefined;
  if (url.startsWith('s3://')) return new S3ArtifactStore(parseS3Url(url));
  throw new MlopsError('BAD_REQUEST', `artifact store URL "${url}" is not supported: use s3://BUCKET/PREFIX (S3 or S3-compatible) or leave ${ARTIFACTS_URL_ENV} unset for the local disk`);
}

/** The workspace's registered-model artifacts: its local cache and its configured store. */
export function workspaceArtifacts(state: { dir: string; workspace: string }): ModelArtifacts {
  return new ModelArtifacts(new ObjectCache(state.workspace), openArtifactStore(configuredArtifactsUrl(state.dir)));
}
