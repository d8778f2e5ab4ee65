/**
 * Artifacts in S3 or an S3-compatible server (MinIO, Ceph, s3rver…), through the AWS SDK v3
 * client. Objects are `PREFIX/ab/cdef…` (the sha256 of the content). Credentials and region
 * come from the SDK's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
 * AWS_REGION, instance roles); `endpoint` points at a non-AWS server and implies path-style
 * addressing.
 *
 * Checksums are sent and checked only when an operation requires them: the SDK's default
 * (CRC32 trailers on every upload, sent as aws-chunked bodies) is not understood by many
 * S3-compatible servers, and we verify the sha256 of every download ourselves anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { MlopsError } from '../../protocol/errors';
import { objectKey, type ArtifactStore } from './artifact-store';

export interface S3Location {
  bucket: string;
  /** Without leading or trailing slashes; may be empty. */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/** `s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path_style=true|false]` */
export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MlopsError('BAD_REQUEST', `"${url}" is not an artifact store URL; expected s3://BUCKET/PREFIX[?endpoint=http://HOST:PORT]`);
  }
  if (u.protocol !== 's3:') throw new MlopsError('BAD_REQUEST', `"${url}" is not an s3:// URL`);
  const bucket = u.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new MlopsError('BAD_REQUEST', `"${bucket}" in ${url} is not a valid S3 bucket name (3–63 lowercase letters, digits, dots and dashes)`);
  // The URL parser has already resolved "." and ".." segments (also percent-encoded ones).
  const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  const endpoint = u.searchParams.get('endpoint') ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) throw new MlopsError('BAD_REQUEST', `endpoint "${endpoint}" of ${url} must be an http:// or https:// URL`);
  const pathStyle = u.searchParams.get('path_style');
  return {
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint } : {}),
    region: u.searchParams.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
  };
}

export class S3ArtifactStore implements ArtifactStore {
  readonly label: string;
  private readonly client: S3Client;

  constructor(private readonly loc: S3Location) {
    this.label = `s3://${loc.bucket}/${loc.prefix}${loc.endpoint ? ` at ${loc.endpoint}` : ''}`;
    this.client = new S3Client({
      region: loc.region,
      forcePathStyle: loc.forcePathStyle,
      ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  private key(hash: string): string {
    return this.loc.prefix ? `${this.loc.prefix}/${objectKey(hash)}` : objectKey(hash);
  }

  async has(hash: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(hash) }));
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw this.failure('checking', hash, e);
    }
  }

  async put(hash: string, file: string, size: number): Promise<void> {
    if (await this.has(hash)) return;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(hash), Body: createReadStream(file), ContentLength: size, Metadata: { sha256: hash } }));
    } catch (e) {
      throw this.failure('uploading', hash, e);
    }
  }

  async get(hash: string, dest: string): Promise<void> {
    let body: Readable;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(hash) }));
      body = r.Body as Readable;
    } catch (e) {
      if (statusOf(e) === 404) throw new MlopsError('NOT_FOUND', `artifact sha256 ${hash.slice(0, 12)} is not in ${this.label}`);
      throw this.failure('downloading', hash, e);
    }
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.mlops-tmp-${randomBytes(6).toString('hex')}`;
    const digest = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        digest.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, hashing, createWriteStream(tmp, { mode: 0o644 }));
      const got = digest.digest('hex');
      if (got !== hash) {
        throw new MlopsError('CONFLICT', `artifact sha256 ${hash.slice(0, 12)} in ${this.label} has different content (sha256 ${got.slice(0, 12)}): the object was changed or corrupted; it was not used`);
      }
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      if (e instanceof MlopsError) throw e;
      throw this.failure('downloading', hash, e);
    }
  }

  private failure(doing: string, hash: string, e: unknown): MlopsError {
    const what = e instanceof S3ServiceException ? `${e.name}${e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}: ${e.message}` : (e as Error).message;
    return new MlopsError('UNAVAILABLE', `${doing} artifact sha256 ${hash.slice(0, 12)} in ${this.label} failed: ${what}`);
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
