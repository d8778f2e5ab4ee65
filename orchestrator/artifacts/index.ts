export type { ArtifactStore } from './artifact-store';
export { LocalArtifactStore } from './local-artifact-store';
export { ModelArtifacts } from './model-artifacts';
export { ARTIFACTS_URL_ENV, configuredArtifactsUrl, openArtifactStore, workspaceArtifacts } from './open-artifacts';
export { parseS3Url, S3ArtifactStore } from './s3-artifact-store';
