/**
 * Where registered models' artifacts live beyond one machine. Objects are files keyed by
 * their sha256, so an upload is idempotent and a download can be verified. The workspace's
 * content-addressed cache (`.mlops/cache/objects`) is the local copy; a remote store (S3 or
 * any S3-compatible server) lets another person's daemon, or CI, fetch a version's artifact
 * that it never trained.
 */
export interface ArtifactStore {
  /** The store's URL without secrets, for messages. */
  readonly label: string;
  has(hash: string): Promise<boolean>;
  /** Uploads `file` (whose sha256 is `hash`); a no-op when the object exists. */
  put(hash: string, file: string, size: number): Promise<void>;
  /** Downloads the object to `dest`, checking its sha256; NOT_FOUND when it is absent. */
  get(hash: string, dest: string): Promise<void>;
}

/** `ab/cdef…`: two levels, as in the local cache, so listings stay small. */
export function objectKey(hash: string): string {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`"${hash}" is not a sha256 hex digest`);
  return `${hash.slice(0, 2)}/${hash.slice(2)}`;
}
