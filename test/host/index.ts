// Entry point loaded by VS Code's extension host (extensionTestsPath): must export run().
//
// One suite reloads the window mid-run (test/host/zz-reload.test.ts). A reload restarts the
// extension host, which loads this entry again: the first phase records its results in a
// marker file in the workspace and triggers the reload; the second phase sees the marker,
// runs only the reload checks, and reports the sum of both phases.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { RELOAD_MARKER, type ReloadMarker } from './reload-marker';

export function run(): Promise<void> {
  const log = process.env.VSCODE_TEST_LOG;
  if (log) {
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
    const orig = base.consoleLog;
    base.consoleLog = (...a: unknown[]) => {
      fs.appendFileSync(log, format(...a) + '\n');
      orig(...a);
    };
  }
  const marker = readMarker();
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const only = process.env.MLOPS_HOST_SUITE; // e.g. "smoke" runs only smoke.test.js
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (!f.endsWith('.test.js')) continue;
    // smoke and untrusted run in their own host sessions (installed .vsix; Workspace Trust on), deployments and monitoring too (model servers, load)
    if (only ? f !== `${only}.test.js` : f.startsWith('smoke') || f.startsWith('untrusted') || f.startsWith('deployments') || f.startsWith('monitoring')) continue;
    if (marker && f !== 'zz-reload.test.js') continue; // second phase: only the reload checks
    mocha.addFile(path.join(__dirname, f));
  }
  const carried = marker ? { passes: marker.passes, failures: marker.failures } : { passes: 0, failures: 0 };
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passes = carried.passes + (runner.stats?.passes ?? 0);
      const total = carried.failures + failures;
      const summary = `${passes} passed, ${total} failed`;
      const out = process.env.VSCODE_TEST_RESULT;
      if (out) fs.writeFileSync(out, JSON.stringify({ passes, failures: total, summary }) + '\n');
      console.log(summary);
      if (total > 0) reject(new Error(`${total} tests failed.`));
      else resolve();
    });
    // Keep the running totals where the reload test can hand them to the second phase.
    runner.on('pass', () => (globalThis as { __mlopsStats?: typeof carried }).__mlopsStats!.passes++);
    runner.on('fail', () => (globalThis as { __mlopsStats?: typeof carried }).__mlopsStats!.failures++);
    (globalThis as { __mlopsStats?: typeof carried }).__mlopsStats = { ...carried };
  });
}

function readMarker(): ReloadMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(RELOAD_MARKER(), 'utf8')) as ReloadMarker;
  } catch {
    return undefined;
  }
}
