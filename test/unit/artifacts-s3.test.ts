/**
 * Registered artifacts in an S3-compatible store: s3rver (an S3 server from npm) runs in this
 * process on 127.0.0.1, and the real AWS SDK client talks HTTP to it with credentials from the
 * standard AWS environment variables. The same contract tests run on the local disk store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { MlopsError } from '../../protocol/errors';
import type { Caller } from '../../protocol/registry';
import type { ArtifactStore } from '../../orchestrator/artifacts/artifact-store';
import { LocalArtifactStore } from '../../orchestrator/artifacts/local-artifact-store';
import { configuredArtifactsUrl, openArtifactStore } from '../../orchestrator/artifacts/open-artifacts';
import { parseS3Url, S3ArtifactStore } from '../../orchestrator/artifacts/s3-artifact-store';
import { ObjectCache } from '../../orchestrator/pipelines/cache';
import { sha256File } from '../../orchestrator/pipelines/hash-files';
import { ModelRegistry } from '../../orchestrator/registry/registry';
import { forEachBackend } from './store-backends';

const BUCKET = 'models';
const tmp: string[] = [];
const tempDir = (prefix = 'mlops-s3-') => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  tmp.push(d);
  return d;
};
let server: S3rver;
let endpoint: string;
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

before(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir('mlops-s3rver-'), configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  // s3rver's fixed credentials, through the variables every AWS SDK reads.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
});
after(async () => {
  await server?.close();
  process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
  process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
  if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

const s3Url = (prefix: string) => `s3://${BUCKET}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`;
const isCode = (code: MlopsError['code'], re: RegExp) => (e: unknown) => e instanceof MlopsError && e.code === code && re.test(e.message);

function fileWith(content: Buffer | string): { file: string; hash: string; size: number } {
  const file = path.join(tempDir(), 'blob');
  fs.writeFileSync(file, content);
  const buf = fs.readFileSync(file);
  return { file, hash: createHash('sha256').update(buf).digest('hex'), size: buf.length };
}

// The contract both stores keep.
for (const kind of ['local disk', 'S3 (s3rver)'] as const) {
  describe(`ArtifactStore on ${kind}`, () => {
    let store: ArtifactStore;
    before(() => {
      store = kind === 'local disk' ? new LocalArtifactStore(new ObjectCache(tempDir())) : new S3ArtifactStore(parseS3Url(s3Url(`contract-${Date.now()}`)));
    });

    test('put, has and get round-trip a 3 MB file byte for byte; a second put is a no-op', async () => {
      const blob = fileWith(Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 251)));
      assert.equal(await store.has(blob.hash), false);
      await store.put(blob.hash, blob.file, blob.size);
      await store.put(blob.hash, blob.file, blob.size);
      assert.equal(await store.has(blob.hash), true);
      const dest = path.join(tempDir(), 'out', 'model.onnx');
      await store.get(blob.hash, dest);
      assert.equal((await sha256File(dest)).hash, blob.hash);
    });

    test('getting an object that is not there is NOT_FOUND and names the store', async () => {
      await assert.rejects(store.get('0'.repeat(64), path.join(tempDir(), 'x')), isCode('NOT_FOUND', /artifact sha256 000000000000 is not in /));
    });
  });
}

describe('S3 artifact store', () => {
  test('an object whose content no longer matches its hash is refused and leaves no file', async () => {
    const prefix = 'tampered';
    const store = new S3ArtifactStore(parseS3Url(s3Url(prefix)));
    const blob = fileWith('the real weights');
    await store.put(blob.hash, blob.file, blob.size);
    const raw = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${blob.hash.slice(0, 2)}/${blob.hash.slice(2)}`, Body: 'something else' }));
    const dir = tempDir();
    await assert.rejects(store.get(blob.hash, path.join(dir, 'm.bin')), isCode('CONFLICT', /has different content .* it was not used/));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('URLs: bucket, prefix, endpoint and region are read; bad ones say what is wrong', () => {
    assert.deepEqual(parseS3Url('s3://team-models/prod/mlops?endpoint=http://127.0.0.1:9000&region=eu-west-1', {}), {
      bucket: 'team-models', prefix: 'prod/mlops', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', forcePathStyle: true,
    });
    assert.deepEqual(parseS3Url('s3://team-models', { AWS_REGION: 'us-west-2' }), { bucket: 'team-models', prefix: '', region: 'us-west-2', forcePathStyle: false });
    assert.throws(() => parseS3Url('s3://Bad_Bucket/x', {}), isCode('BAD_REQUEST', /not a valid S3 bucket name/));
    assert.equal(parseS3Url('s3://bucket/a/%2E%2E/../b/', {}).prefix, 'b', 'dot segments are resolved, never sent');
    assert.throws(() => parseS3Url('s3://bucket/a?endpoint=ftp://x', {}), isCode('BAD_REQUEST', /must be an http:\/\/ or https:\/\/ URL/));
    assert.throws(() => openArtifactStore('gs://bucket/x'), isCode('BAD_REQUEST', /not supported: use s3:\/\/BUCKET\/PREFIX/));
  });

  test('MLOPS_ARTIFACTS_URL wins over .mlops/config.json; unset or file: means the local disk', () => {
    const dir = tempDir();
    assert.equal(configuredArtifactsUrl(dir, {}), undefined);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ artifactsUrl: 's3://from-file/x' }));
    assert.equal(configuredArtifactsUrl(dir, {}), 's3://from-file/x');
    assert.equal(configuredArtifactsUrl(dir, { MLOPS_ARTIFACTS_URL: 's3://from-env/y' }), 's3://from-env/y');
    assert.equal(configuredArtifactsUrl(dir, { MLOPS_ARTIFACTS_URL: 'file:' }), undefined);
  });

  test('a server that does not answer is UNAVAILABLE and names the store', async () => {
    const store = new S3ArtifactStore(parseS3Url('s3://models/x?endpoint=http://127.0.0.1:1', {}));
    await assert.rejects(store.has('a'.repeat(64)), isCode('UNAVAILABLE', /checking artifact sha256 aaaaaaaaaaaa in s3:\/\/models\/x at http:\/\/127\.0\.0\.1:1 failed/));
  });
});

const owner: Caller = { name: 'local', role: 'admin' };
const MANIFEST = 'version: 1\nproject: s3\nsteps:\n  train:\n    cmd: echo train\n    outs: [models/m.bin]\nmodels:\n  m:\n    from: train\n    artifact: models/m.bin\n';

forEachBackend('registered artifacts through S3', (backend) => {
  test('register uploads the artifact; a workspace without it in its cache fetches it on demand', async () => {
    const wsA = tempDir('mlops-s3-ws-');
    fs.writeFileSync(path.join(wsA, 'mlops.yaml'), MANIFEST);
    await backend.prepare(path.join(wsA, '.mlops'));
    const prefix = `e2e-${backend.name}-${Date.now()}`;
    const config = { ...JSON.parse(fs.existsSync(path.join(wsA, '.mlops/config.json')) ? fs.readFileSync(path.join(wsA, '.mlops/config.json'), 'utf8') : '{}'), artifactsUrl: s3Url(prefix) };
    fs.writeFileSync(path.join(wsA, '.mlops/config.json'), JSON.stringify(config));
    fs.mkdirSync(path.join(wsA, 'models'));
    fs.writeFileSync(path.join(wsA, 'models/m.bin'), 'weights v1');
    const { hash, bytes } = await sha256File(path.join(wsA, 'models/m.bin'));
    await new ObjectCache(wsA).save('models/m.bin', { kind: 'file', hash, size: bytes });

    const runs = await backend.openStore(path.join(wsA, '.mlops'));
    const store = await backend.openRegistryStore(path.join(wsA, '.mlops'));
    const run = await runs.createRun({ experiment: 's3', name: 'train', kind: 'pipeline', status: 'succeeded' });
    await runs.recordArtifacts(run, [{ path: 'models/m.bin', hash, size: bytes }]);
    const v = await new ModelRegistry({ runs, store, workspace: wsA }).register(owner, { model: 'm', runId: run });
    await store.close();
    await runs.close();
    assert.equal(await new S3ArtifactStore(parseS3Url(s3Url(prefix))).has(hash), true, 'uploaded on register');

    // Someone else's workspace (PostgreSQL: the same shared database), or this one with its cache gone (SQLite).
    let wsB = wsA;
    if (backend.name === 'PostgreSQL') {
      wsB = tempDir('mlops-s3-ws-');
      fs.writeFileSync(path.join(wsB, 'mlops.yaml'), MANIFEST);
      fs.mkdirSync(path.join(wsB, '.mlops'));
      fs.copyFileSync(path.join(wsA, '.mlops/config.json'), path.join(wsB, '.mlops/config.json'));
    } else {
      fs.rmSync(path.join(wsA, '.mlops/cache'), { recursive: true });
    }
    const runsB = await backend.openStore(path.join(wsB, '.mlops'));
    const storeB = await backend.openRegistryStore(path.join(wsB, '.mlops'));
    try {
      const regB = new ModelRegistry({ runs: runsB, store: storeB, workspace: wsB });
      const first = await regB.ensureArtifact(`m/${v.version}`);
      assert.equal(first.source, 'downloaded');
      assert.equal(fs.readFileSync(new ObjectCache(wsB).objectPath(hash), 'utf8'), 'weights v1');
      assert.equal((await regB.ensureArtifact('m')).source, 'cache', 'fetched once');
    } finally {
      await storeB.close();
      await runsB.close();
    }
  });
});
