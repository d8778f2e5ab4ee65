#!/usr/bin/env node
// Smoke test of the packaged extension: installs the .vsix into a fresh extensions dir with the
// VS Code server's own CLI, starts the workbench without extensionDevelopmentPath (so the extension
// under test is the installed one) and runs test/host/smoke.test.ts (MLOPS_HOST_SUITE=smoke) in its
// Node 24 extension host. The mechanics are scripts/run-host-tests.mjs's (VSCODE_TEST_VSIX mode).
// Usage: node scripts/run-vsix-smoke.mjs [file.vsix]   (default dist/mlops-workbench-linux-x64.vsix;
// `npm run test:vsix` packages first). Exit code: 0 passed, 1 test failures, 2 set-up problem.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsix = path.resolve(process.argv[2] ?? path.join(root, 'dist/mlops-workbench-linux-x64.vsix'));
if (!fs.existsSync(vsix)) { console.error(`missing ${vsix} (run: npm run package)`); process.exit(2); }
// The smoke suite itself runs from the repo's test bundle (the .vsix has no tests).
if (!fs.existsSync(path.join(root, 'dist/test/host/smoke.test.js'))) { console.error('missing dist/test/host/smoke.test.js (run: npm run build)'); process.exit(2); }

const child = spawn(process.execPath, [path.join(root, 'scripts/run-host-tests.mjs')], {
  stdio: 'inherit',
  env: {
    ...process.env,
    VSCODE_TEST_VSIX: vsix,
    MLOPS_HOST_SUITE: 'smoke', // test/host/index.ts then runs smoke.test.js only
    VSCODE_TEST_TIMEOUT_MS: process.env.VSCODE_TEST_TIMEOUT_MS ?? '90000',
    VSCODE_TEST_ARTIFACTS: process.env.VSCODE_TEST_ARTIFACTS ?? path.join(root, '.vscode-test/artifacts-vsix'),
  },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig)); // the runner cleans up its server
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 2 : 0)));
