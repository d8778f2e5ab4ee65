#!/usr/bin/env node
// On a laptop with internet: runs the same host suite in desktop VS Code (Electron), which
// @vscode/test-electron downloads. CI and this project's machines have no such download;
// they use scripts/run-host-tests.mjs (the VS Code server from npm, offline) instead.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-desktop-'));
fs.cpSync(path.join(root, 'examples/penguins'), workspace, { recursive: true, filter: (src) => path.basename(src) !== '.mlops' });
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'dist/test/host/index.js'),
    launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions'],
  });
} catch (e) {
  console.error(`desktop tests failed: ${e}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
}
