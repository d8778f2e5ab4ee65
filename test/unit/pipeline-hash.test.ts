// Content hashing with the file-hash cache, and the content-addressed output cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileHasher, ObjectCache, sha256File } from '../../orchestrator/pipelines';
import { openSqliteStore, type SqliteStore } from '../../orchestrator/store/sqlite-store';

let dir: string;
let store: SqliteStore;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-hash-'));
  store = await openSqliteStore(join(dir, '.mlops'));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha256sum = (file: string) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
/** Files must be older than the hasher's racy window before their hashes are cached. */
const settle = () => sleep(150);

describe('FileHasher', () => {
  test('hashes match sha256sum, including files larger than one 4 MiB chunk', async () => {
    const big = join(dir, 'big.bin');
    const buf = Buffer.alloc(9 * 1024 * 1024 + 123);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
    writeFileSync(big, buf);
    writeFileSync(join(dir, 'empty'), '');
    assert.equal((await sha256File(big)).hash, sha256sum(big));
    assert.equal((await sha256File(join(dir, 'empty'))).hash, sha256sum(join(dir, 'empty')));
  });

  test('a second digest of unchanged files reads no content (stat only)', async () => {
    mkdirSync(join(dir, 'data/sub'), { recursive: true });
    writeFileSync(join(dir, 'data/a.csv'), 'a,b\n1,2\n');
    writeFileSync(join(dir, 'data/sub/b.csv'), 'x\n');
    await settle();
    const first = new FileHasher(dir, store);
    const d1 = await first.digest(['data/a.csv', 'data', 'missing.txt']);
    assert.equal(first.stats.hashed, 2);
    assert.equal(d1.get('missing.txt'), undefined);
    assert.equal(d1.get('data/a.csv')!.hash, sha256sum(join(dir, 'data/a.csv')));
    assert.equal(d1.get('data')!.kind, 'dir');
    assert.deepEqual(d1.get('data')!.files!.map((f) => f.path), ['a.csv', 'sub/b.csv']);

    const second = new FileHasher(dir, store);
    const d2 = await second.digest(['data/a.csv', 'data']);
    assert.equal(second.stats.bytesRead, 0);
    assert.equal(second.stats.hashed, 0);
    assert.equal(d2.get('data')!.hash, d1.get('data')!.hash);
  });

  test('a content change that keeps size and mtime (touch -d) is still caught', async () => {
    const f = join(dir, 'same.txt');
    writeFileSync(f, 'aaaa');
    await settle();
    const h = new FileHasher(dir, store);
    const before = (await h.digest(['same.txt'])).get('same.txt')!.hash;
    const mtimeBefore = statSync(f).mtimeMs;
    const ns = statSync(f, { bigint: true }).mtimeNs;
    writeFileSync(f, 'bbbb');
    execFileSync('touch', ['-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, f]);
    assert.equal(statSync(f).mtimeMs, mtimeBefore, 'same size and mtime as before the edit');
    const after = (await new FileHasher(dir, store).digest(['same.txt'])).get('same.txt')!.hash;
    assert.notEqual(after, before);
    assert.equal(after, sha256sum(f));
  });

  test('a folder hash changes when a file is added, renamed or edited', async () => {
    mkdirSync(join(dir, 'fold'), { recursive: true });
    writeFileSync(join(dir, 'fold/x'), '1');
    const h = () => new FileHasher(dir, store).digest(['fold']).then((m) => m.get('fold')!.hash);
    const h1 = await h();
    writeFileSync(join(dir, 'fold/y'), '2');
    const h2 = await h();
    execFileSync('mv', [join(dir, 'fold/y'), join(dir, 'fold/z')]);
    const h3 = await h();
    appendFileSync(join(dir, 'fold/z'), '3');
    const h4 = await h();
    assert.equal(new Set([h1, h2, h3, h4]).size, 4);
  });
});

describe('ObjectCache', () => {
  test('saves files and folders, restores by copy; an edit of the restored file leaves the cache intact', async () => {
    mkdirSync(join(dir, 'out/deep'), { recursive: true });
    writeFileSync(join(dir, 'model.bin'), 'weights');
    writeFileSync(join(dir, 'out/one.txt'), 'one');
    writeFileSync(join(dir, 'out/deep/two.txt'), 'two');
    const hasher = new FileHasher(dir, store);
    const cache = new ObjectCache(dir);
    const d = await hasher.digest(['model.bin', 'out']);
    await cache.save('model.bin', d.get('model.bin')!);
    await cache.save('out', d.get('out')!);
    const obj = cache.objectPath(d.get('model.bin')!.hash);
    assert.match(obj, /\.mlops\/cache\/objects\/[0-9a-f]{2}\/[0-9a-f]{62}$/);
    assert.equal(statSync(obj).mode & 0o777, 0o444, 'objects are read-only');
    assert.notEqual(statSync(obj).ino, statSync(join(dir, 'model.bin')).ino, 'saved as its own file (copy or reflink), not a hard link');
    appendFileSync(join(dir, 'model.bin'), '');
    assert.equal(statSync(join(dir, 'model.bin')).mode & 0o200, 0o200, 'the workspace out stays writable');
    assert.ok(cache.has(d.get('out')!.hash));
    assert.equal(cache.hashWithin(d.get('out')!.hash, 'deep/two.txt'), sha256sum(join(dir, 'out/deep/two.txt')));

    rmSync(join(dir, 'model.bin'));
    rmSync(join(dir, 'out'), { recursive: true });
    await cache.restore({ path: 'model.bin', hash: d.get('model.bin')!.hash, size: 7 });
    await cache.restore({ path: 'out', hash: d.get('out')!.hash, size: 6 });
    assert.equal(readFileSync(join(dir, 'model.bin'), 'utf8'), 'weights');
    assert.equal(readFileSync(join(dir, 'out/deep/two.txt'), 'utf8'), 'two');
    assert.notEqual(statSync(join(dir, 'model.bin')).ino, statSync(obj).ino, 'restored by copy, not linked back');
    appendFileSync(join(dir, 'model.bin'), ' edited');
    assert.equal(readFileSync(obj, 'utf8'), 'weights');
  });

  test('a cache object modified behind our back is refused and dropped', async () => {
    writeFileSync(join(dir, 'w.bin'), 'good');
    const d = (await new FileHasher(dir, store).digest(['w.bin'])).get('w.bin')!;
    const cache = new ObjectCache(dir);
    await cache.save('w.bin', d, { link: true });
    // Hard-linked (opt-in): writing the workspace file in place (as root may) writes the object too.
    execFileSync('sh', ['-c', `chmod u+w '${join(dir, 'w.bin')}' && printf evil > '${join(dir, 'w.bin')}'`]);
    rmSync(join(dir, 'w.bin'));
    await assert.rejects(cache.restore({ path: 'w.bin', hash: d.hash, size: 4 }), /was modified after it was saved/);
    assert.equal(cache.has(d.hash), false);
  });
});
